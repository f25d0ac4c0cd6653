// WindowsSource / WindowsInputSink off Windows (their real tests run under Wine:
// test/windows/wine.test.ts): options are checked first, then the platform is refused cleanly.
import t from 'tap';
import { WindowsInputSink } from '../../../src/input/inputSink';
import { native } from '../../../src/native/binding';
import { WindowsSource } from '../../../src/source/windowsSource';

const skip = process.platform === 'win32' ? 'this file checks the behaviour off Windows' : false;

t.test('off Windows the Windows classes refuse with ERR_UNAVAILABLE naming the platform', { skip }, async (t) => {
  t.equal(native().NativeWindowsCapture, undefined, 'a Linux addon has no Windows capture');
  await t.rejects(WindowsSource.open(), { code: 'ERR_UNAVAILABLE', message: new RegExp(`Windows desktops only \\(this is ${process.platform}\\)`) });
  t.throws(() => WindowsInputSink.open(), { code: 'ERR_UNAVAILABLE' });
});

t.test('bad options are refused before anything opens', async (t) => {
  await t.rejects(WindowsSource.open({ backend: 'vnc' as 'gdi' }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(WindowsSource.open({ monitor: 64 }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(WindowsSource.open({ monitor: 1.5 }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(WindowsSource.open({ pointerPollMs: 0 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => WindowsInputSink.open({ monitor: -2 }), { code: 'ERR_INVALID_ARG' });
});
