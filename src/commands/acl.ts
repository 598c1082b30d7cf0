/**
 * ACL and its subcommands after Redis 7.0.15's aclCommand (src/acl.c): SETUSER, GETUSER,
 * DELUSER, USERS, LIST, WHOAMI, CAT, GENPASS, DRYRUN, LOG, LOAD, SAVE, HELP. The users, rules
 * and checks are server/acl's.
 */
import { randomBytes } from 'node:crypto';
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR, arityError, getLongOrReply, lookupCommand } from '../server/dispatch.js';
import { redactClientCommandArgument } from '../server/monitor.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import { ACL_CATEGORIES, AclCommandTable, type AclCommand } from '../server/acl/table.js';
import type { AclSelector } from '../server/acl/user.js';
import { ACL_DENIED_AUTH, ACL_DENIED_CHANNEL, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK, type AclDenial } from '../server/acl/check.js';

const HELP = [
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
];

const NO_ACLFILE = 'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

/** GENPASS_MAX_BITS */
const GENPASS_MAX_BITS = 4096;

/** ACL SETUSER username [rule ...]: every argument is kept out of SLOWLOG and MONITOR. */
function setuser(c: Client): void {
  for (let j = 2; j < c.argv.length; j++) redactClientCommandArgument(c, j);
  const err = c.server.acl.setUser(c.argv[2]!, c.argv.slice(3));
  if (err !== null) c.addError(err);
  else c.addOk();
}

/** ACL DELUSER username [...]: how many existed; `default` cannot go. */
function deluser(c: Client): void {
  const names = c.argv.slice(2);
  if (names.includes('default')) {
    c.addError("ERR The 'default' user cannot be removed");
    return;
  }
  c.addInt(c.server.acl.deleteUsers(names, c));
}

/** aclAddReplySelectorDescription: commands, keys, channels of a selector. */
function replySelector(c: Client, s: AclSelector): void {
  c.addBulk('commands');
  c.addBulk(s.describeCommands());
  c.addBulk('keys');
  c.addBulk(s.describeKeys());
  c.addBulk('channels');
  c.addBulk(s.describeChannels());
}

/**
 * ACL GETUSER username: flags, passwords, the root selector's fields, then the other selectors;
 * a null for an unknown user.
 */
function getuser(c: Client): void {
  const u = c.server.acl.get(c.argv[2]!);
  if (u === undefined) {
    c.addNull();
    return;
  }
  c.addMapLen(6);
  c.addBulk('flags');
  const flags = u.flagNames();
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('passwords');
  c.addBulkArray(u.passwords);
  replySelector(c, u.root);
  c.addBulk('selectors');
  c.addArrayLen(u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    c.addMapLen(3);
    replySelector(c, s);
  }
}

/** ACL LIST: `user <name> <rules>` per user, in name order. */
function list(c: Client): void {
  c.addBulkArray(c.server.acl.list().map((u) => `user ${u.name} ${u.describe()}`));
}

/** ACL USERS: the names, in order. */
function users(c: Client): void {
  c.addBulkArray(c.server.acl.list().map((u) => u.name));
}

/** ACL WHOAMI */
function whoami(c: Client): void {
  if (c.user !== null) c.addBulk(c.user.name);
  else c.addNull();
}

/** ACL LOAD: the ACL file replaces the users, or nothing changes and the errors are the reply. */
function load(c: Client): void {
  const path = c.server.acl.aclfilePath();
  if (path === null) {
    c.addError(NO_ACLFILE);
    return;
  }
  const errors = c.server.acl.loadFromFile(path, c);
  if (errors === null) c.addOk();
  else c.addError(`ERR ${errors}`);
}

/** ACL SAVE: the users to the ACL file. */
function save(c: Client): void {
  const path = c.server.acl.aclfilePath();
  if (path === null) {
    c.addError(NO_ACLFILE);
    return;
  }
  if (c.server.acl.saveToFile(path)) c.addOk();
  else c.addError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
}

/** ACL CAT [category]: the categories, or the commands and subcommands of one. */
function cat(c: Client): void {
  if (c.argv.length === 2) {
    c.addBulkArray(ACL_CATEGORIES);
    return;
  }
  if (c.argv.length !== 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  const flag = AclCommandTable.categoryFlag(c.argv[2]!);
  if (flag === 0) {
    const name = c.argv[2]!;
    c.addError(`ERR Unknown category '${name.length > 128 ? name.slice(0, 128) : name}'`);
    return;
  }
  const names: string[] = [];
  const walk = (commands: readonly AclCommand[]): void => {
    for (const cmd of commands) {
      if ((cmd.categories & flag) !== 0) names.push(cmd.fullName);
      if (cmd.subcommands.length > 0) walk(cmd.subcommands);
    }
  };
  walk(c.server.acl.table.top);
  c.addBulkArray(names);
}

/** ACL GENPASS [bits]: random hex, 256 bits by default (getRandomHexChars). */
function genpass(c: Client): void {
  if (c.argv.length > 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  let bits = 256;
  if (c.argv.length === 3) {
    const v = getLongOrReply(c, c.argv[2]!);
    if (v === null) return;
    bits = v;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    c.addError(`ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`);
    return;
  }
  const chars = Math.floor((bits + 3) / 4);
  c.addBulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

const REASONS: Record<number, string> = {
  [ACL_DENIED_CMD]: 'command', [ACL_DENIED_KEY]: 'key', [ACL_DENIED_CHANNEL]: 'channel', [ACL_DENIED_AUTH]: 'auth',
};

/** ACL LOG [count | RESET]: the newest entries first (10 by default). */
function log(c: Client): void {
  if (c.argv.length > 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  const acl = c.server.acl;
  let count = 10;
  if (c.argv.length === 3) {
    if (c.argv[2]!.toLowerCase() === 'reset') {
      acl.log = [];
      c.addOk();
      return;
    }
    const v = getLongOrReply(c, c.argv[2]!, ERR.notInteger);
    if (v === null) return;
    count = Math.max(0, v);
  }
  const entries = acl.log.slice(0, count);
  const now = Date.now();
  c.addArrayLen(entries.length);
  for (const e of entries) {
    c.addMapLen(7);
    c.addBulk('count');
    c.addInt(e.count);
    c.addBulk('reason');
    c.addBulk(REASONS[e.reason] ?? 'unknown');
    c.addBulk('context');
    c.addBulk(e.context);
    c.addBulk('object');
    c.addBulk(e.object);
    c.addBulk('username');
    c.addBulk(e.username);
    c.addBulk('age-seconds');
    c.addDouble((now - e.ctime) / 1000);
    c.addBulk('client-info');
    c.addBulk(e.cinfo);
  }
}

/**
 * ACL DRYRUN username command [arg ...]: OK when the user may run the command line, else why
 * not, as a bulk string. The command is found as the server would find it (renames apply), and
 * its arity checked.
 */
function dryrun(c: Client): void {
  const acl = c.server.acl;
  const u = acl.get(c.argv[2]!);
  if (u === undefined) {
    c.addError(`ERR User '${c.argv[2]}' not found`);
    return;
  }
  const argv = c.argv.slice(3);
  const { spec } = lookupCommand(c.server, argv);
  if (spec === undefined) {
    c.addError(`ERR Command '${c.argv[3]}' not found`);
    return;
  }
  if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
    c.addError(arityError(spec));
    return;
  }
  const out: AclDenial = { reason: 0, pos: 0 };
  const r = acl.check(u, spec, argv, out);
  if (r === ACL_OK) c.addOk();
  else if (r === ACL_DENIED_CMD) c.addBulk(`This user has no permissions to run the '${spec.fullName}' command`);
  else if (r === ACL_DENIED_KEY) c.addBulk(`This user has no permissions to access the '${argv[out.pos]}' key`);
  else c.addBulk(`This user has no permissions to access the '${argv[out.pos]}' channel`);
}

export const aclCommands: Record<string, Handler> = {
  'acl|setuser': setuser,
  'acl|deluser': deluser,
  'acl|getuser': getuser,
  'acl|list': list,
  'acl|users': users,
  'acl|whoami': whoami,
  'acl|load': load,
  'acl|save': save,
  'acl|cat': cat,
  'acl|genpass': genpass,
  'acl|log': log,
  'acl|dryrun': dryrun,
  'acl|help': (c) => addReplyHelp(c, HELP),
};
