-- @include reply
-- @include release
--[[
  Overrides, for one active release, the freeze its environment is in: a release manager's decision
  with a reason, so that its deployment may go on inside the freeze. Kept on the release (who, when,
  why, which window and until when) and in the audit trail, which tells the stakeholders.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] reason   ARGV[3] the freeze window as configured
  ARGV[4] the end of the freeze (ms)   ARGV[5] marker ttl (s)

  Output: {REPLY.APPLIED, rev}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local now = nowMs()
redis.call('HSET', KEYS[1], 'freezeReason', ARGV[2], 'freezeWindow', ARGV[3], 'freezeEndsAt', ARGV[4],
  'freezeBy', ARGV[1], 'freezeAt', now)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'freeze_overridden', 'user', ARGV[1], 'at', now,
  'from', 'frozen', 'to', 'overridden', 'env', redis.call('HGET', KEYS[1], 'env'), 'reason', ARGV[2],
  'window', ARGV[4]})
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[5]))
return {REPLY.APPLIED, rev}
