/**
 * The server's ACL state after Redis 7.0.15's src/acl.c: the users by name (the `Users` rax,
 * listed in byte order) with the `default` user every connection starts as, authentication,
 * the permission check of a command with its ACL LOG entry, user deletion (clients of the user
 * are disconnected), the `user` lines of the config file and the ACL file (ACL LOAD, ACL SAVE,
 * start-up), and the default user's password from `requirepass`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Server } from '../server.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../../commands/spec.js';
import { strerror } from '../../config/table.js';
import { writeFileDurably } from '../../persistence/fsutil.js';
import { aclCommandTable, type AclCommandTable } from './table.js';
import { AclUser, aclErrorText, hasSpaces, mergeSelectorArguments } from './user.js';
import { ACL_DENIED_AUTH, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK, channelInList, checkCommandPerm, commandAclInfo, type AclDenial, type CommandAclInfo } from './check.js';

/** Where a denial happened (ACL_LOG_CTX_*), as ACL LOG names it. */
export type AclLogContext = 'toplevel' | 'multi' | 'lua' | 'module';

/** One ACL LOG entry (ACLLogEntry). */
export interface AclLogEntry {
  count: number;
  reason: number;
  context: AclLogContext;
  /** the command, key, channel or AUTH command name */
  object: string;
  username: string;
  /** ms since the epoch of the last event of the entry */
  ctime: number;
  /** CLIENT INFO line of the client of the last event */
  cinfo: string;
}

/** ACL_LOG_GROUPING_MAX_TIME_DELTA: events this close (ms) update one entry. */
const LOG_GROUPING_MS = 60000;

/** Installed by later layers: the CLIENT INFO line of ACL LOG's client-info (catClientInfoString). */
export const aclHooks: { clientInfo: (c: Client) => string } = { clientInfo: (c) => `id=${c.id}` };

/** The ACL state of one server ({@link Server.acl}). */
export class Acl {
  readonly table: AclCommandTable = aclCommandTable();
  private users = new Map<string, AclUser>();
  readonly defaultUser: AclUser;
  /** the permission check's view of each command spec that was checked */
  private readonly infos = new Map<CommandSpec, CommandAclInfo>();
  /** ACL LOG, newest first */
  log: AclLogEntry[] = [];
  private readonly pubsubDefaultAll = (): boolean => this.server.config.get<string>('acl-pubsub-default') === 'allchannels';

  constructor(private readonly server: Server) {
    this.defaultUser = this.createDefaultUser();
    this.users.set('default', this.defaultUser);
    const pass = server.config.get<string>('requirepass');
    if (pass !== '') this.updateDefaultPassword(pass);
    server.config.onChange('requirepass', (v) => this.updateDefaultPassword(v as string));
  }

  /** ACLCreateDefaultUser: +@all ~* &* on nopass. */
  private createDefaultUser(): AclUser {
    const u = this.newUser('default');
    for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) u.setRule(r);
    return u;
  }

  /** A user outside the registry (ACLCreateUnlinkedUser): to stage or validate rules. */
  newUser(name: string): AclUser {
    return new AclUser(name, this.table, this.pubsubDefaultAll);
  }

  /** ACLUpdateDefaultUserPassword: `requirepass` resets the default user's passwords to it. */
  updateDefaultPassword(pass: string): void {
    this.defaultUser.setRule('resetpass');
    this.defaultUser.setRule(pass !== '' ? '>' + pass : 'nopass');
  }

  /** ACLGetUserByName */
  get(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** The users in name order (raxSeek "^": byte order of the names). */
  list(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The `aclfile` path, relative to `dir` (where Redis works), or null when there is none. */
  aclfilePath(): string | null {
    const f = this.server.config.get<string>('aclfile');
    return f === '' ? null : resolve(this.server.config.get<string>('dir') || process.cwd(), f);
  }

  /** clientSetDefaultAuth: a new or RESET connection is authenticated when default is nopass and on. */
  defaultUserAuthenticates(): boolean {
    return this.defaultUser.nopass && this.defaultUser.enabled;
  }

  /**
   * ACLAuthenticateUser: on success `c` is authenticated as `username`; on failure an `auth`
   * entry goes to ACL LOG (object: the command name as sent).
   */
  authenticate(c: Client, username: string, password: string): boolean {
    const u = this.users.get(username);
    if (u !== undefined && u.accepts(password)) {
      c.authenticated = true;
      c.user = u;
      return true;
    }
    this.addLogEntry(ACL_DENIED_AUTH, contextOf(c), c.argv[0]!, username, c);
    return false;
  }

  /**
   * ACL SETUSER: applies `rules` to a copy of the user (or a new one) and, only when every rule
   * is valid, to the user; pub/sub clients of the user that lost a channel are disconnected.
   * Returns the error to reply, or null.
   */
  setUser(username: string, rules: readonly string[]): string | null {
    if (hasSpaces(username)) return "ERR Usernames can't contain spaces or null characters";
    const merged = mergeSelectorArguments(rules);
    if (!Array.isArray(merged)) {
      return `ERR Unmatched parenthesis in acl selector starting at '${rules[merged.invalid]}'.`;
    }
    const temp = this.newUser(username);
    const existing = this.users.get(username);
    if (existing !== undefined) temp.copyFrom(existing);
    for (const r of merged) {
      const err = temp.setRule(r);
      if (err !== null) return `ERR Error in ACL SETUSER modifier '${r}': ${aclErrorText(err)}`;
    }
    if (existing !== undefined) this.killPubsubClientsIfNeeded(temp, existing);
    const u = existing ?? this.newUser(username);
    u.copyFrom(temp);
    this.users.set(username, u);
    return null;
  }

  /**
   * ACL DELUSER of existing users: each is removed and its clients disconnected
   * (ACLFreeUserAndKillClients; `current`, running the command, after its reply). Returns how
   * many were deleted. The caller refuses `default`.
   */
  deleteUsers(names: readonly string[], current: Client): number {
    let deleted = 0;
    for (const name of names) {
      const u = this.users.get(name);
      if (u === undefined) continue;
      this.users.delete(name);
      this.killClientsOf(new Set([u]), current);
      deleted++;
    }
    return deleted;
  }

  /** Disconnects the clients authenticated as one of `users`, back to unauthenticated default first. */
  private killClientsOf(users: ReadonlySet<AclUser>, current: Client | null): void {
    for (const c of [...this.server.clients.values()]) {
      if (c.user === null || !users.has(c.user)) continue;
      c.user = this.defaultUser;
      c.authenticated = false;
      if (c === current) c.closeAfterReply = true;
      else this.server.closeClient(c);
    }
  }

  /**
   * ACLKillPubsubClientsIfNeeded: when the new rules of `original` no longer cover one of its
   * pub/sub clients' channels or patterns, that client is disconnected.
   */
  private killPubsubClientsIfNeeded(next: AclUser, original: AclUser): void {
    if (next.selectors.some((s) => s.allChannels)) return;
    const upcoming = next.selectors.flatMap((s) => s.channels);
    // a selector that had every channel is not covered by patterns (7.0.15's check)
    const kept = original.selectors.every((s) => !s.allChannels && s.channels.every((ch) => upcoming.includes(ch)));
    if (kept) return;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== original) continue;
      const st = c.pubsub as { channels: Set<string>; patterns: Set<string>; shardChannels: Set<string> } | null;
      if (st === null || st.channels.size + st.patterns.size + st.shardChannels.size === 0) continue;
      let kill = false;
      for (const p of st.patterns) if (!kill && !channelInList(upcoming, p, true)) kill = true;
      for (const ch of st.channels) if (!kill && !channelInList(upcoming, ch, false)) kill = true;
      for (const ch of st.shardChannels) if (!kill && !channelInList(upcoming, ch, false)) kill = true;
      if (kill) this.server.closeClient(c);
    }
  }

  /**
   * The permission check of a command line for `user` (ACLCheckAllUserCommandPerm): ACL_OK, or
   * the denial reason with `out` set.
   */
  check(user: AclUser | null, spec: CommandSpec, argv: readonly string[], out: AclDenial): number {
    if (user === null || user.unrestricted) return ACL_OK;
    let info = this.infos.get(spec);
    if (info === undefined) {
      info = commandAclInfo(spec, this.table.byFullName(spec.fullName)?.id ?? -1);
      this.infos.set(spec, info);
    }
    return checkCommandPerm(user, spec, info, argv, out);
  }

  /**
   * The check processCommand makes before running or queueing a command: null when allowed,
   * else Redis's NOPERM error, after an ACL LOG entry (context multi inside MULTI).
   */
  denyCommand(c: Client, spec: CommandSpec): string | null {
    const out: AclDenial = { reason: 0, pos: 0 };
    const r = this.check(c.user, spec, c.argv, out);
    if (r === ACL_OK) return null;
    this.logDenial(c, spec, c.argv, out, contextOf(c));
    if (r === ACL_DENIED_CMD) return `NOPERM this user has no permissions to run the '${spec.fullName}' command`;
    if (r === ACL_DENIED_KEY) return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }

  /**
   * addACLLogEntry for a refused command line: the object is the command's full name, or the key
   * or channel at `out.pos`; the user is `c`'s. `cinfoOf` is the client shown in client-info
   * (a script's caller for the script client).
   */
  logDenial(c: Client, spec: CommandSpec, argv: readonly string[], out: AclDenial, context: AclLogContext, cinfoOf: Client = c): void {
    const object = out.reason === ACL_DENIED_CMD ? spec.fullName : (argv[out.pos] ?? '');
    this.addLogEntry(out.reason, context, object, c.user?.name ?? 'default', cinfoOf);
  }

  /**
   * addACLLogEntry: a new entry at the head, or, when one of the 10 newest has the same reason,
   * context, object and user and is less than 60 s old, that entry counted again and moved to
   * the head; the log is cut at `acllog-max-len`.
   */
  addLogEntry(reason: number, context: AclLogContext, object: string, username: string, client: Client): void {
    const now = Date.now();
    const cinfo = aclHooks.clientInfo(client);
    const log = this.log;
    const scan = Math.min(10, log.length);
    for (let i = 0; i < scan; i++) {
      const e = log[i]!;
      if (e.reason === reason && e.context === context && Math.abs(e.ctime - now) <= LOG_GROUPING_MS &&
        e.object === object && e.username === username) {
        log.splice(i, 1);
        log.unshift(e);
        e.cinfo = cinfo;
        e.ctime = now;
        e.count++;
        return;
      }
    }
    log.unshift({ count: 1, reason, context, object, username, ctime: now, cinfo });
    const max = this.server.config.get<number>('acllog-max-len');
    if (log.length > max) log.length = max;
  }

  /**
   * ACLLoadUsersAtStartup: the `user` lines of the config file (`default` reset first when it
   * has one), then the ACL file. Both at once is refused. Logs Redis's lines and returns the
   * reason the server must not start, or null.
   * @param lines the `user` lines of the config file, each from its `user` word
   */
  loadAtStartup(lines: readonly (readonly string[])[]): string | null {
    const log = this.server.log;
    const fatal = (reason: string, exiting: string | null): string => {
      log.warning(reason);
      if (exiting !== null) log.warning(exiting);
      return reason;
    };
    const aclfile = this.aclfilePath();
    if (aclfile !== null && lines.length > 0) {
      return fatal('Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.', null);
    }
    const exiting = 'Critical error while loading ACLs. Exiting.';
    for (const args of lines) {
      const name = args[1]!;
      if (hasSpaces(name)) return fatal('Spaces not allowed in ACL usernames', exiting);
      let u = this.users.get(name);
      if (u === undefined) {
        u = this.newUser(name);
        this.users.set(name, u);
      } else {
        u.setRule('reset');
      }
      const merged = mergeSelectorArguments(args.slice(2));
      for (const r of Array.isArray(merged) ? merged : []) {
        const err = u.setRule(r);
        if (err !== null) return fatal(`Error loading ACL rule '${r}' for the user named '${name}': ${aclErrorText(err)}`, exiting);
      }
      if (!u.enabled) {
        log.notice(`The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`);
      }
    }
    if (aclfile !== null) {
      const errors = this.loadFromFile(aclfile, null);
      if (errors !== null) return fatal(`Aborting Redis startup because of ACL errors: ${errors}`, null);
    }
    return null;
  }

  /**
   * ACLLoadFromFile: every line of `path` must be empty or `user <name> <rules>` (words split at
   * single spaces, no quoting); the users replace the current ones only when the whole file is
   * valid, `default` keeping its identity (clients authenticated as it stay), every other
   * user's clients disconnected. Returns null, or the errors in one line (ACL LOAD's reply).
   * @param current the client running ACL LOAD (disconnected after its reply if it must be)
   */
  loadFromFile(path: string, current: Client | null): string | null {
    const shown = this.server.config.get<string>('aclfile');
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      return `Error loading ACLs, opening file '${shown}': ${strerror(e as NodeJS.ErrnoException)}`;
    }
    const next = new Map<string, AclUser>();
    let errors = '';
    const rows = text.split('\n');
    for (let i = 0; i < rows.length; i++) {
      const linenum = i + 1;
      const line = rows[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '') continue;
      const argv = line.split(' ');
      if (argv[0] !== 'user' || argv.length < 2) {
        errors += `${shown}:${linenum} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1]!;
      if (hasSpaces(name)) {
        errors += `'${shown}:${linenum}: username '${name}' contains invalid characters. `;
        continue;
      }
      if (next.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${linenum}. `;
        continue;
      }
      const u = this.newUser(name);
      next.set(name, u);
      const merged = mergeSelectorArguments(argv.slice(2));
      if (!Array.isArray(merged)) {
        errors += `${shown}:${linenum}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      for (const raw of merged) {
        const rule = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, '');
        const err = u.setRule(rule);
        // only an unknown command is quoted: other rules may hold a password
        if (err === 'ENOENT') errors += `${shown}:${linenum}: Error in applying operation '${rule}': ${aclErrorText(err)}. `;
        else if (err !== null) errors += `${shown}:${linenum}: ${aclErrorText(err)}. `;
      }
    }
    if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
    const newDefault = next.get('default') ?? this.createDefaultUser();
    this.defaultUser.copyFrom(newDefault);
    next.set('default', this.defaultUser);
    const old = new Set(this.users.values());
    old.delete(this.defaultUser);
    this.users = next;
    this.killClientsOf(old, current);
    return null;
  }

  /**
   * ACLSaveToFile: `user <name> <rules>` per user, in name order, written durably (temp file,
   * fsync, rename, fsync of the directory: Redis 7.0 does not fsync). Returns false after
   * logging the cause.
   */
  saveToFile(path: string): boolean {
    const text = this.list().map((u) => `user ${u.name} ${u.describe()}\n`).join('');
    try {
      writeFileDurably(path, text, `${path}.tmp-${process.pid}-${Date.now()}`);
      return true;
    } catch (e) {
      this.server.log.warning(`Saving the ACL file '${path}' for ACL SAVE failed: ${strerror(e as NodeJS.ErrnoException)}. The ACL file is unchanged; check the directory's permissions and free space.`);
      return false;
    }
  }

  /** rewriteConfigUserOption: a `user` line per user, in name order. */
  configLines(): string[] {
    return this.list().map((u) => `user ${u.name} ${u.describe()}`);
  }
}

/** The log context of a client's command: multi inside MULTI (ACL_LOG_CTX_MULTI), else toplevel. */
function contextOf(c: Client): AclLogContext {
  return c.multi !== null ? 'multi' : 'toplevel';
}

