import { RdbWriter, type RdbSaveOptions } from './encoder.js';

/**
 * The second half of an RDB encoder split in two: a writer with {@link RdbWriter.deferCompression}
 * produces the stream with its compressible strings raw and says where they are; this stage
 * compresses them by rdbSaveRawString's rule (LZF when it saves at least 4 bytes) and computes the
 * CRC-64 trailer, producing byte for byte what one writer with compression on would have written.
 * It carries the save's LZF and CRC work, so it can run on another thread (save-worker.ts) while
 * the main thread walks the keyspace.
 */
export class RdbLzfStage {
  private readonly w: RdbWriter;
  /** offset in the raw stream of the next chunk's first byte */
  private base = 0;

  /**
   * @param sink receives the final bytes in order
   * @param opts the save's real options (compression, checksum)
   */
  constructor(sink: (chunk: Buffer) => void, opts: RdbSaveOptions) {
    this.w = new RdbWriter(sink, opts);
  }

  /**
   * One raw chunk, and the triples [offset, header bytes, data bytes] of the deferred strings in
   * it (offsets in the raw stream, ascending; each string lies whole in this chunk).
   * @throws Error when a triple falls outside the chunk (the two halves disagree)
   */
  chunk(c: Buffer, triples: ArrayLike<number>): void {
    compressRaw(this.w, c, triples, this.base);
    this.base += c.length;
  }

  /**
   * One chunk compressed elsewhere by {@link compressChunk} (the main thread of a synchronous save
   * taking a share of the LZF work when this stage falls behind): its final bytes go out as they
   * are, into the CRC; `rawLength` is the raw chunk's length, so that the deferred strings of
   * later chunks are still found at their raw-stream offsets.
   */
  precompressed(c: Buffer, rawLength: number): void {
    this.w.bytes(c);
    this.base += rawLength;
  }

  /** The 8-byte checksum trailer (zero when rdbchecksum is off), after the EOF opcode; flushes. */
  end(): void {
    this.w.trailer();
  }
}


/**
 * Writes raw chunk `c` (raw-stream offset `base`) to `w`, compressing its deferred strings (the
 * [offset, header bytes, data bytes] triples) as rdbSaveRawString would.
 * @throws Error when a triple falls outside the chunk (the two halves disagree)
 */
function compressRaw(w: RdbWriter, c: Buffer, triples: ArrayLike<number>, base: number): void {
  let cur = 0;
  for (let i = 0; i < triples.length; i += 3) {
    const at = triples[i]! - base;
    const end = at + triples[i + 1]! + triples[i + 2]!;
    if (at < cur || end > c.length) throw new Error(`deferred string at stream offset ${triples[i]} is outside its chunk`);
    if (at > cur) w.bytes(c, cur, at);
    w.blob(c, at + triples[i + 1]!, end);
    cur = end;
  }
  if (cur < c.length) w.bytes(c, cur, c.length);
}

/**
 * The final bytes of one raw chunk of a deferred-compression writer (raw-stream offset `base`),
 * compressed on the calling thread by the same rule as {@link RdbLzfStage.chunk}; the stage takes
 * them with {@link RdbLzfStage.precompressed}, which keeps the CRC in stream order. The result
 * may view `c` (a raw run of 64 KB or more is not copied): hand it on before `c` is reused.
 * @throws Error when a triple falls outside the chunk
 */
export function compressChunk(c: Buffer, triples: ArrayLike<number>, base: number, opts: RdbSaveOptions): Buffer {
  const out: Buffer[] = [];
  const w = new RdbWriter((chunk) => out.push(chunk), { ...opts, checksum: false });
  compressRaw(w, c, triples, base);
  w.flush();
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}
