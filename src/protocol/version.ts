import { ErrorCodes, TilecastError } from '../errors';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from './constants';
import type { HelloMessage } from './messages';

/** The highest version both peers speak; throws ERR_UNSUPPORTED_VERSION if none. */
export function negotiateVersion(peer: Pick<HelloMessage, 'minVersion' | 'maxVersion'>,
  local = { minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION }): number {
  const version = Math.min(peer.maxVersion, local.maxVersion);
  if (version < Math.max(peer.minVersion, local.minVersion)) {
    throw new TilecastError(
      ErrorCodes.UNSUPPORTED_VERSION,
      `no common protocol version: peer speaks ${peer.minVersion}..${peer.maxVersion}, we speak ${local.minVersion}..${local.maxVersion}`,
    );
  }
  return version;
}
