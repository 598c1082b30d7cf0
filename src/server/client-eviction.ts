import type { Server } from './server.js';
import type { Client } from './client.js';
import { clientMemory, clientInfoString } from '../commands/client.js';

/** The smallest effective limit (getClientEvictionLimit): a server must stay reachable. */
const MIN_LIMIT = 128 * 1024;

/** Seconds between two "Over client maxmemory" warnings while nothing more can be evicted. */
const WARN_EVERY_MS = 60_000;

/**
 * The client eviction limit in bytes for `maxmemory-clients` (bytes, or a negative number for a
 * percentage of `maxmemory`, as the config table stores `N%`), or 0 when client eviction is off
 * (getClientEvictionLimit in src/networking.c: at least 128 KB; a percentage without maxmemory
 * is off).
 */
export function clientEvictionLimit(maxmemoryClients: number, maxmemory: number): number {
  let limit: number;
  if (maxmemoryClients < 0 && maxmemory > 0) limit = Math.floor((maxmemory * -maxmemoryClients) / 100);
  else if (maxmemoryClients > 0) limit = maxmemoryClients;
  else return 0;
  return limit < MIN_LIMIT ? MIN_LIMIT : limit;
}

/** INFO evicted_clients, per server. */
const evicted = new WeakMap<Server, number>();

/** evicted_clients: clients closed by client eviction since start-up or CONFIG RESETSTAT. */
export function evictedClients(server: Server): number {
  return evicted.get(server) ?? 0;
}

/** CONFIG RESETSTAT. */
export function resetEvictedClients(server: Server): void {
  evicted.set(server, 0);
}

/**
 * Client eviction (evictClients in src/networking.c, Redis 7.0): while the memory of all
 * clients (CLIENT LIST tot-mem: query buffer, argv, MULTI queue, pending and unsent replies)
 * reaches the `maxmemory-clients` limit, closes the biggest clients first, except those with
 * CLIENT NO-EVICT on (their memory still counts), logging "Evicting client: <client info>" and
 * counting evicted_clients. When every evictable client is gone and the sum is still over,
 * Redis's "Over client maxmemory after evicting all evictable clients" is logged (at most once a
 * minute here: Redis repeats it at every event-loop iteration).
 *
 * Redis keeps running per-type totals and runs this before each command and event-loop sleep;
 * Amber sums over the clients on the cron (`hz` times a second) and whenever the clients' traffic
 * has moved on by {@link trafficCheckBytes} since the last sum (see {@link installClientEviction}), so
 * the clients' memory overshoots the limit by about that much at most, or for one cron period when
 * they grow without traffic. Returns the number of clients closed.
 */
export function evictClients(server: Server): number {
  const limit = clientEvictionLimit(server.config.get<number>('maxmemory-clients'), server.config.get<number>('maxmemory'));
  if (limit === 0) return 0;
  let total = 0;
  const candidates: Array<{ c: Client; bytes: number }> = [];
  for (const c of server.clients.values()) {
    if (c.closed) continue;
    const bytes = clientMemory(c, null);
    total += bytes;
    if (!c.noEvict) candidates.push({ c, bytes });
  }
  if (total < limit) return 0;
  candidates.sort((a, b) => b.bytes - a.bytes);
  let n = 0;
  for (const { c, bytes } of candidates) {
    if (total < limit) break;
    server.log.notice(`Evicting client: ${clientInfoString(c, null)}`);
    server.closeClient(c);
    total -= bytes;
    n++;
  }
  if (n > 0) evicted.set(server, evictedClients(server) + n);
  if (total >= limit) {
    const now = Date.now();
    if (now - (lastWarning.get(server) ?? 0) >= WARN_EVERY_MS) {
      lastWarning.set(server, now);
      server.log.warning('Over client maxmemory after evicting all evictable clients');
    }
  }
  return n;
}

const lastWarning = new WeakMap<Server, number>();

/**
 * Bytes read from or sent to clients between two client-eviction checks outside the cron, at
 * least (see {@link trafficCheckBytes}): the clients' buffers cannot grow by much more than this
 * between checks. Redis checks before every command on running totals; a check here sums over
 * every client, so its period in bytes grows with their number (TRAFFIC_CHECK_PER_CLIENT each),
 * which keeps its cost per byte of traffic constant (~0.05 ns) however many clients there are.
 */
const TRAFFIC_CHECK_MIN_BYTES = 64 * 1024;
const TRAFFIC_CHECK_PER_CLIENT = 2048;

/** Bytes of traffic until the next check outside the cron, for `clients` connections. */
export function trafficCheckBytes(clients: number): number {
  return Math.max(TRAFFIC_CHECK_MIN_BYTES, clients * TRAFFIC_CHECK_PER_CLIENT);
}

/** Runs client eviction on every cron tick, and after enough traffic ({@link trafficCheckBytes}). */
export function installClientEviction(server: Server): void {
  const check = (): void => {
    if (server.config.get<number>('maxmemory-clients') !== 0) evictClients(server);
    server.trafficCheckBytes = trafficCheckBytes(server.clients.size);
  };
  server.cronHooks.push(check);
  server.trafficCheck = check;
  server.trafficCheckBytes = trafficCheckBytes(0);
}
