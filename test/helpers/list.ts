import assert from 'node:assert/strict';

/**
 * Parses consecutive RESP bulk strings (`$<len>\r\n<data>\r\n`...: ListObject.rangeReply's
 * output, a packed page) back into an array; asserts the framing.
 */
export function parseBulks(s: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < s.length) {
    assert.equal(s[pos], '$');
    const nl = s.indexOf('\r\n', pos);
    const n = Number(s.slice(pos + 1, nl));
    out.push(s.slice(nl + 2, nl + 2 + n));
    assert.equal(s.slice(nl + 2 + n, nl + 4 + n), '\r\n');
    pos = nl + 4 + n;
  }
  return out;
}
