import type { Handler } from './spec.js';
import { backupCommand } from '../persistence/leveldb/index.js';

/**
 * BACKUP <dir> (Amber's own command, after RedisLV's): starts an online backup of the LevelDB store
 * as of this moment into `dir` (relative to `dir` of the configuration, created if missing, must
 * be empty) and replies `+Background backup started` at once. The copy runs in the background;
 * `<dir>/BACKUP.log` is written last, once the copy is durable, ending with `SUCCESS`, or with
 * `FAILED: <reason>`. INFO leveldb shows the progress and the last result. Errors: the LevelDB
 * engine is off, a backup is already running, the directory is not empty or is the store itself.
 */
const backup: Handler = (c) => {
  const err = backupCommand(c.server, c.argv[1]!);
  if (err !== null) c.addError(err);
  else c.addSimple('Background backup started');
};

/** The LevelDB engine's commands. */
export const leveldbCommands: Record<string, Handler> = {
  backup,
};
