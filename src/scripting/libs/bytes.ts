/**
 * A growing byte buffer for the libraries' outputs (strbuf_t of lua_cjson.c, mp_buf of
 * lua_cmsgpack.c, the luaL_Buffer of lua_struct.c): bytes are appended at `len`, the capacity
 * doubles when full.
 */
export class ByteBuffer {
  buf: Buffer;
  len = 0;

  /** @param initial the first capacity, bytes */
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** Appends one byte (0-255). */
  byte(v: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = v;
  }
}
