/**
 * Element-level change capture (the recorder the collection types call, see ChangeRecorder in
 * keyspace/types/object.ts): between two write-throughs it remembers, per value already in the
 * store (`ldb !== 0`), which hash fields and set members changed, the score each touched zset
 * member had in the store, and how a list's ends moved, so the engine writes O(1) records per
 * element change instead of the whole value.
 *
 * The table is process-wide because the types know nothing of servers: each engine takes (and
 * deletes) the entries of the values it writes through or releases.
 */
import { changeCapture, type ChangeRecorder, type RObject } from '../../keyspace/types/object.js';
import type { ListObject } from '../../keyspace/types/list.js';

/** What changed in one stored value since its last write-through. */
export class ObjChanges {
  /** rewrite the value whole (LINSERT in the middle, LREM, a zset rebuilt) */
  whole = false;
  /** hash fields / set members set or removed */
  names: Set<string> | null = null;
  /** zset member -> score in the store (NaN: not in the store) at its first change */
  zold: Map<string, number> | null = null;
  /** list: store positions at the last write-through [h0, t0), now [h, t) */
  h0 = 0;
  t0 = 0;
  h = 0;
  t = 0;
  /** list: highest head / lowest tail reached since: positions outside [maxH, minT) were rewritten */
  maxH = 0;
  minT = 0;
  /** list: store positions replaced by LSET */
  sets: Set<number> | null = null;
}

/** Changes of stored values since their last write-through, by value. */
export const turnChanges = new Map<RObject, ObjChanges>();

function changesOf(o: RObject): ObjChanges {
  let c = turnChanges.get(o);
  if (c === undefined) {
    c = new ObjChanges();
    turnChanges.set(o, c);
  }
  return c;
}

function listChanges(o: RObject): ObjChanges {
  let c = turnChanges.get(o);
  if (c === undefined) {
    c = new ObjChanges();
    // called before the change: the list is still as the store has it
    const h0 = o.ldbHead;
    const t0 = h0 + (o as ListObject).length;
    c.h0 = c.h = c.maxH = h0;
    c.t0 = c.t = c.minT = t0;
    turnChanges.set(o, c);
  }
  return c;
}

const recorder: ChangeRecorder = {
  element(o, name) {
    const c = changesOf(o);
    if (!c.whole) (c.names ??= new Set()).add(name);
  },
  zsetRemove(o, member, score) {
    const c = changesOf(o);
    if (c.whole) return;
    const z = (c.zold ??= new Map());
    if (!z.has(member)) z.set(member, score);
  },
  zsetInsert(o, member) {
    const c = changesOf(o);
    if (c.whole) return;
    const z = (c.zold ??= new Map());
    if (!z.has(member)) z.set(member, NaN);
  },
  listPush(o, head) {
    const c = listChanges(o);
    if (head) c.h--;
    else c.t++;
  },
  listPop(o, head, n) {
    const c = listChanges(o);
    if (head) {
      c.h += n;
      if (c.h > c.maxH) c.maxH = c.h;
    } else {
      c.t -= n;
      if (c.t < c.minT) c.minT = c.t;
    }
  },
  listSet(o, index) {
    const c = listChanges(o);
    (c.sets ??= new Set()).add(c.h + index);
  },
  whole(o) {
    changesOf(o).whole = true;
  },
};

let users = 0;

/** An engine starts capturing: the types report changes from now on. */
export function captureStarted(): void {
  if (users++ === 0) changeCapture.recorder = recorder;
}

/** An engine stopped; the last one turns reporting off. */
export function captureStopped(): void {
  if (users > 0 && --users === 0) {
    changeCapture.recorder = null;
    turnChanges.clear();
  }
}
