// Child process for viewerClient.test.ts: a viewer with no 'error' listener whose
// credentials are refused. EventEmitter's convention: the unhandled 'error' throws,
// so this process must die with the error, not run on silently.
import { connectViewer } from '../../../src/client/viewerClient';

connectViewer(process.argv[2]!, { reconnect: false, headers: { authorization: 'wrong' } });
setTimeout(() => {
  console.log('still running: the error was swallowed');
  process.exit(0);
}, 20_000);
