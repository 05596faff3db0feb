-- @include reply
-- @include release
--[[
  Clears a release's red flag with a note on what was done: ticks go on.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] note   ARGV[3] marker ttl (s)

  Output: {REPLY.APPLIED, rev, 0, flag number}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.NO_RED_FLAG} no red flag is up
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local raised = redis.call('HGET', KEYS[1], 'redFlag')
if not raised then
  return {REPLY.NO_RED_FLAG}
end
local now = nowMs()
local flag = cjson.decode(raised)
flag.clearedBy = ARGV[1]
flag.clearedAt = now
flag.clearNote = ARGV[2]
-- The last cleared flag stays readable, for the announcement that it was cleared.
redis.call('HSET', KEYS[1], 'lastRedFlag', cjson.encode(flag))
redis.call('HDEL', KEYS[1], 'redFlag')
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'red_flag_cleared', 'user', ARGV[1], 'at', now,
  'from', 'stopped', 'to', 'running', 'reason', ARGV[2], 'flag', flag.number})
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[3]))
return {REPLY.APPLIED, rev, 0, flag.number}
