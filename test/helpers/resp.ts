/**
 * Decoding of raw RESP2/RESP3 replies (as RawClient returns them) for tests that compare reply
 * structures rather than bytes.
 */

/** A decoded RESP2/RESP3 reply: aggregates as arrays (maps as [k, v, k, v...]), errors as {err}. */
export type Decoded = string | null | { err: string } | Decoded[];

/**
 * Decodes one raw reply: bulk, verbatim and simple strings as strings, integers and other
 * scalars as their type byte and text (':12'), null as null, errors as {err}, aggregates
 * (arrays, sets, pushes, maps as [k, v, k, v...]) as arrays.
 */
export function decode(raw: string): Decoded {
  return decodeAt(Buffer.from(raw, 'latin1'), 0)[0];
}
function decodeAt(buf: Buffer, pos: number): [Decoded, number] {
  const nl = buf.indexOf('\r\n', pos, 'latin1');
  const t = String.fromCharCode(buf[pos]!);
  const line = buf.latin1Slice(pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case '$': case '=': case '!': {
      const n = Number(line);
      if (n < 0) return [null, p];
      return [buf.latin1Slice(p, p + n), p + n + 2];
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(line);
      if (n < 0) return [null, p];
      if (t === '%' || t === '|') n *= 2;
      const out: Decoded[] = [];
      for (let i = 0; i < n; i++) {
        const [v, np] = decodeAt(buf, p);
        out.push(v);
        p = np;
      }
      return [out, p];
    }
    case '-': return [{ err: line }, p];
    case '_': return [null, p];
    default: return [t + line, p];
  }
}

/**
 * The commands of RESP AOF text (a `.aof` file or a part of one), as argv arrays. The text must
 * hold whole multibulk commands only (no `#TS:` annotations).
 */
export function respCommands(text: string): string[][] {
  const out: string[][] = [];
  let p = 0;
  while (p < text.length) {
    const nl = text.indexOf('\r\n', p);
    const n = Number(text.slice(p + 1, nl));
    p = nl + 2;
    const argv: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = text.indexOf('\r\n', p);
      const len = Number(text.slice(p + 1, l));
      argv.push(text.slice(l + 2, l + 2 + len));
      p = l + 4 + len;
    }
    out.push(argv);
  }
  return out;
}
