-- @include reply
-- @include release
--[[
  Moves an active release's deploy window, on the record.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash (unused; kept
  for the shared layout)   KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] new window (epoch ms)   ARGV[3] the window's zone   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev} moved | {REPLY.UNCHANGED} already at that window
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local previous = redis.call('HGET', KEYS[1], 'windowAt')
if previous == ARGV[2] and redis.call('HGET', KEYS[1], 'windowZone') == ARGV[3] then
  redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
  return {REPLY.UNCHANGED}
end
local now = nowMs()
redis.call('HSET', KEYS[1], 'windowAt', ARGV[2], 'windowZone', ARGV[3])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'rescheduled', 'user', ARGV[1], 'at', now,
  'from', previous or 'none', 'to', ARGV[2], 'zone', ARGV[3]})
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev}
