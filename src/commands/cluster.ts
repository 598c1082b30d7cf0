import { redisSubcommands, type Handler } from './spec.js';
import { persistenceCommands } from './persistence.js';

/**
 * The cluster commands of a server with `cluster-enabled no`, which Amber always is (Redis
 * Cluster is not implemented): every CLUSTER subcommand, READONLY, READWRITE and ASKING answer
 * `ERR This instance has cluster support disabled` (clusterCommand, readonlyCommand,
 * readwriteCommand and askingCommand in Redis 7.0's src/cluster.c), after the command table's
 * arity check and the unknown-subcommand error, as Redis's. RESTORE-ASKING is RESTORE.
 */

const DISABLED = 'ERR This instance has cluster support disabled';

const disabled: Handler = (c) => c.addError(DISABLED);

/** Handlers of the cluster command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const clusterCommands: Record<string, Handler> = {
  // every subcommand of Redis's table
  ...Object.fromEntries(redisSubcommands('cluster').map((s) => [`cluster|${s}`, disabled])),
  readonly: disabled,
  readwrite: disabled,
  asking: disabled,
  // the RESTORE a cluster node's MIGRATE sends while a slot moves; the same command otherwise
  'restore-asking': persistenceCommands.restore!,
};
