-- @include reply
-- @include release
--[[
  Snoozes one person's reminders for one phase until a time; the audit trail records it.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] applied-request marker

  ARGV[1] phase index   ARGV[2] user id   ARGV[3] until (epoch ms)   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[3])
if refusal then
  return refusal
end
local now = nowMs()
local field = 'snooze:' .. ARGV[1] .. ':' .. ARGV[2]
local previous = redis.call('HGET', KEYS[1], field) or 'none'
redis.call('HSET', KEYS[1], field, ARGV[3])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'reminder_snoozed', 'user', ARGV[2], 'at', now, 'phase', ARGV[1],
  'from', previous, 'to', ARGV[3]})
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev}
