// Runs inside an empty project where the packed tarball was installed
// (packedInstall.slow.ts copies it there): everything below comes from
// require('tilecast'), as a user's code would get it, never from the checkout.
//
//   node inProject.js checks <out.json>   JPEG loads, the addon is the prebuild,
//                                          X11Source grabs $DISPLAY (raw frame beside out.json)
//   node inProject.js serve                a host with the browser viewer page on a static
//                                          scene; prints "READY <url>", stops on SIGTERM
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tilecast = require('tilecast');
const { loadScene } = require('tilecast/testing');

async function checks(out) {
  const pkgDir = path.dirname(require.resolve('tilecast/package.json'));
  const result = {
    packageDir: pkgDir,
    jpegUnavailable: tilecast.jpegUnavailableReason(),
    hasBuildDir: fs.existsSync(path.join(pkgDir, 'build')),
    simd: tilecast.simdLevel(),
  };
  if (process.env.DISPLAY) {
    const source = await tilecast.X11Source.open({ display: process.env.DISPLAY });
    const frame = await source.nextFrame();
    const packed = Buffer.alloc(frame.width * frame.height * 4);
    for (let y = 0; y < frame.height; y++) {
      Buffer.from(frame.data.buffer, frame.data.byteOffset + y * frame.stride, frame.width * 4).copy(packed, y * frame.width * 4);
    }
    for (let i = 3; i < packed.length; i += 4) packed[i] = 255; // alpha is padding in BGRA frames
    fs.writeFileSync(`${out}.x11.bgra`, packed);
    result.x11 = { width: frame.width, height: frame.height };
    await source.close();
  }
  fs.writeFileSync(out, JSON.stringify(result));
}

async function serve() {
  const scene = loadScene('desktop');
  const source = new tilecast.PushSource();
  source.push(scene);
  const host = await tilecast.createHost({ source, httpHandler: tilecast.viewerPage() });
  console.log(`READY ${host.url}`);
  process.once('SIGTERM', () => host.close().then(() => process.exit(0)));
}

const [mode, arg] = process.argv.slice(2);
(mode === 'serve' ? serve() : checks(arg)).catch((err) => {
  console.error(err);
  process.exit(1);
});
