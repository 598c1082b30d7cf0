import { withSubcommands, type Handler, type CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import { addReplyHelp } from './client.js';
import { lookupCommandByFullName } from './introspection.js';
import { latencyHistogram, type LatencyHistogram } from '../server/latency-histogram.js';
import { anonHugePagesBytes } from '../server/latency-monitor.js';

/**
 * LATENCY, after latencyCommand in Redis 7.0's src/latency.c: the latency monitor's events
 * (LATEST, HISTORY, GRAPH, DOCTOR, RESET; see server/latency-monitor.ts) and the per-command
 * latency histograms of `latency-tracking` (HISTOGRAM). Arity errors come from the command table,
 * as Redis's subcommand entries give them.
 */

const LATENCY_HELP = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

/** LATENCY HISTORY event: [[unix seconds, ms], ...] oldest first; empty for an unknown event. */
function history(c: Client): void {
  const m = c.server.latency;
  // the event name is matched exactly, as Redis's dict lookup does (RESET ignores case)
  const ts = m.events.get(c.argv[2]!);
  const samples = ts === undefined ? [] : m.samples(ts);
  c.addArrayLen(samples.length);
  for (const [time, latency] of samples) {
    c.addArrayLen(2);
    c.addInt(time);
    c.addInt(latency);
  }
}

/** LATENCY LATEST: [event, unix seconds, ms, all-time high ms] per event. */
function latest(c: Client): void {
  const m = c.server.latency;
  c.addArrayLen(m.events.size);
  for (const [event, ts] of m.events) {
    const [time, latency] = m.latest(ts);
    c.addArrayLen(4);
    c.addBulk(event);
    c.addInt(time);
    c.addInt(latency);
    c.addInt(ts.max);
  }
}

/** LATENCY GRAPH event: the ASCII sparkline, a verbatim string in RESP3. */
function graph(c: Client): void {
  const g = c.server.latency.graph(c.argv[2]!);
  if (g === null) {
    c.addError(`ERR No samples available for event '${c.argv[2]!}'`);
    return;
  }
  c.addVerbatim(g);
}

/** LATENCY DOCTOR: the human-readable report, a verbatim string in RESP3. */
function doctor(c: Client): void {
  const cfg = c.server.config;
  c.addVerbatim(c.server.latency.report({
    slowlogSlowerThan: cfg.get<number>('slowlog-log-slower-than'),
    fsyncAlways: cfg.get<string>('appendfsync') === 'always',
    hz: cfg.get<number>('hz'),
    anonHugePages: anonHugePagesBytes(),
  }));
}

/** LATENCY RESET [event ...]: how many events were forgotten. */
function reset(c: Client): void {
  const m = c.server.latency;
  if (c.argv.length === 2) {
    c.addInt(m.reset());
    return;
  }
  let resets = 0;
  for (let i = 2; i < c.argv.length; i++) resets += m.reset(c.argv[i]!);
  c.addInt(resets);
}

/** fillCommandCDF: `name` => {calls: n, histogram_usec: {usec: calls up to it, ...}}. */
function addCommandCdf(c: Client, name: string, h: LatencyHistogram): void {
  c.addBulk(name);
  c.addMapLen(2);
  c.addBulk('calls');
  c.addInt(h.total);
  c.addBulk('histogram_usec');
  const cdf = h.cdf();
  c.addMapLen(cdf.length / 2);
  for (const v of cdf) c.addInt(v);
}

/**
 * LATENCY HISTOGRAM [command ...]: a map from command name (`config|set` for subcommands) to
 * its cumulative latency distribution, for the commands that ran since the last CONFIG
 * RESETSTAT. With no name, every such command; a container's name stands for its subcommands;
 * unknown names are skipped. The map's length is known only at the end, so the entries are
 * gathered first (Redis defers the length).
 */
function histogram(c: Client): void {
  const named: CommandSpec[] = [];
  for (let i = 2; i < c.argv.length; i++) {
    const spec = lookupCommandByFullName(c.server, c.argv[i]!);
    if (spec !== undefined) named.push(spec);
  }
  const found: Array<[string, LatencyHistogram]> = [];
  for (const spec of withSubcommands(c.argv.length === 2 ? c.server.commands.values() : named)) {
    const h = latencyHistogram(spec);
    if (h !== undefined) found.push([spec.fullName, h]);
  }
  c.addMapLen(found.length);
  for (const [name, h] of found) addCommandCdf(c, name, h);
}

export const latencyCommands: Record<string, Handler> = {
  'latency|help': (c) => addReplyHelp(c, LATENCY_HELP),
  'latency|history': history,
  'latency|latest': latest,
  'latency|graph': graph,
  'latency|doctor': doctor,
  'latency|reset': reset,
  'latency|histogram': histogram,
};
