/** Per op code counters (ops or pixels), as both decoders and the encoder report them. Pure: browser-safe. */
export interface OpCounts {
  solid: number;
  palette: number;
  truecolor: number;
  copy: number;
  jpeg: number;
  /** CACHE_REF ops (content cache hits). */
  cacheRef: number;
}

export function emptyOpCounts(): OpCounts {
  return { solid: 0, palette: 0, truecolor: 0, copy: 0, jpeg: 0, cacheRef: 0 };
}
