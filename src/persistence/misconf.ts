/**
 * The MISCONF error Redis gives while stop-writes-on-bgsave-error holds (shared.bgsaveerr in
 * src/server.c): set by the background saver after a failed save, lifted by any good save.
 */
export const BGSAVE_MISCONF =
  'MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk. ' +
  'Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). ' +
  'Please check the Redis logs for details about the RDB error.';
