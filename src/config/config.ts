import { readFileSync, readdirSync, appendFileSync, statSync } from 'node:fs';
import { resolve, dirname, basename, join } from 'node:path';
import { splitArgs } from '../protocol/splitargs.js';
import { ConfigError, reprArg, type Directive, type ParseContext } from './directives.js';
import { coreDirectives, strerror } from './table.js';
import { stringMatch } from '../util/glob.js';
import { checkConfigUserLine } from '../server/acl/user.js';

/**
 * A config problem that stops start-up, reported like Redis's "FATAL CONFIG FILE ERROR" on stderr
 * with exit code 1 (loadServerConfigFromString in src/config.c). `line` 0 means the error is not
 * about one line (Redis then prints only the reason). When `logged` is set the error is a log
 * line instead (Redis logs "Fatal error, can't open config file" and exits with 1).
 */
export class ConfigFileError extends Error {
  constructor(
    /** the file the line comes from ('' for the command line) */
    readonly file: string,
    readonly line: number,
    readonly text: string,
    readonly reason: string,
    readonly logged = false,
  ) {
    super(line ? `${file || '(command line)'}:${line}: ${reason}` : reason);
  }

  /**
   * The text for stderr: Redis's exact lines, then, for a line of a file, one more line naming
   * the file (Redis does not say which file; Amber does, since `include` makes it ambiguous).
   */
  report(version: string): string {
    let s = `\n*** FATAL CONFIG FILE ERROR (Redis ${version}) ***\n`;
    if (this.line) s += `Reading the configuration file, at line ${this.line}\n>>> '${this.text}'\n`;
    s += `${this.reason}\n`;
    if (this.line && this.file) s += `(in ${this.file})\n`;
    return s;
  }
}

/** CONFIG SET refused: the argument to name and Redis's reason (empty when Redis gives none). */
export class ConfigSetError extends Error {
  constructor(readonly argName: string, readonly reason: string, readonly loading = false) {
    super(reason);
  }
}

/** One config line as read: where it came from, for errors. */
export interface ConfigLine {
  file: string;
  line: number;
  text: string;
  args: string[];
}

/** A `rename-command` line, applied to the command table once the server exists. */
interface PendingRename {
  from: string;
  to: string;
  at: ConfigLine;
}

/** Deprecated directives Redis 7.0 accepts and ignores, with their word counts (argc min..max). */
const DEPRECATED: Record<string, [number, number]> = {
  'list-max-ziplist-entries': [2, 2],
  'list-max-ziplist-value': [2, 2],
  'lua-replicate-commands': [2, 2],
};

/**
 * The live configuration: a value per directive of the table. Serves the config file, the
 * command line, CONFIG GET/SET/REWRITE. The directives are Redis 7.0.15's whole table plus the
 * layers' own (`table.ts`); more can be added with {@link register}.
 */
export class Config {
  private readonly directives = new Map<string, Directive>();
  /** canonical directives in table order (CONFIG GET, CONFIG REWRITE) */
  private readonly ordered: Directive[] = [];
  private readonly values = new Map<string, unknown>();
  /** exact CONFIG GET text of numeric values a JS number cannot hold exactly */
  private readonly exactText = new Map<string, string>();
  /** absolute path of the config file, or '' when started without one */
  configFile = '';
  private readonly renames: PendingRename[] = [];
  /**
   * The `user` lines of the file, each from its `user` word, checked as Redis checks them while
   * reading the file (ACLAppendUserForLoading); the server's ACL applies them after the whole
   * file, so a `user default` line wins over `requirepass` (ACLLoadUsersAtStartup).
   */
  readonly userLines: string[][] = [];
  /**
   * The `user` lines CONFIG REWRITE writes (rewriteConfigUserOption), set by the server's ACL;
   * null (no server) writes none.
   */
  aclUserLines: (() => string[]) | null = null;

  constructor(extra: Directive[] = []) {
    for (const d of coreDirectives()) this.register(d);
    for (const d of extra) this.register(d);
  }

  /**
   * Adds a directive with its default value; a directive of the same name is replaced. The
   * directive is copied, so that hooks added with {@link onChange} belong to this Config only
   * (tables are shared by every server of the process).
   */
  register(shared: Directive): void {
    const d: Directive = { ...shared };
    const prev = this.directives.get(d.name);
    if (prev !== undefined && prev.name === d.name) {
      const i = this.ordered.indexOf(prev);
      if (i >= 0) this.ordered[i] = d;
      for (const a of prev.aliases ?? []) this.directives.delete(a);
    } else {
      this.ordered.push(d);
    }
    this.directives.set(d.name, d);
    for (const a of d.aliases ?? []) this.directives.set(a, d);
    if (!this.values.has(d.name)) this.values.set(d.name, d.default);
  }

  /** The directive for a name or alias (case-insensitive), or undefined. */
  find(name: string): Directive | undefined {
    return this.directives.get(name.toLowerCase());
  }

  /** The current value of a directive (by canonical name). */
  get<T = unknown>(name: string): T {
    // one Map lookup on the hot path (handlers read limits per command); has() only on a miss
    const v = this.values.get(name);
    if (v === undefined && !this.values.has(name)) throw new Error(`no config directive named '${name}'`);
    return v as T;
  }

  /** Every (name, directive) pair including aliases, canonical name first, for CONFIG GET. */
  *entries(): IterableIterator<[string, Directive]> {
    for (const d of this.ordered) {
      yield [d.name, d];
      for (const a of d.aliases ?? []) yield [a, d];
    }
  }

  /** The canonical directives in table order. */
  all(): readonly Directive[] {
    return this.ordered;
  }

  /** Formatted current value for CONFIG GET and CONFIG REWRITE. */
  formatted(d: Directive): string {
    return this.exactText.get(d.name) ?? d.format(this.values.get(d.name));
  }

  /**
   * Sets a directive from words at start-up or run time. At run time the apply hook runs when
   * the value changed, and the value is restored if the hook refuses.
   * @throws ConfigError with Redis's reason when the words are not a valid value or apply refuses
   */
  setFromArgs(d: Directive, args: string[], atStartup: boolean, repeated = false): void {
    const old = this.values.get(d.name);
    const oldText = this.exactText.get(d.name);
    const ctx: ParseContext = { startup: atStartup, repeated };
    const v = d.parse(args, old, ctx);
    this.store(d, v, args);
    if (d.apply && !atStartup && d.format(v) !== d.format(old)) {
      try {
        d.apply(v, old);
      } catch (e) {
        this.values.set(d.name, old);
        if (oldText === undefined) this.exactText.delete(d.name);
        else this.exactText.set(d.name, oldText);
        throw e;
      }
    }
  }

  private store(d: Directive, v: unknown, args: string[]): void {
    this.values.set(d.name, v);
    let ex: string | undefined;
    try {
      ex = d.exact?.(args);
    } catch {
      ex = undefined;
    }
    if (ex === undefined) this.exactText.delete(d.name);
    else this.exactText.set(d.name, ex);
  }

  /**
   * CONFIG SET of several directives at once, all or none (configSetCommand in src/config.c):
   * every value is parsed and set first (a parse error restores those already set), then the
   * apply hooks of the changed ones run; when one refuses, every value is restored and the hooks
   * that had run are run again with the old values.
   * `name`: the name the client gave, lower-cased (the directive's or an alias): Redis registers
   * an alias as a config of its own and names that one in its errors and log lines.
   * @returns the previous values, for a caller that must undo the change later (listeners)
   * @throws ConfigSetError naming the directive (as given: `name`, else the canonical name) and the reason
   */
  setMany(items: Array<{ d: Directive; value: string; name?: string }>, log?: (msg: string) => void): () => void {
    const backup = items.map(({ d }) => ({ d, v: this.values.get(d.name), ex: this.exactText.get(d.name) }));
    const restore = (n: number): void => {
      // backwards, so that a directive given twice ends with the value from before the command
      for (let i = n - 1; i >= 0; i--) {
        const b = backup[i]!;
        this.values.set(b.d.name, b.v);
        if (b.ex === undefined) this.exactText.delete(b.d.name);
        else this.exactText.set(b.d.name, b.ex);
      }
    };
    for (let i = 0; i < items.length; i++) {
      const { d, value } = items[i]!;
      const args = d.arity === -1 ? splitOnSpaces(value) : [value];
      try {
        const v = d.parse(args, this.values.get(d.name), { startup: false, repeated: false });
        this.store(d, v, args);
      } catch (e) {
        restore(i + 1);
        throw new ConfigSetError(items[i]!.name ?? d.name, errorText(e));
      }
    }
    const applied: number[] = [];
    const seen = new Set<Directive>();
    for (let i = 0; i < items.length; i++) {
      const { d } = items[i]!;
      const old = backup[i]!.v;
      const v = this.values.get(d.name);
      // a name and its alias may both be given: the last value holds, applied once
      if (seen.has(d)) continue;
      seen.add(d);
      if (!d.apply || d.format(v) === d.format(old)) continue;
      try {
        d.apply(v, old);
        applied.push(i);
      } catch (e) {
        const given = items[i]!.name ?? d.name;
        log?.(`Failed applying new configuration. Possibly related to new ${given} setting. Restoring previous settings.`);
        restore(items.length);
        for (const j of applied) {
          const b = items[j]!.d;
          try {
            b.apply!(backup[j]!.v, this.values.get(b.name));
          } catch (e2) {
            log?.(`Failed applying restored failed CONFIG SET command: ${errorText(e2)}`);
          }
        }
        throw new ConfigSetError(given, errorText(e));
      }
    }
    return () => {
      const now = items.map(({ d }) => this.values.get(d.name));
      restore(items.length);
      const undone = new Set<Directive>();
      for (let i = items.length - 1; i >= 0; i--) {
        const { d } = items[i]!;
        if (undone.has(d)) continue;
        undone.add(d);
        if (d.apply && d.format(backup[i]!.v) !== d.format(now[i])) {
          try {
            d.apply(backup[i]!.v, now[i]);
          } catch (e) {
            log?.(`Failed applying restored failed CONFIG SET command: ${errorText(e)}`);
          }
        }
      }
    };
  }

  /**
   * Adds a run-time hook for a directive, called after CONFIG SET changed it; it may throw
   * ConfigError to refuse the value (CONFIG SET then rolls back).
   */
  onChange(name: string, fn: (v: unknown, old: unknown) => void): void {
    const d = this.find(name);
    if (!d) throw new Error(`no config directive named '${name}'`);
    const prev = d.apply;
    d.apply = prev ? (v, old) => { prev(v, old); fn(v, old); } : fn;
  }

  /** Restores a value without validation (CONFIG SET rollback). */
  restore(name: string, v: unknown): void {
    this.values.set(name, v);
    this.exactText.delete(name);
  }

  /** Calls every apply hook once with the start-up values. */
  applyAll(): void {
    for (const d of this.ordered) if (d.apply) d.apply(this.values.get(d.name), d.default);
  }

  /**
   * Loads the configuration as redis-server does (loadServerConfig): the file, then stdin when
   * given, then the command-line options, read as one text in which the options start on their
   * own line; so their line numbers follow the file's, as in Redis's errors. Syntax: one directive
   * per line, arguments as sdssplitargs reads them, `#` comments, `include <file|glob>`,
   * `rename-command`, memory units, yes/no.
   * @param options config lines built from the command line (`port "7000"`)
   * @throws ConfigFileError on an unknown directive, a wrong number of arguments or a bad value
   */
  load(file: string | null, options: string[] = [], stdin: string | null = null): void {
    let content = '';
    let fileLines = 0;
    if (file) {
      this.configFile = resolve(file);
      content = readConfigFile(this.configFile, this.configFile);
    }
    if (stdin !== null) content += stdin;
    fileLines = content.split('\n').length;
    content += '\n' + options.join('\n');
    const seen = new Set<string>();
    this.loadString(content, (n) => (n <= fileLines && file ? this.configFile : ''), seen, 0);
    const logfile = this.get<string>('logfile');
    if (logfile !== '') {
      try {
        // relative to `dir`, where Redis has already moved when it checks the file
        appendFileSync(resolve(this.get<string>('dir') || '.', logfile), '');
      } catch (e) {
        throw new ConfigFileError('', 0, '', `Can't open the log file: ${strerror(e as NodeJS.ErrnoException)}`);
      }
    }
  }

  /** loadServerConfigFromString: `fileOf(line)` says which file a line number belongs to. */
  private loadString(content: string, fileOf: (line: number) => string, seen: Set<string>, depth: number): void {
    const rows = content.split('\n');
    for (let i = 0; i < rows.length; i++) {
      const t = rows[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (t === '' || t[0] === '#') continue;
      const at: ConfigLine = { file: fileOf(i + 1), line: i + 1, text: t, args: [] };
      const fail = (reason: string): never => {
        throw new ConfigFileError(at.file, at.line, at.text, reason);
      };
      const args = splitArgs(t);
      if (args === null) fail('Unbalanced quotes in configuration line');
      if (args!.length === 0) continue;
      at.args = args!;
      const name = args![0]!.toLowerCase();
      const argc = args!.length;
      const d = this.directives.get(name);
      if (d !== undefined) {
        if (d.arity !== -1 && argc !== 2) fail('wrong number of arguments');
        // A multi-word directive given as one non-empty word is split again (`--save "900 1"`).
        const words = d.arity === -1 && argc === 2 && args![1]!.length > 0 ? (splitArgs(args![1]!) ?? []) : args!.slice(1);
        try {
          this.setFromArgs(d, words, true, seen.has(d.name));
        } catch (e) {
          if (e instanceof ConfigError) fail(e.message);
          throw e;
        }
        seen.add(d.name);
        continue;
      }
      const dep = DEPRECATED[name];
      if (dep && argc >= dep[0] && argc <= dep[1]) continue;
      if (name === 'include' && argc === 2) {
        if (depth >= 32) fail('Too many nested includes');
        for (const path of expandInclude(args![1]!)) {
          this.loadString(readConfigFile(path, args![1]!), () => path, seen, depth + 1);
        }
      } else if (name === 'rename-command' && argc === 3) {
        this.renames.push({ from: args![1]!, to: args![2]!, at });
      } else if (name === 'user' && argc >= 2) {
        const err = checkConfigUserLine(args!, new Set(this.userLines.map((l) => l[1]!)));
        if (err !== null) fail(err);
        this.userLines.push(args!);
      } else if (name === 'loadmodule' && argc >= 2) {
        fail('loadmodule is not supported: Amber has no modules');
      } else if (name.includes('.')) {
        if (argc !== 2) fail('Module config specified without value');
        fail('Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting');
      } else if (name === 'sentinel') {
        fail(argc !== 1 ? 'sentinel directive while not in sentinel mode' : 'Sentinel mode is not supported by Amber');
      } else {
        fail('Bad directive or wrong number of arguments');
      }
    }
  }

  /**
   * Applies the `rename-command` lines to the command table (as Redis does while loading the file,
   * but after the table exists): an empty new name removes the command.
   * @throws ConfigFileError "No such command in rename-command" or "Target command name already exists"
   */
  applyRenames<T>(commands: Map<string, T>): void {
    for (const r of this.renames) {
      const from = r.from.toLowerCase();
      const spec = commands.get(from);
      if (spec === undefined) throw new ConfigFileError(r.at.file, r.at.line, r.at.text, 'No such command in rename-command');
      commands.delete(from);
      if (r.to !== '') {
        const to = r.to.toLowerCase();
        if (commands.has(to)) throw new ConfigFileError(r.at.file, r.at.line, r.at.text, 'Target command name already exists');
        commands.set(to, spec);
      }
    }
  }
}

/** Reads a config file (latin1) or throws Redis's logged "can't open config file" error. */
function readConfigFile(path: string, shown: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    throw new ConfigFileError(path, 0, '', `Fatal error, can't open config file '${shown}': ${strerror(e as NodeJS.ErrnoException)}`, true);
  }
}

/**
 * The files an `include` names: the path itself, or, when its file name has a glob character,
 * the matching files in sorted order (none is fine, as glob(3) in loadServerConfig). Relative
 * paths are relative to the working directory, as fopen in Redis.
 */
function expandInclude(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [resolve(pattern)];
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (/[*?[]/.test(dir)) return []; // wildcards in directories are not supported
  let names: string[];
  try {
    names = readdirSync(resolve(dir));
  } catch {
    return [];
  }
  return names
    .filter((n) => (n[0] !== '.' || base[0] === '.') && stringMatch(base, n, false))
    .sort()
    .map((n) => resolve(join(dir, n)))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

/** sdssplitlen(value, " "): an empty value has no words; every space separates (empty words kept). */
function splitOnSpaces(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What the command line asks for. */
export interface CommandLine {
  /** the config file (first argument when it does not start with '-'), or null */
  file: string | null;
  /** config lines built from the options, as redis-server builds its "options" string */
  options: string[];
  /** read more configuration from stdin (`-` as the first or last argument) */
  stdin: boolean;
}

/**
 * Parses redis-server's arguments (main() in src/server.c, 7.0): the config file first; then
 * `--name` starts a line and the following arguments are its values, quoted as sdscatrepr does;
 * after a bare `--name`, the next argument is its value even when it starts with `--`; `--save`
 * with no value means `save ""`; an argument like "--port 7000" carries name and value.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let j = 0;
  let file: string | null = null;
  let stdin = false;
  if (argv.length > 0 && argv[0]![0] !== '-') {
    file = argv[0]!;
    j = 1;
  }
  let options = '';
  let handledLast = true;
  for (; j < argv.length; j++) {
    const a = argv[j]!;
    const isLast = j === argv.length - 1;
    if (a === '-' && (j === 0 || isLast)) {
      stdin = true;
    } else if (handledLast && a.startsWith('--')) {
      if (options.length) options += '\n';
      options += a.slice(2) + ' ';
      const words = splitArgs(a);
      if (words !== null && words.length === 1) {
        handledLast = false;
        const nextIsOption = !isLast && argv[j + 1]!.startsWith('--');
        if (a.toLowerCase() === '--save' && (nextIsOption || isLast)) {
          options += '""';
          handledLast = true;
        } else if (a.toLowerCase() === '--sentinel' && (nextIsOption || isLast)) {
          handledLast = true;
        }
      } else {
        handledLast = true;
      }
    } else {
      options += reprArg(a) + ' ';
      handledLast = true;
    }
  }
  return { file, options: options === '' ? [] : options.split('\n'), stdin };
}
