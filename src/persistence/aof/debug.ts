/**
 * The AOF layer's DEBUG subcommand (src/debug.c of Redis 7.0): DEBUG LOADAOF.
 */
import { aofOf, type Aof } from './aof.js';
import { registerDebugSubcommand } from '../../commands/debug.js';
import { LoggedFatalError } from '../../server/fatal.js';

let installed = false;

/**
 * Registers DEBUG LOADAOF once per process (the DEBUG table is process-wide). Called by the server
 * beside {@link aofOf}; not from aof.ts, whose import of the DEBUG table would close an import
 * cycle through the commands and the RDB layer that registers itself with the AOF.
 *
 * DEBUG LOADAOF [anything]: reloads the data set from the AOF on disk ({@link Aof.reloadFromDisk})
 * and answers +OK. As Redis 7.0.15, extra arguments are ignored, and when there is no AOF to load
 * (appendonly no and none was ever written), it cannot be loaded, or its last file had a torn tail
 * (cut off under aof-load-truncated), the server exits with status 1 after logging why (an
 * embedded server stops instead, see Server.fatalExit). Refused with -LOADING while a data set
 * is loading already, and with leveldb yes (the data set lives in the LevelDB store, which the
 * emptied keyspace would overwrite).
 */
export function installAofDebug(): void {
  if (installed) return;
  installed = true;
  registerDebugSubcommand('loadaof', (c) => {
    const server = c.server;
    if (server.keyspace.loading) {
      c.addError('LOADING Redis is loading the dataset in memory');
      return;
    }
    if (server.config.find('leveldb') !== undefined && server.config.get<boolean>('leveldb')) {
      c.addError('ERR DEBUG LOADAOF is not available with leveldb yes: the data set is kept in the LevelDB store, not in an AOF');
      return;
    }
    let refused: string | null;
    try {
      refused = aofOf(server).reloadFromDisk();
    } catch (e) {
      if (!(e instanceof LoggedFatalError)) server.log.warning(`DEBUG LOADAOF failed: ${(e as Error).message}. Exiting.`);
      // the data set is gone or short: no reply, the connection closes (Redis exits)
      server.fatalExit(1);
      return;
    }
    if (refused !== null) {
      c.addError(refused);
      return;
    }
    server.log.warning('Append Only File loaded by DEBUG LOADAOF');
    c.addOk();
  });
}
