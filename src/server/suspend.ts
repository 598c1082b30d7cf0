/**
 * A command suspended half-way: a script that runs past `busy-reply-threshold` and yields to the
 * event loop so that other clients are answered meanwhile (scriptInterrupt and
 * processEventsWhileBlocked in Redis 7.0.15's script.c and networking.c).
 *
 * Redis serves other clients from inside the script's call stack. Node cannot run its event loop
 * from inside a function, so here the script's Lua coroutine yields, and every frame that ran
 * the command (call(), EXEC's loop, processCommand) returns at once, leaving the rest of its work
 * in {@link Suspension.rest}. When the script ends, that work runs, innermost frame first, as if
 * the frames had never returned: the command's statistics, its effects, the rest of an EXEC, the
 * clients blocked on keys it made ready, then the caller's next commands.
 *
 * While a command is suspended the server is "busy" (isInsideYieldingLongCommand): commands
 * without the allow_busy flag get -BUSY (processCommand), and no timer may touch the keyspace or
 * persist it half-way through the script: active expiry, eviction, save points, AOF rewrites,
 * the LevelDB write-through of the turn and the serving of blocked clients all wait for its end.
 */
import type { Client } from './client.js';
import type { Server } from './server.js';

/** shared.slowevalerr: what other clients get while an EVAL script is busy. */
export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
/** shared.slowscripterr: the same while a function (FCALL) is busy. */
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

/** The script that keeps the server busy, as SCRIPT KILL, FUNCTION KILL and FUNCTION STATS see it. */
export interface RunningScript {
  /** EVAL / EVALSHA (SCRIPT_EVAL_MODE) rather than FCALL */
  readonly isEval: boolean;
  /** the script's SHA1 or the function's name */
  readonly name: string;
  /** the caller's command line (FUNCTION STATS' `command`) */
  readonly argv: readonly string[];
  /** performance.now() when the script started, ms */
  readonly startedAt: number;
  /** a write command ran (SCRIPT_WRITE_DIRTY): the script can no longer be killed */
  readonly writeDirty: boolean;
  /** SCRIPT_KILLED: the script raises an error at its next instruction count check */
  kill(): void;
}

/** The frames' remaining work of one suspended command. */
export class Suspension {
  /** the rest of each frame that was running the command, innermost first */
  readonly rest: Array<() => void> = [];
  /** true from the suspension until processCommand, the outermost frame, has returned */
  unwinding = true;

  constructor(readonly client: Client, readonly script: RunningScript) {}

  /** The -BUSY error other clients get. */
  get busyError(): string {
    return this.script.isEval ? BUSY_EVAL : BUSY_FUNCTION;
  }
}

/**
 * Suspends the command `c` is running, on behalf of `script`: `c` reads no further command until
 * {@link completeSuspended}, and the frames running the command return at once.
 */
export function suspendCommand(server: Server, c: Client, script: RunningScript): Suspension {
  const s = new Suspension(c, script);
  server.suspension = s;
  c.blocked = true;
  return s;
}

/**
 * Runs the remaining work of the suspended command once its script has ended (and replied). A
 * later command of the same EXEC may suspend in turn: the work left then moves to its suspension.
 */
export function completeSuspended(server: Server): void {
  const s = server.suspension;
  if (s === null) return;
  server.suspension = null;
  const rest = s.rest;
  for (let i = 0; i < rest.length; i++) {
    rest[i]!();
    const next = server.suspension as Suspension | null;
    if (next !== null) {
      for (let j = i + 1; j < rest.length; j++) next.rest.push(rest[j]!);
      next.unwinding = false;
      return;
    }
  }
  const w = waiters.get(server);
  if (w !== undefined && server.suspension === null) {
    waiters.delete(server);
    for (const f of w) f();
  }
}

const waiters = new WeakMap<Server, Array<() => void>>();

/**
 * Resolves once no command is suspended: a SIGTERM or SIGINT shutdown waits for a busy script's
 * end, as Redis serves its shutdown_asap in serverCron, which does not run during the script.
 */
export function whenNotBusy(server: Server): Promise<void> {
  if (server.suspension === null) return Promise.resolve();
  return new Promise((resolve) => {
    let w = waiters.get(server);
    if (w === undefined) waiters.set(server, (w = []));
    w.push(resolve);
  });
}

/** True while a suspended command keeps the server busy (isInsideYieldingLongCommand). */
export function serverBusy(server: Server): boolean {
  return server.suspension !== null;
}
