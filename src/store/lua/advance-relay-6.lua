--[[
  Moves a release's relay cursor past the events whose follow-ups are queued, and takes the release
  off the workspace's unrelayed set when no newer event came in meanwhile; the lease is given back
  then too. With newer events waiting, the holder keeps its lease and reads on. When the batch asked
  for a message sync, the release is noted as unsynced until a sync succeeds. The batch's keyed
  seals (computed by the relay, whose key never reaches Redis) are written here too, so sealing costs
  no round trip of its own; only when the newest seal is still the one the batch continued from (a
  relay that lost its lease to a faster one writes nothing).

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] the workspace's unrelayed set
  KEYS[4] the release's relay lease   KEYS[5] the workspace's unsynced set
  KEYS[6] the release's seals hash (event id -> "<key id>:<seal>")

  ARGV[1] release id   ARGV[2] id of the last event relayed ("" when there was none to relay)
  ARGV[3] lease holder   ARGV[4] when the sync was asked for (epoch ms), or "" when it was not
  ARGV[5] the newest seal the batch continued from ("" when none)   ARGV[6] the batch's newest seal
  ("<position>:<key id>:<seal>", or "" when it sealed nothing)   ARGV[7..] event id, seal pairs

  Output: 0 nothing left to relay | 1 newer events are waiting
]]
local function streamIdLess(a, b)
  local aMs, aSeq = string.match(a, '^(%d+)-(%d+)$')
  local bMs, bSeq = string.match(b, '^(%d+)-(%d+)$')
  aMs, aSeq, bMs, bSeq = tonumber(aMs), tonumber(aSeq), tonumber(bMs), tonumber(bSeq)
  return aMs < bMs or (aMs == bMs and aSeq < bSeq)
end

local function finish()
  redis.call('ZREM', KEYS[3], ARGV[1])
  if redis.call('GET', KEYS[4]) == ARGV[3] then
    redis.call('DEL', KEYS[4])
  end
  return 0
end

if redis.call('EXISTS', KEYS[1]) == 0 then
  -- Removed (retention): nothing of it is left to relay.
  return finish()
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[5], 'GT', ARGV[4], ARGV[1])
end
if ARGV[6] ~= '' and (redis.call('HGET', KEYS[1], 'sealed') or '') == ARGV[5] then
  redis.call('HSET', KEYS[6], unpack(ARGV, 7))
  redis.call('HSET', KEYS[1], 'sealed', ARGV[6])
end
local cursor = redis.call('HGET', KEYS[1], 'relayed')
-- A relay that lost its lease to a slower one must never move the cursor back.
if ARGV[2] ~= '' and (not cursor or streamIdLess(cursor, ARGV[2])) then
  redis.call('HSET', KEYS[1], 'relayed', ARGV[2])
  cursor = ARGV[2]
end
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if newest == nil or (cursor and not streamIdLess(cursor, newest[1])) then
  return finish()
end
return 1
