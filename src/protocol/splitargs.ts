/**
 * Splits a line into arguments the way Redis's `sdssplitargs` (src/sds.c) does: used for inline
 * commands and for redis.conf lines.
 *
 * - Unquoted arguments end at a space, tab, CR, LF or NUL... as in sds.c (isspace).
 * - "double quoted" arguments understand \xHH, \n, \r, \t, \b, \a and \<any> as that char.
 * - 'single quoted' arguments understand only \'.
 * - A closing quote must be followed by whitespace or the end of the line.
 *
 * @param line the line, as a latin1 string (one char per byte)
 * @returns the arguments (latin1 strings), or null when quotes are unbalanced, as sdssplitargs
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let p = 0;
  const n = line.length;
  const isSpace = (c: string): boolean =>
    c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
  const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return out;
    let inq = false; // inside "double quotes"
    let insq = false; // inside 'single quotes'
    let done = false;
    let cur = '';
    while (!done) {
      const c = p < n ? line[p]! : '';
      if (inq) {
        if (c === '') return null; // unterminated quotes
        if (c === '\\' && line[p + 1] === 'x' && p + 3 < n + 0 && isHex(line[p + 2] ?? '') && isHex(line[p + 3] ?? '')) {
          cur += String.fromCharCode(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && p + 1 < n) {
          p++;
          const e = line[p]!;
          switch (e) {
            case 'n': cur += '\n'; break;
            case 'r': cur += '\r'; break;
            case 't': cur += '\t'; break;
            case 'b': cur += '\b'; break;
            case 'a': cur += '\x07'; break;
            default: cur += e;
          }
        } else if (c === '"') {
          // closing quote must be followed by a space or nothing at all
          if (p + 1 < n && !isSpace(line[p + 1]!)) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (c === '') return null;
        if (c === '\\' && line[p + 1] === "'") {
          p++;
          cur += "'";
        } else if (c === "'") {
          if (p + 1 < n && !isSpace(line[p + 1]!)) return null;
          done = true;
        } else {
          cur += c;
        }
      } else {
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '': case '\v': case '\f':
            done = true;
            break;
          case '"': inq = true; break;
          case "'": insq = true; break;
          default: cur += c;
        }
      }
      if (p < n) p++;
    }
    out.push(cur);
  }
}
