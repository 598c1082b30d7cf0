/**
 * The effect stream (DESIGN.md "Effects and durability"): the deterministic effects of write
 * commands, in execution order, for the AOF writer and later replication. Follows Redis 7.0's
 * propagation (call(), alsoPropagate(), propagatePendingCommands() in src/server.c): a command
 * propagates its argv when it changed the dataset, unless it rewrote its effect or prevented
 * propagation; effects produced while it ran (expired-key DELs) come first; commands nested in
 * another (EXEC's queued commands) add their effects to the outer one; when the outermost command
 * ends with more than one effect, they are wrapped in MULTI/EXEC.
 */
export type EffectListener = (db: number, argv: string[]) => void;

interface Frame {
  db: number;
  rewritten: string[][] | null;
  prevented: boolean;
}

export class EffectStream {
  private listeners: EffectListener[] = [];
  /**
   * Frames of the running commands, outermost first; entries at and past {@link depth} are free
   * and reused, so a command allocates no frame.
   */
  private stack: Frame[] = [];
  private depth = 0;
  private pending: Array<[number, string[]]> = [];

  /** True when someone consumes effects; commands may skip building rewrites otherwise. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a consumer; returns the function that removes it. */
  subscribe(fn: EffectListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  /** Called by dispatch before a command runs in database `db`. */
  beginCommand(db: number): void {
    const f = this.stack[this.depth];
    if (f === undefined) this.stack.push({ db, rewritten: null, prevented: false });
    else {
      f.db = db;
      f.rewritten = null;
      f.prevented = false;
    }
    this.depth++;
  }

  /**
   * Called by dispatch after the command: `argv` is the command's argv when it changed the
   * dataset, else null.
   */
  endCommand(argv: string[] | null): void {
    if (this.depth === 0) return;
    const f = this.stack[--this.depth]!;
    const rewritten = f.rewritten;
    f.rewritten = null; // do not keep the argvs alive in a free frame
    if (this.listeners.length === 0) return;
    if (this.depth === 0 && this.pending.length === 0) {
      // the usual case, a top-level command with one effect of its own: emitted as it is, with no
      // queue entry to allocate
      if (f.prevented) return;
      if (rewritten === null) {
        if (argv !== null) this.emit(f.db, argv);
        return;
      }
      if (rewritten.length === 1) {
        this.emit(f.db, rewritten[0]!);
        return;
      }
    }
    if (!f.prevented) {
      if (rewritten !== null) for (const a of rewritten) this.pending.push([f.db, a]);
      else if (argv !== null) this.pending.push([f.db, argv]);
    }
    if (this.depth > 0) return;
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    if (ops.length === 1) {
      this.emit(ops[0]![0], ops[0]![1]);
      return;
    }
    this.emit(ops[0]![0], ['MULTI']);
    for (const [db, a] of ops) this.emit(db, a);
    this.emit(ops[ops.length - 1]![0], ['EXEC']);
  }

  /**
   * An effect produced outside the running command's own argv (expired DEL, a served blocked
   * client's pop). Inside a command it is queued in order; outside (cron) it is emitted at once.
   */
  propagate(db: number, argv: string[]): void {
    if (this.listeners.length === 0) return;
    if (this.depth > 0) this.pending.push([db, argv]);
    else this.emit(db, argv);
  }

  /**
   * Replaces the running command's effect with one or more commands (rewriteClientCommandVector
   * / alsoPropagate + preventCommandPropagation): e.g. SET EX as SET PXAT, INCRBYFLOAT as SET KEEPTTL.
   */
  rewrite(...argvs: string[][]): void {
    if (this.depth > 0) this.stack[this.depth - 1]!.rewritten = argvs;
  }

  /** The running command propagates nothing of its own (preventCommandPropagation). */
  prevent(): void {
    if (this.depth > 0) this.stack[this.depth - 1]!.prevented = true;
  }

  /**
   * Runs `fn` and drops every effect it produces, its own rewrites and propagations included:
   * for a data set loaded by a command (DEBUG LOADAOF), whose commands are in the files they come
   * from already, as Redis's loader runs them outside call(). Effects queued before are kept.
   */
  discarding<T>(fn: () => T): T {
    const pendingBefore = this.pending.length;
    const depthBefore = this.depth;
    this.beginCommand(0);
    try {
      return fn();
    } finally {
      this.pending.length = pendingBefore;
      this.stack[depthBefore]!.rewritten = null;
      this.depth = depthBefore;
    }
  }

  private emit(db: number, argv: string[]): void {
    for (const l of this.listeners) l(db, argv);
  }
}
