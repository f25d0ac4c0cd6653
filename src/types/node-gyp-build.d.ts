// The parts of node-gyp-build (no bundled types) that src/native/binding.ts uses.
declare module 'node-gyp-build' {
  interface Tuple {
    name: string;
    platform: string;
    architectures: string[];
  }
  interface Tags {
    file: string;
    specificity: number;
  }
  interface NodeGypBuild {
    (dir: string): unknown;
    /** The addon file node-gyp-build would load from `dir`; throws when there is none. */
    resolve(dir: string): string;
    parseTuple(name: string): Tuple | undefined;
    matchTuple(platform: string, arch: string): (tuple: Tuple | undefined) => tuple is Tuple;
    compareTuples(a: Tuple, b: Tuple): number;
    parseTags(file: string): Tags | undefined;
    matchTags(runtime: string, abi: string): (tags: Tags | undefined) => tags is Tags;
    compareTags(runtime: string): (a: Tags, b: Tags) => number;
  }
  const load: NodeGypBuild;
  export = load;
}
