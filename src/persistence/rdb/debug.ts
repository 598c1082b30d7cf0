/**
 * The RDB layer's DEBUG subcommands (src/debug.c of Redis 7.0): DEBUG RELOAD [MERGE] [NOFLUSH]
 * [NOSAVE], and the exact `serializedlength` of DEBUG OBJECT (rdbSavedObjectLen).
 */
import type { Value } from '../../keyspace/types/object.js';
import { registerDebugSubcommand, setSerializedLength } from '../../commands/debug.js';
import { addReplySubcommandSyntaxError } from '../../commands/client.js';
import { RdbWriter, writeTypedValue } from './encoder.js';
import { rdbSave, rdbFilePath, loadRdbFileSync, rdbState, saveOptions } from './load.js';
import type { Client } from '../../server/client.js';

/**
 * rdbSavedObjectLen: bytes rdbSaveObject writes for a value (type byte excluded), with the
 * server's save options (rdbcompression, list-max-listpack-size and the other node limits), as
 * DUMP and SAVE would write it.
 */
export function savedObjectLength(v: Value, c: Client): number {
  let n = 0;
  const w = new RdbWriter((chunk) => {
    n += chunk.length;
  }, { ...saveOptions(c.server), checksum: false }, true);
  writeTypedValue(w, v);
  w.flush();
  return n - 1;
}

let installed = false;

/** Registers the subcommands once per process (the DEBUG table is process-wide). */
export function installRdbDebug(): void {
  if (installed) return;
  installed = true;
  setSerializedLength(savedObjectLength);
  // DEBUG SET-SKIP-CHECKSUM-VALIDATION <0|1>: atoi of the argument, as Redis
  registerDebugSubcommand('set-skip-checksum-validation', (c) => {
    if (c.argv.length !== 3) {
      addReplySubcommandSyntaxError(c);
      return;
    }
    rdbState(c.server).skipChecksumValidation = (Number.parseInt(c.argv[2]!, 10) || 0) !== 0;
    c.addOk();
  });
  registerDebugSubcommand('reload', (c) => {
    let merge = false;
    let flush = true;
    let save = true;
    for (let j = 2; j < c.argv.length; j++) {
      const opt = c.argv[j]!.toLowerCase();
      if (opt === 'merge') merge = true;
      else if (opt === 'noflush') flush = false;
      else if (opt === 'nosave') save = false;
      else {
        c.addError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
        return;
      }
    }
    const server = c.server;
    if (save && !rdbSave(server)) {
      c.addError('ERR');
      return;
    }
    try {
      loadRdbFileSync(server, rdbFilePath(server), { merge, noflush: !flush });
    } catch (e) {
      server.log.warning(`DEBUG RELOAD failed: ${(e as Error).message}`);
      c.addError('ERR Error trying to load the RDB dump');
      return;
    }
    server.log.warning('DB reloaded by DEBUG RELOAD');
    c.addOk();
  });
}
