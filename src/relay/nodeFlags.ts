/**
 * Node/V8 flags for a process that runs a Relay under load.
 *
 * A relay forwards tens of MB/s of short-lived buffers. With V8's default young
 * generation (semi-spaces that start at 1 MiB) many of them are still in
 * flight at a scavenge, get promoted, and the old generation then needs about
 * two mark-compacts a second at 300 sessions: each one holds every forwarded
 * update for a few ms (bench/results/gateway.md: added p95 3.0 ms with the
 * defaults, 1.3 ms and no mark-compacts with these). They can only be given
 * when Node starts, so `tilecast-gateway serve` restarts Node with them, and an
 * app that embeds a Relay should start Node with them too.
 */
export const RELAY_NODE_FLAGS: readonly string[] = Object.freeze([
  '--max-semi-space-size=64',
  '--min-semi-space-size=16',
  '--initial-old-space-size=128',
]);

/** True if `execArgv` or NODE_OPTIONS already sizes the young generation (the user's choice wins). */
export function youngGenerationConfigured(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(a));
}

/**
 * The launcher's own Node flags minus the inspector's (`--inspect[-brk|-wait][=…]`,
 * `--inspect-port`, `--debug-port`): passed on to the gateway process, the rest
 * still applies there, but a second inspector would clash on the launcher's port.
 */
export function flagsForGateway(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (/^--(inspect-port|debug-port)$/.test(a)) i++; // its value is the next argument
    else if (!/^--(inspect(-brk|-wait)?|inspect-port|debug-port)(=|$)/.test(a)) out.push(a);
  }
  return out;
}
