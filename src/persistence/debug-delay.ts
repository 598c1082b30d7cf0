/**
 * The hidden test directives `rdb-key-save-delay` and `key-load-delay` (server.rdb_key_save_delay
 * and server.key_load_delay of Redis 7.0.15), which make a save or a load slow on purpose: Redis
 * calls debugDelay(usec) (src/debug.c) after every key rdbSaveKeyValuePair writes and every key
 * rewriteAppendOnlyFileRio writes, and after every key rdbLoadRioWithLoadingCtx reads and every
 * command loadSingleAppendOnlyFile runs. Amber applies key-load-delay to a LevelDB store's load too
 * (after every key, as an RDB load), which Redis has none of.
 *
 * Redis sleeps in place. Amber keeps what the keys owe as a debt in microseconds and pays it in
 * sleeps of a millisecond or more: blocking where Redis blocks its main thread too (SAVE, the save
 * at shutdown, DEBUG RELOAD), on a timer where Redis sleeps in a forked child or between event
 * processing (BGSAVE, the AOF rewrite, the load at start-up), so the event loop keeps serving
 * clients meanwhile. Either way a run of N keys takes about N x usec longer, as in Redis (plus
 * the wake-up slack of each of Redis's sleeps, {@link USLEEP_SLACK_US}).
 */

/** Debt, microseconds, at which a paced save or load stops to sleep it off. */
export const DELAY_QUANTUM_US = 1000;
/**
 * Longest single timer a paced save or load waits on, ms: between two timers it checks whether it
 * was aborted (FLUSHALL, SHUTDOWN, CONFIG SET appendonly no), so a delay of seconds per key never
 * holds an abort back for longer than this.
 */
export const DELAY_WAIT_MAX_MS = 20;

/**
 * What a usleep takes beyond its argument on Linux, µs: the default timer slack of a thread
 * (timer_slack_ns, 50 µs) by which the kernel may defer the wake-up, and does. Redis's
 * rdb-key-save-delay 100 over 1000 keys takes about 0.15-0.2 s, not 0.1 s; tests written against
 * Redis size their data sets for that.
 */
export const USLEEP_SLACK_US = 50;

/**
 * The sleep debugDelay(usec) makes for one key, microseconds: usleep(usec) when positive; when
 * negative, "fractions of microseconds": usleep(1) with probability 1/-usec, else nothing (Redis's
 * `rand() % -usec == 0`). A sleep counts {@link USLEEP_SLACK_US} on top of its argument.
 */
export function keyDelayUs(usec: number): number {
  if (usec > 0) return usec + USLEEP_SLACK_US;
  if (usec === 0) return 0;
  return Math.random() * -usec < 1 ? 1 + USLEEP_SLACK_US : 0;
}

/** Delay owed by the keys saved or loaded so far and not slept yet, microseconds. */
export class DelayDebt {
  /** owed, µs; negative after a sleep that overshot (the next keys are then free) */
  us = 0;
  private static cell: Int32Array | null = null;

  /** Adds one key's debugDelay(usec) (see {@link keyDelayUs}). */
  add(usec: number): void {
    this.us += keyDelayUs(usec);
  }

  /** True once the debt is worth a sleep ({@link DELAY_QUANTUM_US}). */
  get due(): boolean {
    return this.us >= DELAY_QUANTUM_US;
  }

  /**
   * Blocks this thread for the whole debt (Atomics.wait: a sleep, not a spin), as Redis's usleep
   * on its main thread during SAVE. Takes off the time that actually passed.
   */
  paySync(): void {
    if (this.us <= 0) return;
    DelayDebt.cell ??= new Int32Array(new SharedArrayBuffer(4));
    const t0 = performance.now();
    Atomics.wait(DelayDebt.cell, 0, 0, this.us / 1000);
    this.us -= (performance.now() - t0) * 1000;
  }

  /**
   * Waits on a timer for the debt, at most `maxMs` milliseconds, the event loop serving clients
   * meanwhile; takes off the time that actually passed (timers overshoot: the next keys then owe
   * less, so the total stays about N x usec).
   */
  async payAsync(maxMs = DELAY_WAIT_MAX_MS): Promise<void> {
    if (this.us <= 0) return;
    const ms = Math.min(maxMs, this.us / 1000);
    const t0 = performance.now();
    await new Promise<void>((r) => setTimeout(r, ms));
    this.us -= (performance.now() - t0) * 1000;
  }
}
