/** Helpers of the snapshot unit tests: a recording format and the keyspace in the same form. */
import type { Keyspace } from '../../src/keyspace/keyspace.js';
import { RObject, type Value } from '../../src/keyspace/types/object.js';
import type { SnapshotFormat } from '../../src/persistence/snapshot.js';

/** How a value prints in a recorded line (strings as themselves by default). */
export type Show = (v: Value) => string;
const asString: Show = (v) => v as string;

/** A minimal collection: a list of strings changed in place, as the real types are. */
export class Bag extends RObject {
  readonly type = 'list' as const;
  constructor(public items: string[]) {
    super();
  }
  encoding(): string {
    return 'quicklist';
  }
  clone(): Bag {
    return new Bag([...this.items]);
  }
}

/** Strings as themselves, a {@link Bag} as `bag[items]`. */
export const showBag: Show = (v) => (typeof v === 'string' ? v : `bag[${(v as Bag).items.join(',')}]`);

/** A recording of a snapshot's output: `DB db keys expires` headers and [db, key, value, expire] lines. */
export interface Recorder {
  format: SnapshotFormat;
  out: string[];
  sink: (c: Uint8Array | string) => boolean;
  /** how many times the format serialized a key */
  entries: () => number;
}

/** A format recording `db key value expire` lines (JSON), counting entry calls. */
export function recorder(show: Show = asString): Recorder {
  const out: string[] = [];
  let entries = 0;
  return {
    out,
    entries: () => entries,
    format: {
      beginDb: (db, keys, expires) => `DB ${db} ${keys} ${expires}`,
      entry: (db, key, value, exp) => {
        entries++;
        return JSON.stringify([db, key, show(value), exp]);
      },
    },
    sink: (c) => {
      out.push(String(c));
      return true;
    },
  };
}

/** The keyspace now, as the recorder's sorted lines. */
export function dumpNow(ks: Keyspace, show: Show = asString): string[] {
  const lines: string[] = [];
  for (const db of ks.dbs) {
    for (const [k, v] of db.entries()) lines.push(JSON.stringify([db.id, k, show(v), db.getExpire(k)]));
  }
  return lines.sort();
}
