import { boolDirective, enumDirective, memoryDirective, stringDirective, ConfigError, type Directive } from '../directives.js';

/**
 * Directives of the LevelDB engine (Amber's own, not Redis's; src/persistence/leveldb/):
 * - `leveldb yes|no`: write every change through to a LevelDB store, which is then the source of
 *   truth at start-up. Refused together with `appendonly yes` (checked by the engine at start-up
 *   and by CONFIG SET). CONFIG SET leveldb yes imports the live data set and writes through from
 *   then on; CONFIG SET leveldb no stops writing and closes the store.
 * - `leveldb-path`: the store's directory, relative to `dir` unless absolute (start-up only).
 * - `leveldb-sync always|everysec|no`: when the write batches are synced, as appendfsync.
 * - `leveldb-write-buffer-size`, `leveldb-cache-size`: LevelDB's write buffer and block cache, bytes
 *   (start-up only: LevelDB takes them when the store opens).
 */
export const leveldbDirectives: Directive[] = ([
  boolDirective('leveldb', false, true, { denyLoading: true }),
  stringDirective('leveldb-path', 'leveldb', false, {
    parse([s]) {
      const v = s ?? '';
      if (v === '') throw new ConfigError('leveldb-path can\'t be empty');
      return v;
    },
  }),
  enumDirective('leveldb-sync', 'everysec', ['everysec', 'always', 'no']),
  memoryDirective('leveldb-write-buffer-size', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024, false),
  memoryDirective('leveldb-cache-size', 8 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024, false),
  // Amber's own directives are hidden like Redis's HIDDEN_CONFIG ones: `CONFIG GET leveldb` by
  // name works, but a pattern such as `CONFIG GET *` shows exactly Redis's directives.
] as Directive[]).map((d) => ({ ...d, hidden: true }));
