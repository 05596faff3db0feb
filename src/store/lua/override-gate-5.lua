-- @include reply
-- @include release
--[[
  Unlocks a locked phase with a written reason: the phases before it stop gating it and the phases
  after it. Recorded in the release (ovr:<phase>) and in the audit trail.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] phase index   ARGV[2] user id   ARGV[3] reason   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev, completed 0|1}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.NOT_LOCKED} the phase is not locked | {REPLY.UNKNOWN_PHASE} no such phase
          | {REPLY.RED_FLAG, who raised it} a red flag stops the release
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local redFlag = redis.call('HGET', KEYS[1], 'redFlag')
if redFlag then
  return {REPLY.RED_FLAG, cjson.decode(redFlag).by}
end
local phaseIndex = tonumber(ARGV[1])
local phaseCount = tonumber(redis.call('HGET', KEYS[1], 'phases'))
if phaseIndex == nil or phaseIndex < 1 or phaseIndex >= phaseCount then
  return {REPLY.UNKNOWN_PHASE}
end
local blocking = findBlockingPhase(KEYS[1], phaseIndex)
if blocking == nil then
  return {REPLY.NOT_LOCKED}
end

local now = nowMs()
redis.call('HSET', KEYS[1], 'ovr:' .. phaseIndex, cjson.encode({by = ARGV[2], at = now, reason = ARGV[3]}))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'gate_overridden', 'user', ARGV[2], 'at', now,
  'phase', phaseIndex, 'from', 'locked', 'to', 'open', 'reason', ARGV[3], 'blocking', blocking})
local completed = completeIfDone(KEYS[1], KEYS[2], KEYS[3], KEYS[5], ARGV[2], now)
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev, completed}
