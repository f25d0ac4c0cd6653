// A forked helper process (memHost.js, memViewers.js) with request/reply calls
// over its IPC channel. Every call has a timeout; stop() ends the child.
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');

class Child {
  constructor(script, arg, { execArgv = [], env = process.env } = {}) {
    this.proc = fork(path.join(__dirname, script), [JSON.stringify(arg)], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${script} exited (${code ?? signal}) during ${p.cmd}`));
      this.pending.clear();
      resolve(code ?? signal);
    }));
    this.ready = new Promise((resolve, reject) => {
      this.proc.on('message', (msg) => {
        if (msg.type === 'ready') return resolve(msg);
        if (msg.reply !== undefined) {
          const p = this.pending.get(msg.reply);
          if (!p) return;
          this.pending.delete(msg.reply);
          clearTimeout(p.timer);
          return msg.error ? p.reject(new Error(`${script} ${p.cmd}: ${msg.error}`)) : p.resolve(msg);
        }
        for (const l of this.listeners) l(msg);
      });
      this.proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    });
  }
  on(fn) {
    this.listeners.push(fn);
  }
  call(cmd, args = {}, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${cmd}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, cmd });
      this.proc.send({ cmd, id, ...args });
    });
  }
  /** Asks the child to close; kills it (by pid) if it has not exited after `graceMs`. */
  async stop(graceMs = 5000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.call('close', {}, graceMs).catch(() => {});
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (async) every `everyMs` until it returns truthy or `timeoutMs` passes; returns the last value. */
async function poll(fn, { everyMs = 250, timeoutMs = 60_000 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v.ok || Date.now() > end) return v;
    await sleep(everyMs);
  }
}

/** In a child: answers Child.call() requests with `handlers[cmd](msg)`, and exits when the parent goes. */
function serve(handlers) {
  process.on('message', async (msg) => {
    if (msg.cmd === undefined) return;
    try {
      const r = await handlers[msg.cmd](msg);
      process.send({ reply: msg.id, ...r });
    } catch (err) {
      process.send({ reply: msg.id, error: String(err && err.stack) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

module.exports = { serve, Child, sleep, poll };
