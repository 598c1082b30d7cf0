/**
 * The command universe ACL rules are written against (acl.c works on `server.orig_commands`): an
 * id per command and subcommand, its ACL categories as bit flags, and the lookup of `+name` /
 * `+container|sub` operands. Built once from Redis 7.0.15's command table (spec.ts), so rules keep
 * their meaning across `rename-command` and name commands Amber does not run (PSYNC, REPLCONF).
 */
import { aclCommandEntries, type AclCommandEntry } from '../../commands/spec.js';

/** ACLCommandCategories in acl.c, in its order (ACL CAT, describe, COMMAND INFO). */
export const ACL_CATEGORIES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
];

/** One command of the universe; `id` indexes a selector's command bits. */
export interface AclCommand {
  readonly id: number;
  /** lower-case full name: `get`, `config|get` */
  readonly fullName: string;
  /** bit j set when the command is in category ACL_CATEGORIES[j] */
  readonly categories: number;
  readonly parent: AclCommand | null;
  readonly subcommands: readonly AclCommand[];
}

/** The universe: commands by id and by name, top-level ones in table order. */
export class AclCommandTable {
  /** every command and subcommand, by id */
  readonly byId: AclCommand[] = [];
  /** the top-level commands, in table order (the walk of ACLSetSelectorCommandBitsForCategory) */
  readonly top: AclCommand[] = [];
  private readonly byName = new Map<string, AclCommand>();

  constructor(entries: AclCommandEntry[] = aclCommandEntries()) {
    const add = (e: AclCommandEntry, parent: AclCommand | null): AclCommand => {
      let categories = 0;
      for (const c of e.categories) {
        const j = ACL_CATEGORIES.indexOf(c);
        if (j >= 0) categories |= 1 << j;
      }
      const subs: AclCommand[] = [];
      const cmd: AclCommand = { id: this.byId.length, fullName: e.fullName, categories, parent, subcommands: subs };
      this.byId.push(cmd);
      this.byName.set(e.fullName, cmd);
      for (const s of e.subcommands) subs.push(add(s, cmd));
      return cmd;
    };
    for (const e of entries) this.top.push(add(e, null));
  }

  /** Number of command ids; a selector's bit `size` is the reserved "future commands" bit. */
  get size(): number {
    return this.byId.length;
  }

  /**
   * ACLLookupCommand (lookupCommandBySdsLogic, strict): `name` or `container|sub`, any case. A
   * name with a `|` must be a container's subcommand; more than one `|` finds nothing.
   */
  lookup(name: string): AclCommand | undefined {
    const parts = name.toLowerCase().split('|');
    if (parts.length > 2 || parts[0] === '') return undefined;
    const base = this.byName.get(parts[0]!);
    if (base === undefined || base.parent !== null) return undefined;
    if (parts.length === 1) return base;
    if (base.subcommands.length === 0) return undefined;
    return this.byName.get(`${parts[0]}|${parts[1]}`);
  }

  /** The command of a spec's full name (`config|get`), for the permission check of a run. */
  byFullName(fullName: string): AclCommand | undefined {
    return this.byName.get(fullName);
  }

  /** ACLGetCommandCategoryFlagByName: the category's bit (any case), or 0 when unknown. */
  static categoryFlag(name: string): number {
    const j = ACL_CATEGORIES.indexOf(name.toLowerCase());
    return j < 0 ? 0 : 1 << j;
  }
}

let shared: AclCommandTable | null = null;

/** The universe of this process (it is the same for every server: Redis's table is fixed). */
export function aclCommandTable(): AclCommandTable {
  shared ??= new AclCommandTable();
  return shared;
}
