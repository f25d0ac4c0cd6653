// What the example commands share: option parsing with a real --help and a
// one-line error (no stack trace) for a wrong option, and messages for staff
// in Japanese first, English where the locale is English.
'use strict';
const { parseArgs } = require('node:util');

/**
 * Parses process.argv. --help/-h prints `help` and exits 0; an unknown or
 * malformed option prints one line and exits 2.
 */
function parseCommandLine(help, options, { allowPositionals = false } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (err) {
    const unknown = /^Unknown option '([^']+)'/.exec(err.message);
    fail(`${unknown ? `Unknown option '${unknown[1]}'` : err.message.split('\n')[0]} (--help lists the options)`, 2);
  }
  if (parsed.values.help) {
    process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Prints `message` to stderr and exits with `code`. */
function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Japanese, or English where the locale says English (LC_ALL, LC_MESSAGES, LANG). */
function say(ja, en) {
  const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
  return /^en/i.test(locale) ? en : ja;
}

module.exports = { parseCommandLine, fail, say };
