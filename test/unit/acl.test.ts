/**
 * The ACL model (src/server/acl): rules and their description, the permission check, the default
 * user and requirepass, the config file's user lines, the ACL file. The observable replies are
 * compared with redis-server in test/compat/acl.test.ts; this file checks the invariants Redis
 * only asserts (a description re-applied gives the same permissions) and the file handling.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Config } from '../../src/config/config.js';
import { Server } from '../../src/server/server.js';
import { AclUser, hashPassword } from '../../src/server/acl/user.js';
import { aclCommandTable } from '../../src/server/acl/table.js';
import { ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_CHANNEL, type AclDenial } from '../../src/server/acl/check.js';
import { rewriteConfigContent } from '../../src/config/rewrite.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-acl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function server(lines = ''): Server {
  const c = new Config();
  c.load(null, [`dir ${dir}`, ...lines.split('\n').filter((l) => l !== '')]);
  const s = new Server(c);
  s.log.quiet = true;
  return s;
}

function user(rules: string[]): AclUser {
  const u = new AclUser('u', aclCommandTable(), () => false);
  for (const r of rules) assert.equal(u.setRule(r), null, r);
  return u;
}

/**
 * The first-args that count: those of blocked commands (`+@all +select|0` keeps one for the
 * allowed SELECT, never consulted nor described, and dropped with the bit as in Redis).
 */
function effectiveFirstArgs(u: AclUser): Map<number, string[]> {
  return new Map([...(u.root.firstArgs ?? new Map<number, string[]>())].filter(([id]) => !u.root.bit(id)));
}

/** The root selector's description re-applied to a fresh user gives the same command bits. */
function assertDescriptionRoundTrips(u: AclUser): void {
  const again = user(u.root.describe().split(' '));
  assert.deepEqual(again.root.bits, u.root.bits, u.root.describe());
  assert.deepEqual(effectiveFirstArgs(again), effectiveFirstArgs(u));
  assert.equal(again.root.describe(), u.root.describe());
}

test('a description re-applied gives the same permissions (what Redis asserts in ACLDescribeSelectorCommandRules)', () => {
  const pool = [
    '+@all', '-@all', '+@read', '-@read', '+@write', '-@write', '+@admin', '-@dangerous', '+@fast', '-@slow',
    '+@hash', '-@list', '+@connection', '+get', '-get', '+set', '-config', '+config|get', '-config|set', '+client',
    '-client|kill', '+select|0', '+select|1', '-select', '+debug|object', '+xinfo', '-xinfo|stream', '+psync',
    'allcommands', 'nocommands', '+@scripting', '-eval', '+acl|whoami',
  ];
  fc.assert(fc.property(fc.array(fc.constantFrom(...pool), { maxLength: 12 }), (rules) => {
    assertDescriptionRoundTrips(user(rules));
  }), { numRuns: 300 });
});

test('descriptions as Redis prints them', () => {
  assert.equal(user([]).describe(), 'off resetchannels -@all');
  assert.equal(user(['reset']).describe(), 'off sanitize-payload resetchannels -@all');
  assert.equal(user(['on', '>pw', '~foo*', '+get', '+set', '&ch*']).describe(),
    `on #${hashPassword('pw')} ~foo* resetchannels &ch* -@all +get +set`);
  assert.equal(user(['+@all', '-get', '%R~x*', '%W~y*', '%RW~z']).describe(), 'off %R~x* %W~y* ~z resetchannels +@all -get');
  assert.equal(user(['-select', '+select|0', '+select|1']).describe(), 'off resetchannels -@all +select|0 +select|1');
  assert.equal(user(['+@all', '-@all', '+@read', '~*', '+@read']).describe(), 'off ~* resetchannels -@all +@read');
  assert.equal(user(['allkeys', 'allchannels', 'allcommands', '(~x +get)', '(%R~y &c -@all +hget)']).describe(),
    'off ~* &* +@all (~x resetchannels -@all +get) (%R~y resetchannels &c -@all +hget)');
});

test('rule errors as ACLSetUserStringError names them', () => {
  const u = user([]);
  assert.equal(u.setRule('%~foo'), 'EINVAL');
  assert.equal(u.setRule('+'), 'ENOENT');
  assert.equal(u.setRule('+get|'), 'EINVAL');
  assert.equal(u.setRule('+config|'), 'EINVAL');
  assert.equal(u.setRule('+config|get|x'), 'ECHILD');
  assert.equal(u.setRule('+nosuch'), 'ENOENT');
  assert.equal(u.setRule('-@nosuch'), 'ENOENT');
  assert.equal(u.setRule('#abc'), 'EBADMSG');
  assert.equal(u.setRule('<never-set'), 'ENODEV');
  assert.equal(u.setRule('~a b'), 'EINVAL');
  assert.equal(u.setRule('bogus'), 'EINVAL');
  assert.equal(u.setRule('allkeys'), null);
  assert.equal(u.setRule('~x'), 'EEXIST');
  assert.equal(u.setRule('allchannels'), null);
  assert.equal(u.setRule('&x'), 'EISDIR');
  assert.equal(u.setRule(''), null);
});

test('the permission check: commands, first-args, read and write key patterns, channels, selectors', () => {
  const s = server();
  const acl = s.acl;
  const check = (u: AclUser, argv: string[]): [number, number] => {
    const spec = s.commands.get(argv[0]!.toLowerCase())!;
    const sub = spec.subcommands?.get(argv[1]?.toLowerCase() ?? '') ?? spec;
    const out: AclDenial = { reason: 0, pos: 0 };
    const r = acl.check(u, sub, argv, out);
    return [r, r === ACL_OK ? 0 : out.pos];
  };
  const u = user(['+@all', '%R~r*', '%W~w*', '~rw*', '&news', '-select', '+select|0']);
  assert.deepEqual(check(u, ['GET', 'r1']), [ACL_OK, 0]);
  assert.deepEqual(check(u, ['GET', 'w1']), [ACL_DENIED_KEY, 1]);
  assert.deepEqual(check(u, ['SET', 'w1', 'v']), [ACL_OK, 0]);
  assert.deepEqual(check(u, ['SET', 'r1', 'v']), [ACL_DENIED_KEY, 1]);
  assert.deepEqual(check(u, ['COPY', 'r1', 'w1']), [ACL_OK, 0]);
  assert.deepEqual(check(u, ['MSET', 'rw1', 'v', 'r2', 'v']), [ACL_DENIED_KEY, 3]);
  assert.deepEqual(check(u, ['SELECT', '0']), [ACL_OK, 0]);
  assert.deepEqual(check(u, ['SELECT', '1']), [ACL_DENIED_CMD, 0]);
  assert.deepEqual(check(u, ['PUBLISH', 'news', 'x']), [ACL_OK, 0]);
  assert.deepEqual(check(u, ['PUBLISH', 'other', 'x']), [ACL_DENIED_CHANNEL, 1]);
  assert.deepEqual(check(u, ['SUBSCRIBE', 'news', 'other']), [ACL_DENIED_CHANNEL, 2]);
  // PSUBSCRIBE compares patterns literally
  assert.deepEqual(check(user(['+@all', '&n*']), ['PSUBSCRIBE', 'n*']), [ACL_OK, 0]);
  assert.deepEqual(check(user(['+@all', '&n*']), ['PSUBSCRIBE', 'ne*']), [ACL_DENIED_CHANNEL, 1]);
  // container subcommands, and AUTH/HELLO (no-auth) always allowed
  const cfg = user(['-@all', '+config|get']);
  assert.deepEqual(check(cfg, ['CONFIG', 'GET', 'x']), [ACL_OK, 0]);
  assert.deepEqual(check(cfg, ['CONFIG', 'SET', 'x', 'y']), [ACL_DENIED_CMD, 0]);
  assert.deepEqual(check(cfg, ['AUTH', 'x']), [ACL_OK, 0]);
  // a second selector allows what the root does not; the denial reported is the furthest one
  const sel = user(['-@all', '+get', '~a*', '(+set ~b*)']);
  assert.deepEqual(check(sel, ['GET', 'a1']), [ACL_OK, 0]);
  assert.deepEqual(check(sel, ['SET', 'b1', 'v']), [ACL_OK, 0]);
  assert.deepEqual(check(sel, ['SET', 'a1', 'v']), [ACL_DENIED_KEY, 1]);
  assert.deepEqual(check(sel, ['HGET', 'a1', 'f']), [ACL_DENIED_CMD, 0]);
});

test('the default user follows requirepass; a user default line wins at start-up; CONFIG SET requirepass resets it', () => {
  const foo = hashPassword('foo');
  const a = server('requirepass "foo"');
  assert.equal(a.acl.defaultUser.describe(), `on #${foo} ~* &* +@all`);
  assert.equal(a.acl.defaultUserAuthenticates(), false);
  const b = server(`requirepass "foo"\nuser default on nopass ~* &* +@all`);
  b.init();
  // the line starts from a reset user, hence sanitize-payload (as Redis 7.0.15 lists it)
  assert.equal(b.acl.defaultUser.describe(), 'on nopass sanitize-payload ~* &* +@all');
  b.config.setMany([{ d: b.config.find('requirepass')!, value: 'bar' }]);
  assert.equal(b.acl.defaultUser.describe(), `on sanitize-payload #${hashPassword('bar')} ~* &* +@all`);
  assert.equal(b.acl.defaultUser.accepts('bar'), true);
  assert.equal(b.acl.defaultUser.accepts('foo'), false);
  const c = server('user default off nopass ~* &* +@all\nuser alice on >x ~k* +get');
  c.init();
  assert.equal(c.acl.defaultUserAuthenticates(), false);
  assert.deepEqual(c.acl.list().map((u) => u.name), ['alice', 'default']);
  assert.equal(rewriteConfigContent(c.config, '').split('\n').filter((l) => l.startsWith('user ')).join('\n'),
    `user alice on #${hashPassword('x')} ~k* resetchannels -@all +get\nuser default off nopass sanitize-payload ~* &* +@all`);
  void Promise.all([a.close(), b.close(), c.close()]);
});

test('start-up refuses unknown commands in user lines, and user lines together with an aclfile', () => {
  const a = server('user bob on +nosuchcommand');
  assert.throws(() => a.init(), /Error loading ACL rule '\+nosuchcommand' for the user named 'bob': Unknown command or category name in ACL/);
  const f = join(dir, 'both.acl');
  writeFileSync(f, 'user x on\n');
  const b = server(`aclfile ${f}\nuser bob on`);
  assert.throws(() => b.init(), /users defined in redis.conf and at the same setting an ACL file path is invalid/);
  const c = server(`aclfile ${join(dir, 'missing.acl')}`);
  assert.throws(() => c.init(), /Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '.*missing\.acl': No such file or directory/);
  void Promise.all([a.close(), b.close(), c.close()]);
});

test('ACL file: saved in name order, loaded back whole, or not at all with every error by line', () => {
  const f = join(dir, 'users.acl');
  writeFileSync(f, 'user alice on >a ~a* +@read\n\nuser bob off\n');
  const s = server(`aclfile ${f}`);
  s.init();
  assert.deepEqual(s.acl.list().map((u) => u.name), ['alice', 'bob', 'default']);
  assert.equal(s.acl.setUser('carol', ['on', 'nopass', '+get']), null);
  assert.equal(s.acl.saveToFile(f), true);
  assert.equal(readFileSync(f, 'latin1'), [
    `user alice on #${hashPassword('a')} ~a* resetchannels -@all +@read`,
    'user bob off resetchannels -@all',
    'user carol on nopass resetchannels -@all +get',
    'user default on nopass ~* &* +@all', '',
  ].join('\n'));
  writeFileSync(f, 'user dave on\nbogus line\nuser dave off\nuser eve on +nosuch badrule\n');
  assert.equal(s.acl.loadFromFile(f, null),
    `${f}:2 should start with user keyword followed by the username. WARNING: Duplicate user 'dave' found on line 3. ` +
    `${f}:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. ${f}:4: Syntax error. ` +
    'WARNING: ACL errors detected, no change to the previously active ACL rules was performed');
  assert.deepEqual(s.acl.list().map((u) => u.name), ['alice', 'bob', 'carol', 'default']);
  // a file without default gives it back with full access; the default user object is kept
  const before = s.acl.defaultUser;
  writeFileSync(f, 'user dave on nopass +@all ~*\n');
  assert.equal(s.acl.loadFromFile(f, null), null);
  assert.deepEqual(s.acl.list().map((u) => u.name), ['dave', 'default']);
  assert.equal(s.acl.get('default'), before);
  assert.equal(before.describe(), 'on nopass ~* &* +@all');
  void s.close();
});
