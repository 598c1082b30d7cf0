/**
 * Glob-style pattern matching exactly as Redis 7.0.15's stringmatchlen (src/util.c), used by
 * KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and the other pattern arguments.
 *
 * Syntax: `*` any run of chars, `?` any one char, `[abc]` a set, `[^abc]` its complement,
 * `[a-z]` a range (reversed ranges like `[z-a]` are swapped), `\x` a literal `x`, inside and
 * outside sets. Everything else (including `!`) is a literal.
 *
 * The quirks of the C code are kept on purpose, since clients observe them:
 * - the pattern is read as a NUL-terminated C string, so a read past its end sees 0;
 * - chars are C `char`, signed on x86: bytes 0x80..0xff compare below ASCII in ranges, so
 *   `[a-\xff]` is the range \xff..a;
 * - an unterminated set `[abc` matches like `[abc]` at the pattern's end;
 * - `*` never matches an empty remainder except at the pattern's end, so `**` does not match the
 *   empty key;
 * - more than 1000 nested `*` give no match (the CVE-2022-36021 guard of 7.0.9+), and a failed
 *   inner `*` stops the outer ones from retrying (skipLongerMatches), which keeps matching
 *   polynomial.
 *
 * Strings are latin1 (one char per byte). `nocase` folds only ASCII A-Z, as C's tolower.
 */
export function stringMatch(pattern: string, str: string, nocase = false): boolean {
  skipLonger = false;
  return matchImpl(pattern, 0, pattern.length, str, 0, str.length, nocase, 0);
}

/** Shared skipLongerMatches flag of one top-level call (the C code passes a pointer). */
let skipLonger = false;

/** Signed C char of the pattern at `i`, or 0 past its end (the NUL terminator). */
function pch(p: string, i: number): number {
  if (i >= p.length) return 0;
  const c = p.charCodeAt(i);
  return c > 127 ? c - 256 : c;
}

/** Signed C char of the subject at `i`; the subject is also NUL-terminated in Redis (sds). */
function sch(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c > 127 ? c - 256 : c;
}

/** C tolower in the "C" locale: only A-Z change. */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchImpl(
  pat: string, p: number, plen: number,
  str: string, s: number, slen: number,
  nocase: boolean, nesting: number,
): boolean {
  // Protection against abusive patterns.
  if (nesting > 1000) return false;

  while (plen !== 0 && slen !== 0) {
    const pc = pch(pat, p);
    switch (pc) {
      case 42: { // '*'
        while (plen !== 0 && pch(pat, p + 1) === 42) {
          p++;
          plen--;
        }
        if (plen === 1) return true;
        while (slen !== 0) {
          if (matchImpl(pat, p + 1, plen - 1, str, s, slen, nocase, nesting + 1)) return true;
          if (skipLonger) return false;
          s++;
          slen--;
        }
        // No match for the rest of the pattern from anywhere in the rest of the string: the
        // enclosing stars cannot do better by matching longer prefixes.
        skipLonger = true;
        return false;
      }
      case 63: // '?'
        s++;
        slen--;
        break;
      case 91: { // '['
        p++;
        plen--;
        const not = pch(pat, p) === 94; // '^'
        if (not) {
          p++;
          plen--;
        }
        let match = false;
        for (;;) {
          const c0 = pch(pat, p);
          if (c0 === 92 && plen >= 2) { // '\\'
            p++;
            plen--;
            if (pch(pat, p) === sch(str, s)) match = true;
          } else if (c0 === 93) { // ']'
            break;
          } else if (plen === 0) {
            p--;
            plen++;
            break;
          } else if (plen >= 3 && pch(pat, p + 1) === 45) { // '-'
            let start = c0;
            let end = pch(pat, p + 2);
            let c = sch(str, s);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            p += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (!nocase) {
            if (c0 === sch(str, s)) match = true;
          } else if (lower(c0) === lower(sch(str, s))) {
            match = true;
          }
          p++;
          plen--;
        }
        if (not) match = !match;
        if (!match) return false;
        s++;
        slen--;
        break;
      }
      default: {
        if (pc === 92 && plen >= 2) { // '\\' escapes the next char
          p++;
          plen--;
        }
        const a = pch(pat, p);
        const b = sch(str, s);
        if (nocase ? lower(a) !== lower(b) : a !== b) return false;
        s++;
        slen--;
        break;
      }
    }
    p++;
    plen--;
    if (slen === 0) {
      while (pch(pat, p) === 42) {
        p++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}
