import t from 'tap';
import { ErrorCodes, TilecastError, fromNative, invalidArg } from '../../src/errors';

t.test('invalidArg has one message shape', async (t) => {
  const e = invalidArg('width', 'an integer in [1, 16384]', -3);
  t.ok(e instanceof TilecastError);
  t.equal(e.code, ErrorCodes.INVALID_ARG);
  t.equal(e.message, 'width must be an integer in [1, 16384], got -3');
  t.equal(invalidArg('data', 'a Uint8Array', new Uint16Array(2)).message, 'data must be a Uint8Array, got Uint16Array(4 bytes)');
});

t.test('fromNative keeps known codes and hides unknown ones', async (t) => {
  const known = Object.assign(new Error('x'), { code: 'ERR_PROTOCOL' });
  t.equal(fromNative(known).code, ErrorCodes.PROTOCOL);
  t.equal(fromNative(Object.assign(new Error('y'), { code: 'EWHATEVER' })).code, ErrorCodes.INTERNAL);
  t.equal(fromNative('boom').message, 'boom');
});
