-- @include release
--[[
  Unlocks a locked phase with a written reason: the phases before it stop gating it and the phases
  after it. Recorded in the release (ovr:<phase>) and in the audit trail.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] phase index   ARGV[2] user id   ARGV[3] reason   ARGV[4] marker ttl (s)

  Output: {1, rev, completed 0|1} applied | {-1} request already applied | {-2} no such release
          | {-3, status} release not active | {-6} the phase is not locked | {-7} no such phase
          | {-16, who raised it} a red flag stops the release
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local redFlag = redis.call('HGET', KEYS[1], 'redFlag')
if redFlag then
  return {-16, cjson.decode(redFlag).by}
end
local phaseIndex = tonumber(ARGV[1])
local phaseCount = tonumber(redis.call('HGET', KEYS[1], 'phases'))
if phaseIndex == nil or phaseIndex < 1 or phaseIndex >= phaseCount then
  return {-7}
end
local blocking = findBlockingPhase(KEYS[1], phaseIndex)
if blocking == nil then
  return {-6}
end

local now = nowMs()
redis.call('HSET', KEYS[1], 'ovr:' .. phaseIndex, cjson.encode({by = ARGV[2], at = now, reason = ARGV[3]}))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'gate_overridden', 'user', ARGV[2], 'at', now,
  'phase', phaseIndex, 'from', 'locked', 'to', 'open', 'reason', ARGV[3], 'blocking', blocking})
local completed = completeIfDone(KEYS[1], KEYS[2], KEYS[3], KEYS[5], ARGV[2], now)
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {1, rev, completed}
