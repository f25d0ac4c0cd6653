// Size budgets for what a user downloads and installs, checked by
// packedInstall.slow.ts (which prints the measured figures). Raise them only
// for a reason written in the commit that does.
export const PACKAGE_BUDGET = {
  /** The .tgz. */
  packedBytes: 3.5 * 1048576,
  /** Everything in it, unpacked. */
  unpackedBytes: 6 * 1048576,
  // 330 since the own deflate coder's sources ship (deflate_bits, lz_blocks, util/compiler.h: 5 files,
  // for the build from source where no prebuild fits); 322 measured then.
  files: 330,
};

/** What `npm install tilecast --omit=dev` adds to an empty project's node_modules. */
export const INSTALL_BUDGET = {
  // 6: tilecast, ws, pako, node-gyp-build, node-addon-api, and opusscript (libopus as WebAssembly, for audio;
  // one package with no dependencies, no install script and no download).
  packages: 6,
  // 10 MiB since the win32-x64 prebuild ships (0.82 MiB: Windows PCs install with no compiler); 9.44 MiB measured then.
  bytes: 10 * 1048576,
};
