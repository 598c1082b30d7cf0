/**
 * ACL users and selectors after Redis 7.0.15's src/acl.c: the rules of ACL SETUSER and `user`
 * lines (ACLSetUser, ACLSetSelector), their errors (ACLSetUserStringError), and the description
 * ACL LIST, ACL GETUSER, ACL SAVE and CONFIG REWRITE print (ACLDescribeUser). Pure data: the
 * registry, authentication and permission checks are in acl.ts and check.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { splitArgs } from '../../protocol/splitargs.js';
import { ACL_CATEGORIES, AclCommandTable, aclCommandTable, type AclCommand } from './table.js';

/** Key pattern permissions (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION, ACL_ALL_PERMISSION). */
export const KEY_READ = 1;
export const KEY_WRITE = 2;
export const KEY_ALL = 3;

/** A key pattern of a selector: `~pat` (KEY_ALL), `%R~pat`, `%W~pat`. */
export interface KeyPattern {
  readonly pattern: string;
  flags: number;
}

/** The errno values ACLSetUser reports, which ACLSetUserStringError turns into text. */
export type AclErrno = 'ENOENT' | 'EINVAL' | 'EEXIST' | 'EISDIR' | 'ENODEV' | 'EBADMSG' | 'EALREADY' | 'ECHILD';

/** ACLSetUserStringError: the text of a rule error, as ACL SETUSER and the start-up log print it. */
export function aclErrorText(errno: AclErrno): string {
  switch (errno) {
    case 'ENOENT': return 'Unknown command or category name in ACL';
    case 'EINVAL': return 'Syntax error';
    case 'EEXIST': return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case 'EISDIR': return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    case 'ENODEV': return 'The password you are trying to remove from the user does not exist';
    case 'EBADMSG': return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
    case 'EALREADY': return 'Duplicate user found. A user can only be defined once in config files';
    case 'ECHILD': return 'Allowing first-arg of a subcommand is not supported';
  }
}

/** ACLHashPassword: the SHA-256 hex digest of a password's bytes (latin1 string). */
export function hashPassword(password: string): string {
  return createHash('sha256').update(password, 'latin1').digest('hex');
}

/** ACLCheckPasswordHash: 64 characters of lower-case hexadecimal. */
function validHash(h: string): boolean {
  return /^[0-9a-f]{64}$/.test(h);
}

/** ACLStringHasSpaces: isspace() or NUL anywhere (usernames, key and channel patterns). */
export function hasSpaces(s: string): boolean {
  return /[\t\n\v\f\r \0]/.test(s);
}

/**
 * A set of permissions: commands (a bit per command id of the {@link AclCommandTable}, plus the
 * reserved "future commands" bit that only `+@all` sets), first-args allowed for otherwise
 * blocked commands, key patterns and channel patterns (aclSelector). The root selector holds the
 * rules written outside parentheses.
 */
export class AclSelector {
  readonly root: boolean;
  allKeys = false;
  allChannels = false;
  allCommands = false;
  bits: Uint8Array;
  /** allowed_firstargs: command id to its allowed first arguments (compared case-insensitively) */
  firstArgs: Map<number, string[]> | null = null;
  patterns: KeyPattern[] = [];
  channels: string[] = [];

  /** ACLCreateSelector: no permission, all channels when `acl-pubsub-default` is allchannels. */
  constructor(readonly table: AclCommandTable, root: boolean, allChannels: boolean) {
    this.root = root;
    this.allChannels = allChannels;
    this.bits = new Uint8Array(table.size + 1);
  }

  /** ACLCopySelector */
  clone(): AclSelector {
    const s = new AclSelector(this.table, this.root, this.allChannels);
    s.allKeys = this.allKeys;
    s.allCommands = this.allCommands;
    s.bits.set(this.bits);
    if (this.firstArgs !== null) s.firstArgs = new Map([...this.firstArgs].map(([k, v]) => [k, v.slice()]));
    s.patterns = this.patterns.map((p) => ({ pattern: p.pattern, flags: p.flags }));
    s.channels = this.channels.slice();
    return s;
  }

  /** ACLGetSelectorCommandBit */
  bit(id: number): boolean {
    return this.bits[id] === 1;
  }

  /** True when `+@all` (or allcommands) was applied and not undone by `-@all`. */
  get futureCommands(): boolean {
    return this.bits[this.table.size] === 1;
  }

  /** ACLSetSelectorCommandBit: clearing any bit drops the ALLCOMMANDS shortcut. */
  private setBit(id: number, value: boolean): void {
    this.bits[id] = value ? 1 : 0;
    if (!value) this.allCommands = false;
  }

  /** ACLChangeSelectorPerm: the command, its first-args reset, and all its subcommands. */
  changePerm(cmd: AclCommand, allow: boolean): void {
    this.setBit(cmd.id, allow);
    this.firstArgs?.delete(cmd.id);
    for (const sub of cmd.subcommands) this.setBit(sub.id, allow);
  }

  /** ACLSetSelectorCommandBitsForCategory: every command and subcommand of the category. */
  private changeCategory(commands: readonly AclCommand[], flag: number, allow: boolean): void {
    for (const cmd of commands) {
      if ((cmd.categories & flag) !== 0) this.changePerm(cmd, allow);
      if (cmd.subcommands.length > 0) this.changeCategory(cmd.subcommands, flag, allow);
    }
  }

  /** ACLCountCategoryBitsForSelector: [allowed, denied] commands of a category. */
  countCategory(flag: number): [number, number] {
    let on = 0;
    let off = 0;
    const walk = (commands: readonly AclCommand[]): void => {
      for (const cmd of commands) {
        if ((cmd.categories & flag) !== 0) {
          if (this.bits[cmd.id] === 1) on++;
          else off++;
        }
        if (cmd.subcommands.length > 0) walk(cmd.subcommands);
      }
    };
    walk(this.table.top);
    return [on, off];
  }

  /**
   * ACLSetSelector: applies one rule (allkeys, ~pat, %RW~pat, resetkeys, allchannels, &pat,
   * resetchannels, allcommands, nocommands, +cmd, -cmd, +cmd|sub, +cmd|firstarg, +@cat, -@cat).
   * Returns null, or the errno ACL SETUSER reports.
   */
  set(op: string): AclErrno | null {
    const lower = op.toLowerCase();
    if (lower === 'allkeys' || op === '~*') {
      this.allKeys = true;
      this.patterns = [];
    } else if (lower === 'resetkeys') {
      this.allKeys = false;
      this.patterns = [];
    } else if (lower === 'allchannels' || op === '&*') {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === 'resetchannels') {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === 'allcommands' || lower === '+@all') {
      this.bits.fill(1);
      this.allCommands = true;
      this.firstArgs = null;
    } else if (lower === 'nocommands' || lower === '-@all') {
      this.bits.fill(0);
      this.allCommands = false;
      this.firstArgs = null;
    } else if (op[0] === '~' || op[0] === '%') {
      if (this.allKeys) return 'EEXIST';
      let flags = 0;
      let offset = 1;
      if (op[0] === '%') {
        for (; offset < op.length; offset++) {
          const ch = op[offset]!.toUpperCase();
          if (ch === 'R' && (flags & KEY_READ) === 0) flags |= KEY_READ;
          else if (ch === 'W' && (flags & KEY_WRITE) === 0) flags |= KEY_WRITE;
          else if (op[offset] === '~') {
            offset++;
            break;
          } else return 'EINVAL';
        }
        // `%~pat` names no permission (7.0.15 refuses it)
        if (flags === 0) return 'EINVAL';
      } else {
        flags = KEY_ALL;
      }
      const pattern = op.slice(offset);
      if (hasSpaces(pattern)) return 'EINVAL';
      const existing = this.patterns.find((p) => p.pattern === pattern);
      if (existing === undefined) this.patterns.push({ pattern, flags });
      else existing.flags |= flags;
      this.allKeys = false;
    } else if (op[0] === '&') {
      if (this.allChannels) return 'EISDIR';
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return 'EINVAL';
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === '+' && op[1] !== '@') {
      const bar = op.lastIndexOf('|');
      if (bar < 0) {
        const cmd = this.table.lookup(op.slice(1));
        if (cmd === undefined) return 'ENOENT';
        this.changePerm(cmd, true);
      } else {
        const cmd = this.table.lookup(op.slice(1, bar));
        // the command must exist; its first-arg cannot be checked
        if (cmd === undefined) return 'ENOENT';
        if (cmd.parent !== null) return 'ECHILD';
        const sub = op.slice(bar + 1);
        if (sub === '') return 'EINVAL';
        if (cmd.subcommands.length > 0) {
          const subcmd = this.table.lookup(op.slice(1));
          if (subcmd === undefined) return 'ENOENT';
          this.changePerm(subcmd, true);
        } else {
          // `-select +select|0`: a first argument of an otherwise blocked command
          this.firstArgs ??= new Map();
          const list = this.firstArgs.get(cmd.id) ?? [];
          if (!list.some((a) => a.toLowerCase() === sub.toLowerCase())) list.push(sub);
          this.firstArgs.set(cmd.id, list);
        }
      }
    } else if (op[0] === '-' && op[1] !== '@') {
      const cmd = this.table.lookup(op.slice(1));
      if (cmd === undefined) return 'ENOENT';
      this.changePerm(cmd, false);
    } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
      const flag = AclCommandTable.categoryFlag(op.slice(2));
      if (flag === 0) return 'ENOENT';
      this.changeCategory(this.table.top, flag, op[0] === '+');
    } else {
      return 'EINVAL';
    }
    return null;
  }

  /**
   * ACLDescribeSelectorCommandRules: `+@all` or `-@all`, then the categories that best fit the
   * bits, then single commands and first-args for what is left. Redis emits the single commands
   * in its command dict's order, which is random per process; Amber in its table's order.
   */
  describeCommands(): string {
    const table = this.table;
    const additive = !this.futureCommands;
    const words: string[] = [additive ? '-@all' : '+@all'];
    const fake = new AclSelector(table, false, false);
    fake.set(words[0]!);
    const temp = new AclSelector(table, false, false);
    temp.bits.set(this.bits);
    const applied = new Array<boolean>(ACL_CATEGORIES.length).fill(false);
    for (;;) {
      let best = -1;
      let mindiff = Number.MAX_SAFE_INTEGER;
      let maxsame = 0;
      for (let j = 0; j < ACL_CATEGORIES.length; j++) {
        if (applied[j]) continue;
        const [on, off] = temp.countCategory(1 << j);
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff === mindiff && same > maxsame))) {
          best = j;
          mindiff = diff;
          maxsame = same;
        }
      }
      if (best === -1) break;
      const name = ACL_CATEGORIES[best]!;
      const op = (additive ? '+@' : '-@') + name;
      fake.set(op);
      temp.set((additive ? '-@' : '+@') + name);
      words.push(op);
      applied[best] = true;
    }
    const single = (commands: readonly AclCommand[]): void => {
      for (const cmd of commands) {
        const userbit = this.bit(cmd.id);
        if (userbit !== fake.bit(cmd.id)) {
          words.push((userbit ? '+' : '-') + cmd.fullName);
          fake.changePerm(cmd, userbit);
        }
        if (cmd.subcommands.length > 0) single(cmd.subcommands);
        const fa = this.firstArgs?.get(cmd.id);
        if (!userbit && fa !== undefined) for (const a of fa) words.push(`+${cmd.fullName}|${a}`);
      }
    };
    single(table.top);
    return words.join(' ');
  }

  /** The `keys` field of ACL GETUSER: `~*`, or the patterns separated by spaces. */
  describeKeys(): string {
    return this.allKeys ? '~*' : this.patterns.map(patternString).join(' ');
  }

  /** The `channels` field of ACL GETUSER: `&*`, or the patterns (`&pat`) separated by spaces. */
  describeChannels(): string {
    return this.allChannels ? '&*' : this.channels.map((c) => '&' + c).join(' ');
  }

  /** ACLDescribeSelector: keys, channels (with resetchannels first when not all), commands. */
  describe(): string {
    let res = this.allKeys ? '~* ' : this.patterns.map((p) => patternString(p) + ' ').join('');
    res += this.allChannels ? '&* ' : 'resetchannels ' + this.channels.map((c) => `&${c} `).join('');
    return res + this.describeCommands();
  }
}

/** sdsCatPatternString */
function patternString(p: KeyPattern): string {
  return (p.flags === KEY_ALL ? '~' : p.flags === KEY_READ ? '%R~' : '%W~') + p.pattern;
}

/**
 * ACLMergeSelectorArguments: joins a selector written across several arguments (`(~foo`, `+get)`)
 * into one. Returns the merged rules, or the index of the argument opening an unmatched `(`.
 */
export function mergeSelectorArguments(args: readonly string[]): string[] | { invalid: number } {
  const out: string[] = [];
  let open = -1;
  let selector = '';
  for (let j = 0; j < args.length; j++) {
    const op = args[j]!;
    if (op[0] === '(' && op[op.length - 1] !== ')') {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += ' ' + op;
      if (op[op.length - 1] === ')') {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open !== -1 ? { invalid: open } : out;
}

/** USER_FLAG_SANITIZE_PAYLOAD / _SKIP: what `sanitize-dump-payload clients` does for the user. */
export type SanitizeFlag = 'none' | 'sanitize' | 'skip';

/**
 * An ACL user (struct user): on/off, nopass, the sanitize-payload flag, password digests in the
 * order added, and its selectors, the root one first.
 */
export class AclUser {
  enabled = false;
  nopass = false;
  sanitize: SanitizeFlag = 'none';
  passwords: string[] = [];
  selectors: AclSelector[];
  /**
   * True when the root selector allows every command, key and channel: the permission check of
   * a command is then skipped (the default user's case). Kept by {@link setRule} and {@link copyFrom}.
   */
  unrestricted = false;

  /** ACLCreateUser: off, no password, a root selector with no permission. */
  constructor(readonly name: string, readonly table: AclCommandTable, private readonly pubsubDefaultAll: () => boolean) {
    this.selectors = [new AclSelector(table, true, pubsubDefaultAll())];
  }

  get root(): AclSelector {
    return this.selectors[0]!;
  }

  /** ACLCopyUser: this user gets `src`'s rules (not its name). */
  copyFrom(src: AclUser): void {
    this.enabled = src.enabled;
    this.nopass = src.nopass;
    this.sanitize = src.sanitize;
    this.passwords = src.passwords.slice();
    this.selectors = src.selectors.map((s) => s.clone());
    this.refresh();
  }

  private refresh(): void {
    const r = this.root;
    this.unrestricted = r.allCommands && r.allKeys && r.allChannels;
  }

  /**
   * ACLSetUser: applies one rule (on, off, nopass, resetpass, >pass, <pass, #hash, !hash,
   * (selector), clearselectors, reset, skip-sanitize-payload, sanitize-payload, or a selector
   * rule for the root selector). An empty rule does nothing. Returns null or the errno.
   */
  setRule(op: string): AclErrno | null {
    const r = this.apply(op);
    this.refresh();
    return r;
  }

  private apply(op: string): AclErrno | null {
    if (op === '') return null;
    const lower = op.toLowerCase();
    switch (lower) {
      case 'on': this.enabled = true; return null;
      case 'off': this.enabled = false; return null;
      case 'skip-sanitize-payload': this.sanitize = 'skip'; return null;
      case 'sanitize-payload': this.sanitize = 'sanitize'; return null;
      case 'nopass': this.nopass = true; this.passwords = []; return null;
      case 'resetpass': this.nopass = false; this.passwords = []; return null;
      default: break;
    }
    if (op[0] === '>' || op[0] === '#') {
      let hash: string;
      if (op[0] === '>') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return 'EBADMSG';
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
      return null;
    }
    if (op[0] === '<' || op[0] === '!') {
      let hash: string;
      if (op[0] === '<') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return 'EBADMSG';
      }
      const i = this.passwords.indexOf(hash);
      if (i < 0) return 'ENODEV';
      this.passwords.splice(i, 1);
      return null;
    }
    if (op[0] === '(' && op[op.length - 1] === ')') {
      const s = new AclSelector(this.table, false, this.pubsubDefaultAll());
      for (const rule of splitArgs(op.slice(1, -1)) ?? []) {
        const err = s.set(rule);
        if (err !== null) return err;
      }
      this.selectors.push(s);
      return null;
    }
    if (lower === 'clearselectors') {
      this.selectors = [this.root];
      return null;
    }
    if (lower === 'reset') {
      this.apply('resetpass');
      this.apply('resetkeys');
      this.apply('resetchannels');
      if (this.pubsubDefaultAll()) this.apply('allchannels');
      this.apply('off');
      this.apply('sanitize-payload');
      this.apply('clearselectors');
      this.apply('-@all');
      return null;
    }
    return this.root.set(op);
  }

  /**
   * ACLCheckUserCredentials: enabled, and nopass or one of the passwords (compared as digests in
   * constant time).
   */
  accepts(password: string): boolean {
    if (!this.enabled) return false;
    if (this.nopass) return true;
    const h = Buffer.from(hashPassword(password), 'latin1');
    let ok = false;
    for (const p of this.passwords) {
      if (timingSafeEqual(h, Buffer.from(p, 'latin1'))) ok = true;
    }
    return ok;
  }

  /** The flags of ACL GETUSER and of the description, in ACLUserFlags order. */
  flagNames(): string[] {
    const out = [this.enabled ? 'on' : 'off'];
    if (this.nopass) out.push('nopass');
    if (this.sanitize === 'skip') out.push('skip-sanitize-payload');
    if (this.sanitize === 'sanitize') out.push('sanitize-payload');
    return out;
  }

  /**
   * ACLDescribeUser: flags, `#<digest>` per password, the root selector's rules, then each other
   * selector in parentheses: the rules after `user <name>` in ACL LIST and the ACL file.
   */
  describe(): string {
    let res = this.flagNames().map((f) => f + ' ').join('');
    for (const p of this.passwords) res += `#${p} `;
    for (const s of this.selectors) res += s.root ? s.describe() : ` (${s.describe()})`;
    return res;
  }
}

/**
 * ACLAppendUserForLoading's check of a `user` line of the config file (`args` from the `user`
 * word): a name already declared, or the rules applied to a scratch user, unknown commands let
 * through (they are reported when the users load). Returns Redis's reason
 * ("Error in user declaration '<word>': <reason>"), or null.
 * @param seen the names of the earlier `user` lines
 */
export function checkConfigUserLine(args: readonly string[], seen: ReadonlySet<string>): string | null {
  if (seen.has(args[1]!)) return `Error in user declaration '${args[1]}': ${aclErrorText('EALREADY')}`;
  const merged = mergeSelectorArguments(args.slice(2));
  // Redis names the word at the failing rule's index counted in the whole line (`user` is 0)
  if (!Array.isArray(merged)) return `Error in user declaration '${args[merged.invalid]}': ${aclErrorText('EINVAL')}`;
  const fake = new AclUser('__fakeuser__', aclCommandTable(), () => false);
  for (let j = 0; j < merged.length; j++) {
    const err = fake.setRule(merged[j]!);
    if (err !== null && err !== 'ENOENT') return `Error in user declaration '${args[j]}': ${aclErrorText(err)}`;
  }
  return null;
}
