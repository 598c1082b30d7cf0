import {
  boolDirective, enumDirective, stringDirective, ConfigError, type Directive, type DirectiveBase, type RewriteLine,
} from '../directives.js';

/** Save points of `save`: [seconds, changes] pairs (server.saveparams). */
export type SavePoints = Array<[number, number]>;

/** Redis 7.0's default save points: after 3600 s and 1 change, 300 s and 100, 60 s and 10000. */
export const DEFAULT_SAVE_POINTS: SavePoints = [[3600, 1], [300, 100], [60, 10000]];

/** strtoll of a whole word (leading spaces and a sign accepted, nothing after the digits). */
function strtollWhole(s: string): number | null {
  if (s === '') return 0; // strtoll("") stops at once: eptr points at the NUL, value 0
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (!m) return null;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : null;
}

/**
 * `save <seconds> <changes> [<seconds> <changes> ...]` (setConfigSaveOption of Redis 7.0): an
 * even number of words, seconds >= 1 and changes >= 0; `save ""` means no save points. In the
 * config file the first `save` line replaces the defaults and later lines add to it; CONFIG SET
 * replaces the whole list.
 */
const saveDirective: DirectiveBase<SavePoints> = {
  name: 'save',
  mutable: true,
  default: DEFAULT_SAVE_POINTS,
  arity: -1,
  parse(args, old, ctx) {
    let words = args;
    if (words.length === 1 && words[0] === '') words = [];
    if (words.length & 1) throw new ConfigError('Invalid save parameters');
    const points: SavePoints = [];
    for (let j = 0; j < words.length; j += 2) {
      const seconds = strtollWhole(words[j]!);
      const changes = strtollWhole(words[j + 1]!);
      if (seconds === null || changes === null || seconds < 1 || changes < 0) throw new ConfigError('Invalid save parameters');
      points.push([seconds, changes]);
    }
    // while reading the config, lines after the first one accumulate (save_loaded in config.c)
    if (ctx.startup && ctx.repeated && !(args.length === 1 && args[0] === '')) return [...old, ...points];
    return points;
  },
  format: (v) => v.map(([s, c]) => `${s} ${c}`).join(' '),
  rewrite(_formatted: string, _d): RewriteLine[] {
    void _d;
    const words = _formatted === '' ? [] : _formatted.split(' ');
    if (words.length === 0) return [{ line: 'save ""', force: true }];
    const lines: RewriteLine[] = [];
    for (let j = 0; j + 1 < words.length; j += 2) lines.push({ line: `save ${words[j]} ${words[j + 1]}`, force: true });
    return lines;
  },
};

/** pathIsBaseName: no '/' and no '\\'. */
function dbfilenameDirective(): Directive {
  return stringDirective('dbfilename', 'dump.rdb', true, {
    protected: true,
    parse([s]) {
      const v = s ?? '';
      if (v.includes('/') || v.includes('\\')) throw new ConfigError("dbfilename can't be a path, just a filename");
      return v;
    },
  });
}

/**
 * Configuration directives of the RDB layer, with Redis 7.0.15's names, defaults, mutability and
 * error texts (standardConfig in src/config.c).
 */
export const rdbDirectives: Directive[] = [
  dbfilenameDirective(),
  saveDirective,
  boolDirective('rdbcompression', true),
  boolDirective('rdbchecksum', true, false),
  enumDirective('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']),
  boolDirective('stop-writes-on-bgsave-error', true),
  boolDirective('rdb-del-sync-files', false),
  boolDirective('rdb-save-incremental-fsync', true),
];
