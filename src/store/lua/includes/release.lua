-- @include reply
-- Shared by the release scripts.

-- A stream field as text, the way both the stream and the hash chain see it (integers without an
-- exponent: 1732000000000, not 1.732e+12).
local function auditField(value)
  if type(value) == 'number' and value == math.floor(value) then
    return string.format('%d', value)
  end
  return tostring(value)
end

-- Notes that the release has audit events whose follow-ups are not queued yet (src/app/relay.ts).
-- The set is the workspace's "<prefix>:{team}:relay", derived from the meta key
-- "<prefix>:{team}:release:<id>": every script that appends an event would otherwise need one more
-- declared key, and both share the {team} hash slot. The score is the time part of the oldest
-- unrelayed event's id; the relay starts there for a release that has no cursor yet.
local function markUnrelayed(metaKey, eventId)
  local base, releaseId = string.match(metaKey, '^(.*):release:([^:]+)$')
  redis.call('ZADD', base .. ':relay', 'NX', string.match(eventId, '^(%d+)'), releaseId)
end

-- The next event's sequence number: one past the last event's, counting from 1. A trail from before
-- sequence numbers continues from its length, the position verify numbers such events by.
local function nextAuditSeq(auditKey)
  local last = redis.call('XREVRANGE', auditKey, '+', '-', 'COUNT', 1)[1]
  if last then
    local fields = last[2]
    for index = 1, #fields, 2 do
      if fields[index] == 'seq' then
        return tonumber(fields[index + 1]) + 1
      end
    end
  end
  return redis.call('XLEN', auditKey) + 1
end

-- Appends an audit event (a flat list of field, value pairs) with its sequence number ("seq"). Each
-- event carries the hash of the one before it ("prev") and a hash over its own fields and that
-- ("hash"); the release keeps the latest hash ("auditHead"). Editing, deleting or reordering stored
-- events breaks the chain, which src/domain/audit-chain.ts checks with the same rule. The keyed seals
-- over it are the relay's (advance-relay-6.lua): the key never reaches Redis.
local function appendAudit(metaKey, auditKey, list)
  local prev = redis.call('HGET', metaKey, 'auditHead') or ''
  local fields = {}
  local canonical = {}
  local seq = auditField(nextAuditSeq(auditKey))
  for index = 1, #list + 2, 2 do
    local name = list[index] and auditField(list[index]) or 'seq'
    local value = list[index] and auditField(list[index + 1]) or seq
    table.insert(fields, name)
    table.insert(fields, value)
    table.insert(canonical, #name .. ':' .. name .. '=' .. #value .. ':' .. value)
  end
  local hash = redis.sha1hex(prev .. '\n' .. table.concat(canonical, '\n'))
  table.insert(fields, 'prev')
  table.insert(fields, prev)
  table.insert(fields, 'hash')
  table.insert(fields, hash)
  redis.call('HSET', metaKey, 'auditHead', hash)
  local id = redis.call('XADD', auditKey, '*', unpack(fields))
  markUnrelayed(metaKey, id)
  return id
end

-- Refuses a request that was applied already or a release that is missing or not active: the reply
-- to return ({REPLY.REPLAYED} | {REPLY.NOT_FOUND} | {REPLY.CLOSED, status}), or nil to go on.
local function refuseUnlessActive(metaKey, appliedKey)
  if redis.call('EXISTS', appliedKey) == 1 then
    return {REPLY.REPLAYED}
  end
  local status = redis.call('HGET', metaKey, 'status')
  if not status then
    return {REPLY.NOT_FOUND}
  end
  if status ~= 'active' then
    return {REPLY.CLOSED, status}
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

-- Frees the release's version and environment for a new release, and its environment lock if it
-- holds it.
local function releaseActiveSlot(metaKey, activeKey, locksKey)
  local id = redis.call('HGET', metaKey, 'id')
  local activeField = redis.call('HGET', metaKey, 'activeField')
  if redis.call('HGET', activeKey, activeField) == id then
    redis.call('HDEL', activeKey, activeField)
  end
  local env = redis.call('HGET', metaKey, 'env')
  local lock = redis.call('HGET', locksKey, env)
  if lock and cjson.decode(lock).releaseId == id then
    redis.call('HDEL', locksKey, env)
  end
end

-- Takes the release's environment lock when it starts deploying. A lock held by a release that is
-- gone or finished is taken over (it can never stay stuck). The holder's meta key shares this one's
-- hash slot ({team}); it is derived, since which release holds the lock is only known here.
-- Returns nil when the release holds the lock (now or already), else the holder's id.
local function acquireEnvLock(metaKey, auditKey, locksKey, userId, now)
  local id = redis.call('HGET', metaKey, 'id')
  local env = redis.call('HGET', metaKey, 'env')
  local current = redis.call('HGET', locksKey, env)
  local previous = nil
  if current then
    local holder = cjson.decode(current)
    if holder.releaseId == id then
      return nil
    end
    local holderMeta = string.sub(metaKey, 1, #metaKey - #id) .. holder.releaseId
    local holderStatus = redis.call('HGET', holderMeta, 'status')
    -- A release rolling back still holds its environment: the rollback is a deploy too.
    if holderStatus == 'active' or holderStatus == 'rolling_back' then
      return holder.releaseId
    end
    previous = holder.releaseId
  end
  redis.call('HSET', locksKey, env, cjson.encode({releaseId = id, since = now, by = userId,
    version = redis.call('HGET', metaKey, 'version')}))
  redis.call('HSET', metaKey, 'lockedAt', now)
  local event = {'type', 'locked', 'user', userId, 'at', now, 'from', previous or 'free', 'to', 'held', 'env', env}
  appendAudit(metaKey, auditKey, event)
  return nil
end

-- Completes the release when the gate after its last phase is open and no post-deploy monitoring
-- window is still open. Returns 1 when it did.
local function completeIfDone(metaKey, auditKey, activeKey, locksKey, userId, now)
  local phaseCount = tonumber(redis.call('HGET', metaKey, 'phases'))
  if findBlockingPhase(metaKey, phaseCount) ~= nil then
    return 0
  end
  if redis.call('HGET', metaKey, 'monitoring') == 'open' then
    return 0
  end
  redis.call('HSET', metaKey, 'status', 'completed', 'finishedAt', now, 'finishedBy', userId)
  releaseActiveSlot(metaKey, activeKey, locksKey)
  appendAudit(metaKey, auditKey, {'type', 'completed', 'user', userId, 'at', now,
    'from', 'active', 'to', 'completed'})
  return 1
end

-- Marks the release deployed when its deployment phase has just been done, and opens the post-deploy
-- monitoring window with the planned check-ins (checkin:<k> = {dueAt}). Once deployed it stays so.
-- Returns 1 when it did.
local function markDeployedIfDone(metaKey, auditKey, phaseIndex, userId, now)
  local deployPhase = redis.call('HGET', metaKey, 'deployPhase')
  if not deployPhase or tonumber(deployPhase) ~= phaseIndex then
    return 0
  end
  if redis.call('HEXISTS', metaKey, 'deployedAt') == 1 then
    return 0
  end
  if tonumber(redis.call('HGET', metaKey, 'open:' .. phaseIndex) or '0') > 0 then
    return 0
  end
  local plan = cjson.decode(redis.call('HGET', metaKey, 'checkinPlan') or '[]')
  local fields = {'deployedAt', now, 'deployedBy', userId}
  if #plan > 0 then
    table.insert(fields, 'monitoring')
    table.insert(fields, 'open')
    table.insert(fields, 'checkins')
    table.insert(fields, #plan)
    for k, offset in ipairs(plan) do
      table.insert(fields, 'checkin:' .. (k - 1))
      table.insert(fields, cjson.encode({dueAt = now + offset}))
    end
  end
  redis.call('HSET', metaKey, unpack(fields))
  appendAudit(metaKey, auditKey, {'type', 'deployed', 'user', userId, 'at', now, 'phase', phaseIndex,
    'from', 'pending', 'to', 'deployed', 'checkins', #plan})
  return 1
end

-- Closes the monitoring window and completes the release if nothing else holds it open.
-- Returns completed 0|1.
local function closeMonitoring(metaKey, auditKey, activeKey, locksKey, userId, now)
  redis.call('HSET', metaKey, 'monitoring', 'closed', 'monitoringClosedAt', now)
  appendAudit(metaKey, auditKey, {'type', 'monitoring_closed', 'user', userId, 'at', now,
    'from', 'open', 'to', 'closed'})
  return completeIfDone(metaKey, auditKey, activeKey, locksKey, userId, now)
end

local function readJsonField(metaKey, field)
  local raw = redis.call('HGET', metaKey, field)
  if not raw then
    return nil
  end
  return cjson.decode(raw)
end

-- Starts rolling the release back. With a rollback checklist, the release is rolling_back until its
-- required items are done; without one it is rolled back at once (and frees its slot and lock).
-- Either way the monitoring window closes. Returns 1 when the release is rolled back already.
local function startRollback(metaKey, auditKey, activeKey, locksKey, userId, reason, now)
  local fields = {'rollbackBy', userId, 'rollbackAt', now, 'cancelReason', reason}
  if redis.call('HGET', metaKey, 'monitoring') == 'open' then
    table.insert(fields, 'monitoring')
    table.insert(fields, 'closed')
    table.insert(fields, 'monitoringClosedAt')
    table.insert(fields, now)
  end
  local rollbackPhase = redis.call('HGET', metaKey, 'rollbackPhase')
  local open = rollbackPhase and tonumber(redis.call('HGET', metaKey, 'open:' .. rollbackPhase) or '0') or 0
  if open > 0 then
    table.insert(fields, 'status')
    table.insert(fields, 'rolling_back')
    redis.call('HSET', metaKey, unpack(fields))
    appendAudit(metaKey, auditKey, {'type', 'rollback_started', 'user', userId, 'at', now,
      'from', 'active', 'to', 'rolling_back', 'reason', reason})
    return 0
  end
  for _, value in ipairs({'status', 'rolled_back', 'finishedAt', now, 'finishedBy', userId}) do
    table.insert(fields, value)
  end
  redis.call('HSET', metaKey, unpack(fields))
  releaseActiveSlot(metaKey, activeKey, locksKey)
  appendAudit(metaKey, auditKey, {'type', 'rolled_back', 'user', userId, 'at', now,
    'from', 'active', 'to', 'rolled_back', 'reason', reason})
  return 1
end

-- Ends a rollback whose checklist is done: the release is rolled back, its slot and lock freed.
local function finishRollback(metaKey, auditKey, activeKey, locksKey, userId, now)
  redis.call('HSET', metaKey, 'status', 'rolled_back', 'finishedAt', now, 'finishedBy', userId)
  releaseActiveSlot(metaKey, activeKey, locksKey)
  appendAudit(metaKey, auditKey, {'type', 'rolled_back', 'user', userId, 'at', now,
    'from', 'rolling_back', 'to', 'rolled_back', 'reason', redis.call('HGET', metaKey, 'cancelReason') or ''})
end
