import type { Server } from './server.js';
import type { Client } from './client.js';
import type { CommandSpec } from '../commands/spec.js';

/**
 * MONITOR (replicationFeedMonitors in src/replication.c of Redis 7.0) and the argument redaction
 * Redis keeps in `c->original_argv` (redactClientCommandArgument in src/networking.c), which the
 * slow log and MONITOR both read.
 *
 * Every command that went through call() is shown to every MONITOR client after it ran, unless
 * its spec has the `admin` or `skip_monitor` flag, as `+<unix>.<micro> [<db> <addr>] "argv0" ...`.
 * Commands refused before call() (unknown, arity, NOAUTH) are not shown; the commands of a
 * transaction are shown when EXEC runs them, before EXEC itself.
 */

/** The text Redis puts in place of a redacted argument (shared.redacted). */
export const REDACTED = '(redacted)';

/** The client whose current argv has redacted copies, and that copy; at most one at a time. */
let redactedClient: Client | null = null;
let redactedArgv: string[] | null = null;

/**
 * Hides argument `i` of the current command of `c` from the slow log and MONITOR (AUTH, HELLO
 * AUTH, CONFIG SET of sensitive directives, MIGRATE AUTH). The command itself still sees its real
 * argv; only what is logged changes. Valid until the after-command hooks of that command ran.
 */
export function redactClientCommandArgument(c: Client, i: number): void {
  if (redactedClient !== c || redactedArgv === null) {
    redactedClient = c;
    redactedArgv = c.argv.slice();
  }
  if (i < redactedArgv.length) redactedArgv[i] = REDACTED;
}

/** The argv to log for the command `c` just ran: its redacted copy when there is one. */
export function loggedArgv(c: Client): string[] {
  return redactedClient === c && redactedArgv !== null ? redactedArgv : c.argv;
}

/** Forgets the redacted copy once every logger saw it (the last after-command hook). */
function clearRedaction(c: Client): void {
  if (redactedClient === c) {
    redactedClient = null;
    redactedArgv = null;
  }
}

/**
 * Appends `s` quoted as Redis's sdscatrepr does: `"` + bytes with `\\ \" \n \r \t \a \b` escaped,
 * printable ASCII as is, anything else as `\xHH` (lower-case hex) + `"`.
 */
export function catRepr(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x20 && ch <= 0x7e && ch !== 0x5c && ch !== 0x22) continue;
    if (i > run) out += s.slice(run, i);
    run = i + 1;
    switch (ch) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default: out += '\\x' + (ch < 16 ? '0' : '') + ch.toString(16);
    }
  }
  if (run < s.length) out += run === 0 ? s : s.slice(run);
  return out + '"';
}

/** Current Unix time in microseconds (ustime() in server.c). */
export function ustime(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Sends one command line to every MONITOR client (replicationFeedMonitors). `source` is what
 * goes after the db number: the client's `ip:port`, `lua` for scripts, `unix:<path>`.
 * @param dbid the database the command ran in (after it ran: `SELECT 3` shows 3)
 */
export function feedMonitors(server: Server, source: string, dbid: number, argv: readonly string[]): void {
  if (server.monitors.size === 0) return;
  const us = ustime();
  const sec = Math.floor(us / 1e6);
  const usec = us - sec * 1e6;
  let line = '+' + sec + '.' + String(usec).padStart(6, '0') + ' [' + dbid + ' ' + source + ']';
  for (let i = 0; i < argv.length; i++) line += ' ' + catRepr(argv[i]!);
  line += '\r\n';
  for (const m of server.monitors) {
    if (m.closed) continue;
    m.addRaw(line);
    server.scheduleFlush(m);
  }
}

const installed = new WeakSet<Server>();

/**
 * Installs the MONITOR feed as an after-command hook of `server` (once). The hook also drops the
 * redaction of the command, so it must stay after the slow log's hook: install the slow log first.
 */
export function installMonitor(server: Server): void {
  if (installed.has(server)) return;
  installed.add(server);
  server.afterCommandHooks.push((c: Client, spec: CommandSpec) => {
    if (server.monitors.size !== 0 && !spec.flags.has('admin') && !spec.flags.has('skip_monitor')) {
      feedMonitors(server, c.script ? 'lua' : c.addr, c.db.id, loggedArgv(c));
    }
    if (redactedClient !== null) clearRedaction(c);
  });
}
