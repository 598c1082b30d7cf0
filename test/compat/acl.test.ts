/**
 * Redis ACL against redis-server 7.0.15: every reply of the ACL command (SETUSER with all its
 * rules and error texts, GETUSER in RESP2 and RESP3, LIST, USERS, WHOAMI, DELUSER, CAT, GENPASS,
 * DRYRUN, LOG, HELP, LOAD and SAVE), and the permission checks of every other command: NOPERM for
 * commands, subcommands and first-args, keys (read and write patterns), channels (PUBLISH,
 * SUBSCRIBE, PSUBSCRIBE's literal pattern match, SSUBSCRIBE, SPUBLISH), several selectors, MULTI
 * (queue-time refusal and the re-check at EXEC), scripts (redis.call / pcall refusals,
 * redis.acl_check_cmd), AUTH / HELLO AUTH / RESET, CLIENT INFO's user= field and CLIENT KILL
 * USER, requirepass, acl-pubsub-default, acllog-max-len, `user` lines of a config file with
 * CONFIG REWRITE, and an aclfile with ACL SAVE / ACL LOAD and its errors.
 *
 * Replies are compared byte for byte on fresh connections to both servers, except where Redis
 * itself is not deterministic:
 * - the single commands of a command-rules description (GETUSER `commands`, ACL LIST lines, the
 *   lines ACL SAVE and CONFIG REWRITE write) come in the order of Redis's command dict, random
 *   per process: after the leading +@all/-@all and the categories (both deterministic, kept in
 *   order) they are sorted ({@link canonRules});
 * - ACL CAT <category> lists commands in that dict order: compared as sorted lists, without
 *   Amber's own BACKUP;
 * - ACL LOG: age-seconds is masked (its RESP type kept) and client-info reduced to its stable
 *   fields (name, db, flags, sub, psub, ssub, multi, cmd, user, resp); the same for CLIENT INFO;
 * - ACL GENPASS: only the length and the hex alphabet; HELLO: the client id;
 * - error texts naming the aclfile: the path is masked.
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { compatPair } from '../helpers/compat.js';
import { startAmber, startRedis, RawClient, tempDirs, freePort } from '../helpers/servers.js';
import { startServer } from '../../src/index.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;
const mkdir = tempDirs('amber-acl-');
/** Options of every test: bounded in time, skipped without redis-server. */
const opts = { skip, timeout: 60000 };

// ---------------------------------------------------------------------------------------------
// normalisation of the replies Redis gives in a random order or with varying values

/**
 * Command rules with their single commands sorted: in every run `+@all|-@all [categories]
 * [commands]` of `s`, the categories keep their (deterministic) order and the commands, which
 * Redis emits in its dict's random order, are sorted. Lengths are unchanged, so this applies to
 * raw replies too.
 */
function canonRules(s: string): string {
  return s.replace(
    /([+-]@all)((?: [+-]@[^\s()]+)*)((?: [+-][^@\s()][^\s()]*)*)/g,
    (_m, all: string, cats: string, singles: string) =>
      all + cats + singles.split(' ').filter((w) => w !== '').sort().map((w) => ` ${w}`).join(''),
  );
}

/** The fields of a CLIENT INFO / CLIENT LIST line that do not vary between servers and runs. */
const STABLE_CLIENT_FIELDS = new Set(['name', 'db', 'flags', 'sub', 'psub', 'ssub', 'multi', 'cmd', 'user', 'resp']);
function stableClientFields(line: string): string {
  return line.trim().split(' ').filter((kv) => STABLE_CLIENT_FIELDS.has(kv.slice(0, kv.indexOf('=')))).join(' ');
}

/** An ACL LOG reply with age-seconds masked (type kept, value checked) and client-info reduced. */
function canonLog(raw: string): string {
  return raw
    .replace(/(\$11\r\nage-seconds\r\n)(\$\d+\r\n([^\r]*)\r\n|,([^\r]*)\r\n)/g, (_m, k: string, v: string, bulk?: string, dbl?: string) => {
      const age = Number(bulk ?? dbl);
      assert.ok(age >= 0 && age < 600, `age-seconds ${v}`);
      return `${k}${v[0]}AGE\r\n`;
    })
    .replace(/(\$11\r\nclient-info\r\n)\$\d+\r\n([^\r]*)\r\n/g, (_m, k: string, v: string) => `${k}CLIENT ${stableClientFields(v)}\r\n`);
}

/** Bulk strings of a flat array reply (RESP2 or RESP3). */
function bulks(raw: string): string[] {
  const out: string[] = [];
  let p = raw.indexOf('\r\n') + 2;
  while (p < raw.length) {
    const nl = raw.indexOf('\r\n', p);
    if (raw[p] !== '$') return out;
    const len = Number(raw.slice(p + 1, nl));
    out.push(raw.slice(nl + 2, nl + 2 + len));
    p = nl + 2 + len + 2;
  }
  return out;
}

/** A flat array reply of bulk strings, sorted. */
function sortedArray(raw: string): string {
  if (raw[0] !== '*') return raw;
  return raw.slice(0, raw.indexOf('\r\n') + 2) + bulks(raw).sort().map((b) => `$${b.length}\r\n${b}\r\n`).join('');
}

const upper = (s: string | undefined): string => (s ?? '').toUpperCase();

/**
 * The normalisation applied to every compared reply, by command: ACL GETUSER / LIST through
 * {@link canonRules}, ACL LOG through {@link canonLog}, ACL CAT <category> sorted, ACL GENPASS to
 * its length, CLIENT INFO to its stable fields, HELLO without the client id. Other replies as is.
 */
function norm(reply: string, cmd: string[]): string {
  const [c0, c1] = [upper(cmd[0]), upper(cmd[1])];
  if (c0 === 'ACL' && (c1 === 'GETUSER' || c1 === 'LIST')) return canonRules(reply);
  if (c0 === 'ACL' && c1 === 'LOG') return canonLog(reply);
  if (c0 === 'ACL' && c1 === 'CAT' && cmd.length === 3) return sortedArray(reply);
  if (c0 === 'ACL' && c1 === 'GENPASS' && reply[0] === '$') {
    const pw = reply.slice(reply.indexOf('\r\n') + 2, -2);
    assert.match(pw, /^[0-9a-f]+$/, 'ACL GENPASS gives lowercase hex');
    return `$${pw.length}\r\n${'x'.repeat(pw.length)}\r\n`;
  }
  if (c0 === 'CLIENT' && c1 === 'INFO' && (reply[0] === '$' || reply[0] === '=')) {
    // a bulk string in RESP2, a verbatim string (txt:) in RESP3
    const text = reply.slice(reply.indexOf('\r\n') + 2, -2);
    return `${reply[0]}CLIENT ${stableClientFields(reply[0] === '=' ? text.slice(4) : text)}`;
  }
  if (c0 === 'HELLO') return reply.replace(/(\$2\r\nid\r\n):\d+\r\n/, '$1:ID\r\n');
  return reply;
}

// ---------------------------------------------------------------------------------------------
// connections

/** One connection to each server, Amber's first. */
interface Duo {
  a: RawClient;
  r: RawClient;
}

const opened: Duo[] = [];
afterEach(() => {
  for (const d of opened.splice(0)) {
    d.a.close();
    d.r.close();
  }
});

/** Fresh connections to the two servers given (default: the pair), closed after the test; RESP3 with `resp3`. */
async function duo(resp3 = false, ports: [number, number] = [pair.amber.port, pair.redis.port]): Promise<Duo> {
  const d = { a: await RawClient.connect(ports[0]), r: await RawClient.connect(ports[1]) };
  opened.push(d);
  if (resp3) {
    for (const c of [d.a, d.r]) assert.match(await c.call('HELLO', '3'), /^%/);
  }
  return d;
}

/**
 * Pipelines `cmds` on both connections of `d` and asserts the same replies after {@link norm}
 * (and, with `paths`, after replacing each side's own path, Amber's then Redis's, with FILE).
 * Resolves to the raw replies, Amber's then Redis's.
 */
async function same(d: Duo, cmds: string[][], paths?: [string, string]): Promise<[string[], string[]]> {
  const [ra, rr] = await Promise.all([d.a.pipeline(cmds), d.r.pipeline(cmds)]);
  const masked = (rs: string[], path: string | undefined): string[] =>
    rs.map((r, i) => {
      const n = norm(r, cmds[i]!);
      return path === undefined ? n : n.split(path).join('FILE');
    });
  const na = masked(ra, paths?.[0]);
  const nr = masked(rr, paths?.[1]);
  for (let i = 0; i < cmds.length; i++) assert.equal(na[i], nr[i], JSON.stringify(cmds[i]).slice(0, 300));
  return [ra, rr];
}

/** Runs `cmds` on fresh connections to both servers (RESP3 with `resp3`) and compares them. */
async function fresh(cmds: string[][], resp3 = false): Promise<[string[], string[]]> {
  return same(await duo(resp3), cmds);
}

/** Waits (up to `ms`) for the server to close `c`; resolves to whether it did. */
async function closedWithin(c: RawClient, ms = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return c.closed;
}

/** Whether each connection of `d` was closed by its server (within `ms`): [Amber's, Redis's]. */
async function bothClosed(d: Duo, ms = 1000): Promise<[boolean, boolean]> {
  return [await closedWithin(d.a, ms), await closedWithin(d.r, ms)];
}

/** Whether `c` is still served: closed connections answer nothing. */
async function alive(c: RawClient): Promise<boolean> {
  if (c.closed) return false;
  try {
    const r = await Promise.race([c.call('ECHO', 'alive'), new Promise<string>((res) => setTimeout(() => res('timeout'), 1000))]);
    return r !== 'timeout';
  } catch {
    return false;
  }
}

/** ACL SETUSER argv. */
const setuser = (name: string, ...ops: string[]): string[] => ['ACL', 'SETUSER', name, ...ops];
const getuser = (name: string): string[] => ['ACL', 'GETUSER', name];
/** SHA-256 hex of a password, as GETUSER shows it and `#` takes it. */
const sha = (pw: string): string => createHash('sha256').update(Buffer.from(pw, 'latin1')).digest('hex');

/** The ACL LIST lines (canonical) of the users named, for tests on a shared server. */
async function listLines(c: RawClient, names: string[]): Promise<string[]> {
  return bulks(await c.call('ACL', 'LIST'))
    .filter((l) => names.some((n) => l.startsWith(`user ${n} `)))
    .map(canonRules);
}

// ---------------------------------------------------------------------------------------------

describe('ACL SETUSER', () => {
  test('every modifier error text, usernames with spaces or NUL; nothing is created', opts, async () => {
    const h = sha('x');
    const bad: string[][] = [
      ['bogus'], ['on', 'foo'], ['ON', 'Off', 'nopass', 'x'], [' '],
      ['+nosuch'], ['+@nosuch'], ['-@nosuch'], ['-nosuch'], ['+nosuch|x'], ['+acl|nosuch'], ['+config|get|x'],
      ['-get|x'], ['-select|0'], ['+@all|x'], ['+@read|x'],
      ['~*', '~foo'], ['allkeys', '%R~x'], ['allkeys', '%W~*'], ['&*', '&foo'], ['allchannels', '&x'],
      ['<nopw'], ['<'], ['!' + sha('nope')], ['#abc'], ['!abc'], ['#'], ['!'], ['#' + h.toUpperCase()], ['#' + h.slice(1)],
      ['#' + h + '0'], ['#' + h.slice(1) + 'g'], ['!' + h.slice(2)],
      ['%X~a'], ['%~x'], ['%'], ['%RR~x'], ['%Rx~y'],
      ['(~x'], ['(~x', '+get'], ['(~x', '(+get)'], [')'], ['(on)'], ['(>pw)'], ['(nopass)'], ['(reset)'],
      ['(clearselectors)'], ['(skip-sanitize-payload)'], ['(~* ~a)'], ['("~a b" +get)'], ['(+nosuch)'], ['(bad)'],
      ['(~a', ' +get)', '(bad)'], ['on', '>pw', '~*', '+@all', 'nosuchrule'],
    ];
    await fresh([
      ...bad.map((ops) => setuser('e1', ...ops)),
      setuser('a b', 'on'), setuser('nul\0x', 'on'), setuser(' ', 'on'), setuser('a b'),
      ['ACL', 'SETUSER'], getuser('e1'), getuser('a b'),
      // accepted oddities: an empty rule, %RW~* (not the allkeys flag) then a pattern, %R / %W without ~
      setuser('e2', ''), getuser('e2'), setuser('e2', '%RW~*', '~a'), getuser('e2'), setuser('e2', '%R'), getuser('e2'),
      setuser('e2', '%W'), getuser('e2'), ['ACL', 'DELUSER', 'e2'],
    ]);
  });

  test('a failing ACL SETUSER changes nothing', opts, async () => {
    const d = await duo();
    await same(d, [
      setuser('at1', 'on', '>p', '~a*', '&c', '+get', '(~s* +set)'),
      setuser('at1', 'off', 'resetpass', 'resetkeys', '~b*', '-get', '+del', 'clearselectors', 'bogus'),
      getuser('at1'),
      setuser('at1', 'reset', '+nosuch'), getuser('at1'),
      setuser('at1', 'nopass', '(+set)', '('), getuser('at1'),
      setuser('at1', 'reset', 'allkeys', '~x'), getuser('at1'),
      setuser('at1', 'resetpass', '<p'), getuser('at1'),
      setuser('at2', 'on', 'nopass', '+@all', 'bogus'), getuser('at2'),
      setuser('at2', '(+get)', '(~x'), getuser('at2'),
    ]);
    // the old password still works, the refused `off` was not applied
    await fresh([['AUTH', 'at1', 'p'], ['ACL', 'WHOAMI'], ['GET', 'a1'], ['SET', 's1', 'x'], ['DEL', 's1']]);
    await same(d, [['ACL', 'DELUSER', 'at1', 'at2']]);
  });

  test('passwords: >, <, #, !, nopass, resetpass; GETUSER flags and hashes in RESP2 and RESP3; AUTH against them', opts, async () => {
    const d = await duo();
    const steps: string[][] = [
      setuser('pw1', 'on', '>a', '>b', '>a', '~*', '&*', '+@all'), getuser('pw1'),
      setuser('pw1', '<a'), getuser('pw1'),
      setuser('pw1', '#' + sha('c'), '!' + sha('b')), getuser('pw1'),
      setuser('pw1', '#' + sha('c'), '>c'), getuser('pw1'),
      setuser('pw1', 'nopass'), getuser('pw1'),
      setuser('pw1', '>d'), getuser('pw1'),
      setuser('pw1', 'resetpass'), getuser('pw1'),
      setuser('pw1', '>', '>\u00dcn\u00efcode', '>with space'), getuser('pw1'),
      setuser('pw1', '<', 'nopass', '>e'), getuser('pw1'),
      setuser('pw1', '<e', '>e', '>f'), getuser('pw1'),
    ];
    const [ra] = await same(d, steps);
    assert.ok(ra[5]!.includes(sha('c')), 'GETUSER shows the SHA-256 of the password');
    await same(await duo(true), [getuser('pw1'), getuser('default'), getuser('nosuch')]);
    await fresh([
      ['AUTH', 'pw1', 'a'], ['ACL', 'WHOAMI'], ['AUTH', 'pw1', 'e'], ['ACL', 'WHOAMI'], ['AUTH', 'pw1', 'f'], ['ACL', 'WHOAMI'],
      ['AUTH', 'pw1', ''], ['AUTH', 'PW1', 'f'], ['ACL', 'WHOAMI'],
    ]);
    await same(d, [setuser('pw1', 'resetpass', '>', '>\u00dcn\u00efcode', '>with space')]);
    await fresh([['AUTH', 'pw1', ''], ['ACL', 'WHOAMI'], ['AUTH', 'pw1', '\u00dcn\u00efcode'], ['AUTH', 'pw1', 'with space'], ['AUTH', 'pw1', 'with'], ['ACL', 'WHOAMI']]);
    await same(d, [['ACL', 'DELUSER', 'pw1']]);
  });

  test('key patterns (~, %R~, %W~, %RW~ merged; allkeys, resetkeys) and channel patterns (&, allchannels, resetchannels)', opts, async () => {
    const d = await duo();
    await same(d, [
      setuser('kp1', '~a', '%R~a', '%W~a', '%RW~b', '%R~*', '~*'), getuser('kp1'),
      setuser('kp2', '%R~a', '%W~a', '%rw~c', '%w~d', '%R~e', '%R~e', '~f', '%W~f', '%R~g', '~g', '%r~h'), getuser('kp2'),
      setuser('kp2', 'resetkeys', '%R~*', '%R~x', '%W~*'), getuser('kp2'),
      setuser('kp2', 'allkeys'), getuser('kp2'),
      setuser('kp2', 'resetkeys', '%W~*', '~*'), getuser('kp2'),
      setuser('kp2', 'resetkeys', '%RW~*'), getuser('kp2'),
      setuser('kp2', 'resetkeys', '~a', '~a', '~A', '~a?[bc]*'), getuser('kp2'),
      setuser('kp3', '&a', '&b', '&a', '&c*'), getuser('kp3'),
      setuser('kp3', '&*'), getuser('kp3'),
      setuser('kp3', 'resetchannels', '&x'), getuser('kp3'),
      setuser('kp3', 'allchannels', 'allkeys', 'allchannels', '&*'), getuser('kp3'),
      setuser('kp3', 'resetchannels', 'resetkeys'), getuser('kp3'),
    ]);
    assert.deepEqual(await listLines(d.a, ['kp1', 'kp2', 'kp3']), await listLines(d.r, ['kp1', 'kp2', 'kp3']));
    await same(await duo(true), [getuser('kp2'), getuser('kp3')]);
    await same(d, [['ACL', 'DELUSER', 'kp1', 'kp2', 'kp3']]);
  });

  test('command rules: categories, commands, subcommands, first-args, allcommands / nocommands (single commands sorted)', opts, async () => {
    const rules: string[][] = [
      ['+@all', '-@dangerous', '+config|get'],
      ['nocommands', '+@read', '-get', '+set', '+select|0', '+select|1', '+client|id'],
      ['allcommands', '-@write', '+set'],
      ['nocommands', '+@hash', '-hset', '+acl|whoami'],
      ['+@all', '-config|set'],
      ['nocommands', '+config', '-config|set'],
      ['nocommands', '+select|0', '+select|0', '+SELECT|00', '+select'],
      ['nocommands', '+select|0', '-select'],
      ['+@all', '+select|0'],
      ['nocommands', '+GET', '+@READ', '+Config|Get'],
      ['nocommands', '+@all', '-@all', '+get'],
      ['-@all', '+client|id', '+client'],
      ['-@all', '+@string', '-@string'],
      ['nocommands', '+get|key1', '+get|key2'],
      ['nocommands', '+@keyspace', '+@read', '-@write', '-@slow'],
      ['+@all', '-@all'],
      ['-@all', '+@all'],
      ['+@all', '-@keyspace', '-@read', '-@write', '-@set', '-@sortedset', '-@list', '-@hash', '-@string', '-@bitmap', '-@hyperloglog', '-@geo', '-@stream', '-@pubsub'],
      ['-@all', '+@admin', '+@fast', '+@slow', '+@blocking', '+@dangerous', '+@connection', '+@transaction', '+@scripting'],
      ['-@all', '+acl', '-acl|setuser', '+debug', '+command|info'],
      ['-@all', '+set|nx', '+set|NX'],
    ];
    const cmds: string[][] = [];
    for (const r of rules) cmds.push(setuser('cr', 'reset', ...r), getuser('cr'));
    const d = await duo();
    await same(d, cmds);
    await same(d, [
      setuser('cr', 'reset', 'on', 'nopass', '-@all', '+config|get', '+select|0', '+get|k1', '+acl'),
      ['ACL', 'DRYRUN', 'cr', 'config', 'get', 'x'], ['ACL', 'DRYRUN', 'cr', 'config', 'set', 'x', 'y'],
      ['ACL', 'DRYRUN', 'cr', 'select', '0'], ['ACL', 'DRYRUN', 'cr', 'SELECT', '0'], ['ACL', 'DRYRUN', 'cr', 'select', '1'],
      ['ACL', 'DRYRUN', 'cr', 'get', 'k1'], ['ACL', 'DRYRUN', 'cr', 'get', 'K1'], ['ACL', 'DRYRUN', 'cr', 'get', 'k2'],
      ['ACL', 'DRYRUN', 'cr', 'acl', 'deluser', 'x'],
      ['ACL', 'DELUSER', 'cr'],
    ]);
  });

  test('selectors: in one argument or split over several, empty, clearselectors, the rules allowed inside; RESP2 and RESP3', opts, async () => {
    const d = await duo();
    const steps: string[][] = [
      setuser('sl', 'on', 'nopass', '(~a', '+get', ')'), getuser('sl'),
      setuser('sl', '()'), setuser('sl', '(', ')'), setuser('sl', '( ~x )'), getuser('sl'),
      setuser('sl', '(~a +get', '+set)'), setuser('sl', '(+get ~a)', '(+set ~b)'), getuser('sl'),
      setuser('sl', '(allchannels allkeys allcommands)'), setuser('sl', '(nocommands resetkeys resetchannels %R~x)'),
      setuser('sl', '(+select|0 &c)'), setuser('sl', '(~a ~*)'), setuser('sl', '(%W~w* %R~r* ~rw*  &ch  +@read -get)'), getuser('sl'),
      setuser('sl', 'clearselectors', '(~z +get)', '~root', '+del'), getuser('sl'),
      setuser('sl', 'reset'), getuser('sl'),
      setuser('sl', '(+get)', 'clearselectors', '(+set)'), getuser('sl'),
    ];
    await same(d, steps);
    assert.deepEqual(await listLines(d.a, ['sl']), await listLines(d.r, ['sl']));
    await same(await duo(true), [setuser('sl', 'reset', '(~a* +get)', '(%R~b* &c* +publish)', '~root', '+del'), getuser('sl')]);
    await same(d, [['ACL', 'DELUSER', 'sl']]);
  });

  test('flags: on / off, skip-sanitize-payload / sanitize-payload, nopass, reset', opts, async () => {
    const steps: string[][] = [
      setuser('fl'), getuser('fl'), setuser('fl', 'on'), getuser('fl'), setuser('fl', 'skip-sanitize-payload'), getuser('fl'),
      setuser('fl', 'sanitize-payload'), getuser('fl'), setuser('fl', 'nopass', 'off'), getuser('fl'),
      setuser('fl', 'reset'), getuser('fl'), setuser('fl', 'on', 'reset'), getuser('fl'),
      setuser('fl', 'reset', 'on', 'allkeys', 'allchannels', 'allcommands', 'nopass', 'skip-sanitize-payload'), getuser('fl'),
      setuser('fl', 'OFF', 'ON', 'NOPASS', 'RESETKEYS', 'ALLCHANNELS', 'NOCOMMANDS'), getuser('fl'),
    ];
    const d = await duo();
    await same(d, steps);
    assert.deepEqual(await listLines(d.a, ['fl']), await listLines(d.r, ['fl']));
    await same(await duo(true), [getuser('fl')]);
    await same(d, [['ACL', 'DELUSER', 'fl']]);
  });
});

describe('ACL subcommands', () => {
  test('ACL HELP, unknown subcommands, arity errors, LOAD / SAVE without an aclfile, ACL inside MULTI', opts, async () => {
    const cmds: string[][] = [
      ['ACL'], ['ACL', 'bogus'], ['ACL', 'bogus', 'x'], ['ACL', 'help'], ['ACL', 'HELP', 'x'], ['ACL', 'SETUSER'], ['ACL', 'GETUSER'],
      ['ACL', 'GETUSER', 'a', 'b'], ['ACL', 'DELUSER'], ['ACL', 'USERS', 'x'], ['ACL', 'WHOAMI', 'x'], ['ACL', 'LIST', 'x'],
      ['ACL', 'CAT', 'a', 'b'], ['ACL', 'GENPASS', '1', '2'], ['ACL', 'LOAD'], ['ACL', 'SAVE'], ['ACL', 'LOAD', 'x'], ['ACL', 'SAVE', 'x'],
      ['ACL', 'LOG', 'reset', 'x'], ['ACL', 'LOG', '1', '2'], ['ACL', 'DRYRUN'], ['ACL', 'DRYRUN', 'default'],
      ['MULTI'], setuser('mm', 'on', '+get'), ['ACL', 'WHOAMI'], getuser('mm'), ['ACL', 'DELUSER', 'mm'], ['ACL', 'bogus'], ['EXEC'],
      ['MULTI'], setuser('mm', 'on'), ['ACL', 'CAT', 'a', 'b'], ['EXEC'], getuser('mm'),
    ];
    await fresh(cmds);
    await fresh([['ACL', 'HELP'], ['ACL', 'bogus'], ['ACL', 'LOAD']], true);
  });

  test('ACL USERS (sorted by bytes), ACL LIST (whole), ACL WHOAMI; empty and non-ASCII user names', opts, async () => {
    const d = await duo();
    // only the default user left, on both servers
    for (const c of [d.a, d.r]) {
      const others = bulks(await c.call('ACL', 'USERS')).filter((u) => u !== 'default');
      if (others.length) await c.call('ACL', 'DELUSER', ...others);
    }
    await same(d, [
      ['ACL', 'USERS'], ['ACL', 'LIST'], ['ACL', 'WHOAMI'],
      setuser('b', 'on', 'nopass', '~*', '&*', '+@all'), setuser('a'), setuser('B', 'on', '>x', '%R~r*', '&c', '+get'),
      setuser('', 'on', 'nopass', '+acl|whoami'), setuser('\u00e9', 'on'), setuser('a-b', 'skip-sanitize-payload', '(~k +set)'),
      setuser('_', 'on', '#' + sha('y'), '+@read', '-@slow'), setuser('zz', 'allkeys', 'allchannels', 'allcommands', '-debug'),
      ['ACL', 'USERS'], ['ACL', 'LIST'],
    ]);
    await same(await duo(true), [['ACL', 'USERS'], ['ACL', 'LIST'], ['ACL', 'WHOAMI']]);
    await fresh([['AUTH', 'b', 'x'], ['ACL', 'WHOAMI'], ['AUTH', '', ''], ['ACL', 'WHOAMI'], ['ACL', 'USERS'], ['AUTH', 'B', 'x'], ['ACL', 'WHOAMI']]);
    await same(d, [['ACL', 'DELUSER', 'b', 'a', 'B', '', '\u00e9', 'a-b', '_', 'zz'], ['ACL', 'USERS']]);
  });

  test('ACL DELUSER: counts, the default user refused, clients of a deleted user disconnected', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('d1', 'on', '>p', '+@all'), setuser('d2', 'on', '>p', '+@all'), setuser('d3', 'on', 'nopass')]);
    const c1 = await duo();
    const c2 = await duo();
    const c1b = await duo();
    await same(c1, [['AUTH', 'd1', 'p'], ['ACL', 'WHOAMI']]);
    await same(c1b, [['AUTH', 'd1', 'p']]);
    await same(c2, [['AUTH', 'd2', 'p']]);
    await same(adm, [
      ['ACL', 'DELUSER', 'default'], ['ACL', 'DELUSER', 'd2', 'default'], ['ACL', 'DELUSER', 'DEFAULT'], getuser('d2'),
      ['ACL', 'DELUSER', 'nosuch'], ['ACL', 'DELUSER', 'd1', 'd1', 'nosuch', 'd3'], getuser('d1'), getuser('d3'),
    ]);
    assert.deepEqual(await bothClosed(c1), [true, true], 'the clients of d1 are disconnected');
    assert.deepEqual(await bothClosed(c1b), [true, true]);
    assert.deepEqual([await alive(c2.a), await alive(c2.r)], [true, true], 'the clients of d2 stay');
    // a client deleting its own user: its reply, then the close
    await same(c2, [['ACL', 'DELUSER', 'd2']]);
    assert.deepEqual(await bothClosed(c2), [true, true]);
    await same(adm, [['ACL', 'WHOAMI'], getuser('d2')]);
  });

  test('ACL CAT: the categories; ACL CAT <category> as sorted lists; unknown category', opts, async () => {
    const d = await duo();
    const [, [cats]] = await same(d, [['ACL', 'CAT']]);
    const names = bulks(cats!);
    assert.equal(names.length, 21);
    // Amber's rules name Redis's whole table (SYNC, PSYNC, REPLCONF included) plus its own BACKUP
    const known = (raw: string): string => {
      if (raw[0] !== '*') return raw;
      const items = bulks(raw).filter((c) => c !== 'backup').sort();
      return `*${items.length}\r\n${items.map((b) => `$${b.length}\r\n${b}\r\n`).join('')}`;
    };
    const cmds = [...names.map((c) => ['ACL', 'CAT', c]), ['ACL', 'CAT', 'READ'], ['ACL', 'CAT', 'Dangerous'], ['ACL', 'CAT', 'nosuch'], ['ACL', 'CAT', 'all'], ['ACL', 'CAT', '@read'], ['ACL', 'CAT', '']];
    const [ra, rr] = await Promise.all([d.a.pipeline(cmds), d.r.pipeline(cmds)]);
    for (let i = 0; i < cmds.length; i++) assert.equal(known(ra[i]!), known(rr[i]!), cmds[i]!.join(' '));
    await same(await duo(true), [['ACL', 'CAT'], ['ACL', 'CAT', 'pubsub'], ['ACL', 'CAT', 'nosuch']]);
  });

  test('ACL GENPASS: lengths and hex alphabet; bad bit counts', opts, async () => {
    await fresh([
      ['ACL', 'GENPASS'], ['ACL', 'GENPASS', '1'], ['ACL', 'GENPASS', '4'], ['ACL', 'GENPASS', '5'], ['ACL', 'GENPASS', '8'],
      ['ACL', 'GENPASS', '64'], ['ACL', 'GENPASS', '255'], ['ACL', 'GENPASS', '256'], ['ACL', 'GENPASS', '4096'],
      ['ACL', 'GENPASS', '0'], ['ACL', 'GENPASS', '-1'], ['ACL', 'GENPASS', '4097'], ['ACL', 'GENPASS', 'abc'], ['ACL', 'GENPASS', '1.5'],
      ['ACL', 'GENPASS', ''], ['ACL', 'GENPASS', '99999999999999999999'],
    ]);
    const d = await duo(true);
    await same(d, [['ACL', 'GENPASS'], ['ACL', 'GENPASS', '12']]);
    const [a1, a2] = await d.a.pipeline([['ACL', 'GENPASS'], ['ACL', 'GENPASS']]);
    assert.notEqual(a1, a2, 'two passwords differ');
  });

  test('ACL DRYRUN: unknown user or command, arity, allowed, and the reasons of a refusal', opts, async () => {
    const d = await duo();
    await same(d, [
      setuser('dr', 'on', 'nopass', '~r*', '%W~w*', '&ch', '+get', '+set', '+publish', '+subscribe', '+config|get', '+select|0', '+acl|whoami', '(%R~s* +mget)'),
      setuser('droff', 'off', '+@all', '~*'), ['ACL', 'LOG', 'RESET'],
      ['ACL', 'DRYRUN', 'nosuch', 'get', 'x'], ['ACL', 'DRYRUN', 'default', 'nosuchcmd'], ['ACL', 'DRYRUN', 'default', 'get'],
      ['ACL', 'DRYRUN', 'default', 'get', 'x'], ['ACL', 'DRYRUN', 'default', 'config', 'nosub'], ['ACL', 'DRYRUN', 'default', 'config', 'get'],
      ['ACL', 'DRYRUN', 'default', 'config'], ['ACL', 'DRYRUN', 'droff', 'get', 'x'],
      ['ACL', 'DRYRUN', 'dr', 'get', 'r1'], ['ACL', 'DRYRUN', 'dr', 'get', 'w1'], ['ACL', 'DRYRUN', 'dr', 'set', 'w1', 'v'],
      ['ACL', 'DRYRUN', 'dr', 'set', 'r1', 'v'], ['ACL', 'DRYRUN', 'dr', 'set', 'x', 'v'], ['ACL', 'DRYRUN', 'dr', 'del', 'r1'],
      ['ACL', 'DRYRUN', 'dr', 'publish', 'ch', 'm'], ['ACL', 'DRYRUN', 'dr', 'publish', 'other', 'm'],
      ['ACL', 'DRYRUN', 'dr', 'subscribe', 'ch', 'other'], ['ACL', 'DRYRUN', 'dr', 'subscribe', 'ch'],
      ['ACL', 'DRYRUN', 'dr', 'config', 'get', 'x'], ['ACL', 'DRYRUN', 'dr', 'config', 'set', 'x', 'y'],
      ['ACL', 'DRYRUN', 'dr', 'select', '0'], ['ACL', 'DRYRUN', 'dr', 'select', '1'], ['ACL', 'DRYRUN', 'dr', 'CONFIG', 'GET', 'x'],
      ['ACL', 'DRYRUN', 'dr', 'set', 'w1'], ['ACL', 'DRYRUN', 'dr', 'get', 'r1', 'extra'], ['ACL', 'DRYRUN', 'dr', 'acl', 'whoami'],
      ['ACL', 'DRYRUN', 'dr', 'acl', 'users'], ['ACL', 'DRYRUN', 'dr', 'acl'], ['ACL', 'DRYRUN', 'dr', 'mget', 's1', 's2'],
      ['ACL', 'DRYRUN', 'dr', 'mget', 's1', 'r1'], ['ACL', 'DRYRUN', 'dr', 'mget', 'r1'],
      ['ACL', 'DRYRUN', 'dr', 'get', 'r\u00e9\u0000x'],
      // DRYRUN refusals are not logged
      ['ACL', 'LOG'],
      ['ACL', 'DELUSER', 'dr', 'droff'],
    ]);
    await same(await duo(true), [setuser('dr3', '+get', '~a'), ['ACL', 'DRYRUN', 'dr3', 'get', 'b'], ['ACL', 'DRYRUN', 'dr3', 'get', 'a'], ['ACL', 'DELUSER', 'dr3']]);
  });
});

describe('ACL LOG', () => {
  test('entries for a refused command, key, channel and failed AUTH; grouping and move to the head; count; RESET; RESP3', opts, async () => {
    const adm = await duo();
    await same(adm, [['ACL', 'LOG', 'RESET'], ['ACL', 'LOG'], setuser('lg', 'on', '>pw', '~k*', '&ch', '+get', '+set', '+publish', '+subscribe', '+client|setname')]);
    await fresh([
      ['AUTH', 'lg', 'wrong'], ['AUTH', 'nouser', 'x'], ['AUTH', 'lg', 'pw'], ['CLIENT', 'SETNAME', 'myname'],
      ['DEL', 'k1'], ['GET', 'other'], ['GET', 'other'], ['DEL', 'k1'], ['PUBLISH', 'nochan', 'm'], ['SET', 'k1', 'v'],
      ['SUBSCRIBE', 'ch', 'nochan2'], ['SELECT', '1'], ['AUTH', 'lg', 'wrong'], ['auth', 'lg', 'wrong'], ['HELLO', '3', 'AUTH', 'lg', 'bad'],
      ['Auth', 'nouser', 'y'],
    ]);
    await same(adm, [
      ['ACL', 'LOG'], ['ACL', 'LOG', '2'], ['ACL', 'LOG', '0'], ['ACL', 'LOG', '-1'], ['ACL', 'LOG', 'x'], ['ACL', 'LOG', '100'],
    ]);
    await same(await duo(true), [['ACL', 'LOG'], ['ACL', 'LOG', '1']]);
    await same(adm, [['ACL', 'LOG', 'reset'], ['ACL', 'LOG'], ['ACL', 'DELUSER', 'lg']]);
  });

  test('entries from MULTI (queue time and EXEC re-check) and from scripts', opts, async () => {
    const adm = await duo();
    await same(adm, [['ACL', 'LOG', 'RESET'], setuser('lg2', 'on', 'nopass', '~k*', '&ch', '+get', '+set', '+publish', '+multi', '+exec', '+eval', '+client|setname')]);
    const u = await duo();
    await same(u, [
      ['AUTH', 'lg2', 'x'], ['CLIENT', 'SETNAME', 'scripted'],
      ['MULTI'], ['GET', 'x1'], ['EXEC'], ['MULTI'], ['DEL', 'a'], ['EXEC'],
      ['EVAL', "return redis.call('get','zz')", '0'], ['EVAL', "return redis.call('del','k1')", '0'],
      ['EVAL', "return redis.pcall('publish','nop','1')", '0'], ['EVAL', "return redis.call('set',KEYS[1],'v')", '1', 'k2'],
      ['MULTI'], ['SET', 'k3', 'v'], ['SET', 'k4', 'v'],
    ]);
    await same(adm, [setuser('lg2', 'resetkeys', '~k3')]);
    await same(u, [['EXEC']]);
    await same(adm, [['ACL', 'LOG']]);
    await same(await duo(true), [['ACL', 'LOG', '3']]);
    await same(adm, [['ACL', 'LOG', 'RESET'], ['ACL', 'DELUSER', 'lg2']]);
  });

  test('acllog-max-len trims the log', opts, async () => {
    const adm = await duo();
    try {
      await same(adm, [['CONFIG', 'SET', 'acllog-max-len', '2'], ['ACL', 'LOG', 'RESET'], setuser('ml', 'on', 'nopass', '+get', '~a')]);
      await fresh([['AUTH', 'ml', 'x'], ['GET', 'b'], ['DEL', 'a'], ['SET', 'a', '1'], ['GET', 'c'], ['GET', 'b']]);
      await same(adm, [['ACL', 'LOG'], ['CONFIG', 'SET', 'acllog-max-len', '1'], ['ACL', 'LOG'], ['CONFIG', 'GET', 'acllog-max-len']]);
      await fresh([['AUTH', 'ml', 'x'], ['GET', 'd']]);
      await same(adm, [['ACL', 'LOG'], ['CONFIG', 'SET', 'acllog-max-len', '0'], ['ACL', 'LOG']]);
      await fresh([['AUTH', 'ml', 'x'], ['GET', 'e'], ['AUTH', 'ml', 'bad']]);
      await same(adm, [['ACL', 'LOG'], ['CONFIG', 'SET', 'acllog-max-len', '-1'], ['CONFIG', 'SET', 'acllog-max-len', 'x']]);
    } finally {
      await same(adm, [['CONFIG', 'SET', 'acllog-max-len', '128'], ['ACL', 'LOG', 'RESET'], ['ACL', 'DELUSER', 'ml']]);
    }
  });
});

describe('permission checks', () => {
  test('NOPERM for commands, subcommands (+config|get), first-args (+select|0), container commands; before or after the other checks', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('np1', 'on', 'nopass', '~*', '&*', '-@all', '+get', '+config|get', '+select|0', '+client|setname', '+client|getname', '+object', '+acl|whoami', '+command|getkeys', '+hello')]);
    const steps: string[][] = [
      ['AUTH', 'np1', 'x'], ['GET', 'a'], ['SET', 'a', '1'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'maxmemory', '0'],
      ['CONFIG', 'RESETSTAT'], ['CONFIG'], ['CONFIG', 'nosuch'], ['config', 'Get', 'hz'], ['SELECT', '0'], ['SELECT', '1'], ['SELECT', '00'],
      ['SELECT'], ['CLIENT', 'SETNAME', 'n1'], ['CLIENT', 'GETNAME'], ['CLIENT', 'ID'], ['CLIENT', 'nosuch'], ['OBJECT', 'ENCODING', 'a'],
      ['OBJECT', 'HELP'], ['ACL', 'WHOAMI'], ['ACL', 'USERS'], ['ACL', 'LOG'], ['ACL', 'nosuch'], ['COMMAND', 'GETKEYS', 'get', 'k'], ['COMMAND', 'INFO', 'get'],
      ['NOSUCHCOMMAND'], ['SET'], ['SET', 'a'], ['GET'], ['PING'], ['ECHO', 'x'], ['MULTI'], ['EXEC'],
      ['AUTH', 'np1', 'y'], ['AUTH', 'nosuch', 'y'], ['ACL', 'WHOAMI'], ['HELLO'], ['HELLO', '3', 'SETNAME', 'n2'], ['HELLO', '2'], ['RESET'],
      ['ACL', 'WHOAMI'], ['SET', 'a', 'ok'],
    ];
    await fresh(steps);
    await same(adm, [['ACL', 'DELUSER', 'np1'], ['DEL', 'a']]);
  });

  test('keys: read and write patterns, keys neither read nor written, multi-key commands, KEYS unchecked', opts, async () => {
    const adm = await duo();
    await same(adm, [
      ['DEL', 'r1', 'w1', 'rw1', 'w2', 'r2'], ['SET', 'r1', 'x'], ['SET', 'w1', 'y'],
      setuser('kc', 'on', 'nopass', '%R~r*', '%W~w*', '~rw*', '-@all', '+get', '+set', '+copy', '+lmove', '+del', '+mset', '+mget', '+exists', '+type',
        '+strlen', '+object', '+rename', '+getdel', '+touch', '+append', '+keys', '+scan', '+dbsize', '+sort', '+lpush', '+sintercard', '+zunionstore',
        '+expire', '+ttl', '+getrange', '+bitop', '+eval', '+unlink', '+memory|usage', '+dump'),
    ]);
    await fresh([
      ['AUTH', 'kc', 'x'], ['GET', 'r1'], ['GET', 'w1'], ['SET', 'w1', 'v'], ['SET', 'r1', 'v'], ['SET', 'rw1', 'v'], ['GET', 'rw1'],
      ['COPY', 'r1', 'w2'], ['COPY', 'w1', 'r2'], ['LMOVE', 'r1', 'w1', 'LEFT', 'RIGHT'], ['DEL', 'r1'], ['UNLINK', 'w3'],
      ['MSET', 'w1', 'a', 'r1', 'b'], ['MSET', 'w1', 'a', 'w9', 'b'], ['MGET', 'r1', 'w1'], ['MGET', 'r1', 'rw1'],
      ['EXISTS', 'w1'], ['EXISTS', 'zz'], ['EXISTS', 'r1', 'w1', 'zz'], ['TYPE', 'w1'], ['STRLEN', 'w1'], ['OBJECT', 'ENCODING', 'w1'],
      ['OBJECT', 'ENCODING', 'zz'], ['MEMORY', 'USAGE', 'zz'], ['RENAME', 'r1', 'w5'], ['RENAME', 'rw1', 'w5'], ['GETDEL', 'w5'], ['TOUCH', 'w1'], ['TOUCH', 'zz'],
      ['APPEND', 'w1', 'z'], ['APPEND', 'r1', 'z'], ['GETRANGE', 'w1', '0', '1'], ['EXPIRE', 'w1', '100'], ['TTL', 'w1'], ['TTL', 'r1'], ['DUMP', 'w1'],
      ['KEYS', 'zq*'], ['SORT', 'r1'], ['SORT', 'rl', 'BY', 'nosort', 'STORE', 'w8'], ['SORT', 'rl', 'STORE', 'r8'],
      ['SINTERCARD', '2', 'r1', 'rw1'], ['SINTERCARD', '2', 'r1', 'w1'], ['ZUNIONSTORE', 'w7', '2', 'r1', 'rw1'], ['ZUNIONSTORE', 'r7', '1', 'r1'],
      ['BITOP', 'AND', 'w6', 'r1', 'rw1'], ['BITOP', 'AND', 'r6', 'r1'], ['LPUSH', 'r3', 'x'], ['LPUSH', 'w3', 'x'],
      ['EVAL', 'return 1', '1', 'zz'], ['EVAL', 'return 1', '2', 'r1', 'w1'], ['EVAL', "return redis.call('get', KEYS[1])", '1', 'r1'],
      ['EVAL', "return redis.call('get', 'w1')", '0'], ['EVAL', "return redis.call('set', 'w1', 'v')", '0'],
    ]);
    await same(adm, [['DEL', 'r1', 'w1', 'rw1', 'w2', 'w3', 'w5', 'w6', 'w7', 'w8', 'w9'], ['ACL', 'DELUSER', 'kc']]);
  });

  test('channels: PUBLISH, SUBSCRIBE, PSUBSCRIBE (literal pattern match), SSUBSCRIBE, SPUBLISH, UNSUBSCRIBE', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('cc', 'on', 'nopass', '&ch*', '&lit', '-@all', '+@pubsub', '+ping'), setuser('cc2', 'on', 'nopass', 'allchannels', '+@pubsub')]);
    await fresh([
      ['AUTH', 'cc', 'x'], ['PUBLISH', 'ch1', 'm'], ['PUBLISH', 'other', 'm'], ['SPUBLISH', 'ch1', 'm'], ['SPUBLISH', 'x', 'm'],
      ['PUBSUB', 'CHANNELS', 'zz*'], ['PUBSUB', 'NUMSUB', 'zz'],
      ['PSUBSCRIBE', 'ch1*'], ['PSUBSCRIBE', 'c*'], ['PSUBSCRIBE', 'lit'], ['PSUBSCRIBE', 'ch*'], ['PSUBSCRIBE', 'ch*', 'lit?'],
      ['SUBSCRIBE', 'other'], ['SUBSCRIBE', 'ch1', 'other'], ['SUBSCRIBE', 'chX'], ['SSUBSCRIBE', 'other'], ['SSUBSCRIBE', 'ch2'],
      ['UNSUBSCRIBE', 'other'], ['PUNSUBSCRIBE', 'nope*'], ['SUNSUBSCRIBE', 'other'], ['PING'],
    ], true);
    await fresh([['AUTH', 'cc2', 'x'], ['PUBLISH', 'any', 'm'], ['PSUBSCRIBE', '*x?'], ['SUBSCRIBE', 'z']]);
    await same(adm, [['ACL', 'DELUSER', 'cc', 'cc2']]);
  });

  test('subscribed clients are disconnected when their channels are revoked', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('ps', 'on', 'nopass', 'allchannels', '+@all', '~*')]);
    const s1 = await duo();
    const s2 = await duo();
    const s3 = await duo();
    const s4 = await duo();
    await same(s1, [['AUTH', 'ps', 'x'], ['SUBSCRIBE', 'c1'], ['PSUBSCRIBE', 'p*']]);
    await same(s2, [['AUTH', 'ps', 'x'], ['SUBSCRIBE', 'c1']]);
    await same(s3, [['AUTH', 'ps', 'x'], ['SSUBSCRIBE', 's1']]);
    await same(s4, [['AUTH', 'ps', 'x'], ['PING']]);
    await same(adm, [setuser('ps', 'resetchannels', '&c1', '&p*x')]);
    assert.deepEqual(await bothClosed(s1), [true, true], 'the pattern p* is no longer allowed');
    assert.deepEqual(await bothClosed(s3), [true, true], 'the shard channel s1 is no longer allowed');
    assert.deepEqual([await alive(s2.a), await alive(s2.r)], [true, true], 'c1 is still allowed');
    assert.deepEqual([await alive(s4.a), await alive(s4.r)], [true, true], 'not subscribed');
    await same(adm, [setuser('ps', 'resetchannels')]);
    assert.deepEqual(await bothClosed(s2), [true, true]);
    assert.deepEqual([await alive(s4.a), await alive(s4.r)], [true, true]);
    await same(adm, [['ACL', 'DELUSER', 'ps']]);
  });

  test('several selectors: a command runs when one selector allows it with all its keys', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('ms', 'on', 'nopass', '~a*', '+get', '(~b* +set)', '(%R~c* +@read)', '(&ch* +publish)', '+eval')]);
    await fresh([
      ['AUTH', 'ms', 'x'], ['GET', 'a1'], ['GET', 'b1'], ['SET', 'b1', 'v'], ['SET', 'a1', 'v'], ['GET', 'c1'], ['MGET', 'a1', 'c1'],
      ['MGET', 'c1', 'c2'], ['SET', 'c1', 'v'], ['PUBLISH', 'ch1', 'x'], ['PUBLISH', 'x', 'x'], ['GET', 'b1'],
      ['EVAL', "return redis.call('get',KEYS[1])", '1', 'a1'], ['EVAL', "return redis.call('get',KEYS[1])", '1', 'zz'],
      ['EVAL', "return redis.call('set','b2','x')", '0'], ['EVAL', "return redis.call('mget','c1','a1')", '0'],
    ]);
    await same(adm, [['ACL', 'DRYRUN', 'ms', 'mget', 'a1', 'c1'], ['ACL', 'DRYRUN', 'ms', 'set', 'c1', 'v'], ['ACL', 'DRYRUN', 'ms', 'publish', 'x', 'y'], ['DEL', 'b1', 'b2'], ['ACL', 'DELUSER', 'ms']]);
  });

  test('MULTI: NOPERM when queued aborts EXEC; rules changed before EXEC refuse the commands then; EXEC itself refused', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('mx', 'on', 'nopass', '~*', '&*', '+@all')]);
    const u = await duo();
    await same(u, [['AUTH', 'mx', 'x'], ['MULTI'], ['SET', 'mxa', '1'], ['GET', 'mxa'], ['ACL', 'WHOAMI']]);
    await same(adm, [setuser('mx', '-get')]);
    await same(u, [['EXEC'], ['MULTI'], ['GET', 'mxa'], ['SET', 'mxb', '1'], ['EXEC'], ['GET', 'mxb']]);
    await same(adm, [setuser('mx', '+get', 'resetkeys', '~mxa*')]);
    await same(u, [['MULTI'], ['SET', 'mxa2', '1'], ['SET', 'mxa3', '1'], ['PUBLISH', 'ch', 'm']]);
    await same(adm, [setuser('mx', 'resetkeys', '~mxb*', 'resetchannels')]);
    await same(u, [['EXEC'], ['EXISTS', 'mxa2']]);
    await same(adm, [setuser('mx', '-multi')]);
    await same(u, [['MULTI'], ['EXEC'], ['DISCARD']]);
    await same(adm, [setuser('mx', '+multi', '-exec')]);
    await same(u, [['MULTI'], ['SET', 'mxb1', 'x'], ['EXEC'], ['DISCARD'], ['GET', 'mxb1']]);
    await same(adm, [setuser('mx', '+exec', '-discard')]);
    await same(u, [['MULTI'], ['SET', 'mxb1', 'x'], ['DISCARD'], ['EXEC'], ['GET', 'mxb1']]);
    // the user deleted while a transaction is open: the client is closed
    await same(u, [['MULTI'], ['SET', 'mxb2', 'x']]);
    await same(adm, [['ACL', 'DELUSER', 'mx'], ['DEL', 'mxa', 'mxb', 'mxb1', 'mxb2']]);
    assert.deepEqual(await bothClosed(u), [true, true]);
  });

  test('scripts: redis.call / pcall refused for commands, keys and channels; redis.acl_check_cmd; FCALL', opts, async () => {
    const adm = await duo();
    await same(adm, [
      setuser('sc', 'on', 'nopass', '~a*', '&ch', '+get', '+set', '+eval', '+evalsha', '+fcall', '+publish', '(~b* +set)'),
      ['FUNCTION', 'LOAD', 'REPLACE', "#!lua name=acllib\nredis.register_function('acldel', function(keys) return redis.call('del', keys[1]) end)\nredis.register_function('aclget', function(keys) return redis.call('get', keys[1]) end)"],
    ]);
    await fresh([
      ['AUTH', 'sc', 'x'],
      ['EVAL', "return redis.call('get','zz')", '0'], ['EVAL', "return redis.call('del','a1')", '0'], ['EVAL', "return redis.call('publish','nop','1')", '0'],
      ['EVAL', "return redis.pcall('get','zz')", '0'], ['EVAL', "return redis.pcall('del','zz')", '0'], ['EVAL', "return redis.pcall('publish','nop','1')", '0'],
      ['EVAL', "local r = redis.pcall('del','zz'); return r['err']", '0'], ['EVAL', "return redis.call('publish','ch','1')", '0'],
      ['EVAL', "return {redis.acl_check_cmd('get','a1'), redis.acl_check_cmd('get','zz'), redis.acl_check_cmd('set','b1','v'), redis.acl_check_cmd('set','a1','v'), redis.acl_check_cmd('del','a1')}", '0'],
      ['EVAL', "return redis.acl_check_cmd('nosuch')", '0'], ['EVAL', 'return redis.acl_check_cmd()', '0'], ['EVAL', "return redis.acl_check_cmd('get')", '0'],
      ['EVAL', "return redis.acl_check_cmd('config','get')", '0'], ['EVAL', 'return redis.acl_check_cmd(1)', '0'],
      ['EVAL', "return redis.acl_check_cmd('publish','ch','x')", '0'], ['EVAL', "return redis.acl_check_cmd('publish','other','x')", '0'],
      ['EVAL', "return redis.call('nosuchcmd')", '0'], ['EVAL', "return redis.call('set','b1','v')", '0'],
      ['EVAL', "return redis.call('get',KEYS[1])", '1', 'zz'], ['EVALSHA', '0000000000000000000000000000000000000000', '0'],
      ['FCALL', 'aclget', '1', 'a1'], ['FCALL', 'aclget', '1', 'zz'], ['FCALL', 'acldel', '1', 'a1'], ['FCALL_RO', 'aclget', '1', 'a1'],
    ]);
    await same(adm, [['FUNCTION', 'DELETE', 'acllib'], ['DEL', 'b1'], ['ACL', 'DELUSER', 'sc']]);
  });

  test('the default user off: NOAUTH, HELLO, AUTH, RESET, the unauthenticated protocol limits', opts, async () => {
    const adm = await duo();
    try {
      await same(adm, [setuser('ua', 'on', '>pw', '+@all', '~*', '&*'), setuser('default', 'off'), ['ACL', 'WHOAMI'], ['PING']]);
      await fresh([
        ['PING'], ['GET', 'a'], ['ACL', 'WHOAMI'], ['AUTH', 'default', 'x'], ['AUTH', 'x'], ['HELLO', '3'], ['HELLO', '3', 'AUTH', 'default', 'x'],
        ['HELLO', '2', 'AUTH', 'ua', 'bad'], ['AUTH', 'ua', 'pw'], ['ACL', 'WHOAMI'], ['RESET'], ['PING'], ['ACL', 'WHOAMI'],
        ['HELLO', '2', 'AUTH', 'ua', 'pw'], ['ACL', 'WHOAMI'],
      ]);
      // more than 10 arguments, or a bulk above 16 KB, before authentication: a protocol error and the close
      const d = await duo();
      await same(d, [['PING'], Array.from({ length: 11 }, () => 'x')]);
      assert.deepEqual(await bothClosed(d), [true, true]);
      const d2 = await duo();
      await same(d2, [['ECHO', 'x'.repeat(16384)], ['ECHO', 'x'.repeat(16385)]]);
      assert.deepEqual(await bothClosed(d2), [true, true]);
    } finally {
      await same(adm, [setuser('default', 'on'), ['ACL', 'DELUSER', 'ua']]);
    }
    await fresh([['PING'], ['ACL', 'WHOAMI']]);
  });
});

describe('authentication and clients', () => {
  test('AUTH user pass, HELLO AUTH, WRONGPASS (bad password, disabled or unknown user), AUTH <pass> while default is nopass, RESET', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('au', 'on', '>p1', '>p2', '+@all', '~*'), setuser('auoff', '>p', '+@all'), setuser('aunp', 'on', 'nopass', '+@all')]);
    await fresh([
      ['AUTH', 'x'], ['AUTH', 'default', 'x'], ['AUTH', 'default', ''], ['ACL', 'WHOAMI'],
      ['AUTH', 'au', 'p2'], ['ACL', 'WHOAMI'], ['AUTH', 'au', 'p3'], ['ACL', 'WHOAMI'], ['AUTH', 'auoff', 'p'], ['AUTH', 'aunp', 'whatever'],
      ['ACL', 'WHOAMI'], ['AUTH', 'a', 'b', 'c'], ['AUTH'], ['AUTH', 'nosuch', 'p1'], ['HELLO', '3', 'AUTH', 'au', 'bad'],
      ['HELLO', '2', 'AUTH', 'au', 'p1', 'SETNAME', 'nm'], ['ACL', 'WHOAMI'], ['CLIENT', 'GETNAME'], ['RESET'], ['ACL', 'WHOAMI'],
      ['CLIENT', 'GETNAME'], ['AUTH', 'x'], ['HELLO', '3', 'AUTH', 'auoff', 'p'], ['HELLO', '2', 'AUTH'], ['HELLO', '2', 'AUTH', 'au'],
      ['HELLO', '3', 'AUTH', 'au', 'p1'], ['ACL', 'WHOAMI'], ['HELLO', '2'], ['ACL', 'WHOAMI'],
    ]);
    await same(adm, [setuser('au', '<p1', 'off')]);
    await fresh([['AUTH', 'au', 'p2'], ['HELLO', '2', 'AUTH', 'au', 'p2']]);
    await same(adm, [setuser('au', 'on')]);
    await fresh([['AUTH', 'au', 'p1'], ['AUTH', 'au', 'p2'], ['ACL', 'WHOAMI']], true);
    // a client stays authenticated as a user turned off or changed
    const u = await duo();
    await same(u, [['AUTH', 'au', 'p2']]);
    await same(adm, [setuser('au', 'off', 'resetpass', '-get')]);
    await same(u, [['ACL', 'WHOAMI'], ['SET', 'auk', '1'], ['GET', 'auk'], ['DEL', 'auk'], ['AUTH', 'au', 'p2'], ['ACL', 'WHOAMI']]);
    await same(adm, [['ACL', 'DELUSER', 'au', 'auoff', 'aunp']]);
  });

  test('CLIENT INFO / CLIENT LIST user= field; CLIENT KILL USER', opts, async () => {
    const adm = await duo();
    await same(adm, [setuser('ku', 'on', '>p', '+@all', '~*', '&*'), ['CLIENT', 'INFO']]);
    const k1 = await duo();
    const k2 = await duo();
    const k3 = await duo();
    await same(k1, [['CLIENT', 'INFO'], ['AUTH', 'ku', 'p'], ['CLIENT', 'SETNAME', 'ku1'], ['CLIENT', 'INFO'], ['SELECT', '2'], ['CLIENT', 'INFO']]);
    await same(k2, [['AUTH', 'ku', 'p'], ['CLIENT', 'SETNAME', 'ku2']]);
    await same(k3, [['HELLO', '3', 'AUTH', 'ku', 'p', 'SETNAME', 'ku3'], ['CLIENT', 'INFO']]);
    const listed = async (c: RawClient): Promise<string[]> =>
      bulks(`*1\r\n${await c.call('CLIENT', 'LIST')}`)[0]!.split('\n').filter((l) => / name=ku\d /.test(l)).map(stableClientFields).sort();
    assert.deepEqual(await listed(adm.a), await listed(adm.r));
    assert.equal((await listed(adm.r)).length, 3);
    await same(adm, [['CLIENT', 'KILL', 'USER', 'nosuch'], ['CLIENT', 'KILL', 'USER'], ['CLIENT', 'KILL', 'USER', 'ku', 'SKIPME', 'maybe']]);
    // from a client of that user: the others (SKIPME yes by default)
    await same(k1, [['CLIENT', 'KILL', 'USER', 'ku']]);
    assert.deepEqual(await bothClosed(k2), [true, true]);
    assert.deepEqual(await bothClosed(k3), [true, true]);
    assert.deepEqual([await alive(k1.a), await alive(k1.r)], [true, true]);
    await same(adm, [['CLIENT', 'KILL', 'USER', 'ku'], ['CLIENT', 'KILL', 'USER', 'ku'], ['CLIENT', 'KILL', 'USER', 'default', 'ID', '999999999']]);
    assert.deepEqual(await bothClosed(k1), [true, true]);
    await same(adm, [['ACL', 'DELUSER', 'ku'], ['CLIENT', 'KILL', 'USER', 'ku']]);
  });

  test('requirepass: CONFIG SET requirepass sets the default user\'s password; ACL SETUSER default leaves requirepass', opts, async () => {
    const adm = await duo();
    try {
      await same(adm, [['CONFIG', 'SET', 'requirepass', 'rp'], getuser('default'), ['CONFIG', 'GET', 'requirepass']]);
      await fresh([['PING'], ['AUTH', 'bad'], ['AUTH', 'rp'], ['ACL', 'WHOAMI'], ['PING']]);
      await same(adm, [setuser('default', 'resetpass', '>other'), ['CONFIG', 'GET', 'requirepass'], getuser('default')]);
      await fresh([['AUTH', 'rp'], ['AUTH', 'default', 'other'], ['PING']]);
      await same(adm, [
        setuser('default', 'nopass'), ['CONFIG', 'GET', 'requirepass'], ['CONFIG', 'SET', 'requirepass', 'again'], getuser('default'),
        ['CONFIG', 'SET', 'requirepass', ''], getuser('default'), ['CONFIG', 'GET', 'requirepass'],
      ]);
      await fresh([['PING'], ['AUTH', 'x']]);
    } finally {
      await same(adm, [['CONFIG', 'SET', 'requirepass', ''], setuser('default', 'on', 'nopass', 'allkeys', 'allchannels', 'allcommands'), getuser('default')]);
    }
  });
});

describe('configuration', () => {
  test('acl-pubsub-default: allchannels gives new users, reset users and selectors &*', opts, async () => {
    const adm = await duo();
    try {
      await same(adm, [
        ['CONFIG', 'SET', 'acl-pubsub-default', 'allchannels'], setuser('pd1'), getuser('pd1'), setuser('pd1', 'reset'), getuser('pd1'),
        setuser('pd2', 'resetchannels', '&a', 'reset'), getuser('pd2'), setuser('pd3', '(+get)'), getuser('pd3'),
        ['CONFIG', 'GET', 'acl-pubsub-default'], ['CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels'], setuser('pd4'), getuser('pd4'),
        getuser('pd1'), setuser('pd1', 'reset'), getuser('pd1'), ['CONFIG', 'SET', 'acl-pubsub-default', 'bogus'], ['CONFIG', 'GET', 'acl-pubsub-default'],
        setuser('pd5', 'on', 'nopass', '+publish'),
      ]);
      await fresh([['AUTH', 'pd5', 'x'], ['PUBLISH', 'x', 'y']]);
    } finally {
      await same(adm, [['CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels'], ['ACL', 'DELUSER', 'pd1', 'pd2', 'pd3', 'pd4', 'pd5']]);
    }
  });

  test('`user` lines of the config file; CONFIG REWRITE writes the users in place of those lines', opts, async () => {
    const cwd = process.cwd();
    const base = mkdir();
    const [fa, fr] = [join(base, 'amber.conf'), join(base, 'redis.conf')];
    const [da, dr] = [mkdir(), mkdir()];
    const content = 'bind 127.0.0.1\nsave ""\nuser alice on >pa ~a* &a +get\n# users above and below\nuser default on nopass ~* &* +@all\nmaxmemory 1mb\n';
    writeFileSync(fa, content);
    writeFileSync(fr, content);
    const a = await startServer({ configFile: fa, port: 0, directives: { dir: da } });
    const r = await redisWithConfigFile(fr, dr);
    try {
      const d = await duo(false, [a.port, r.port]);
      await same(d, [
        ['ACL', 'LIST'], getuser('default'), getuser('alice'), setuser('bob', 'on', '>pb', '~b*', '+set', '(~x +get)'),
        setuser('default', 'resetchannels', '&n'), ['CONFIG', 'REWRITE'],
      ]);
      const text = (f: string): string[] => {
        const lines = readFileSync(f, 'latin1').split('\n');
        const sig = lines.indexOf('# Generated by CONFIG REWRITE');
        assert.ok(sig > 0, 'the rewrite signature');
        return [...lines.slice(0, sig), ...lines.slice(sig).filter((l) => l.startsWith('user '))].map(canonRules);
      };
      assert.deepEqual(text(fa), text(fr));
      // the rewritten file starts the same users again
      const a2 = await startServer({ configFile: fa, port: 0, directives: { dir: da } });
      const r2 = await redisWithConfigFile(fr, dr);
      try {
        await same(await duo(false, [a2.port, r2.port]), [['ACL', 'LIST'], ['AUTH', 'bob', 'pb'], ['ACL', 'WHOAMI'], ['GET', 'x'], ['SET', 'b1', '1']]);
      } finally {
        await a2.close();
        await r2.close();
      }
    } finally {
      await a.close();
      await r.close();
      process.chdir(cwd);
    }
  });

  test('aclfile: loaded at start, ACL SAVE writes it, ACL LOAD reloads it (errors with line numbers change nothing)', opts, async () => {
    const cwd = process.cwd();
    const [da, dr] = [mkdir(), mkdir()];
    const [fa, fr] = [join(da, 'users.acl'), join(dr, 'users.acl')];
    const write = (text: string): void => {
      writeFileSync(fa, text);
      writeFileSync(fr, text);
    };
    write('user alice on >pa ~a* +get\nuser default on nopass ~* &* +@all\n');
    const a = await startAmber({ aclfile: fa });
    const r = await startRedis(['--aclfile', fr]);
    const files = (): [string[], string[]] => [fa, fr].map((f) => readFileSync(f, 'latin1').split('\n').map(canonRules)) as [string[], string[]];
    try {
      const ports: [number, number] = [a.port, r.port];
      const adm = await duo(false, ports);
      const paths: [string, string] = [fa, fr];
      await same(adm, [
        ['ACL', 'LIST'], setuser('bob', 'on', '>pb', '%R~b*', '&x', '+@read', '-@dangerous', '+select|1', '(~c +set)'), ['ACL', 'SAVE'],
      ]);
      const [sa, sr] = files();
      assert.deepEqual(sa, sr);
      assert.ok(sr.some((l) => l.startsWith('user bob on #')), 'ACL SAVE wrote bob');
      // ACL LOAD: the users of the file only; clients of the reloaded users disconnected, default's kept
      const alice = await duo(false, ports);
      await same(alice, [['AUTH', 'alice', 'pa'], ['GET', 'a1']]);
      await same(adm, [setuser('carol', 'on'), ['ACL', 'LOAD'], ['ACL', 'USERS'], ['ACL', 'LIST']]);
      assert.deepEqual(await bothClosed(alice), [true, true]);
      await same(adm, [['ACL', 'WHOAMI']]);
      // a file with errors: every error with its line number, nothing changed
      write('user alice on >pa ~a* +get\nuser bogus line\nuser bob +nosuch\nfoo bar\nuser default on nopass ~* &* +@all\nuser alice off\n\n# comment\nuser eve on #abc\n');
      await same(adm, [['ACL', 'LOAD'], ['ACL', 'LIST']], paths);
      // without the default user: it is created with full permissions; selectors and hashes load
      write(`user zed on #${sha('z')} resetchannels &q -@all (~x +get) (%R~y +@read)\nuser yan off nopass skip-sanitize-payload\n`);
      await same(adm, [setuser('default', 'resetchannels', '-debug'), ['ACL', 'LOAD'], ['ACL', 'LIST'], ['ACL', 'WHOAMI']], paths);
      await fresh2(ports, [['AUTH', 'zed', 'z'], ['GET', 'x'], ['GET', 'y'], ['SET', 'x', '1']]);
      // the file removed: LOAD fails naming it, SAVE writes it again
      rmSync(fa);
      rmSync(fr);
      await same(adm, [['ACL', 'LOAD'], ['ACL', 'SAVE']], paths);
      assert.ok(existsSync(fa) && existsSync(fr));
      const [ta, tr] = files();
      assert.deepEqual(ta, tr);
      await same(adm, [['ACL', 'LOAD'], ['ACL', 'LIST']]);
    } finally {
      await a.close();
      await r.close();
      process.chdir(cwd);
    }
  });
});

/** {@link fresh} on the servers of `ports`. */
async function fresh2(ports: [number, number], cmds: string[][]): Promise<void> {
  await same(await duo(false, ports), cmds);
}

/** A redis-server started with a config file (which must come first, before startRedis's options). */
async function redisWithConfigFile(file: string, dir: string): Promise<{ port: number; close(): Promise<void> }> {
  const port = await freePort();
  const proc = spawn('redis-server', [file, '--port', String(port), '--dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      const c = await RawClient.connect(port);
      const r = await c.call('PING');
      c.close();
      if (/^(\+PONG|-NOAUTH)/.test(r)) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('redis-server did not start');
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  return {
    port,
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}
