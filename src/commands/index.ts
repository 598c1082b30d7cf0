import type { Handler } from './spec.js';
import { connectionCommands } from './connection.js';
import { trackingCommands } from './tracking.js';
import { aofCommands } from './aof.js';
import { bgsaveCommands } from './bgsave.js';
import { stringsCommands } from './strings.js';
import { bitmapsCommands } from './bitmaps.js';
import { keysCommands } from './keys.js';
import { expireCommands } from './expire.js';
import { serverCommands } from './server.js';
import { clientCommands } from './client.js';
import { introspectionCommands } from './introspection.js';
import { configCmdsCommands } from './config-cmds.js';
import { debugCommands } from './debug.js';
import { listsCommands } from './lists.js';
import { hashesCommands } from './hashes.js';
import { setsCommands } from './sets.js';
import { zsetsCommands } from './zsets.js';
import { hyperloglogCommands } from './hyperloglog.js';
import { geoCommands } from './geo.js';
import { sortCommands } from './sort.js';
import { pubsubCommands } from './pubsub.js';
import { transactionsCommands } from './transactions.js';
import { streamsCommands } from './streams.js';
import { persistenceCommands } from './persistence.js';
import { memoryCommands } from './memory.js';
import { leveldbCommands } from './leveldb.js';
import { replicationCommands } from './replication.js';
import { latencyCommands } from './latency.js';
import { lolwutCommands } from './lolwut.js';
import { migrateCommands } from './migrate.js';
import { clusterCommands } from './cluster.js';
import { moduleCommands } from './module.js';
import { scriptingCommands } from './scripting.js';
import { functionCommands } from './functions.js';
import { aclCommands } from './acl.js';

/** Every command family's handlers, merged into one table by the server. */
export function allHandlers(): Record<string, Handler> {
  return {
    ...connectionCommands,
    ...aclCommands,
    ...trackingCommands,
    ...aofCommands,
    ...bgsaveCommands,
    ...stringsCommands,
    ...bitmapsCommands,
    ...keysCommands,
    ...expireCommands,
    ...serverCommands,
    ...clientCommands,
    ...introspectionCommands,
    ...configCmdsCommands,
    ...debugCommands,
    ...listsCommands,
    ...hashesCommands,
    ...setsCommands,
    ...zsetsCommands,
    ...hyperloglogCommands,
    ...geoCommands,
    ...sortCommands,
    ...pubsubCommands,
    ...transactionsCommands,
    ...streamsCommands,
    ...persistenceCommands,
    ...memoryCommands,
    ...leveldbCommands,
    ...replicationCommands,
    ...latencyCommands,
    ...lolwutCommands,
    ...migrateCommands,
    ...clusterCommands,
    ...moduleCommands,
    ...scriptingCommands,
    ...functionCommands,
  };
}
