/**
 * CONFIG GET / SET / RESETSTAT / REWRITE / HELP, after configGetCommand, configSetCommand,
 * configResetStatCommand and configRewriteCommand in Redis 7.0.15's src/config.c.
 */
import type { Handler, CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import type { Directive } from '../config/directives.js';
import { ConfigSetError } from '../config/config.js';
import { rewriteConfigFile } from '../config/rewrite.js';
import { strerror } from '../config/table.js';
import { resetStats } from '../server/server.js';
import { ERR, dispatchHooks } from '../server/dispatch.js';
import { stringMatch } from '../util/glob.js';

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

/** addReplyHelp (src/networking.c): the header, the lines, the HELP footer, as status replies. */
function addReplyHelp(c: Client, cmd: string, lines: readonly string[]): void {
  c.addArrayLen(lines.length + 3);
  c.addSimple(`${cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.addSimple(l);
  c.addSimple('HELP');
  c.addSimple('    Prints this help.');
}

/**
 * CONFIG GET <name|pattern> ...: a map of name -> value. Exact names are looked up (any case, the
 * reply uses the name as asked; hidden directives too); patterns match every name and alias
 * without case (stringmatch nocase) except hidden directives; a name is never listed twice.
 */
const configGet: Handler = (c) => {
  const config = c.server.config;
  const seen = new Set<string>();
  const out: Array<[string, Directive]> = [];
  for (let i = 2; i < c.argv.length; i++) {
    const name = c.argv[i]!;
    if (!/[[*?]/.test(name)) {
      const lower = name.toLowerCase();
      if (seen.has(lower)) continue;
      const d = config.find(name);
      if (d) {
        seen.add(lower);
        out.push([name, d]);
      }
      continue;
    }
    for (const [key, d] of config.entries()) {
      if (d.hidden || seen.has(key)) continue;
      if (stringMatch(name, key, true)) {
        seen.add(key);
        out.push([key, d]);
      }
    }
  }
  c.addMapLen(out.length);
  for (const [key, d] of out) {
    c.addBulk(key);
    c.addBulk(config.formatted(d));
  }
};

/**
 * islocalClient (src/networking.c): a client without a socket (unix socket, in-process), or one
 * whose peer is 127.0.0.1 or ::1 (Node reports an IPv4 peer of a dual-stack listener as
 * ::ffff:127.0.0.1).
 */
function isLocalClient(c: Client): boolean {
  const ip = c.socket?.remoteAddress;
  if (ip === undefined) return true;
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

/** allowProtectedAction for enable-protected-configs / enable-debug-command / enable-module-command. */
export function allowProtectedAction(c: Client, setting: string): boolean {
  return setting === 'yes' || (setting === 'local' && isLocalClient(c));
}

/** Protected commands (CMD_PROTECTED): handler -> [the name the error gives, the directive allowing it]. */
const protectedCommands = new Map<Handler, [string, string]>();

/**
 * Refuses the command of handler `h` unless `directive` (enable-debug-command,
 * enable-module-command) allows it for the client, with processCommand's error, right after the
 * arity check (before authentication); it counts as a rejected call and aborts an enclosing
 * MULTI, as in Redis.
 */
export function protectCommand(h: Handler, name: string, directive: string): void {
  dispatchHooks.protect ??= (c: Client, spec: CommandSpec): string | null => {
    const p = protectedCommands.get(spec.handler);
    if (p === undefined || allowProtectedAction(c, c.server.config.get<string>(p[1]))) return null;
    return `ERR ${p[0]} command not allowed. If the ${p[1]} option is set to "local", you can run it from a local connection, ` +
      'otherwise you need to set this option in the configuration file, and then restart the server.';
  };
  protectedCommands.set(h, [name, directive]);
}

/**
 * CONFIG SET <name> <value> [<name> <value> ...]: all or none. Redis's checks in its order:
 * unknown name, immutable or protected, -LOADING for the directives that refuse it while loading,
 * duplicate; then every value is parsed and set, then applied; any failure restores every value.
 * A change of `port` or `bind` re-opens the listeners; the reply waits for that (outside MULTI).
 */
const configSet: Handler = (c) => {
  const argv = c.argv;
  if ((argv.length & 1) === 1) {
    c.addError(ERR.syntax);
    return;
  }
  const server = c.server;
  const config = server.config;
  let invalidName: string | null = null;
  let errName = '';
  let errStr: string | null = null;
  let invalid = false;
  let denyLoading = false;
  const items: Array<{ d: Directive; name: string; value: string }> = [];
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i]!;
    const d = config.find(name);
    if (!d) {
      if (!invalid) {
        invalidName = name;
        invalid = true;
      }
      continue;
    }
    if (invalid) continue;
    if (!d.mutable || (d.protected && !allowProtectedAction(c, config.get<string>('enable-protected-configs')))) {
      errStr = !d.mutable ? "can't set immutable config" : "can't set protected config";
      errName = name;
      invalid = true;
      continue;
    }
    if (server.keyspace.loading && d.denyLoading) {
      denyLoading = true;
      invalid = true;
      continue;
    }
    // Redis registers an alias as a config of its own: only the same name twice is a duplicate.
    if (items.some((it) => it.name === name.toLowerCase())) {
      errStr = 'duplicate parameter';
      errName = name;
      invalid = true;
    }
    items.push({ d, name: name.toLowerCase(), value: argv[i + 1]! });
  }
  if (invalid) {
    if (denyLoading) c.addError(ERR.loading);
    else if (invalidName !== null) c.addError(`ERR Unknown option or number of arguments for CONFIG SET - '${invalidName}'`);
    else c.addError(setFailed(errName, errStr));
    return;
  }
  const oldPort = config.get<number>('port');
  const oldBind = config.formatted(config.find('bind')!);
  let undo: () => void;
  try {
    undo = config.setMany(items, (m) => server.log.warning(m));
  } catch (e) {
    if (!(e instanceof ConfigSetError)) throw e;
    c.addError(setFailed(e.argName, e.reason));
    return;
  }
  const portChanged = config.get<number>('port') !== oldPort;
  const bindChanged = config.formatted(config.find('bind')!) !== oldBind;
  if ((!portChanged && !bindChanged) || server.closing) {
    c.addOk();
    return;
  }
  rebindListeners(c, undo, portChanged ? 'port' : 'bind');
};

/**
 * Re-opens the listeners after CONFIG SET port/bind. Outside a transaction the client waits for
 * the result (OK, or Redis's error with every value of the command restored); inside EXEC the
 * reply cannot wait, so it is OK and a failure is only logged and undone.
 */
function rebindListeners(c: Client, undo: () => void, which: 'port' | 'bind'): void {
  const server = c.server;
  const fail = which === 'port' ? 'Unable to listen on this port. Check server logs.' : 'Failed to bind to specified addresses.';
  const wait = c.multi === null && !c.blocked;
  if (wait) c.blocked = true;
  else c.addOk();
  const finish = (err: string | null): void => {
    if (!wait) return;
    c.blocked = false;
    if (c.closed) return;
    if (err === null) c.addOk();
    else {
      c.addError(setFailed(which, err));
      server.countError(`ERR ${err}`);
    }
    server.scheduleFlush(c);
    server.processInput(c);
  };
  server.rebind().then(
    () => finish(null),
    () => {
      server.log.warning(`Failed applying new configuration. Possibly related to new ${which} setting. Restoring previous settings.`);
      undo();
      server.rebind().then(
        () => finish(fail),
        (e: Error) => {
          server.log.warning(`Failed applying restored failed CONFIG SET command: ${e.message}`);
          finish(fail);
        },
      );
    },
  );
}

function setFailed(name: string, reason: string | null): string {
  return reason
    ? `ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`
    : `ERR CONFIG SET failed (possibly related to argument '${name}')`;
}

/**
 * CONFIG RESETSTAT: server stats, command stats and error stats back to zero (resetServerStats,
 * resetCommandTableStats, resetErrorTableStats), the keyspace's counters, and what the layers
 * registered in {@link resetStatHooks}. The slowlog stays, as in Redis.
 */
const configResetStat: Handler = (c) => {
  resetStats(c.server);
  // every counter of the keyspace (hits, misses, expired, evicted...), whatever the layers added
  const ks = c.server.keyspace.stats as unknown as Record<string, unknown>;
  for (const k of Object.keys(ks)) if (typeof ks[k] === 'number') ks[k] = 0;
  for (const h of resetStatHooks) h(c.server);
  c.addOk();
};

/** Further counters other layers reset on CONFIG RESETSTAT (evictions, persistence stats...). */
export const resetStatHooks: Array<(server: Client['server']) => void> = [];

/** CONFIG REWRITE: the config file updated in place, or Redis's errors. */
const configRewrite: Handler = (c) => {
  const server = c.server;
  const file = server.config.configFile;
  if (file === '') {
    c.addError('ERR The server is running without a config file');
    return;
  }
  try {
    rewriteConfigFile(server.config, file);
  } catch (e) {
    const msg = strerror(e as NodeJS.ErrnoException);
    server.log.warning(`CONFIG REWRITE failed: ${msg}`);
    c.addError(`ERR Rewriting config file: ${msg}`);
    return;
  }
  server.log.warning('CONFIG REWRITE executed with success.');
  c.addOk();
};

/** Handlers of the config-cmds command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const configCmdsCommands: Record<string, Handler> = {
  'config|get': configGet,
  'config|set': configSet,
  'config|resetstat': configResetStat,
  'config|rewrite': configRewrite,
  'config|help': (c) => addReplyHelp(c, 'CONFIG', CONFIG_HELP),
};
