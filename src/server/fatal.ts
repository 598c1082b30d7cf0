/**
 * A start-up failure whose details the failing layer has already written to the log in Redis's
 * words (the AOF's "*** FATAL AOF MANIFEST FILE ERROR ***" block, a bad AOF file with its offset):
 * the process exits with code 1 without writing them a second time, as Redis exits after its own
 * lines.
 */
export class LoggedFatalError extends Error {}
