/**
 * A self-signed TLS certificate for a gateway started without --cert/--key,
 * made with node:crypto alone (no npm package, no openssl binary: the gateway
 * must work with nothing but `npm install`, also on Windows servers).
 *
 * The key is ECDSA P-256; the certificate is a minimal X.509 v3 written here
 * in DER: subject = issuer = the first host name, SubjectAltName with every
 * name and address the gateway is reached by, CA:TRUE (so an office PC can
 * pin it as its `ca`, as examples/host.js --relay-ca does), serverAuth.
 * Browsers show a warning for it once; a city with its own certificate passes
 * --cert/--key instead.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';

// --- DER, just what a certificate needs ---
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift(0x80 | (v & 0x7f));
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1]! & 0x80)) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups.
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface SelfSigned {
  cert: string;
  key: string;
}

/** A new self-signed certificate for `names` (host names and IP addresses; the first is the subject). */
export function makeSelfSigned(names: string[], validDays = 5 * 365, now = new Date()): SelfSigned {
  if (!names.length) throw new RangeError('at least one name');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.3'), utf8(names[0]!.slice(0, 64)))));
  const notBefore = new Date(now.getTime() - 3600_000); // an hour of slack for clocks behind
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  // The key identifier: SHA-1 of the public key bits (RFC 5280 4.2.1.2, method 1).
  const keyBits = spki.subarray(spki.length - 65);
  const keyId = crypto.createHash('sha1').update(keyBits).digest();
  const san = seq(...names.map((n) => (net.isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii')))));
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const extensions = explicit(3, seq(
    ext('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
    ext('2.5.29.15', true, bits(Buffer.from([0x84]))), // keyUsage: digitalSignature, keyCertSign
    ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    ext('2.5.29.17', false, san),
    ext('2.5.29.14', false, octets(keyId)),
    ext('2.5.29.35', false, seq(tlv(0x80, keyId))),
  ));
  const tbs = seq(explicit(0, integer(Buffer.from([2]))), integer(serial), ecdsaSha256, name, seq(time(notBefore), time(notAfter)), name, spki, extensions);
  const signature = crypto.sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaSha256, bits(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** Names a gateway is likely reached by: this machine's name, localhost, loopback addresses, plus `extra`. */
export function defaultNames(extra: string[] = []): string[] {
  return [...new Set([...extra, os.hostname(), 'localhost', '127.0.0.1', '::1'].filter(Boolean))];
}

/**
 * The certificate to serve: `certFile`/`keyFile` when given; else the data
 * dir's own, made on first start (key mode 0600). Returns PEM text and
 * whether it was just made.
 */
export function loadOrMakeCertificate(dataDir: string, o: { certFile?: string; keyFile?: string; names?: string[] } = {}): SelfSigned & { created: boolean; certPath: string } {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) throw new Error('--cert and --key go together');
    return { cert: fs.readFileSync(o.certFile, 'utf8'), key: fs.readFileSync(o.keyFile, 'utf8'), created: false, certPath: o.certFile };
  }
  const certPath = path.join(dataDir, CERT_FILE);
  const keyPath = path.join(dataDir, KEY_FILE);
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    return { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8'), created: false, certPath };
  }
  const made = makeSelfSigned(defaultNames(o.names));
  fs.writeFileSync(keyPath, made.key, { mode: 0o600 });
  fs.writeFileSync(certPath, made.cert, { mode: 0o644 });
  return { ...made, created: true, certPath };
}
