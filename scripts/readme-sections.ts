/**
 * The generated parts of README.md: the supported commands (from the command table) and the
 * configuration directives (from the directive table). `npm run readme` rewrites them; a unit test
 * fails when README.md is out of date, so the list stays honest.
 */
import { buildCommandTable, isMapNode } from '../src/commands/spec.js';
import { allHandlers } from '../src/commands/index.js';
import { Config } from '../src/config/config.js';

/** Markdown list of implemented commands, grouped like Redis's documentation groups. */
export function commandsSection(): string {
  const table = buildCommandTable(allHandlers());
  const groups = new Map<string, string[]>();
  for (const spec of [...table.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    let group = 'other';
    if (isMapNode(spec.docs)) {
      const i = spec.docs.map.indexOf('group');
      if (i >= 0) group = String(spec.docs.map[i + 1]);
    }
    let name = spec.name.toUpperCase();
    if (spec.subcommands) {
      const subs = [...spec.subcommands.keys()].sort().map((s) => s.toUpperCase());
      name += ` (${subs.join(', ')})`;
    }
    let l = groups.get(group);
    if (!l) groups.set(group, (l = []));
    l.push(name);
  }
  let out = `${table.size} commands, with the arity, flags, key specs and documentation of Redis 7.0.15.\n\n`;
  for (const g of [...groups.keys()].sort()) out += `- **${g}**: ${groups.get(g)!.join(', ')}\n`;
  return out;
}

/** Markdown table of configuration directives with their defaults. */
export function directivesSection(): string {
  const config = new Config();
  const rows = [...config.all()].sort((a, b) => a.name.localeCompare(b.name));
  let out = `${rows.length} directives, with Redis 7.0.15's names, aliases, defaults and units. `;
  out += 'Directives of features Amber does not have (replication, cluster, TLS, modules, scripting limits...) are accepted at their default so that a redis.conf loads; the few whose other values would silently not work refuse them at start-up.\n\n';
  out += '| directive | default | CONFIG SET |\n|---|---|---|\n';
  for (const d of rows) {
    // `dir` has no fixed default: CONFIG GET shows the process's working directory
    const def = d.name === 'dir' ? '(working directory)' : d.format(d.default);
    const shown = def === '' ? '""' : def.length > 60 ? def.slice(0, 57) + '...' : def;
    const alias = d.aliases?.length ? ` (alias ${d.aliases.join(', ')})` : '';
    out += `| \`${d.name}\`${alias} | \`${shown.replace(/\|/g, '\\|')}\` | ${d.mutable ? 'yes' : 'no'} |\n`;
  }
  return out;
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} ... ${end} section`);
  return doc.slice(0, i + start.length) + '\n' + body + doc.slice(j);
}

/** README.md with both generated sections brought up to date. */
export function updatedReadme(doc: string): string {
  return replaceSection(replaceSection(doc, 'commands', commandsSection()), 'directives', directivesSection());
}
