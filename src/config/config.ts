import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { splitArgs } from '../protocol/splitargs.js';
import { ConfigError, type Directive } from './directives.js';
import { coreDirectives } from './table.js';

/** A config-file problem, reported like Redis's "FATAL CONFIG FILE ERROR" and exit code 1. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }

  /** The message Redis prints to stderr before exiting with 1. */
  report(version: string): string {
    return (
      `\n*** FATAL CONFIG FILE ERROR (Redis ${version}) ***\n` +
      `Reading the configuration file, at line ${this.line}\n` +
      `>>> '${this.text}'\n` +
      `${this.reason}\n` +
      (this.file ? `(in ${this.file})\n` : '')
    );
  }
}

/** One config line as read: where it came from, for errors and CONFIG REWRITE. */
export interface ConfigLine {
  file: string;
  line: number;
  text: string;
  args: string[];
}

/**
 * The live configuration: a value per directive of the table. Serves the config file, the
 * command line, CONFIG GET/SET/REWRITE. Directives are registered by the layers that own them
 * ({@link register}); the core ones come from `table.ts`.
 */
export class Config {
  private readonly directives = new Map<string, Directive>();
  private readonly values = new Map<string, unknown>();
  /** absolute path of the config file, or '' when started without one */
  configFile = '';

  constructor(extra: Directive[] = []) {
    for (const d of coreDirectives()) this.register(d);
    for (const d of extra) this.register(d);
  }

  /** Adds a directive with its default value. */
  register(d: Directive): void {
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
    if (!this.values.has(name)) throw new Error(`no config directive named '${name}'`);
    return this.values.get(name) as T;
  }

  /** Every (name, directive) pair including aliases, for CONFIG GET patterns. */
  entries(): IterableIterator<[string, Directive]> {
    return this.directives.entries();
  }

  /** Formatted current value for CONFIG GET. */
  formatted(d: Directive): string {
    return d.format(this.values.get(d.name));
  }

  /**
   * Sets a directive from words at start-up or run time, calling its apply hook.
   * @throws ConfigError with Redis's reason when the words are not a valid value or apply refuses
   */
  setFromArgs(d: Directive, args: string[], atStartup: boolean): void {
    const v = d.parse(args);
    const old = this.values.get(d.name);
    this.values.set(d.name, v);
    if (d.apply && !atStartup) {
      try {
        d.apply(v, old);
      } catch (e) {
        this.values.set(d.name, old);
        throw e;
      }
    }
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
  }

  /** Calls every apply hook once with the start-up values. */
  applyAll(): void {
    const seen = new Set<Directive>();
    for (const d of this.directives.values()) {
      if (seen.has(d)) continue;
      seen.add(d);
      if (d.apply) d.apply(this.values.get(d.name), d.default);
    }
  }

  /**
   * Loads redis.conf syntax: one directive per line, arguments as sdssplitargs reads them,
   * `#` comments, `include <file>`. Command-line options (`--port 7000`) come as `extraLines`
   * after the file, as redis-server does.
   * @throws ConfigFileError on an unknown directive, a wrong number of arguments or a bad value
   */
  load(file: string | null, extraLines: string[] = []): void {
    const lines: ConfigLine[] = [];
    if (file) {
      this.configFile = resolve(file);
      this.readFile(this.configFile, lines, 0);
    }
    extraLines.forEach((text, i) => {
      const args = splitArgs(text);
      if (args === null) throw new ConfigFileError('', i + 1, text, 'Unbalanced quotes in configuration line');
      if (args.length) lines.push({ file: '(command line)', line: i + 1, text, args });
    });
    for (const l of lines) this.applyLine(l);
  }

  private readFile(path: string, out: ConfigLine[], depth: number): void {
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      throw new ConfigFileError(path, 0, '', `Fatal error, can't open config file '${path}': ${(e as Error).message}`);
    }
    const rows = text.split('\n');
    rows.forEach((raw, i) => {
      const t = raw.trim();
      if (t === '' || t.startsWith('#')) return;
      const args = splitArgs(t);
      if (args === null) throw new ConfigFileError(path, i + 1, t, 'Unbalanced quotes in configuration line');
      if (args.length === 0) return;
      if (args[0]!.toLowerCase() === 'include') {
        if (args.length !== 2) throw new ConfigFileError(path, i + 1, t, 'Bad directive or wrong number of arguments');
        if (depth > 16) throw new ConfigFileError(path, i + 1, t, 'Too many nested includes');
        this.readFile(resolve(dirname(path), args[1]!), out, depth + 1);
        return;
      }
      out.push({ file: path, line: i + 1, text: t, args });
    });
  }

  private applyLine(l: ConfigLine): void {
    const name = l.args[0]!.toLowerCase();
    const d = this.find(name);
    const words = l.args.slice(1);
    if (!d || (d.arity !== undefined && d.arity >= 0 && words.length !== d.arity) || (d.arity === -1 && words.length === 0)) {
      throw new ConfigFileError(l.file, l.line, l.text, 'Bad directive or wrong number of arguments');
    }
    try {
      this.setFromArgs(d, words, true);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigFileError(l.file, l.line, l.text, e.message);
      throw e;
    }
  }
}
