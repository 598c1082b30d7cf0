#!/usr/bin/env node
// Generates src/commands/redis-commands.json from a running redis-server 7.0.15: the COMMAND INFO
// and COMMAND DOCS replies of every command, as typed RESP3 trees. Redis builds its own command
// table (commands.def) from src/commands/*.json; this is that same metadata as Redis reports it, so
// Amber's COMMAND replies, arity, flags and key specs equal Redis's by construction.
//
// Usage: node scripts/gen-command-table.mjs [port]   (starts its own redis-server when no port)
import net from 'node:net';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Parses one RESP3 value from buf at pos; returns [value, next] or null when incomplete. */
function parse(buf, pos) {
  const nl = buf.indexOf('\r\n', pos, 'latin1');
  if (nl < 0) return null;
  const t = String.fromCharCode(buf[pos]);
  const line = buf.latin1Slice(pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case '+': return [{ t: 'simple', v: line }, p];
    case '-': return [{ t: 'error', v: line }, p];
    case ':': return [{ t: 'int', v: Number(line) }, p];
    case '_': return [{ t: 'null' }, p];
    case '#': return [{ t: 'bool', v: line === 't' }, p];
    case ',': return [{ t: 'double', v: line }, p];
    case '$': case '=': {
      const n = Number(line);
      if (n < 0) return [{ t: 'null' }, p];
      if (buf.length < p + n + 2) return null;
      return [{ t: t === '$' ? 'bulk' : 'verbatim', v: buf.latin1Slice(p, p + n) }, p + n + 2];
    }
    case '*': case '~': case '%': case '>': {
      let n = Number(line);
      if (t === '%') n *= 2;
      const items = [];
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [{ t: t === '*' ? 'array' : t === '~' ? 'set' : t === '%' ? 'map' : 'push', v: items }, p];
    }
    default: throw new Error('unexpected RESP type ' + t);
  }
}

function encode(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

async function query(port, commands) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const replies = [];
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let pos = 0;
      for (;;) {
        const r = parse(buf, pos);
        if (!r) break;
        replies.push(r[0]);
        pos = r[1];
      }
      buf = buf.subarray(pos);
      if (replies.length === commands.length) { sock.end(); resolve(replies); }
    });
    sock.on('error', reject);
    sock.write(commands.map(encode).join(''));
  });
}

/** Converts a typed tree to compact JSON: arrays stay arrays; other kinds carry a tag. */
function compact(node) {
  switch (node.t) {
    case 'bulk': return node.v;
    case 'int': return node.v;
    case 'simple': return { s: node.v };
    case 'null': return null;
    case 'array': return node.v.map(compact);
    case 'set': return { set: node.v.map(compact) };
    case 'map': return { map: node.v.map(compact) };
    default: throw new Error('unexpected node ' + node.t);
  }
}

let port = Number(process.argv[2] ?? 0);
let child = null;
if (!port) {
  port = 20000 + Math.floor(Math.random() * 20000);
  const dir = mkdtempSync(join(tmpdir(), 'amber-gen-'));
  child = spawn('redis-server', ['--port', String(port), '--save', '', '--dir', dir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
}
try {
  const [, info, docs] = await query(port, [['HELLO', '3'], ['COMMAND', 'INFO'], ['COMMAND', 'DOCS']]);
  const byName = {};
  for (const entry of info.v) {
    if (entry.t === 'null') continue;
    byName[entry.v[0].v] = { info: compact(entry) };
  }
  const d = docs.v;
  for (let i = 0; i < d.length; i += 2) {
    const name = d[i].v;
    if (byName[name]) byName[name].docs = compact(d[i + 1]);
  }
  const sorted = Object.fromEntries(Object.keys(byName).sort().map((k) => [k, byName[k]]));
  const out = join(here, '..', 'src', 'commands', 'redis-commands.json');
  writeFileSync(out, JSON.stringify(sorted) + '\n');
  console.log(`wrote ${Object.keys(sorted).length} commands to ${out}`);
} finally {
  child?.kill();
}
