import type { Handler } from './spec.js';
import { addReplyHelp } from './client.js';
import { protectCommand } from './config-cmds.js';

/**
 * MODULE (moduleCommand in Redis 7.0's src/module.c) of a server that loads no module: Amber
 * cannot load Redis modules (native shared libraries written against Redis's C module API). LIST
 * is empty; LOAD and LOADEX fail as Redis's do when a module does not load, with the reason in
 * the log; UNLOAD finds no module. LOAD, LOADEX and UNLOAD are protected commands: refused unless
 * `enable-module-command` allows them (default no), as in Redis.
 */

const HELP = [
  'LIST',
  '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]',
  '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
  '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>',
  '    Unload a module.',
];

/** MODULE LOAD path [arg ...] / LOADEX path ...: logged as moduleLoad logs a failed load. */
const load: Handler = (c) => {
  c.server.log.warning(`Module ${c.argv[2]} failed to load: Amber cannot load Redis modules (native shared libraries for Redis's module API); nothing was loaded.`);
  c.addError('ERR Error loading the extension. Please check the server logs.');
};

/** MODULE UNLOAD name: no module is ever loaded. */
const unload: Handler = (c) => c.addError('ERR Error unloading module: no such module with that name');

for (const h of [load, unload]) protectCommand(h, 'MODULE', 'enable-module-command');

/** Handlers of MODULE, by lower-case Redis command name ('x|sub'). */
export const moduleCommands: Record<string, Handler> = {
  'module|help': (c) => addReplyHelp(c, HELP),
  'module|list': (c) => c.addArrayLen(0),
  'module|load': load,
  'module|loadex': load,
  'module|unload': unload,
};
