-- Shared by the release scripts.

-- Refuses a request that was applied already or a release that is missing or not active: the reply
-- to return, or nil to go on.
local function refuseUnlessActive(metaKey, appliedKey)
  if redis.call('EXISTS', appliedKey) == 1 then
    return {-1}
  end
  local status = redis.call('HGET', metaKey, 'status')
  if not status then
    return {-2}
  end
  if status ~= 'active' then
    return {-3, status}
  end
  return nil
end

-- The gating rule (same as src/domain/release.ts findBlockingPhase).
-- A phase is locked while an earlier phase, at or after the latest override before it, has open
-- required items. Phase indexes are 0-based; asking for index == phase count asks whether the
-- whole release is done.
local function gateFloor(metaKey, phaseIndex)
  for candidate = phaseIndex, 1, -1 do
    if redis.call('HEXISTS', metaKey, 'ovr:' .. candidate) == 1 then
      return candidate
    end
  end
  return 0
end

local function findBlockingPhase(metaKey, phaseIndex)
  for earlier = gateFloor(metaKey, phaseIndex), phaseIndex - 1 do
    if tonumber(redis.call('HGET', metaKey, 'open:' .. earlier) or '0') > 0 then
      return earlier
    end
  end
  return nil
end

local function nowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- Completes the release when the gate after its last phase is open. Returns 1 when it did.
local function completeIfDone(metaKey, auditKey, activeKey, userId, now)
  local phaseCount = tonumber(redis.call('HGET', metaKey, 'phases'))
  if findBlockingPhase(metaKey, phaseCount) ~= nil then
    return 0
  end
  redis.call('HSET', metaKey, 'status', 'completed', 'finishedAt', now, 'finishedBy', userId)
  local activeField = redis.call('HGET', metaKey, 'activeField')
  if redis.call('HGET', activeKey, activeField) == redis.call('HGET', metaKey, 'id') then
    redis.call('HDEL', activeKey, activeField)
  end
  redis.call('XADD', auditKey, '*', 'type', 'completed', 'user', userId, 'at', now,
    'from', 'active', 'to', 'completed')
  return 1
end
