import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, ConfigFileError, ConfigSetError, parseCommandLine } from '../../src/config/config.js';
import { memtoull, reprArg } from '../../src/config/directives.js';
import { rewriteConfigContent } from '../../src/config/rewrite.js';
import { Server } from '../../src/server/server.js';
import { splitArgs } from '../../src/protocol/splitargs.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a config file and returns its path. */
function conf(text: string, name = `c${n++}.conf`): string {
  const p = join(dir, name);
  writeFileSync(p, text, 'latin1');
  return p;
}

function load(text: string | null, options: string[] = []): Config {
  const c = new Config();
  c.load(text === null ? null : conf(text), options);
  return c;
}

function loadError(text: string | null, options: string[] = []): ConfigFileError {
  try {
    load(text, options);
  } catch (e) {
    if (e instanceof ConfigFileError) return e;
    throw e;
  }
  assert.fail('expected a ConfigFileError');
}

test('defaults equal Redis 7.0.15', () => {
  const c = new Config();
  const get = (name: string): string => c.formatted(c.find(name)!);
  assert.equal(get('port'), '6379');
  assert.equal(get('bind'), '* -::*');
  assert.equal(get('save'), '3600 1 300 100 60 10000');
  assert.equal(get('maxmemory'), '0');
  assert.equal(get('proto-max-bulk-len'), '536870912');
  assert.equal(get('client-query-buffer-limit'), '1073741824');
  assert.equal(get('client-output-buffer-limit'), 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
  assert.equal(get('loglevel'), 'notice');
  assert.equal(get('tcp-keepalive'), '300');
  assert.equal(get('maxclients'), '10000');
  assert.equal(get('databases'), '16');
  assert.equal(get('hash-max-ziplist-entries'), '512');
  assert.equal(get('latency-tracking-info-percentiles'), '50 99 99.9');
  assert.equal(get('proc-title-template'), '{title} {listen-addr} {server-mode}');
  assert.equal(get('shutdown-on-sigterm'), 'default');
});

test('quoted and escaped arguments are read as sdssplitargs reads them', () => {
  const c = load('requirepass "a b\\x41\\"c\\n"\nmasterauth \'it\\\'s\'\nignore-warnings ""\n');
  assert.equal(c.get('requirepass'), 'a bA"c\n');
  assert.equal(c.get('masterauth'), "it's");
  assert.equal(c.get('ignore-warnings'), '');
  const e = loadError('port 7000\n\n  requirepass "abc\n');
  assert.equal(e.line, 3);
  assert.equal(e.text, 'requirepass "abc');
  assert.equal(e.reason, 'Unbalanced quotes in configuration line');
  // a closing quote must be followed by a space
  assert.equal(loadError('requirepass "a"b\n').reason, 'Unbalanced quotes in configuration line');
});

test('comments, blank lines, CRLF, case of names, yes/no', () => {
  const c = load('# comment\r\n\r\n   PORT 7001\r\nProtected-Mode NO\r\n\t# indented comment\nappendonly YES\n');
  assert.equal(c.get('port'), 7001);
  assert.equal(c.get('protected-mode'), false);
  assert.equal(c.get('appendonly'), true);
  assert.equal(loadError('protected-mode maybe').reason, "argument must be 'yes' or 'no'");
});

test('memory units as memtoull: k=1000, kb=1024, m, mb, g, gb, any case', () => {
  assert.equal(load('maxmemory 64mb').get('maxmemory'), 64 * 1024 * 1024);
  assert.equal(load('maxmemory 1GB').get('maxmemory'), 1024 ** 3);
  assert.equal(load('maxmemory 1g').get('maxmemory'), 1e9);
  assert.equal(load('maxmemory 2k').get('maxmemory'), 2000);
  assert.equal(load('maxmemory 2Kb').get('maxmemory'), 2048);
  assert.equal(load('maxmemory 7b').get('maxmemory'), 7);
  assert.equal(load('proto-max-bulk-len 2mb').get('proto-max-bulk-len'), 2 * 1024 * 1024);
  assert.equal(loadError('maxmemory 1tb').reason, 'argument must be a memory value');
  assert.equal(loadError('maxmemory -1').reason, 'argument must be a memory value');
  assert.equal(loadError('proto-max-bulk-len 1kb').reason, 'argument must be between 1048576 and 9223372036854775807 inclusive');
  assert.equal(memtoull(''), 0n);
  assert.equal(memtoull('99999999999999999999'), (1n << 64n) - 1n);
  assert.equal(memtoull('18446744073709551615gb'), 18446744072635809792n);
  // a value beyond 2^53 is shown exactly
  const c = load('maxmemory 18446744073709551615');
  assert.equal(c.formatted(c.find('maxmemory')!), '18446744073709551615');
});

test('bad values and unknown directives stop loading with the line and Redis reason', () => {
  let e = loadError('port 7000\n# c\n\nfoo bar\n');
  assert.deepEqual([e.line, e.text, e.reason], [4, 'foo bar', 'Bad directive or wrong number of arguments']);
  e = loadError('port 1 2');
  assert.deepEqual([e.line, e.reason], [1, 'wrong number of arguments']);
  e = loadError('port');
  assert.equal(e.reason, 'wrong number of arguments');
  e = loadError('\nport 99999');
  assert.deepEqual([e.line, e.reason], [2, 'argument must be between 0 and 65535 inclusive']);
  assert.equal(loadError('hz x').reason, "argument couldn't be parsed into an integer");
  assert.equal(loadError('loglevel loud').reason, 'argument(s) must be one of the following: debug, verbose, notice, warning');
  assert.equal(loadError('notify-keyspace-events Q').reason, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  assert.equal(loadError('maxmemory-clients 101%').reason, 'percentage argument must be less or equal to 100');
  assert.equal(loadError('save 100').reason, 'Invalid save parameters');
  assert.equal(loadError('dbfilename a/b').reason, "dbfilename can't be a path, just a filename");
  // isValidAOFfilename / isValidAOFdirname of Redis 7.0.15: empty, '/' or '\\' refused; '.' and '..' accepted
  assert.equal(loadError('appendfilename ""').reason, "appendfilename can't be empty");
  assert.equal(loadError('appenddirname ""').reason, "appenddirname can't be empty");
  assert.equal(loadError('appendfilename a/b').reason, "appendfilename can't be a path, just a filename");
  assert.equal(loadError('appenddirname a/b').reason, "appenddirname can't be a path, just a dirname");
  assert.equal(loadError('appenddirname "a\\\\b"').reason, "appenddirname can't be a path, just a dirname");
  assert.match(loadError('daemonize yes').reason, /daemonize yes is not supported/);
  assert.equal(loadError('daemonize maybe').reason, "argument must be 'yes' or 'no'");
  e = loadError('port 7000\nfoo bar');
  assert.equal(
    e.report('7.0.15'),
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\n" +
      `(in ${e.file})\n`,
  );
});

test('deprecated directives are accepted; module and loadmodule refused; user lines checked as Redis reads them', () => {
  load('list-max-ziplist-entries 5\nlist-max-ziplist-value 10\nlua-replicate-commands yes\n');
  assert.equal(loadError('list-max-ziplist-entries 5 6').reason, 'Bad directive or wrong number of arguments');
  assert.match(loadError('loadmodule /x.so').reason, /not supported/);
  assert.equal(loadError('mymod.opt').reason, 'Module config specified without value');
  const c = load('user default on nopass ~* &* +@all\nuser alice on >x ~k* +get\n');
  assert.deepEqual(c.userLines.map((l) => l[1]), ['default', 'alice']);
  // Redis names the word at the failing rule's index counted from `user` (acl.c's argc_err)
  assert.equal(loadError('user alice on badrule').reason, "Error in user declaration 'alice': Syntax error");
  assert.equal(loadError('user alice on\nuser alice off').reason, "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files");
  assert.equal(loadError('user default on #abc ~* &* +@all').reason, "Error in user declaration 'default': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
  // an unknown command is only reported when the users load (modules could add it in Redis)
  assert.equal(load('user bob on +nosuchcommand').userLines.length, 1);
});

test('include reads another file in place, with its own line numbers; globs match sorted files', () => {
  const inc = conf('maxmemory 1mb\nhz 20\n', 'inc.conf');
  const c = load(`hz 5\ninclude ${inc}\nport 7002\n`);
  assert.equal(c.get('maxmemory'), 1024 * 1024);
  assert.equal(c.get('hz'), 20);
  assert.equal(c.get('port'), 7002);
  const bad = conf('\n\nbogus 1\n', 'bad-inc.conf');
  const e = loadError(`port 1\ninclude ${bad}\n`);
  assert.deepEqual([e.file, e.line, e.text], [bad, 3, 'bogus 1']);
  const d = join(dir, 'conf.d');
  mkdirSync(d);
  writeFileSync(join(d, 'b.conf'), 'hz 30\n');
  writeFileSync(join(d, 'a.conf'), 'hz 40\nmaxmemory 2mb\n');
  writeFileSync(join(d, 'skip.txt'), 'bogus\n');
  const g = load(`include ${d}/*.conf\n`);
  assert.equal(g.get('hz'), 30); // a.conf then b.conf
  assert.equal(g.get('maxmemory'), 2 * 1024 * 1024);
  load(`include ${d}/*.none\n`); // no match is fine
  const missing = loadError(`include ${join(dir, 'missing.conf')}\n`);
  assert.equal(missing.logged, true);
  assert.match(missing.reason, /^Fatal error, can't open config file '.*missing\.conf': No such file or directory$/);
});

test('save: the first line at start-up replaces the defaults, later lines add points', () => {
  assert.deepEqual(load('save 100 1\nsave 200 2\n').get('save'), [[100, 1], [200, 2]]);
  assert.deepEqual(load('save ""\n').get('save'), []);
  assert.deepEqual(load(null, ['save ""', 'save "900 1"']).get('save'), [[900, 1]]);
  assert.deepEqual(load(null, ['save 900 1 300 10']).get('save'), [[900, 1], [300, 10]]);
});

test('the command line is parsed like redis-server 7.0', () => {
  assert.deepEqual(parseCommandLine(['--port', '7000']), { file: null, options: ['port "7000" '], stdin: false });
  assert.deepEqual(parseCommandLine(['a.conf', '--save', '--port', '1']).options, ['save ""', 'port "1" ']);
  assert.deepEqual(parseCommandLine(['--save']).options, ['save ""']);
  assert.deepEqual(parseCommandLine(['--save', '']).options, ['save "" ']);
  assert.deepEqual(parseCommandLine(['--port 6380', '--bind', '127.0.0.1', '::1']).options, ['port 6380 ', 'bind "127.0.0.1" "::1" ']);
  assert.deepEqual(parseCommandLine(['--maxmemory-policy', '--x']).options, ['maxmemory-policy "--x" ']);
  assert.deepEqual(parseCommandLine(['--requirepass', 'a b"c']).options, ['requirepass "a b\\"c" ']);
  assert.equal(parseCommandLine(['-']).stdin, true);
  assert.equal(parseCommandLine(['x.conf', '--port', '1', '-']).stdin, true);
  assert.equal(parseCommandLine(['x.conf']).file, 'x.conf');
  // options come after the file: a line number past the file's
  const file = conf('port 7412\n');
  const c = new Config();
  let err: ConfigFileError | null = null;
  try {
    c.load(file, parseCommandLine(['--foo', 'bar']).options);
  } catch (e) {
    err = e as ConfigFileError;
  }
  assert.deepEqual([err?.line, err?.text, err?.file], [3, 'foo "bar"', '']);
  const e2 = loadError(null, parseCommandLine(['--port', '99999']).options);
  assert.deepEqual([e2.line, e2.text], [2, 'port "99999"']);
  assert.equal(
    e2.report('7.0.15'),
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port \"99999\"'\nargument must be between 0 and 65535 inclusive\n",
  );
});

test('reprArg round-trips through splitArgs', () => {
  for (const s of ['', 'plain', 'a b', 'q"uote', 'back\\slash', '\n\r\t\x07\x08', '\x00\xff\x7f', "it's"]) {
    assert.deepEqual(splitArgs(`x ${reprArg(s)}`), ['x', s]);
  }
});

test('CONFIG SET core: all or none, errors name the directive', () => {
  const c = new Config();
  const set = (...kv: string[]): void => {
    const items = [];
    for (let i = 0; i < kv.length; i += 2) items.push({ d: c.find(kv[i]!)!, value: kv[i + 1]! });
    c.setMany(items);
  };
  set('maxmemory', '10mb', 'hz', '20');
  assert.equal(c.get('maxmemory'), 10 * 1024 * 1024);
  assert.throws(() => set('maxmemory', '20mb', 'hz', 'abc'), (e: ConfigSetError) => e.argName === 'hz' && e.reason === "argument couldn't be parsed into an integer");
  assert.equal(c.get('maxmemory'), 10 * 1024 * 1024);
  assert.equal(c.get('hz'), 20);
  // an apply hook that refuses restores every value of the command
  c.onChange('timeout', (v) => {
    if (v === 13) throw new Error('unlucky');
  });
  assert.throws(() => set('maxmemory', '1mb', 'timeout', '13'), (e: ConfigSetError) => e.argName === 'timeout' && e.reason === 'unlucky');
  assert.equal(c.get('maxmemory'), 10 * 1024 * 1024);
  assert.equal(c.get('timeout'), 0);
  set('save', '10 1 20 2', 'hash-max-ziplist-entries', '7');
  assert.deepEqual(c.get('save'), [[10, 1], [20, 2]]);
  assert.equal(c.get('hash-max-listpack-entries'), 7);
  set('hz', '100000');
  assert.equal(c.get('hz'), 500);
});

test('rename-command renames or removes commands, and refuses unknown ones', () => {
  const c = load('rename-command flushall ""\nrename-command get fetch\n');
  const table = new Map([['flushall', 1], ['get', 2], ['set', 3]]);
  c.applyRenames(table);
  assert.deepEqual([...table.keys()].sort(), ['fetch', 'set']);
  const c2 = load('rename-command nope x\n');
  assert.throws(() => c2.applyRenames(new Map()), (e: ConfigFileError) => e.reason === 'No such command in rename-command' && e.line === 1);
});

test('CONFIG REWRITE keeps comments and order, reuses lines, blanks extra ones, appends after the signature', () => {
  const file = `# top comment
port 7414
rename-command FLUSHALL ""

save 100 1
save 200 2
save 300 3

hash-max-ziplist-entries 100
HZ 20
maxmemory-policy allkeys-lru
list-max-ziplist-entries 5
loglevel notice
requirepass foo
dir ${dir}
# Generated by CONFIG REWRITE
`;
  const c = load(file);
  // the server's ACL gives the `user` lines (its default user follows requirepass)
  new Server(c);
  const set = (k: string, v: string): void => void c.setMany([{ d: c.find(k)!, value: v }]);
  set('save', '50 5');
  set('maxmemory-policy', 'noeviction');
  set('hz', '10');
  set('timeout', '30');
  set('maxmemory', '2mb');
  set('notify-keyspace-events', 'Kx');
  set('requirepass', '');
  assert.equal(rewriteConfigContent(c, file), `# top comment
port 7414
rename-command FLUSHALL ""

save 50 5

hash-max-listpack-entries 100
hz 10
maxmemory-policy noeviction
# ??? list-max-ziplist-entries 5
loglevel notice

dir "${dir}"
# Generated by CONFIG REWRITE

timeout 30
maxmemory 2mb
notify-keyspace-events "xK"
latency-tracking-info-percentiles 50 99 99.9
user default on nopass ~* &* +@all
`);
  // an empty file gets the signature and the forced lines
  const d = new Config();
  new Server(d);
  assert.equal(rewriteConfigContent(d, ''), `# Generated by CONFIG REWRITE\ndir "${process.cwd()}"\nsave 3600 1\nsave 300 100\nsave 60 10000\nlatency-tracking-info-percentiles 50 99 99.9\nuser default on nopass ~* &* +@all\n`);
});
