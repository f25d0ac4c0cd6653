/**
 * Crash-safe file replacement and a cross-process lock, for the file store.
 *
 * writeFileAtomic: write a temp file in the same directory, fsync it, rename
 * it over the target, fsync the directory. A reader (or a crash) sees the old
 * file or the new one, never half of one. Mode 0600: the store holds password
 * hashes.
 *
 * FileLock: `<file>.lock` created with O_EXCL holding the owner's pid, so the
 * `serve` process and a CLI command (`user add` while serving) take turns
 * writing. A lock whose owner died (pid gone, or older than `staleMs`) is
 * broken; the write it protected was a rename, so nothing is half-done.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.promises.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.promises.unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable. Not possible on every platform (Windows): best effort.
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch {
    // ignore
  } finally {
    await fh?.close().catch(() => {});
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileLock {
  readonly file: string;

  constructor(target: string, private readonly staleMs = 10_000, private readonly waitMs = 5_000) {
    this.file = `${target}.lock`;
  }

  /** Waits for the lock (up to `waitMs`, then throws). Returns the release function. */
  async acquire(): Promise<() => Promise<void>> {
    const token = `${process.pid} ${crypto.randomBytes(8).toString('hex')}`;
    const deadline = Date.now() + this.waitMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        await fs.promises.writeFile(this.file, token, { flag: 'wx', mode: 0o600 });
        return async () => {
          // Only remove our own lock (it may have been broken as stale and taken by another).
          const held = await fs.promises.readFile(this.file, 'utf8').catch(() => null);
          if (held === token) await fs.promises.unlink(this.file).catch(() => {});
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      await this.breakIfStale();
      if (Date.now() > deadline) throw new Error(`could not lock ${this.file} within ${this.waitMs} ms (another gateway process writing?)`);
      await sleep(delay);
    }
  }

  private async breakIfStale(): Promise<void> {
    try {
      const [held, st] = await Promise.all([fs.promises.readFile(this.file, 'utf8'), fs.promises.stat(this.file)]);
      const pid = Number(held.split(' ')[0]);
      const dead = Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid);
      if (dead || Date.now() - st.mtimeMs > this.staleMs) await fs.promises.unlink(this.file);
    } catch {
      // gone meanwhile, or unreadable: try again
    }
  }
}
