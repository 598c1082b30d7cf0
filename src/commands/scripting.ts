import type { Handler, CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import { registerDebugSubcommand } from './debug.js';
import { addDispatchCheck, resumeHeldClient, ERR } from '../server/dispatch.js';
import { parseInt64 } from '../util/number.js';
import { ScriptingEngine } from '../scripting/engine.js';
import { feedMonitors, loggedArgv } from '../server/monitor.js';

/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (evalGenericCommand and scriptCommand in Redis
 * 7.0.15's src/eval.c) on the engine of src/scripting/engine.ts.
 *
 * The engine is created on the first command that needs it (loading the Lua VM is asynchronous,
 * ~15 ms): that command's client is held, as CLIENT PAUSE holds one, and its command runs once
 * the engine is ready. A server whose clients never script never loads Lua.
 */

const HELP = [
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
];

/** Clients held while their server's engine loads. */
const waiting = new WeakMap<Server, Set<Client>>();
/** Why a server's engine could not be created: every later script command is refused with it. */
const failures = new WeakMap<Server, string>();

/** The commands that need the engine before they can run. */
const NEEDS_ENGINE = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script|load', 'function|load', 'function|restore', 'fcall', 'fcall_ro']);

/** Holds `c` until the server's engine is created, then runs its command as processCommand would. */
function holdForEngine(server: Server, c: Client): void {
  let held = waiting.get(server);
  if (held === undefined) {
    const set = new Set<Client>();
    held = set;
    waiting.set(server, set);
    server.freeClientHooks.push((gone) => set.delete(gone));
    ScriptingEngine.ensure(server).catch((e: unknown) => {
      const why = (e as Error).message;
      failures.set(server, why);
      server.log.warning(`Lua scripting is unavailable: the Lua VM could not be loaded (${why}). EVAL, EVALSHA, SCRIPT LOAD, FUNCTION LOAD and FCALL are refused; check that the wasmoon-lua5.1 package is installed (npm ci).`);
    }).finally(() => {
      const list = [...set];
      set.clear();
      for (const h of list) resumeHeldClient(server, h);
    });
  }
  held.add(c);
  c.blocked = true;
}

// Held at the point where Redis would run the command: after the other checks (auth, OOM,
// MISCONF...), as the CLIENT PAUSE hold is.
addDispatchCheck((c: Client, spec: CommandSpec): string | null => {
  const server = c.server;
  if (server.scripting !== null) return null;
  const name = spec.fullName;
  let needs = NEEDS_ENGINE.has(name);
  const m = c.multi as { inExec: boolean; commands: Array<{ spec: CommandSpec }> } | null;
  if (m !== null) {
    // inside MULTI a script command is only queued: the EXEC that runs it waits instead
    if (!m.inExec && name !== 'exec') return null;
    if (name === 'exec') needs = m.commands.some((q) => NEEDS_ENGINE.has(q.spec.fullName));
  }
  if (!needs) return null;
  const failure = failures.get(server);
  if (failure !== undefined) return `ERR Lua scripting is unavailable on this server: ${failure}`;
  holdForEngine(server, c);
  return '';
});

/** The engine, for a command that passed the check above (EXEC of a queued EVAL may not have). */
function engineOf(c: Client): ScriptingEngine | null {
  const e = c.server.scripting;
  if (e === null) c.addError('ERR Lua scripting is not ready yet: retry the command');
  return e;
}

/**
 * The numkeys argument (argv[2]) of EVAL, EVALSHA, FCALL and their _RO forms, checked as
 * evalGenericCommand and fcallCommandGeneric do: `notInteger` is the reply to a non-integer
 * (they differ), then more keys than arguments, then a negative count. Replies and returns null
 * when it is refused.
 */
export function numkeysArg(c: Client, notInteger: string): number | null {
  const argv = c.argv;
  const n = parseInt64(argv[2]!);
  if (n === null) {
    c.addError(notInteger);
    return null;
  }
  if (n > BigInt(argv.length - 3)) {
    c.addError("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (n < 0n) {
    c.addError("ERR Number of keys can't be negative");
    return null;
  }
  return Number(n);
}

/**
 * evalGenericCommand: numkeys, then the script (compiled and cached for EVAL, looked up by SHA1
 * for EVALSHA), then the run.
 */
function evalGeneric(c: Client, bySha: boolean, ro: boolean): void {
  const argv = c.argv;
  const engine = engineOf(c);
  if (engine === null) return;
  const flags = engine.flagsOf(argv[1]!, bySha);
  if (flags !== null && engine.refusedByFlags(c, flags)) return;
  // shown to MONITOR before the commands it runs (they are shown as they run); the spec's
  // skip_monitor keeps dispatch from showing it again afterwards
  const server = c.server;
  if (server.monitors.size !== 0) feedMonitors(server, c.addr, c.db.id, loggedArgv(c));
  const numkeys = numkeysArg(c, ERR.notInteger);
  if (numkeys === null) return;
  let sha: string;
  if (bySha) {
    sha = argv[1]!.toLowerCase();
    if (!engine.exists(sha)) {
      c.addError('NOSCRIPT No matching script. Please use EVAL.');
      return;
    }
  } else {
    const made = engine.createFunction(argv[1]!);
    if ('error' in made) {
      c.addError(made.error);
      return;
    }
    sha = made.sha;
  }
  engine.runScript(c, sha, argv.slice(3, 3 + numkeys), argv.slice(3 + numkeys), ro);
}

/** SCRIPT LOAD script */
const scriptLoad: Handler = (c) => {
  const engine = engineOf(c);
  if (engine === null) return;
  const made = engine.createFunction(c.argv[2]!);
  if ('error' in made) c.addError(made.error);
  else c.addBulk(made.sha);
};

/** SCRIPT EXISTS sha [sha ...] */
const scriptExists: Handler = (c) => {
  const engine = c.server.scripting;
  c.addArrayLen(c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) c.addInt(engine !== null && engine.exists(c.argv[i]!) ? 1 : 0);
};

/** SCRIPT FLUSH [ASYNC|SYNC]: both forget the scripts at once (there is nothing big to free). */
const scriptFlush: Handler = (c) => {
  const argv = c.argv;
  const mode = argv.length === 3 ? argv[2]!.toLowerCase() : '';
  if (argv.length > 3 || (argv.length === 3 && mode !== 'sync' && mode !== 'async')) {
    c.addError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
    return;
  }
  c.server.scripting?.flush();
  c.addOk();
};

/**
 * scriptKill (script.c): SCRIPT KILL (`isEval`) or FUNCTION KILL of the script keeping the server
 * busy (server/suspend.ts). Refused with NOTBUSY when none runs, UNKILLABLE once it wrote, and
 * BUSY when it is of the other kind (a function for SCRIPT KILL, an EVAL for FUNCTION KILL).
 */
export function killBusyScript(c: Client, isEval: boolean): void {
  const s = c.server.suspension;
  if (s === null) {
    c.addError('NOTBUSY No scripts in execution right now.');
    return;
  }
  const run = s.script;
  if (run.writeDirty) {
    c.addError('UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.');
    return;
  }
  if (isEval !== run.isEval) {
    c.addError(s.busyError);
    return;
  }
  run.kill();
  c.addOk();
}

const scriptKill: Handler = (c) => killBusyScript(c, true);

/** SCRIPT DEBUG YES|SYNC|NO: Amber has no Lua debugger (LDB); NO is accepted. */
const scriptDebug: Handler = (c) => {
  if (c.argv.length !== 3) {
    c.addError('ERR Use SCRIPT DEBUG YES/SYNC/NO');
    return;
  }
  if (c.multi !== null) {
    c.addError('ERR SCRIPT DEBUG must be called outside MULTI');
    return;
  }
  const mode = c.argv[2]!.toLowerCase();
  if (mode === 'no') c.addOk();
  else if (mode === 'yes' || mode === 'sync') c.addError('ERR Amber has no Lua debugger: SCRIPT DEBUG YES and SYNC are not supported (use redis.log to trace a script)');
  else c.addError('ERR Use SCRIPT DEBUG YES/SYNC/NO');
};

// DEBUG SET-DISABLE-DENY-SCRIPTS 0|1: lets scripts run the commands flagged noscript (for tests)
registerDebugSubcommand('set-disable-deny-scripts', (c) => {
  if (c.argv.length !== 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  c.server.scriptDisableDenyScript = Number.parseInt(c.argv[2]!, 10) ? true : false;
  c.addOk();
});

/** Handlers of the scripting commands, by lower-case Redis command name ('x|sub'). */
export const scriptingCommands: Record<string, Handler> = {
  eval: (c) => evalGeneric(c, false, false),
  evalsha: (c) => evalGeneric(c, true, false),
  eval_ro: (c) => evalGeneric(c, false, true),
  evalsha_ro: (c) => evalGeneric(c, true, true),
  'script|load': scriptLoad,
  'script|exists': scriptExists,
  'script|flush': scriptFlush,
  'script|kill': scriptKill,
  'script|debug': scriptDebug,
  'script|help': (c) => addReplyHelp(c, HELP),
};
