import type { Value } from '../../keyspace/types/object.js';
import { type Stream, formatStreamId, formatStreamKey } from '../../keyspace/types/stream.js';
import { respCommand } from './writer.js';
import { setStreamRewriter } from './base-resp.js';

/**
 * The commands that rebuild a stream in a RESP AOF base, as rewriteStreamObject in Redis 7.0's
 * src/aof.c writes them:
 * - `XADD key id field value ...` per entry, or, for an empty stream, `XADD key MAXLEN 0 0-1 x y`
 *   (the entry is trimmed at once, leaving an empty stream);
 * - `XSETID key last-id ENTRIESADDED n MAXDELETEDID id`, since deletions and trims are lost;
 * - per group (name order) `XGROUP CREATE key group last-id ENTRIESREAD n`, then per consumer
 *   (name order) `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n JUSTID FORCE` for each of
 *   its pending entries, or `XGROUP CREATECONSUMER key group consumer` when it has none.
 * Returns the RESP text. Registered with the RESP base writer when this module loads.
 */
export function rewriteStreamObject(key: string, value: Value): string {
  const s = value as Stream;
  let out = '';
  if (s.length > 0) {
    for (const [k, fields] of s.entries.entries()) {
      const argv = ['XADD', key, formatStreamKey(k)];
      for (let i = 0; i < fields.length; i++) argv.push(fields[i]!);
      out += respCommand(argv);
    }
  } else {
    out += respCommand(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
  }
  out += respCommand(['XSETID', key, formatStreamId(s.lastId), 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', formatStreamId(s.maxDeletedEntryId)]);
  for (const g of s.sortedGroups()) {
    out += respCommand(['XGROUP', 'CREATE', key, g.name, formatStreamId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    for (const consumer of g.sortedConsumers()) {
      if (consumer.pel.size === 0) {
        out += respCommand(['XGROUP', 'CREATECONSUMER', key, g.name, consumer.name]);
        continue;
      }
      for (const [k, nack] of consumer.pel.entries()) {
        out += respCommand([
          'XCLAIM', key, g.name, consumer.name, '0', formatStreamKey(k), 'TIME', String(nack.deliveryTime),
          'RETRYCOUNT', String(nack.deliveryCount), 'JUSTID', 'FORCE',
        ]);
      }
    }
  }
  return out;
}

setStreamRewriter(rewriteStreamObject);
