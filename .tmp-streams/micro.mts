import { Stream, streamIdKey } from '../src/keyspace/types/stream.ts';
const s = new Stream();
for (let i = 1; i <= 1000; i++) s.entries.set(streamIdKey({ ms: BigInt(i), seq: 0n }), ['f', 'value-0123']);
function fmtKey(k: string): string {
  const h0 = ((k.charCodeAt(0) << 24) | (k.charCodeAt(1) << 16) | (k.charCodeAt(2) << 8) | k.charCodeAt(3)) >>> 0;
  const h1 = ((k.charCodeAt(8) << 24) | (k.charCodeAt(9) << 16) | (k.charCodeAt(10) << 8) | k.charCodeAt(11)) >>> 0;
  const l0 = ((k.charCodeAt(4) << 24) | (k.charCodeAt(5) << 16) | (k.charCodeAt(6) << 8) | k.charCodeAt(7)) >>> 0;
  const l1 = ((k.charCodeAt(12) << 24) | (k.charCodeAt(13) << 16) | (k.charCodeAt(14) << 8) | k.charCodeAt(15)) >>> 0;
  return (h0 * 4294967296 + l0) + '-' + (h1 * 4294967296 + l1);
}
function entryReply(key: string, fields: string[]): string {
  let out = '*2\r\n$';
  const id = fmtKey(key);
  out += id.length + '\r\n' + id + '\r\n*' + fields.length + '\r\n';
  for (let i = 0; i < fields.length; i++) { const f = fields[i]!; out += '$' + f.length + '\r\n' + f + '\r\n'; }
  return out;
}
const MIN = '\0'.repeat(16), MAX = '\xff'.repeat(16);
function v1(): string {
  let body = ''; let n = 0;
  for (const [k, f] of s.entries.range(MIN, MAX, false)) { body += entryReply(k, f); if (++n === 100) break; }
  return '*' + n + '\r\n' + body;
}
function time(name: string, fn: () => string, conv: boolean) {
  const N = 20000; let t = process.hrtime.bigint(); let x = 0;
  for (let i = 0; i < N; i++) { const r = fn(); if (conv) x += Buffer.from(r, 'latin1').length; else x += r.length; }
  const us = Number(process.hrtime.bigint() - t) / 1e3 / N;
  console.log(name, conv ? '+buffer' : '', us.toFixed(2), 'us/op', x);
}
for (let r = 0; r < 3; r++) { time('v1', v1, false); time('v1', v1, true); }
// range only
function rangeOnly(): string { let n = 0; for (const _ of s.entries.range(MIN, MAX, false)) { if (++n === 100) break; } return 'x'; }
for (let r = 0; r < 3; r++) time('range', rangeOnly, false);
function fmtOnly(): string { let n = 0; let x = ''; for (const [k] of s.entries.range(MIN, MAX, false)) { x = fmtKey(k); if (++n === 100) break; } return x; }
for (let r = 0; r < 3; r++) time('fmt', fmtOnly, false);
