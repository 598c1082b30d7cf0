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
    const w = this.w;
    let cur = 0;
    for (let i = 0; i < triples.length; i += 3) {
      const at = triples[i]! - this.base;
      const end = at + triples[i + 1]! + triples[i + 2]!;
      if (at < cur || end > c.length) throw new Error(`deferred string at stream offset ${triples[i]} is outside its chunk`);
      if (at > cur) w.bytes(c, cur, at);
      w.blob(c, at + triples[i + 1]!, end);
      cur = end;
    }
    if (cur < c.length) w.bytes(c, cur, c.length);
    this.base += c.length;
  }

  /** The 8-byte checksum trailer (zero when rdbchecksum is off), after the EOF opcode; flushes. */
  end(): void {
    this.w.trailer();
  }
}

