-- @include reply
-- @include release
--[[
  Cancels an active release with a reason and frees its version and environment.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] reason   ARGV[3] marker ttl (s)
  ARGV[4] where to confirm the cancellation to its author (a response_url), or ""

  Output: {REPLY.APPLIED, rev} cancelled
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local now = nowMs()
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finishedAt', now, 'finishedBy', ARGV[1],
  'cancelReason', ARGV[2])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
releaseActiveSlot(KEYS[1], KEYS[3], KEYS[5])
-- Kept beside the event, not in it: the URL is a capability and must stay out of the record.
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'cancelReplyUrl', ARGV[4])
end
appendAudit(KEYS[1], KEYS[2], {'type', 'cancelled', 'user', ARGV[1], 'at', now,
  'from', 'active', 'to', 'cancelled', 'reason', ARGV[2]})
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[3]))
return {REPLY.APPLIED, rev}
