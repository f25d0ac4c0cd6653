// The page's bootstrap (a file, not an inline script, so the page's CSP can
// forbid inline scripts): mount the viewer on this host's WebSocket.
import { mountViewer } from './tilecast-viewer.js';

// Same host, same query (e.g. ?password=... for the example host).
const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/${location.search}`;
// Audio and the microphone when the host offers them (its HELLO says; off by default on hosts).
const viewer = mountViewer(document.getElementById('screen'), { url, audio: { microphone: true } });
window.tilecastViewer = viewer; // for tests and the console
// A mouse-and-keyboard device types straight away; on a touch device the
// keyboard button opens the soft keyboard when the user wants it.
if (!matchMedia('(pointer: coarse)').matches) viewer.focus();
