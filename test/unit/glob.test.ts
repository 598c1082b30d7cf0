/**
 * stringMatch against a table checked on redis-server 7.0.15: every subject below was SET as a
 * key and each pattern's expected matches are what `KEYS <pattern>` returned (generated once by a
 * script against redis-server; the compat test keys.test.ts re-checks KEYS live). The nocase
 * table comes from `COMMAND LIST FILTERBY PATTERN`, which matches case-insensitively.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringMatch } from '../../src/util/glob.js';

const SUBJECTS: string[] = ["", "a", "b", "c", "ab", "abc", "abcd", "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[llo", "h]llo", "h\\llo", "\\", "-", "^", "!", "]", "[", "A", "B", "Z", "z", "\u0080", "\u00ff", "5", "a-b", "foo:bar", "*", "?", "aaa", "a\\", "x[", "ba", "a]b", "]a", "-a", "a-", "aa", "aab", "zzz"];

/** [pattern, keys KEYS returned] */
const KEYS_TABLE: Array<[string, string[]]> = [
  ["**", ["!", "*", "-", "-a", "5", "?", "A", "B", "Z", "[", "\\", "]", "]a", "^", "a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "b", "ba", "c", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "z", "zzz", "\u0080", "\u00ff"]],
  ["?", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "a", "b", "c", "z", "\u0080", "\u00ff"]],
  ["??", ["-a", "]a", "a-", "a\\", "aa", "ab", "ba", "x["]],
  ["???", ["a-b", "a]b", "aaa", "aab", "abc", "zzz"]],
  ["h?llo", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hello", "hxllo"]],
  ["h*llo", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["h[ae]llo", ["hallo", "hello"]],
  ["h[^e]llo", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hxllo"]],
  ["h[a-b]llo", ["hallo"]],
  ["[a-c]", ["a", "b", "c"]],
  ["[c-a]", ["a", "b", "c"]],
  ["[a-]", ["]", "^", "a"]],
  ["[-a]", ["-", "a"]],
  ["[!a]", ["!", "a"]],
  ["!", ["!"]],
  ["[^]", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "a", "b", "c", "z", "\u0080", "\u00ff"]],
  ["[]", []],
  ["[", []],
  ["[\\", ["\\"]],
  ["\\", ["\\"]],
  ["\\*", ["*"]],
  ["h\\*llo", ["h*llo"]],
  ["[\\]]", ["]"]],
  ["[\\-]", ["-"]],
  ["[a\\-z]", ["-", "a", "z"]],
  ["*[", []],
  ["a*", ["a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd"]],
  ["*c", ["abc", "c"]],
  ["a*c", ["abc"]],
  ["*a*", ["-a", "]a", "a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "ba", "foo:bar", "hallo"]],
  ["[^a-c]", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "z", "\u0080", "\u00ff"]],
  ["[a-\u00ff]", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "a", "\u00ff"]],
  ["[\u0080-\u00ff]", ["\u0080", "\u00ff"]],
  ["[A-z]", ["A", "B", "Z", "[", "\\", "]", "^", "a", "b", "c", "z"]],
  ["[z-A]", ["A", "B", "Z", "[", "\\", "]", "^", "a", "b", "c", "z"]],
  ["?*", ["!", "*", "-", "-a", "5", "?", "A", "B", "Z", "[", "\\", "]", "]a", "^", "a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "b", "ba", "c", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "z", "zzz", "\u0080", "\u00ff"]],
  ["*?", ["!", "*", "-", "-a", "5", "?", "A", "B", "Z", "[", "\\", "]", "]a", "^", "a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "b", "ba", "c", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "z", "zzz", "\u0080", "\u00ff"]],
  ["a**", ["a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd"]],
  ["\\a", ["a"]],
  ["[a-b-c]", ["-", "a", "b", "c"]],
  ["[^", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "a", "b", "c", "z", "\u0080", "\u00ff"]],
  ["h*", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["[]a]", []],
  ["[a]b]", []],
  ["*\\", ["\\", "a\\"]],
  ["a\\", ["a\\"]],
  ["a\\\\", ["a\\"]],
  ["[\\\\]", ["\\"]],
  ["*b*", ["a-b", "a]b", "aab", "ab", "abc", "abcd", "b", "ba", "foo:bar"]],
  ["*a*b*", ["a-b", "a]b", "aab", "ab", "abc", "abcd"]],
  ["a*b*c*d", ["abcd"]],
  ["[a-c][a-c]", ["aa", "ab", "ba"]],
  ["[^a][^a]", ["x["]],
  ["*[a-]", ["-a", "]", "]a", "^", "a", "aa", "aaa", "ba"]],
  ["x[", []],
  ["x\\[", ["x["]],
  ["h[\\*]llo", ["h*llo"]],
  ["[^\\]]", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "^", "a", "b", "c", "z", "\u0080", "\u00ff"]],
  ["??*", ["-a", "]a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "ba", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "zzz"]],
  ["*??", ["-a", "]a", "a-", "a-b", "a\\", "a]b", "aa", "aaa", "aab", "ab", "abc", "abcd", "ba", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "zzz"]],
  ["*a", ["-a", "]a", "a", "aa", "aaa", "ba"]],
  ["[-]", ["-"]],
  ["[--]", ["-", "5", "?", "A", "B", "Z", "[", "\\", "]"]],
  ["[a-a]", ["a"]],
  ["*[^a]", ["!", "*", "-", "5", "?", "A", "B", "Z", "[", "\\", "]", "^", "a-", "a-b", "a\\", "a]b", "aab", "ab", "abc", "abcd", "b", "c", "foo:bar", "h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "x[", "z", "zzz", "\u0080", "\u00ff"]],
  ["\\\\", ["\\"]],
  ["a?", ["a-", "a\\", "aa", "ab"]],
  ["?b", ["ab"]],
  ["[abc", ["a", "b", "c"]],
  ["[a-", ["-", "a"]],
  ["[a-c", ["a", "b", "c"]],
  ["[\\a-c]", ["-", "a", "c"]],
  ["]", ["]"]],
  ["]*", ["]", "]a"]],
  ["*]", ["]"]],
  ["^*", ["^"]],
  ["foo:*", ["foo:bar"]],
  ["*:*", ["foo:bar"]],
  ["[f]oo:bar", ["foo:bar"]],
  ["h[a-z]*o", ["hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["h*[a-z]o", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["*l*o", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["*ll*", ["h*llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["*e*e*e*o", ["heeeello"]],
];

/** Command names of Redis 7.0.15's COMMAND LIST (lower-case, with container|sub). */
const COMMANDS: string[] = ["acl", "acl|cat", "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser", "acl|help", "acl|list", "acl|load", "acl|log", "acl|save", "acl|setuser", "acl|users", "acl|whoami", "append", "asking", "auth", "bgrewriteaof", "bgsave", "bitcount", "bitfield", "bitfield_ro", "bitop", "bitpos", "blmove", "blmpop", "blpop", "brpop", "brpoplpush", "bzmpop", "bzpopmax", "bzpopmin", "client", "client|caching", "client|getname", "client|getredir", "client|help", "client|id", "client|info", "client|kill", "client|list", "client|no-evict", "client|pause", "client|reply", "client|setname", "client|tracking", "client|trackinginfo", "client|unblock", "client|unpause", "cluster", "cluster|addslots", "cluster|addslotsrange", "cluster|bumpepoch", "cluster|count-failure-reports", "cluster|countkeysinslot", "cluster|delslots", "cluster|delslotsrange", "cluster|failover", "cluster|flushslots", "cluster|forget", "cluster|getkeysinslot", "cluster|help", "cluster|info", "cluster|keyslot", "cluster|links", "cluster|meet", "cluster|myid", "cluster|nodes", "cluster|replicas", "cluster|replicate", "cluster|reset", "cluster|saveconfig", "cluster|set-config-epoch", "cluster|setslot", "cluster|shards", "cluster|slaves", "cluster|slots", "command", "command|count", "command|docs", "command|getkeys", "command|getkeysandflags", "command|help", "command|info", "command|list", "config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set", "copy", "dbsize", "debug", "decr", "decrby", "del", "discard", "dump", "echo", "eval", "eval_ro", "evalsha", "evalsha_ro", "exec", "exists", "expire", "expireat", "expiretime", "failover", "fcall", "fcall_ro", "flushall", "flushdb", "function", "function|delete", "function|dump", "function|flush", "function|help", "function|kill", "function|list", "function|load", "function|restore", "function|stats", "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex", "getrange", "getset", "hdel", "hello", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hrandfield", "hscan", "hset", "hsetnx", "hstrlen", "hvals", "incr", "incrby", "incrbyfloat", "info", "keys", "lastsave", "latency", "latency|doctor", "latency|graph", "latency|help", "latency|histogram", "latency|history", "latency|latest", "latency|reset", "lcs", "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut", "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "memory", "memory|doctor", "memory|help", "memory|malloc-stats", "memory|purge", "memory|stats", "memory|usage", "mget", "migrate", "module", "module|help", "module|list", "module|load", "module|loadex", "module|unload", "monitor", "move", "mset", "msetnx", "multi", "object", "object|encoding", "object|freq", "object|help", "object|idletime", "object|refcount", "persist", "pexpire", "pexpireat", "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "ping", "psetex", "psubscribe", "psync", "pttl", "publish", "pubsub", "pubsub|channels", "pubsub|help", "pubsub|numpat", "pubsub|numsub", "pubsub|shardchannels", "pubsub|shardnumsub", "punsubscribe", "quit", "randomkey", "readonly", "readwrite", "rename", "renamenx", "replconf", "replicaof", "reset", "restore", "restore-asking", "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save", "scan", "scard", "script", "script|debug", "script|exists", "script|flush", "script|help", "script|kill", "script|load", "sdiff", "sdiffstore", "select", "set", "setbit", "setex", "setnx", "setrange", "shutdown", "sinter", "sintercard", "sinterstore", "sismember", "slaveof", "slowlog", "slowlog|get", "slowlog|help", "slowlog|len", "slowlog|reset", "smembers", "smismember", "smove", "sort", "sort_ro", "spop", "spublish", "srandmember", "srem", "sscan", "ssubscribe", "strlen", "subscribe", "substr", "sunion", "sunionstore", "sunsubscribe", "swapdb", "sync", "time", "touch", "ttl", "type", "unlink", "unsubscribe", "unwatch", "wait", "watch", "xack", "xadd", "xautoclaim", "xclaim", "xdel", "xgroup", "xgroup|create", "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|destroy", "xgroup|help", "xgroup|setid", "xinfo", "xinfo|consumers", "xinfo|groups", "xinfo|help", "xinfo|stream", "xlen", "xpending", "xrange", "xread", "xreadgroup", "xrevrange", "xsetid", "xtrim", "zadd", "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard", "zinterstore", "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange", "zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore", "zrevrank", "zscan", "zscore", "zunion", "zunionstore"];

/** [pattern, COMMAND LIST FILTERBY PATTERN result] (nocase matching) */
const NOCASE_TABLE: Array<[string, string[]]> = [
  ["GET", ["get"]],
  ["G?T", ["get"]],
  ["G*", ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex", "getrange", "getset"]],
  ["[F-H]ET", ["get"]],
  ["[^A-F]et", ["get", "set"]],
  ["*RANGE", ["cluster|addslotsrange", "cluster|delslotsrange", "getrange", "lrange", "setrange", "xrange", "xrevrange", "zrange", "zrevrange"]],
  ["z[A-D]*", ["zadd", "zcard", "zcount", "zdiff", "zdiffstore"]],
  ["[Z-X]ADD", ["xadd", "zadd"]],
  ["ge[S-U]", ["get"]],
  ["GE[^T]*", ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"]],
  ["*GET*", ["acl|getuser", "client|getname", "client|getredir", "cluster|forget", "cluster|getkeysinslot", "command|getkeys", "command|getkeysandflags", "config|get", "get", "getbit", "getdel", "getex", "getrange", "getset", "hget", "hgetall", "hmget", "mget", "slowlog|get"]],
  ["H[a-c]*", []],
  ["\\G*", ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex", "getrange", "getset"]],
  ["[g]ET", ["get"]],
];

test('glob: KEYS table from redis-server', () => {
  for (const [pattern, expected] of KEYS_TABLE) {
    const got = SUBJECTS.filter((s) => stringMatch(pattern, s)).sort();
    assert.deepEqual(got, [...expected].sort(), `pattern ${JSON.stringify(pattern)}`);
  }
});

test('glob: nocase table from COMMAND LIST FILTERBY PATTERN', () => {
  for (const [pattern, expected] of NOCASE_TABLE) {
    const got = COMMANDS.filter((s) => stringMatch(pattern, s, true)).sort();
    assert.deepEqual(got, [...expected].sort(), `pattern ${JSON.stringify(pattern)}`);
  }
});

test('glob: edge cases of the C code', () => {
  // "*" alone never matches the empty string in stringmatchlen (KEYS special-cases "*")
  assert.equal(stringMatch('*', ''), false);
  assert.equal(stringMatch('', ''), true);
  assert.equal(stringMatch('', 'a'), false);
  assert.equal(stringMatch('a*', 'a'), true);
  assert.equal(stringMatch('a**', 'a'), true);
  // signed chars: \xff sorts below 'a', so [a-\xff] is the range \xff..a
  assert.equal(stringMatch('[a-\xff]', '5'), true);
  assert.equal(stringMatch('[a-\xff]', 'b'), false);
  assert.equal(stringMatch('[\x80-\xff]', '\x90'), true);
  // nocase folds ASCII letters only
  assert.equal(stringMatch('HELLO', 'hello', true), true);
  assert.equal(stringMatch('HELLO', 'hello', false), false);
  assert.equal(stringMatch('[A-C]x', 'bX', true), true);
  assert.equal(stringMatch('\xc0', '\xe0', true), false);
  // NUL bytes in keys and patterns are ordinary chars
  assert.equal(stringMatch('a\x00b', 'a\x00b'), true);
  assert.equal(stringMatch('a?b', 'a\x00b'), true);
});

test('glob: more than 1000 nested stars give no match; abusive patterns stay fast', () => {
  const key = 'a'.repeat(1100);
  assert.equal(stringMatch('*a'.repeat(900), key), true);
  assert.equal(stringMatch('*a'.repeat(1100), key), false);
  const t0 = Date.now();
  assert.equal(stringMatch('a*'.repeat(50) + 'b', 'a'.repeat(5000)), false);
  assert.ok(Date.now() - t0 < 1000, 'pathological pattern took too long');
});
