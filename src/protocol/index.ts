/**
 * The tilecast wire protocol: pure TypeScript (Uint8Array/DataView, no Node APIs),
 * shared by the Node host/client and the browser viewer. Layouts: docs/protocol.md.
 */
export * from './constants';
export * from './messages';
export { CompactUpdateState, encodeCompactUpdate } from './compactUpdate';
export * from './framing';
export * from './version';
export { ByteReader, ByteWriter } from './bytes';
export * from './viewerLink';
