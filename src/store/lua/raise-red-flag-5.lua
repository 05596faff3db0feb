-- @include reply
-- @include release
--[[
  Raises a red flag on an active release: it stops every tick until someone clears it.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] stop condition   ARGV[3] note   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev, 0, flag number}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.RED_FLAG_UP, who raised it} a red flag is up already
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local current = redis.call('HGET', KEYS[1], 'redFlag')
if current then
  return {REPLY.RED_FLAG_UP, cjson.decode(current).by}
end
local now = nowMs()
local number = redis.call('HINCRBY', KEYS[1], 'redFlags', 1)
redis.call('HSET', KEYS[1], 'redFlag',
  cjson.encode({number = number, by = ARGV[1], at = now, condition = ARGV[2], note = ARGV[3]}))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'red_flag_raised', 'user', ARGV[1], 'at', now,
  'from', 'running', 'to', 'stopped', 'reason', ARGV[2] .. ': ' .. ARGV[3], 'flag', number})
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev, 0, number}
