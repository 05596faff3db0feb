-- @include reply
-- @include release
--[[
  Starts rolling an active release back, with a reason (the header's button, /deploy rollback).

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] reason   ARGV[3] marker ttl (s)

  Output: {REPLY.APPLIED, rev, rolled back already 0|1}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local now = nowMs()
local rolledBack = startRollback(KEYS[1], KEYS[2], KEYS[3], KEYS[5], ARGV[1], ARGV[2], now)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[3]))
return {REPLY.APPLIED, rev, rolledBack}
