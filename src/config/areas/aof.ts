import { boolDirective, intDirective, memoryDirective, enumDirective, stringDirective, ConfigError, type Directive } from '../directives.js';

/**
 * A name directive inside `dir` (appendfilename, appenddirname), checked as Redis 7.0.15's
 * isValidAOFfilename / isValidAOFdirname: not empty, no '/' or '\\' (pathIsBaseName).
 */
function fileNameDirective(name: string, def: string, kind: 'filename' | 'dirname'): Directive {
  return stringDirective(name, def, false, {
    parse([s]) {
      const v = s ?? '';
      if (v === '') throw new ConfigError(`${name} can't be empty`);
      if (v.includes('/') || v.includes('\\')) throw new ConfigError(`${name} can't be a path, just a ${kind}`);
      return v;
    },
  });
}

/**
 * AOF directives with Redis 7.0.15's names, defaults and bounds (config.c). `appendonly` is
 * switched at run time through the AOF layer's onChange hook.
 */
export const aofDirectives: Directive[] = [
  boolDirective('appendonly', false, true, { denyLoading: true }),
  fileNameDirective('appendfilename', 'appendonly.aof', 'filename'),
  fileNameDirective('appenddirname', 'appendonlydir', 'dirname'),
  enumDirective('appendfsync', 'everysec', ['everysec', 'always', 'no']),
  boolDirective('no-appendfsync-on-rewrite', false),
  intDirective('auto-aof-rewrite-percentage', 100, 0, 2147483647),
  // long long in Redis (LLONG_MAX): a bigint bound, so that CONFIG GET shows such a value exactly
  memoryDirective('auto-aof-rewrite-min-size', 64 * 1024 * 1024, 0, (1n << 63n) - 1n),
  boolDirective('aof-load-truncated', true),
  boolDirective('aof-use-rdb-preamble', true),
  boolDirective('aof-timestamp-enabled', false),
  boolDirective('aof-rewrite-incremental-fsync', true),
  boolDirective('aof-disable-auto-gc', false, true, { hidden: true }),
];
