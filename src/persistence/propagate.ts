/**
 * The effect stream (DESIGN.md "Effects and durability"): the deterministic effects of write
 * commands, in execution order, for the AOF writer and later replication. Follows Redis 7.0's
 * propagation (call(), alsoPropagate(), propagatePendingCommands() in src/server.c): a command
 * propagates its argv when it changed the dataset, unless it rewrote its effect or prevented
 * propagation; effects produced while it ran (expired-key DELs) come first; more than one effect
 * for one command is wrapped in MULTI/EXEC.
 */
export type EffectListener = (db: number, argv: string[]) => void;

export class EffectStream {
  private listeners: EffectListener[] = [];
  private depth = 0;
  private pending: Array<[number, string[]]> = [];
  private rewritten: string[][] | null = null;
  private prevented = false;
  private commandDb = 0;

  /** True when someone consumes effects; commands may skip building rewrites otherwise. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(fn: EffectListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  /** Called by dispatch before a command runs in database `db`. */
  beginCommand(db: number): void {
    if (this.depth++ === 0) {
      this.commandDb = db;
      this.rewritten = null;
      this.prevented = false;
      if (this.pending.length) this.pending = [];
    }
  }

  /**
   * Called by dispatch after the command: `argv` is the command's argv when it changed the
   * dataset, else null. The `client` argument is unused here; the db is taken at begin.
   */
  endCommand(argv: string[] | null, _client?: unknown): void {
    if (--this.depth > 0) return;
    if (this.listeners.length === 0) return;
    const ops = this.pending;
    this.pending = [];
    if (!this.prevented) {
      if (this.rewritten !== null) for (const a of this.rewritten) ops.push([this.commandDb, a]);
      else if (argv !== null) ops.push([this.commandDb, argv]);
    }
    if (ops.length === 0) return;
    if (ops.length === 1) {
      this.emit(ops[0]![0], ops[0]![1]);
      return;
    }
    this.emit(ops[0]![0], ['MULTI']);
    for (const [db, a] of ops) this.emit(db, a);
    this.emit(ops[ops.length - 1]![0], ['EXEC']);
  }

  /**
   * An effect produced outside the command's own argv (expired DEL, a blocked client's pop).
   * Inside a command it is queued; outside (cron) it is emitted at once.
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
    this.rewritten = argvs;
  }

  /** The running command propagates nothing of its own (preventCommandPropagation). */
  prevent(): void {
    this.prevented = true;
  }

  private emit(db: number, argv: string[]): void {
    for (const l of this.listeners) l(db, argv);
  }
}
