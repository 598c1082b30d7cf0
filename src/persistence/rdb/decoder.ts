/**
 * The RDB decoder (rdbLoadRioWithLoadingCtx and rdbLoadObject of Redis 7.0's src/rdb.c): reads
 * RDB versions 1 to 10 — every object type Redis 7.0 loads and every opcode — validates the
 * compact encodings as `sanitize-dump-payload yes` does, and hands each key to a handler as an
 * Amber value. It never throws anything but {@link RdbError} on bad input.
 *
 * Parsing is resumable ({@link RdbParser.step}) so a loader can yield to the event loop between
 * slices of keys.
 */
import { performance } from 'node:perf_hooks';
import type { Value } from '../../keyspace/types/object.js';
import {
  Stream, StreamCG, StreamConsumer, StreamLayout, streamIdKey, type StreamNACK, type StreamID, type StreamNode, streamNodeBytes, SCG_INVALID_ENTRIES_READ, STREAM_ID_MAX,
} from '../../keyspace/types/stream.js';
import { RdbReader, RdbError, scanDouble } from './reader.js';
import * as C from './constants.js';
import { lpDecode, lpElementSize, lpValidate } from './listpack.js';
import { zlDecode } from './ziplist.js';
import { intsetDecode } from './intset.js';
import { zipmapDecode } from './zipmap.js';
import { listLoader, ListObject, type ListLoader } from '../../keyspace/types/list.js';
import { QuicklistLayout, listpackBytesOf } from '../../keyspace/types/quicklist-layout.js';
import { elementToString, type PackedElement } from './intconv.js';
import { parseInteger } from '../../util/number.js';
import { buildSet, buildHash, buildZSet, hashFromListpack, packedHashFromListpack, zsetFromListpack, packedZsetFromListpack, setRecordsBegin, setRecordAdd, setFromRecords, listpackScore, addListpackNode, addPackedNode, type TypeLimits, DEFAULT_LIMITS } from './values.js';

/** Result of loading one object: a value, or null for an empty collection (skipped as Redis does). */
export type LoadedValue = Value | null;

/** Extra per-key state stored before a key by opcodes (LRU idle seconds, LFU counter). */
export interface KeyMeta {
  /** IDLE opcode: idle time in seconds, or -1 */
  idle: number;
  /** FREQ opcode: LFU counter 0-255, or -1 */
  freq: number;
}

/** Callbacks of {@link RdbParser}. */
export interface RdbHandlers {
  /** an AUX field */
  aux?(key: string, value: string): void;
  /** SELECTDB */
  selectDb?(db: number): void;
  /** RESIZEDB hint */
  resizeDb?(size: number, expires: number): void;
  /**
   * A key and its value. `expireAt` is Unix ms or -1; `meta` is reused for the next key (copy
   * what you keep). Throwing an {@link RdbError} (e.g. for a duplicated key) stops the parse.
   */
  key(db: number, key: string, value: Value, expireAt: number, meta: KeyMeta): void;
  /** a key whose collection was empty, skipped (rdbLoadObject's RDB_LOAD_ERR_EMPTY_KEY) */
  emptyKey?(db: number, key: string): void;
  /**
   * A function library (FUNCTION2 opcode, or the 7.0-rc FUNCTION form converted to it): its code
   * and the offset of its opcode. Without this handler the load fails.
   */
  functionLibrary?(code: string, at: number): void;
  /**
   * Module data (MODULE_AUX or a module-typed value), parsed generically as redis-check-rdb
   * does. Without this handler the load fails naming the module.
   */
  moduleData?(kind: 'aux' | 'value', moduleName: string, key: string | null): void;
}

/** Options of {@link RdbParser}. */
export interface RdbParseOptions {
  /** number of databases; a SELECTDB beyond is an error */
  databases: number;
  /** encoding thresholds for the loaded values */
  limits?: TypeLimits;
  /** verify the CRC-64 trailer when it is not zero (rdbchecksum yes) */
  verifyChecksum?: boolean;
  /**
   * The caller computes the CRC-64 elsewhere (a worker thread reading the same file): the parser
   * computes none, and a trailer to verify leaves the status 'pending' with the stored bytes in
   * {@link RdbParser.storedChecksum} for the caller to compare ({@link checksumMismatch}).
   */
  externalChecksum?: boolean;
  handlers: RdbHandlers;
}

/** What the trailer check found ('pending': left to the caller, see externalChecksum). */
export type ChecksumStatus = 'ok' | 'disabled-in-file' | 'not-checked' | 'absent' | 'pending';

/**
 * The error of a wrong CRC-64 trailer (rdbLoadRio's "Wrong RDB checksum"), at offset `at` of the
 * stored checksum; `computed` and `stored` are the 8 little-endian bytes of each.
 */
export function checksumMismatch(at: number, computed: Uint8Array, stored: Uint8Array): RdbError {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, 8).readBigUInt64LE(0).toString(16);
  return new RdbError(at, `RDB CRC error (Wrong RDB checksum expected: (${hex(computed)}) but got (${hex(stored)}))`);
}

const STREAM_ITEM_FLAG_DELETED = 1;
const STREAM_ITEM_FLAG_SAMEFIELDS = 2;

/**
 * Most members of an RDB_TYPE_SET loaded packed (setFromRecords): unpacking at first use then
 * costs what an eager load of it would, in one short pause.
 */
const PACKED_SET_MAX = 1024;

/** The printable name of a module type from its 64-bit id (moduleTypeNameByID). */
export function moduleTypeNameById(id: bigint): string {
  const cset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let v = id >> 10n;
  const out: string[] = new Array(9);
  for (let j = 8; j >= 0; j--) {
    out[j] = cset[Number(v & 63n)]!;
    v >>= 6n;
  }
  return out.join('');
}

/**
 * Parses a whole RDB stream: header, opcodes, keys, EOF and checksum. Create it on an
 * {@link RdbReader} positioned at the `REDIS` magic, then call {@link step} until it returns true
 * (or {@link run} once). Errors are {@link RdbError}s carrying the byte offset.
 */
export class RdbParser {
  /** RDB version from the header (after the first step) */
  version = 0;
  done = false;
  checksum: ChecksumStatus = 'absent';
  /** keys handed to the handler, and empty keys skipped */
  keys = 0;
  emptyKeysSkipped = 0;
  /** offset of the EOF opcode's end (after the checksum): where an AOF tail would start */
  endOffset = 0;
  /** the trailer's 8 bytes when {@link checksum} is 'pending' (externalChecksum) */
  storedChecksum: Buffer | null = null;
  /** state the "While doing" lines of amber-check-rdb show */
  doing = 'start';
  currentKey: string | null = null;
  currentType = -1;
  /**
   * Set by a handler to make {@link step} return false after the record being handled, before
   * the next one (key-load-delay: the loader sleeps off its debt between steps).
   */
  yieldRequested = false;

  private readonly r: RdbReader;
  private readonly opts: RdbParseOptions;
  private readonly limits: TypeLimits;
  private db = 0;
  private started = false;
  private expireAt = -1;
  private meta: KeyMeta = { idle: -1, freq: -1 };

  constructor(reader: RdbReader, opts: RdbParseOptions) {
    this.r = reader;
    this.opts = opts;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
  }

  /** Reads the whole stream. */
  run(): void {
    while (!this.step(Infinity));
  }

  /**
   * Parses until the end of the stream (returns true) or until `deadline` (a performance.now()
   * time in ms) has passed (returns false; call again to continue).
   */
  step(deadline: number): boolean {
    if (this.done) return true;
    const r = this.r;
    if (!this.started) {
      this.started = true;
      this.readHeader();
    }
    let n = 0;
    while (!this.done) {
      if (this.yieldRequested) {
        this.yieldRequested = false;
        return false;
      }
      if ((++n & 15) === 0 && performance.now() >= deadline) return false;
      const typeAt = r.offset;
      this.doing = 'read-type';
      const type = r.u8();
      switch (type) {
        case C.RDB_OPCODE_EXPIRETIME:
          this.doing = 'read-expire';
          this.expireAt = r.int32LE() * 1000;
          continue;
        case C.RDB_OPCODE_EXPIRETIME_MS:
          this.doing = 'read-expire';
          this.expireAt = r.int64LE();
          continue;
        case C.RDB_OPCODE_FREQ:
          this.meta.freq = r.u8();
          continue;
        case C.RDB_OPCODE_IDLE:
          this.meta.idle = r.readLen();
          continue;
        case C.RDB_OPCODE_EOF:
          this.finish();
          return true;
        case C.RDB_OPCODE_SELECTDB: {
          this.doing = 'select-db';
          const at = r.offset;
          const db = r.readLen();
          if (db >= this.opts.databases) {
            throw r.error(`FATAL: Data file was created with a Redis server configured to handle more than ${this.opts.databases} databases`, at);
          }
          this.db = db;
          this.opts.handlers.selectDb?.(db);
          continue;
        }
        case C.RDB_OPCODE_RESIZEDB: {
          this.doing = 'resize-db';
          const size = r.readLen();
          const expires = r.readLen();
          this.opts.handlers.resizeDb?.(size, expires);
          continue;
        }
        case C.RDB_OPCODE_AUX: {
          this.doing = 'read-aux';
          const k = r.readString();
          const v = r.readString();
          this.opts.handlers.aux?.(k, v);
          continue;
        }
        case C.RDB_OPCODE_MODULE_AUX:
          this.doing = 'read-module-aux';
          this.readModuleAux(typeAt);
          continue;
        case C.RDB_OPCODE_FUNCTION:
        case C.RDB_OPCODE_FUNCTION2:
          this.doing = 'read-functions';
          this.readFunction(type, typeAt);
          continue;
        default:
          break;
      }
      if (!C.rdbIsObjectType(type)) throw r.error(`Unknown RDB encoding type ${type}`, typeAt);
      this.doing = 'read-key';
      this.currentType = type;
      const key = r.readString();
      this.currentKey = key;
      this.doing = 'read-object-value';
      const value = loadObject(r, type, this.limits, key, this.opts.handlers);
      const expireAt = this.expireAt;
      const meta = this.meta;
      this.expireAt = -1;
      if (value === null) {
        this.emptyKeysSkipped++;
        this.opts.handlers.emptyKey?.(this.db, key);
      } else {
        this.keys++;
        this.doing = 'check-dup-key';
        this.opts.handlers.key(this.db, key, value, expireAt, meta);
      }
      meta.idle = -1;
      meta.freq = -1;
      this.currentKey = null;
      this.currentType = -1;
    }
    return true;
  }

  private readHeader(): void {
    const r = this.r;
    this.doing = 'check-header';
    const at = r.offset;
    if (this.opts.externalChecksum !== true) r.startCrc();
    // rdbLoadRio: fewer than 9 bytes is a short read (eoferr), as any truncation
    if (this.r.end - this.r.pos < 9) r.ensure(9);
    const magic = r.bytes(9).latin1Slice();
    if (!magic.startsWith('REDIS')) throw r.error('Wrong signature trying to load DB from file', at);
    // atoi of the four version digits, as Redis reports it ("0011" is 11, "abcd" is 0)
    const ver = Number.parseInt(magic.slice(5), 10) || 0;
    if (!(ver >= 1 && ver <= C.RDB_VERSION)) throw r.error(`Can't handle RDB format version ${ver}`, at);
    this.version = ver;
  }

  private finish(): void {
    const r = this.r;
    this.doing = 'check-sum';
    const crc = r.stopCrc();
    if (this.version >= 5) {
      const at = r.offset;
      const stored = r.bytes(8);
      if (stored.every((b) => b === 0)) {
        this.checksum = 'disabled-in-file';
      } else if (this.opts.verifyChecksum === false) {
        this.checksum = 'not-checked';
      } else if (crc === null) {
        this.checksum = 'pending';
        this.storedChecksum = Buffer.from(stored);
      } else if (!crc.equalsLE(stored, 0)) {
        const computed = Buffer.alloc(8);
        crc.writeLE(computed, 0);
        throw checksumMismatch(at, computed, stored);
      } else {
        this.checksum = 'ok';
      }
    }
    this.endOffset = r.offset;
    this.done = true;
    this.doing = 'done';
  }

  private readModuleAux(at: number): void {
    const r = this.r;
    const moduleId = r.readLenBig();
    const whenOpcode = r.readLen();
    r.readLen(); // when
    if (whenOpcode !== C.RDB_MODULE_OPCODE_UINT) throw r.error('bad when_opcode', at);
    const name = moduleTypeNameById(moduleId);
    if (!this.opts.handlers.moduleData) {
      throw r.error(`The RDB file contains AUX module data I can't load: no matching module '${name}' (Amber has no modules)`, at);
    }
    skipModuleValue(r, name);
    this.opts.handlers.moduleData('aux', name, null);
  }

  private readFunction(type: number, at: number): void {
    const r = this.r;
    let code: string;
    if (type === C.RDB_OPCODE_FUNCTION) {
      // the 7.0-rc form: name, engine, optional description, code
      const name = r.readString();
      const engine = r.readString();
      if (r.readLen()) r.readString();
      const blob = r.readString();
      // the shebang 7.0.15's rdbFunctionLoad puts in front (its trailing space included)
      code = `#!${engine} name=${name} \n${blob}`;
    } else {
      code = r.readString();
    }
    if (!this.opts.handlers.functionLibrary) {
      const m = /^#!\S+\s+name=(\S+)/.exec(code);
      throw r.error(`Failed loading library${m ? ` '${m[1]}'` : ''}: this reader does not load functions`, at);
    }
    this.opts.handlers.functionLibrary(code, at);
  }
}

/** Walks a module value of the generic (type 2) form up to its EOF mark (rdbLoadCheckModuleValue). */
function skipModuleValue(r: RdbReader, name: string): void {
  for (;;) {
    const at = r.offset;
    const opcode = r.readLen();
    if (opcode === C.RDB_MODULE_OPCODE_EOF) return;
    if (opcode === C.RDB_MODULE_OPCODE_SINT || opcode === C.RDB_MODULE_OPCODE_UINT) r.readLenBig();
    else if (opcode === C.RDB_MODULE_OPCODE_STRING) r.readString();
    else if (opcode === C.RDB_MODULE_OPCODE_FLOAT) r.binaryFloat();
    else if (opcode === C.RDB_MODULE_OPCODE_DOUBLE) r.binaryDouble();
    else throw r.error(`Unknown module opcode ${opcode} in module ${name} value`, at);
  }
}

/** A decoded element as a score (zzlGetScore: strtod of a string element). */
function elementScore(e: PackedElement): number {
  if (typeof e !== 'string') return Number(e);
  return listpackScore(e);
}

/** The elements of a pairs encoding (hash or zset): even count, no duplicate first halves. */
function checkPairs(els: PackedElement[] | null): els is PackedElement[] {
  if (els === null || els.length & 1) return false;
  const seen = new Set<string>();
  for (let i = 0; i < els.length; i += 2) {
    const f = elementToString(els[i]!);
    if (seen.has(f)) return false;
    seen.add(f);
  }
  return true;
}

function strings(els: PackedElement[]): string[] {
  const out: string[] = new Array(els.length);
  for (let i = 0; i < els.length; i++) {
    const e = els[i]!;
    out[i] = typeof e === 'string' ? e : String(e);
  }
  return out;
}

/** Adds decoded ziplist elements to a list under construction (integers as their decimal text). */
function addPacked(l: ListLoader, els: PackedElement[]): void {
  for (let i = 0; i < els.length; i++) {
    const e = els[i]!;
    if (typeof e === 'string') l.addString(e);
    else l.addInt(e);
  }
}

/**
 * Appends to `ql` the listpack node Redis 7.0 makes of a ziplist quicklist node holding `els`
 * (rdbLoadObject: ziplistValidateIntegrity with _ziplistEntryConvertAndValidate into a new
 * listpack, lpShrinkToFit, quicklistAppendListpack). Returns `ql`, or null when an element is one
 * the layout does not model (QuicklistLayout.accepts): the list is then cut as tail pushes.
 */
function ziplistNode(ql: QuicklistLayout, els: PackedElement[]): QuicklistLayout | null {
  const texts = new Array<string>(els.length);
  for (let i = 0; i < els.length; i++) {
    const t = elementToString(els[i]!);
    if (!QuicklistLayout.accepts(t)) return null;
    texts[i] = t;
  }
  ql.appendNode(els.length, listpackBytesOf(texts));
  return ql;
}

function zsetFromPairs(els: PackedElement[], limits: TypeLimits): Value | null {
  const n = els.length >> 1;
  const members: string[] = new Array(n);
  const scores: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    members[i] = elementToString(els[2 * i]!);
    scores[i] = elementScore(els[2 * i + 1]!);
  }
  return buildZSet(members, scores, 'listpack', limits);
}

/**
 * Loads one value of RDB type `type` (rdbLoadObject). Returns null for an empty collection.
 * @throws RdbError with Redis's reason ("Hash ziplist integrity check failed." ...) at the
 *   offset where the value starts
 */
export function loadObject(r: RdbReader, type: number, limits: TypeLimits, key: string | null = null, handlers?: RdbHandlers): LoadedValue {
  if (type === C.RDB_TYPE_STRING) return r.readString();
  return loadCollection(r, type, limits, key, handlers);
}

function loadCollection(r: RdbReader, type: number, limits: TypeLimits, key: string | null, handlers?: RdbHandlers): LoadedValue {
  const at = r.offset;
  const fail = (reason: string): RdbError => r.error(reason, at);
  switch (type) {

    case C.RDB_TYPE_LIST: {
      const len = r.readLen();
      if (len === 0) return null;
      const l = listLoader();
      for (let i = 0; i < len; i++) l.addString(r.readString());
      return l.finish();
    }

    case C.RDB_TYPE_SET: {
      const len = r.readLen();
      if (len === 0) return null;
      if (len <= PACKED_SET_MAX) {
        setRecordsBegin(len);
        for (let i = 0; i < len; i++) {
          const b = r.readBlobTransient();
          setRecordAdd(i, b.buf, b.start, b.end - b.start);
        }
        const s = setFromRecords(len, limits);
        if (s === null) throw fail('Duplicate set members detected');
        return s;
      }
      const members: string[] = [];
      for (let i = 0; i < len; i++) members.push(r.readString());
      const s = buildSet(members, limits);
      if (s === null) throw fail('Duplicate set members detected');
      return s;
    }

    case C.RDB_TYPE_ZSET:
    case C.RDB_TYPE_ZSET_2: {
      const len = r.readLen();
      if (len === 0) return null;
      const members: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < len; i++) {
        members.push(r.readString());
        const score = type === C.RDB_TYPE_ZSET_2 ? r.binaryDouble() : r.readTextDouble();
        if (Number.isNaN(score)) throw fail('Zset with NAN score detected');
        scores.push(score);
      }
      const z = buildZSet(members, scores, 'skiplist', limits);
      if (z === null) throw fail('Duplicate zset fields detected');
      return z;
    }

    case C.RDB_TYPE_HASH: {
      const len = r.readLen();
      if (len === 0) return null;
      const flat: string[] = [];
      for (let i = 0; i < len; i++) {
        flat.push(r.readString());
        flat.push(r.readString());
      }
      const h = buildHash(flat, 'hashtable', limits);
      if (h === null) throw fail('Duplicate hash fields detected');
      return h;
    }

    case C.RDB_TYPE_LIST_QUICKLIST:
    case C.RDB_TYPE_LIST_QUICKLIST_2: {
      const len = r.readLen();
      if (len === 0) return null;
      // a quicklist of listpack nodes only stays as those nodes until first used; else (ziplist
      // nodes, a PLAIN node) the elements go straight into packed pages: no string per element
      const l = listLoader();
      let nodes: string[] | null = type === C.RDB_TYPE_LIST_QUICKLIST_2 ? [] : null;
      // the nodes' element counts and bytes (quicklistAppendListpack per node): the list keeps
      // Redis's layout; null once a node is one the layout does not model (PLAIN, 1 GB elements)
      let ql: QuicklistLayout | null = new QuicklistLayout(limits.listFill);
      let elements = 0;
      for (let i = 0; i < len; i++) {
        let container = C.QUICKLIST_NODE_CONTAINER_PACKED;
        const nodeAt = r.offset;
        if (type === C.RDB_TYPE_LIST_QUICKLIST_2) {
          container = r.readLen();
          if (container !== C.QUICKLIST_NODE_CONTAINER_PACKED && container !== C.QUICKLIST_NODE_CONTAINER_PLAIN) {
            throw r.error('Quicklist integrity check failed.', nodeAt);
          }
        }
        const b = r.readBlobTransient();
        if (b.end === b.start) throw r.error('Quicklist integrity check failed: empty node', nodeAt);
        if (container === C.QUICKLIST_NODE_CONTAINER_PLAIN) {
          if (nodes !== null) {
            // the nodes so far go into pages, and the rest of the list with them
            for (const n of nodes) addPackedNode(l, n);
            nodes = null;
          }
          ql = null;
          l.addBytes(b.buf, b.start, b.end - b.start);
          continue;
        }
        if (type === C.RDB_TYPE_LIST_QUICKLIST_2) {
          const count = lpValidate(b.buf, b.start, b.end - b.start);
          if (count < 0) throw r.error('Listpack integrity check failed.', nodeAt);
          if (nodes === null) addListpackNode(l, b.buf, b.start, count);
          else if (count > 0) {
            nodes.push(b.buf.latin1Slice(b.start, b.end));
            ql?.appendNode(count, b.end - b.start);
            elements += count;
          }
          continue;
        }
        const els = zlDecode(b.buf, b.start, b.end - b.start);
        if (els === null) throw r.error('Ziplist integrity check failed.', nodeAt);
        addPacked(l, els);
        // Redis converts each ziplist into one listpack node (lpShrinkToFit, empty ones skipped):
        // the node keeps the ziplist's elements, in the bytes their listpack entries take
        if (els.length > 0 && ql !== null) ql = ziplistNode(ql, els);
      }
      let list: ListObject | null;
      if (nodes !== null) {
        l.start();
        list = nodes.length === 0 ? null : ListObject.fromPackedNodes(nodes, elements);
      } else {
        list = l.finish();
      }
      if (list !== null) list.ql = ql;
      return list;
    }

    case C.RDB_TYPE_HASH_ZIPMAP: {
      const b = r.readBlobTransient();
      const flat = zipmapDecode(b.buf, b.start, b.end - b.start);
      if (flat === null) throw fail('Zipmap integrity check failed.');
      const h = buildHash(flat, 'zipmap', limits);
      if (h === null) throw fail(`Hash zipmap with dup elements, or big length (${flat[0]!.length})`);
      return h;
    }

    case C.RDB_TYPE_LIST_ZIPLIST: {
      const b = r.readBlobTransient();
      const els = zlDecode(b.buf, b.start, b.end - b.start);
      if (els === null) throw fail('List ziplist integrity check failed.');
      if (els.length === 0) return null;
      const l = listLoader();
      addPacked(l, els);
      return l.finish();
    }

    case C.RDB_TYPE_SET_INTSET: {
      const b = r.readBlobTransient();
      const members = intsetDecode(b.buf, b.start, b.end - b.start);
      if (members === null) throw fail('Intset integrity check failed.');
      const s = buildSet(members, limits);
      if (s === null) throw fail('Intset integrity check failed.');
      return s;
    }

    case C.RDB_TYPE_ZSET_LISTPACK: {
      const b = r.readBlobTransient();
      const count = lpValidate(b.buf, b.start, b.end - b.start);
      if (count < 0 || count & 1) throw fail('Zset listpack integrity check failed.');
      if (count === 0) return null;
      // kept packed when that checks all the eager load would; else (or to report a duplicate) eager
      const z = packedZsetFromListpack(b.buf, b.start, b.end - b.start, count, limits) ?? zsetFromListpack(b.buf, b.start, b.end - b.start, count, limits);
      if (z === null) throw fail('Zset listpack integrity check failed.');
      return z;
    }

    case C.RDB_TYPE_ZSET_ZIPLIST: {
      const b = r.readBlobTransient();
      const els = zlDecode(b.buf, b.start, b.end - b.start);
      if (!checkPairs(els)) throw fail('Zset ziplist integrity check failed.');
      if (els.length === 0) return null;
      return zsetFromPairs(els, limits);
    }

    case C.RDB_TYPE_HASH_LISTPACK: {
      const b = r.readBlobTransient();
      const count = lpValidate(b.buf, b.start, b.end - b.start);
      if (count < 0 || count & 1) throw fail('Hash listpack integrity check failed.');
      if (count === 0) return null;
      if (count >> 1 <= limits.hashEntries) {
        // kept packed when that checks all the eager load would; else (or to report a duplicate) eager
        const h = packedHashFromListpack(b.buf, b.start, b.end - b.start, count) ?? hashFromListpack(b.buf, b.start, count);
        if (h === null) throw fail('Hash listpack integrity check failed.');
        return h;
      }
      // too many pairs for a listpack: a hashtable from the elements
      const els = lpDecode(b.buf, b.start, b.end - b.start)!;
      const h = buildHash(strings(els), 'listpack', limits);
      if (h === null) throw fail('Hash listpack integrity check failed.');
      return h;
    }

    case C.RDB_TYPE_HASH_ZIPLIST: {
      const b = r.readBlobTransient();
      const els = zlDecode(b.buf, b.start, b.end - b.start);
      if (!checkPairs(els)) throw fail('Hash ziplist integrity check failed.');
      if (els.length === 0) return null;
      const h = buildHash(strings(els), 'listpack', limits);
      if (h === null) throw fail('Hash listpack integrity check failed.');
      return h;
    }

    case C.RDB_TYPE_STREAM_LISTPACKS:
    case C.RDB_TYPE_STREAM_LISTPACKS_2:
      return loadStream(r, type);

    case C.RDB_TYPE_MODULE:
    case C.RDB_TYPE_MODULE_2: {
      const id = r.readLenBig();
      const name = moduleTypeNameById(id);
      if (type === C.RDB_TYPE_MODULE_2 && handlers?.moduleData) {
        skipModuleValue(r, name);
        handlers.moduleData('value', name, key);
        return '';
      }
      throw fail(`The RDB file contains module data I can't load: no matching module type '${name}' (Amber has no modules)`);
    }

    default:
      throw fail(`Unknown RDB encoding type ${type}`);
  }
}

/** An element as an int64 (lpGetIntegerIfValid), or null. */
function elementInt(e: PackedElement | undefined): bigint | null {
  if (e === undefined) return null;
  if (typeof e === 'number') return BigInt(e);
  if (typeof e === 'bigint') return e;
  const v = parseInteger(e);
  return v === null ? null : BigInt(v);
}

/**
 * Decodes the entries of one stream listpack node into `s`, validating the node's structure as
 * streamValidateListpackIntegrity does. Returns false when the node is not a valid stream node.
 */
function loadStreamNode(s: Stream, master: StreamID, els: PackedElement[], nodeInfo: StreamNode): boolean {
  let i = 0;
  const count = elementInt(els[i++]);
  const deleted = elementInt(els[i++]);
  const mfields = elementInt(els[i++]);
  if (count === null || deleted === null || mfields === null || count < 0n || deleted < 0n || mfields < 0n) return false;
  const nm = Number(mfields);
  if (i + nm > els.length) return false;
  const masterFields = strings(els.slice(i, i + nm));
  i += nm;
  if (elementInt(els[i++]) !== 0n) return false;
  nodeInfo.masterFields = masterFields;
  nodeInfo.count = Number(count);
  nodeInfo.deleted = Number(deleted);
  let masterBytes = lpElementSize(nm) + lpElementSize(0);
  for (const f of masterFields) masterBytes += lpElementSize(f);
  nodeInfo.masterBytes = masterBytes;
  let entries = count + deleted;
  while (entries-- > 0n) {
    if (i >= els.length) return false;
    const flags = elementInt(els[i++]);
    const msDiff = elementInt(els[i++]);
    const seqDiff = elementInt(els[i++]);
    if (flags === null || msDiff === null || seqDiff === null) return false;
    let fields = nm;
    let extra = 3;
    let fieldNames: string[] | null = null;
    let pairs = false;
    if (!(flags & BigInt(STREAM_ITEM_FLAG_SAMEFIELDS))) {
      const nf = elementInt(els[i++]);
      if (nf === null || nf < 0n) return false;
      fields = Number(nf);
      extra += fields + 1;
      pairs = true;
    } else {
      fieldNames = masterFields;
    }
    const nvals = pairs ? 2 * fields : fields;
    if (i + nvals > els.length) return false;
    const start = i;
    i += nvals;
    const lpCount = elementInt(els[i++]);
    if (lpCount === null || lpCount !== BigInt(fields + extra)) return false;
    const entryId: StreamID = { ms: BigInt.asUintN(64, master.ms + msDiff), seq: BigInt.asUintN(64, master.seq + seqDiff) };
    nodeInfo.lastKey = streamIdKey(entryId);
    const entry: string[] = new Array(2 * fields);
    if (pairs) {
      for (let j = 0; j < 2 * fields; j++) entry[j] = elementToString(els[start + j]!);
    } else {
      for (let j = 0; j < fields; j++) {
        entry[2 * j] = fieldNames![j]!;
        entry[2 * j + 1] = elementToString(els[start + j]!);
      }
    }
    if (flags & BigInt(STREAM_ITEM_FLAG_DELETED)) {
      // kept as the node's tombstone, so that it saves back as Redis saves it
      const t = nodeInfo.tombstones;
      if (t === null) nodeInfo.tombstones = [[nodeInfo.lastKey, entry]];
      else t.push([nodeInfo.lastKey, entry]);
      continue;
    }
    if (!s.entries.set(nodeInfo.lastKey, entry)) return false;
  }
  // a node's IDs ascend in a file Redis wrote; keep the tombstones in key order whatever the file
  nodeInfo.tombstones?.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return i === els.length;
}

const U64_MAX = 2n ** 64n - 1n;

function loadStream(r: RdbReader, type: number): Stream {
  const s = new Stream();
  // Redis's node layout as the file has it, tombstone counts included (see StreamLayout)
  const layout = new StreamLayout();
  const nodes = r.readLen();
  for (let n = 0; n < nodes; n++) {
    const at = r.offset;
    const nodekey = r.readBlob();
    if (nodekey.end - nodekey.start !== 16) throw r.error('Stream node key entry is not the size of a stream ID', at);
    const master: StreamID = { ms: nodekey.buf.readBigUInt64BE(nodekey.start), seq: nodekey.buf.readBigUInt64BE(nodekey.start + 8) };
    const lpAt = r.offset;
    const lp = r.readBlob();
    const els = lpDecode(lp.buf, lp.start, lp.end - lp.start);
    if (els === null || els.length === 0) throw r.error('Stream listpack integrity check failed.', lpAt);
    const masterKey = nodekey.buf.latin1Slice(nodekey.start, nodekey.end);
    const node: StreamNode = {
      masterKey, masterMs: master.ms, masterSeq: master.seq, masterFields: [], count: 0, deleted: 0,
      masterBytes: 0, entriesBytes: 0, lastKey: masterKey, tombstones: null,
    };
    if (!loadStreamNode(s, master, els, node)) throw r.error('Stream listpack integrity check failed.', lpAt);
    // the listpack's bytes less its header, counts, master entry and terminator (entriesBytes is 0 here)
    node.entriesBytes = lp.end - lp.start - streamNodeBytes(node);
    // a node of tombstones only (a MINID trim can leave one) stays, as it does in Redis
    if (node.count > 0 || node.deleted > 0) {
      layout.nodes.push(node);
      layout.live += node.count;
    }
  }
  layout.nodes.sort((a, b) => (a.masterKey < b.masterKey ? -1 : a.masterKey > b.masterKey ? 1 : 0));
  if (layout.live === s.length) s.layout = layout;
  r.readLen(); // s->length: recomputed from the entries
  s.lastId = { ms: r.readLenBig(), seq: r.readLenBig() };
  if (type === C.RDB_TYPE_STREAM_LISTPACKS_2) {
    s.firstId = { ms: r.readLenBig(), seq: r.readLenBig() };
    s.maxDeletedEntryId = { ms: r.readLenBig(), seq: r.readLenBig() };
    s.entriesAdded = Number(r.readLenBig());
  } else {
    s.maxDeletedEntryId = { ms: 0n, seq: 0n };
    s.entriesAdded = s.length;
    // streamGetEdgeID(s,1,1,&s->first_id): with no entry left, the highest ID there is
    if (s.entries.size === 0) s.firstId = { ...STREAM_ID_MAX };
    else s.updateFirstId();
  }
  const groups = r.readLen();
  for (let g = 0; g < groups; g++) {
    const gAt = r.offset;
    const name = r.readString();
    const lastId: StreamID = { ms: r.readLenBig(), seq: r.readLenBig() };
    let entriesRead: number;
    if (type === C.RDB_TYPE_STREAM_LISTPACKS_2) {
      const v = r.readLenBig();
      // saved with rdbSaveLen from a long long: -1 comes back as 2^64-1
      entriesRead = v === U64_MAX ? SCG_INVALID_ENTRIES_READ : Number(BigInt.asIntN(64, v));
    } else {
      entriesRead = s.estimateDistanceFromFirstEverEntry(lastId);
    }
    if (s.groups.has(name)) throw r.error(`Duplicated consumer group name ${name}`, gAt);
    const cg = new StreamCG(name, lastId, entriesRead);
    s.groups.set(name, cg);
    const pelSize = r.readLen();
    for (let i = 0; i < pelSize; i++) {
      const pAt = r.offset;
      const rawid = r.bytes(16).latin1Slice();
      const nack: StreamNACK = { deliveryTime: r.int64LE(), deliveryCount: r.readLen(), consumer: null };
      if (!cg.pel.set(rawid, nack)) throw r.error('Duplicated global PEL entry loading stream consumer group', pAt);
    }
    const consumers = r.readLen();
    for (let c = 0; c < consumers; c++) {
      const cAt = r.offset;
      const cname = r.readString();
      if (cg.consumers.has(cname)) throw r.error('Duplicate stream consumer detected.', cAt);
      const seen = r.int64LE();
      const consumer = new StreamConsumer(cname, seen, seen);
      cg.consumers.set(cname, consumer);
      const n = r.readLen();
      for (let i = 0; i < n; i++) {
        const pAt = r.offset;
        const rawid = r.bytes(16).latin1Slice();
        const nack = cg.pel.get(rawid);
        if (nack === undefined) throw r.error('Consumer entry not found in group global PEL', pAt);
        if (nack.consumer !== null || !consumer.pel.set(rawid, nack)) {
          throw r.error('Duplicated consumer PEL entry  loading a stream consumer group', pAt);
        }
        nack.consumer = consumer;
      }
    }
    for (const [, nack] of cg.pel.entries()) {
      if (nack.consumer === null) throw r.error('Stream CG PEL entry without consumer', gAt);
    }
  }
  return s;
}
