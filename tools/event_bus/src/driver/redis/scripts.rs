//! The Lua scripts of the Redis driver.
//!
//! Each runs atomically on the server, which is what makes these steps
//! safe with several replicas racing: a consumer renews or releases only
//! entries it still owns (a plain `XCLAIM` would steal back an entry a
//! live replica has just taken over), a dead letter is replayed once, and
//! trimming sees one consistent view of every group.

use std::sync::LazyLock;

use redis::Script;

/// Re-claims entries for their current owner, only if it still owns them,
/// resetting their idle time (a lease renewal), and optionally setting it
/// (`IDLE`, to hand them over at once) and the delivery count
/// (`RETRYCOUNT`). Returns the ids it kept.
///
/// KEYS: stream. ARGV: group, consumer, idle ms or '', retry count or '', ids...
pub(super) static CLAIM_OWN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local kept = {}
for i = 5, #ARGV do
  local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #owned == 1 then
    local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i]}
    if ARGV[3] ~= '' then
      claim[#claim + 1] = 'IDLE'
      claim[#claim + 1] = ARGV[3]
    end
    if ARGV[4] ~= '' then
      claim[#claim + 1] = 'RETRYCOUNT'
      claim[#claim + 1] = ARGV[4]
    end
    claim[#claim + 1] = 'JUSTID'
    redis.call(unpack(claim))
    kept[#kept + 1] = ARGV[i]
  end
end
return kept
",
    )
});

/// Housekeeping of one group on one stream: forgets consumers of the group
/// that hold nothing and were silent for long (every process start adds
/// one), then trims the stream below the oldest entry some group still
/// needs (its oldest pending entry, or its last delivered one).
///
/// KEYS: stream. ARGV: group, idle ms after which an empty consumer is forgotten.
pub(super) static TIDY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function field(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
end
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if ok then
  for _, c in ipairs(consumers) do
    if field(c, 'pending') == 0 and field(c, 'idle') > tonumber(ARGV[2]) then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], field(c, 'name'))
    end
  end
end
local floor = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local needed = field(g, 'last-delivered-id')
  if field(g, 'pending') > 0 then
    needed = redis.call('XPENDING', KEYS[1], field(g, 'name'))[2]
  end
  if floor == nil or before(needed, floor) then floor = needed end
end
if floor == nil then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', floor)
",
    )
});

/// Moves a dead letter back to its group's stream, once: 1 done, 0 no
/// such letter (already replayed), -1 the group is gone from the stream.
/// The entry names its group, so the stream's other groups skip it.
///
/// KEYS: dead letters hash, stream. ARGV: letter id, group, envelope JSON.
pub(super) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local found = false
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
  for i = 1, #g, 2 do
    if g[i] == 'name' and g[i + 1] == ARGV[2] then found = true end
  end
end
if not found then return -1 end
redis.call('XADD', KEYS[2], '*', 'envelope', ARGV[3], 'group', ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
",
    )
});

/// Appends an envelope to its topic's stream unless its id was appended
/// within the window: the outbox relay's publish, which may repeat one.
/// Returns the entry id, or nil for a repeat (or a stream no group made).
///
/// KEYS: stream, the id's marker. ARGV: envelope, window ms.
pub(super) static XADD_ONCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], 'NOMKSTREAM', '*', 'envelope', ARGV[1])
end
return false
",
    )
});
