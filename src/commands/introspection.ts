/**
 * COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP), after
 * commandCommand & co. in Redis 7.0.15's src/server.c and the key extraction of src/db.c
 * (getKeysFromCommandWithSpecs). The metadata is Redis's own (spec.ts); a container lists only the
 * subcommands Amber implements.
 */
import type { Handler, CommandSpec } from './spec.js';
import { commandInfoNode, commandDocsNode, isMapNode } from './spec.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import type { ReplyNode, ReplyWriter } from '../protocol/reply.js';
import { ERR } from '../server/dispatch.js';
import { stringMatch } from '../util/glob.js';

const COMMAND_HELP = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

/**
 * lookupCommandBySds: `name` or `container|sub`, any case; undefined for an unknown name or more
 * than one `|`.
 */
export function lookupCommandByFullName(server: Server, name: string): CommandSpec | undefined {
  const parts = name.split('|');
  if (parts.length > 2) return undefined;
  const base = server.commands.get(parts[0]!.toLowerCase());
  if (base === undefined || parts.length === 1) return base;
  return base.subcommands?.get(parts[1]!.toLowerCase());
}

/** lookupCommand(argv, argc): the command of a full command line, its subcommand for containers. */
function lookupCommandArgv(commands: Map<string, CommandSpec>, argv: readonly string[]): CommandSpec | undefined {
  const base = commands.get(argv[0]!.toLowerCase());
  if (base === undefined || base.subcommands === null || argv.length < 2) return base;
  return base.subcommands.get(argv[1]!.toLowerCase());
}

/** A key specification (keySpec in server.h), read from the COMMAND INFO metadata. */
export interface KeySpec {
  flags: string[];
  begin: { type: 'index'; index: number } | { type: 'keyword'; keyword: string; startfrom: number } | { type: 'unknown' };
  find:
    | { type: 'range'; lastkey: number; keystep: number; limit: number }
    | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number }
    | { type: 'unknown' };
}

/** One key found in a command line: its argv index and access flags (keyReference). */
export interface KeyReference {
  pos: number;
  flags: string[];
}

function mapGet(node: ReplyNode | undefined, key: string): ReplyNode | undefined {
  if (node === undefined || !isMapNode(node)) return undefined;
  const m = node.map;
  for (let i = 0; i + 1 < m.length; i += 2) if (m[i] === key) return m[i + 1];
  return undefined;
}

function setStrings(node: ReplyNode | undefined): string[] {
  if (node && typeof node === 'object' && !Array.isArray(node) && 'set' in node) {
    return node.set.map((x) => (typeof x === 'object' && x !== null && 's' in x ? x.s : String(x)));
  }
  return [];
}

const specCache = new WeakMap<CommandSpec, KeySpec[]>();

/** The key specs of a command, parsed once from its COMMAND INFO entry. */
export function keySpecsOf(spec: CommandSpec): KeySpec[] {
  let specs = specCache.get(spec);
  if (specs !== undefined) return specs;
  const raw = spec.info[8];
  const list: ReplyNode[] = raw && typeof raw === 'object' && !Array.isArray(raw) && 'set' in raw ? raw.set : Array.isArray(raw) ? raw : [];
  specs = list.map((ks): KeySpec => {
    const bs = mapGet(ks, 'begin_search');
    const bsType = mapGet(bs, 'type');
    const bsSpec = mapGet(bs, 'spec');
    const fk = mapGet(ks, 'find_keys');
    const fkType = mapGet(fk, 'type');
    const fkSpec = mapGet(fk, 'spec');
    const num = (n: ReplyNode | undefined): number => Number(n ?? 0);
    return {
      flags: setStrings(mapGet(ks, 'flags')),
      begin: bsType === 'index' ? { type: 'index', index: num(mapGet(bsSpec, 'index')) }
        : bsType === 'keyword' ? { type: 'keyword', keyword: String(mapGet(bsSpec, 'keyword')), startfrom: num(mapGet(bsSpec, 'startfrom')) }
          : { type: 'unknown' },
      find: fkType === 'range' ? { type: 'range', lastkey: num(mapGet(fkSpec, 'lastkey')), keystep: num(mapGet(fkSpec, 'keystep')), limit: num(mapGet(fkSpec, 'limit')) }
        : fkType === 'keynum' ? { type: 'keynum', keynumidx: num(mapGet(fkSpec, 'keynumidx')), firstkey: num(mapGet(fkSpec, 'firstkey')), keystep: num(mapGet(fkSpec, 'keystep')) }
          : { type: 'unknown' },
    };
  });
  specCache.set(spec, specs);
  return specs;
}

/** string2ll for key counts. */
function parseKeyCount(s: string): number | null {
  if (!/^(-?[1-9][0-9]*|0)$/.test(s) || s.length > 20) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * getKeysUsingKeySpecs (src/db.c): the keys the specs find in `argv` (argv[0] the command), or
 * null when a spec is invalid for this line or incomplete.
 */
export function getKeysUsingKeySpecs(spec: CommandSpec, argv: readonly string[], includeNotKeys = false): KeyReference[] | null {
  const argc = argv.length;
  const out: KeyReference[] = [];
  for (const ks of keySpecsOf(spec)) {
    if (ks.flags.includes('not_key') && !includeNotKeys) continue;
    let first = 0;
    if (ks.begin.type === 'index') {
      first = ks.begin.index;
    } else if (ks.begin.type === 'keyword') {
      const from = ks.begin.startfrom;
      const start = from > 0 ? from : argc + from;
      const end = from > 0 ? argc - 1 : 1;
      const kw = ks.begin.keyword.toLowerCase();
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (argv[i]!.toLowerCase() === kw) {
          first = i + 1;
          break;
        }
      }
      if (!first) continue;
    } else {
      return null;
    }
    let last: number;
    let step: number;
    if (ks.find.type === 'range') {
      step = ks.find.keystep;
      if (ks.find.lastkey >= 0) last = first + ks.find.lastkey;
      else if (!ks.find.limit) last = argc + ks.find.lastkey;
      else last = first + (Math.trunc((argc - first) / ks.find.limit) + ks.find.lastkey);
    } else if (ks.find.type === 'keynum') {
      step = ks.find.keystep;
      if (ks.find.keynumidx >= argc) return null;
      const numkeys = parseKeyCount(argv[first + ks.find.keynumidx] ?? '');
      if (numkeys === null || numkeys < 0) return null;
      first += ks.find.firstkey;
      last = first + numkeys - 1;
    } else {
      return null;
    }
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last; i += step) {
      // negative-arity commands may end early; their handler reports the error
      if (i >= argc || i < first) continue;
      out.push({ pos: i, flags: ks.flags });
    }
    if (ks.flags.includes('incomplete')) return null;
  }
  return out;
}

/** atoi: leading spaces, a sign, digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** genericGetKeys (src/db.c): `num` keys from a key count argument, then an optional store key. */
function genericGetKeys(storeKeyOfs: number, keyCountOfs: number, firstKeyOfs: number, keyStep: number, argv: readonly string[]): KeyReference[] {
  const num = atoi(argv[keyCountOfs] ?? '');
  if (num < 1 || num > Math.trunc((argv.length - firstKeyOfs) / keyStep)) return [];
  const out: KeyReference[] = [];
  for (let i = 0; i < num; i++) out.push({ pos: firstKeyOfs + i * keyStep, flags: [] });
  if (storeKeyOfs) out.push({ pos: storeKeyOfs, flags: [] });
  return out;
}

const RO_ACCESS = ['RO', 'access'];
const OW_UPDATE = ['OW', 'update'];

/**
 * The native getkeys_proc of Redis 7.0's commands (src/db.c and the commands' files), used when
 * the key specs cannot tell: an `unknown` spec (SORT), an incomplete one (MIGRATE KEYS), variable
 * flags (SET, BITFIELD), or a spec that does not fit the line.
 */
export const NATIVE_GETKEYS: Record<string, (argv: readonly string[]) => KeyReference[]> = {
  /** setGetKeys: GET makes the access RW. */
  set(argv) {
    for (let i = 3; i < argv.length; i++) {
      if (argv[i]!.toLowerCase() === 'get') return [{ pos: 1, flags: ['RW', 'access', 'update'] }];
    }
    return [{ pos: 1, flags: OW_UPDATE }];
  },
  /** bitfieldGetKeys: read-only unless SET/INCRBY or a syntax error. */
  bitfield(argv) {
    let readonly = true;
    for (let i = 2; i < argv.length; i++) {
      const rem = argv.length - i - 1;
      const a = argv[i]!.toLowerCase();
      if (a === 'get' && rem >= 2) i += 2;
      else if ((a === 'set' || a === 'incrby') && rem >= 3) {
        readonly = false;
        break;
      } else if (a === 'overflow' && rem >= 1) i += 1;
      else {
        readonly = false;
        break;
      }
    }
    return [{ pos: 1, flags: readonly ? RO_ACCESS : ['RW', 'access', 'update'] }];
  },
  /** migrateGetKeys: the key argument, or the keys after KEYS (with an empty key argument). */
  migrate(argv) {
    let first = 3;
    let num = 1;
    const skip: Record<string, number> = { copy: 0, replace: 0, auth: 1, auth2: 2 };
    if (argv.length > 6) {
      for (let i = 6; i < argv.length; i++) {
        const a = argv[i]!.toLowerCase();
        if (a === 'keys') {
          if (argv[3]!.length > 0) return [];
          first = i + 1;
          num = argv.length - first;
          break;
        }
        if (Object.hasOwn(skip, a)) i += skip[a]!;
      }
    }
    const out: KeyReference[] = [];
    for (let i = 0; i < num; i++) out.push({ pos: first + i, flags: ['RW', 'access', 'delete'] });
    return out;
  },
  /** sortGetKeys: the sorted key, and the last STORE destination. */
  sort(argv) {
    const out: KeyReference[] = [{ pos: 1, flags: RO_ACCESS }];
    let store: KeyReference | null = null;
    const skip: Record<string, number> = { limit: 2, get: 1, by: 1 };
    for (let i = 2; i < argv.length; i++) {
      const a = argv[i]!.toLowerCase();
      if (Object.hasOwn(skip, a)) i += skip[a]!;
      else if (a === 'store' && i + 1 < argv.length) store = { pos: i + 1, flags: OW_UPDATE };
    }
    if (store) out.push(store);
    return out;
  },
  /** sortROGetKeys */
  sort_ro: () => [{ pos: 1, flags: RO_ACCESS }],
  /** georadiusGetKeys: the key, and the last STORE/STOREDIST destination. */
  georadius: geoRadiusGetKeys,
  georadiusbymember: geoRadiusGetKeys,
  /** xreadGetKeys: the keys between STREAMS and the IDs. */
  xread: xreadGetKeys,
  xreadgroup: xreadGetKeys,
  zunion: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  zinter: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  zdiff: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  zintercard: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  zunionstore: (argv) => genericGetKeys(1, 2, 3, 1, argv),
  zinterstore: (argv) => genericGetKeys(1, 2, 3, 1, argv),
  zdiffstore: (argv) => genericGetKeys(1, 2, 3, 1, argv),
  eval: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  evalsha: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  eval_ro: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  evalsha_ro: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  fcall: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  fcall_ro: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  lmpop: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  blmpop: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  zmpop: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  bzmpop: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  sintercard: (argv) => genericGetKeys(0, 1, 2, 1, argv),
};

function geoRadiusGetKeys(argv: readonly string[]): KeyReference[] {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    if ((a === 'store' || a === 'storedist') && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  const out: KeyReference[] = [{ pos: 1, flags: RO_ACCESS }];
  if (stored !== -1) out.push({ pos: stored, flags: OW_UPDATE });
  return out;
}

function xreadGetKeys(argv: readonly string[]): KeyReference[] {
  let streamsPos = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    if (a === 'block' || a === 'count') i++;
    else if (a === 'group') i += 2;
    else if (a === 'noack') continue;
    else if (a === 'streams') {
      streamsPos = i;
      break;
    } else break;
  }
  let num = argv.length - streamsPos - 1;
  if (streamsPos === -1 || num === 0 || num % 2 !== 0) return [];
  num /= 2;
  const out: KeyReference[] = [];
  for (let i = streamsPos + 1; i < argv.length - num; i++) out.push({ pos: i, flags: [] });
  return out;
}

/**
 * getKeysFromCommandWithSpecs (src/db.c): the keys of a full command line by its key specs, or,
 * when the specs cannot tell (variable flags, incomplete, invalid), by the command's own key
 * function. Exported for the layers that need key positions (ACL, tracking, cluster checks).
 */
export function getKeysFromCommandWithSpecs(spec: CommandSpec, argv: readonly string[]): KeyReference[] {
  const specs = keySpecsOf(spec);
  const hasKeySpec = specs.some((s) => !s.flags.includes('not_key'));
  const hasVarFlags = specs.some((s) => s.flags.includes('variable_flags'));
  if (hasKeySpec && !hasVarFlags) {
    const r = getKeysUsingKeySpecs(spec, argv);
    if (r !== null) return r;
  }
  const native = NATIVE_GETKEYS[spec.fullName];
  return native ? native(argv) : [];
}

/** doesCommandHaveKeys: a key function or a key spec that is not `not_key`. */
export function commandHasKeys(spec: CommandSpec): boolean {
  return spec.fullName in NATIVE_GETKEYS || keySpecsOf(spec).some((s) => !s.flags.includes('not_key'));
}

/**
 * getKeysSubcommandImpl: the reply of COMMAND GETKEYS / GETKEYSANDFLAGS for the full command line
 * `args` against a command table, written to `w` (a client, or a bare writer in tests).
 */
export function getKeysReply(commands: Map<string, CommandSpec>, args: readonly string[], withFlags: boolean, w: ReplyWriter): void {
  const spec = lookupCommandArgv(commands, args);
  if (spec === undefined) {
    w.addError('ERR Invalid command specified');
    return;
  }
  if (!commandHasKeys(spec)) {
    w.addError('ERR The command has no key arguments');
    return;
  }
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) {
    w.addError('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = getKeysFromCommandWithSpecs(spec, args);
  if (keys.length === 0) {
    if (spec.flags.has('no_mandatory_keys')) w.addArrayLen(0);
    else w.addError('ERR Invalid arguments specified for command');
    return;
  }
  w.addArrayLen(keys.length);
  for (const k of keys) {
    if (withFlags) {
      w.addArrayLen(2);
      w.addBulk(args[k.pos]!);
      w.addSetLen(k.flags.length);
      for (const f of k.flags) w.addSimple(f);
    } else {
      w.addBulk(args[k.pos]!);
    }
  }
}

/** COMMAND and COMMAND INFO without names: every top-level command's entry. */
function replyAllInfo(c: Client): void {
  const cmds = c.server.commands;
  c.addArrayLen(cmds.size);
  for (const spec of cmds.values()) c.addNode(commandInfoNode(spec));
}

/** COMMAND INFO [name ...]: the entries asked for, a null for an unknown name. */
const commandInfo: Handler = (c) => {
  if (c.argv.length === 2) {
    replyAllInfo(c);
    return;
  }
  c.addArrayLen(c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) {
    const spec = lookupCommandByFullName(c.server, c.argv[i]!);
    if (spec === undefined) c.addNull();
    else c.addNode(commandInfoNode(spec));
  }
};

/** COMMAND DOCS [name ...]: a map of full name -> docs; unknown names are left out. */
const commandDocs: Handler = (c) => {
  const found: CommandSpec[] = [];
  if (c.argv.length === 2) {
    for (const spec of c.server.commands.values()) found.push(spec);
  } else {
    for (let i = 2; i < c.argv.length; i++) {
      const spec = lookupCommandByFullName(c.server, c.argv[i]!);
      if (spec !== undefined) found.push(spec);
    }
  }
  c.addMapLen(found.length);
  for (const spec of found) {
    c.addBulk(spec.fullName);
    c.addNode(commandDocsNode(spec));
  }
};

/**
 * COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]: full names of the commands and their
 * subcommands. Amber has no modules; ACL categories compare without case; patterns match the full
 * name without case.
 */
const commandList: Handler = (c) => {
  let filter: ((s: CommandSpec) => boolean) | null = null;
  for (let i = 2; i < c.argv.length; i++) {
    const more = c.argv.length - 1 - i;
    if (c.argv[i]!.toLowerCase() === 'filterby' && more === 2) {
      const type = c.argv[i + 1]!.toLowerCase();
      const arg = c.argv[i + 2]!;
      if (type === 'module') filter = () => false;
      else if (type === 'aclcat') {
        const cat = '@' + arg.toLowerCase();
        filter = (s) => s.aclCategories.includes(cat);
      } else if (type === 'pattern') filter = (s) => stringMatch(arg, s.fullName, true);
      else {
        c.addError(ERR.syntax);
        return;
      }
      i += 2;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const names: string[] = [];
  const walk = (specs: Iterable<CommandSpec>): void => {
    for (const s of specs) {
      if (filter === null || filter(s)) names.push(s.fullName);
      if (s.subcommands) walk(s.subcommands.values());
    }
  };
  walk(c.server.commands.values());
  c.addArrayLen(names.length);
  for (const n of names) c.addBulk(n);
};

/** Handlers of the introspection command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const introspectionCommands: Record<string, Handler> = {
  command: (c) => replyAllInfo(c),
  'command|count': (c) => c.addInt(c.server.commands.size),
  'command|info': commandInfo,
  'command|docs': commandDocs,
  'command|list': commandList,
  'command|getkeys': (c) => getKeysReply(c.server.commands, c.argv.slice(2), false, c),
  'command|getkeysandflags': (c) => getKeysReply(c.server.commands, c.argv.slice(2), true, c),
  'command|help': (c) => {
    c.addArrayLen(COMMAND_HELP.length + 3);
    c.addSimple('COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    for (const l of COMMAND_HELP) c.addSimple(l);
    c.addSimple('HELP');
    c.addSimple('    Prints this help.');
  },
};
