// What the gateway bench's host and viewer simulators share: their HELLO, and
// the running digest both sides keep of every message (u32 length, then the
// bytes), which must be computed identically on both sides to compare.
'use strict';
const { protocol } = require('tilecast');

function hello(software) {
  return Buffer.from(protocol.encodeMessage({
    type: 'hello', minVersion: protocol.MIN_PROTOCOL_VERSION, maxVersion: protocol.PROTOCOL_VERSION,
    capabilities: protocol.Capability.COPY_RECT | protocol.Capability.CURSOR | protocol.Capability.JPEG, software,
  }));
}

function hashInto(h, bytes) {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(bytes.length);
  h.update(len);
  h.update(bytes);
}

module.exports = { hello, hashInto };
