//! The Lua scripts the Redis tier runs: each one step on the server (atomic), so replicas
//! never see half of it.

/// Extends a lock only while `token` still owns it.
pub(super) const RENEW: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                     return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/// Takes a turn in a queue of paced turns by the server's clock (shared by replicas):
/// ARGV = interval ms, max wait ms (-1: any), ttl ms, the ticket's nonce.
///
/// The queue is a sorted set of turns (score: start in ms; member: `start:length:nonce`);
/// turns over are dropped, and the new one takes the first gap from now that fits it (see
/// `pacing::place`, which this mirrors). Returns `{wait, start}`, or `{-1, 0}` past `max_wait`.
pub(super) const TAKE_TURN: &str = "local t = redis.call('time') \
                         local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
                         local len = tonumber(ARGV[1]) \
                         local maxw = tonumber(ARGV[2]) \
                         local turns = redis.call('zrange', KEYS[1], 0, -1, 'withscores') \
                         local start = now \
                         local placed = false \
                         for i = 1, #turns, 2 do \
                           local m = turns[i] \
                           local s = tonumber(turns[i + 1]) \
                           local l = tonumber(string.match(m, '^%d+:(%d+):') or '0') \
                           if s + l <= now then redis.call('zrem', KEYS[1], m) \
                           elseif not placed and s + l > start then \
                             if start + len <= s then placed = true else start = s + l end \
                           end \
                         end \
                         if maxw >= 0 and start - now > maxw then return {-1, 0} end \
                         if len > 0 then \
                           redis.call('zadd', KEYS[1], start, string.format('%d:%d:%s', start, len, ARGV[4])) \
                           if redis.call('pttl', KEYS[1]) < tonumber(ARGV[3]) then \
                             redis.call('pexpire', KEYS[1], ARGV[3]) \
                           end \
                         end \
                         return {start - now, start}";
/// Deletes a lock only while `token` still owns it.
pub(super) const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                      return redis.call('del', KEYS[1]) else return 0 end";

/// A miss's read-and-lock: the value, or (only when there is none) the lock taken for
/// ARGV[1] for ARGV[2] ms. Returns `{1, value}`, `{2, ''}` (locked) or `{3, ''}` (held).
pub(super) const READ_OR_LOCK: &str = "local v = redis.call('get', KEYS[1]) \
                            if v then return {1, v} end \
                            if redis.call('set', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then \
                              return {2, ''} end \
                            return {3, ''}";
/// A miss's store: the value stored (ARGV[1] for ARGV[2] ms), the lock released
/// if token ARGV[3] (empty: none) holds it, channel ARGV[4] told. The lock is released and
/// the channel told even when the write is refused (OOM); the refusal is the reply.
pub(super) const STORE_AND_UNLOCK: &str = "local ok = redis.pcall('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) \
                                if ARGV[3] ~= '' and redis.call('get', KEYS[2]) == ARGV[3] then \
                                  redis.call('del', KEYS[2]) end \
                                redis.call('publish', ARGV[4], '1') \
                                if type(ok) == 'table' and ok.err then return ok end \
                                return 1";

/// The scripts a miss runs, sent by digest (`EVALSHA`) and by text only to a server that
/// does not have them yet.
pub(super) struct Scripts {
    pub(super) read_or_lock: redis::Script,
    pub(super) store_and_unlock: redis::Script,
}

impl Default for Scripts {
    fn default() -> Self {
        Self {
            read_or_lock: redis::Script::new(READ_OR_LOCK),
            store_and_unlock: redis::Script::new(STORE_AND_UNLOCK),
        }
    }
}
