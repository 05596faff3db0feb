-- @include reply
-- @include release
--[[
  Sets one item to done or not done and appends the audit event, together. Setting (not toggling)
  makes a repeated click harmless; the applied-request marker makes a retried click a no-op even
  when someone else changed the item in between.

  KEYS[1] release meta hash   KEYS[2] release index hash   KEYS[3] release items hash
  KEYS[4] release audit stream   KEYS[5] active releases hash   KEYS[6] applied-request marker
  KEYS[7] environment locks hash   KEYS[8] pending clicks set   KEYS[9] pending click details hash

  ARGV[1] item id   ARGV[2] "1" done / "0" not done   ARGV[3] user id   ARGV[4] marker ttl (s)
  ARGV[5] click id (the request id)   ARGV[6] the value recorded with a tick, checked already ("" none)
  ARGV[7] evidence link of a pipeline's change ("" none)   ARGV[8] its one-line summary ("" none)

  Output: {REPLY.APPLIED, rev, completed 0|1 (or, for a rollback item, rolled back), deployed 0|1,
          phase done 0|1, phase reopened 0|1} | {REPLY.UNCHANGED} already in that state
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.LOCKED, blocking phase index} locked | {REPLY.UNKNOWN_ITEM} no such item
          | {REPLY.ENV_LOCKED, holder release id} the environment is held by another release
          | {REPLY.RED_FLAG, who raised it} a red flag stops the release
          | {REPLY.AWAITING_GO} waiting for the go decision
          | {REPLY.VALUE_REQUIRED} a tick of this item must carry a value
]]
-- Whatever the outcome, the click is no longer pending: nobody is told it was lost. A click already
-- given up as lost (its marker says "abandoned") is not applied now; its person was told.
redis.call('ZREM', KEYS[8], ARGV[5])
redis.call('HDEL', KEYS[9], ARGV[5])
if redis.call('EXISTS', KEYS[6]) == 1 then
  return {REPLY.REPLAYED}
end
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {REPLY.NOT_FOUND}
end
local location = redis.call('HGET', KEYS[2], ARGV[1])
if not location then
  return {REPLY.UNKNOWN_ITEM}
end
-- "<phase>|<required 1|0>", and "|v" when a tick must carry a value (releases started earlier lack it).
local separator = string.find(location, '|', 1, true)
local phaseIndex = tonumber(string.sub(location, 1, separator - 1))
local required = string.sub(location, separator + 1, separator + 1) == '1'
local needsValue = string.sub(location, separator + 2) == '|v'

-- The rollback checklist is filed after the last phase and can be ticked only while rolling back;
-- everything else only while the release is active.
local isRollbackItem = phaseIndex == tonumber(redis.call('HGET', KEYS[1], 'rollbackPhase') or '-1')
if isRollbackItem then
  if status ~= 'rolling_back' then
    return {REPLY.CLOSED, status}
  end
else
  if status ~= 'active' then
    return {REPLY.CLOSED, status}
  end
  local blocking = findBlockingPhase(KEYS[1], phaseIndex)
  if blocking ~= nil then
    return {REPLY.LOCKED, blocking}
  end
  -- A red flag stops every tick until it is cleared.
  local redFlag = redis.call('HGET', KEYS[1], 'redFlag')
  if redFlag then
    return {REPLY.RED_FLAG, cjson.decode(redFlag).by}
  end
  -- The deployment phase (and what follows it) waits for the go decision, where the template asks for one.
  local goPhase = redis.call('HGET', KEYS[1], 'goPhase')
  if goPhase and phaseIndex >= tonumber(goPhase) and redis.call('HEXISTS', KEYS[1], 'goAt') == 0 then
    return {REPLY.AWAITING_GO}
  end
end

local wantDone = ARGV[2] == '1'
local value = ARGV[6] or ''
local current = redis.call('HGET', KEYS[3], ARGV[1])
local previous = current and cjson.decode(current) or {}
local wasDone = previous.done or false
-- Checked before the environment lock: a tick refused for want of a value must not take it.
if wantDone and not wasDone and needsValue and value == '' then
  return {REPLY.VALUE_REQUIRED}
end
-- Deploying starts with the first tick in the deployment phase (or after it): the release then holds
-- its environment until it ends.
local deployPhase = redis.call('HGET', KEYS[1], 'deployPhase')
if wantDone and deployPhase and not isRollbackItem and phaseIndex >= tonumber(deployPhase)
    and redis.call('HEXISTS', KEYS[1], 'lockedAt') == 0 then
  local holder = acquireEnvLock(KEYS[1], KEYS[4], KEYS[7], ARGV[3], nowMs())
  if holder then
    return {REPLY.ENV_LOCKED, holder}
  end
end
if wasDone == wantDone then
  redis.call('SET', KEYS[6], '1', 'EX', tonumber(ARGV[4]))
  return {REPLY.UNCHANGED}
end

local now = nowMs()
local state = {done = wantDone, by = ARGV[3], at = now}
-- The value goes with the tick; an untick clears it, and its event says which value it cleared.
if wantDone and value ~= '' then
  state.value = value
end
-- What a pipeline offers as proof stays with the item's state as long as the change it came with.
local evidenceUrl = ARGV[7] or ''
local summary = ARGV[8] or ''
if evidenceUrl ~= '' then
  state.evidenceUrl = evidenceUrl
end
if summary ~= '' then
  state.summary = summary
end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(state))
if required then
  redis.call('HINCRBY', KEYS[1], 'open:' .. phaseIndex, wantDone and -1 or 1)
end
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
local openNow = tonumber(redis.call('HGET', KEYS[1], 'open:' .. phaseIndex) or '0')
local completed = 0
local deployed = 0
local phaseDone = 0
local reopened = 0
if required and not isRollbackItem then
  if wantDone and openNow == 0 then
    phaseDone = 1
  elseif not wantDone and openNow == 1 then
    reopened = 1
  end
end
local event = {'type', wantDone and 'ticked' or 'unticked', 'user', ARGV[3],
  'at', now, 'item', ARGV[1], 'phase', phaseIndex,
  'from', wasDone and 'done' or 'open', 'to', wantDone and 'done' or 'open'}
if wantDone and value ~= '' then
  table.insert(event, 'value')
  table.insert(event, value)
elseif not wantDone and previous.value then
  table.insert(event, 'cleared')
  table.insert(event, previous.value)
end
if evidenceUrl ~= '' then
  table.insert(event, 'evidence')
  table.insert(event, evidenceUrl)
end
if summary ~= '' then
  table.insert(event, 'summary')
  table.insert(event, summary)
end
-- What the change did to its phase is part of the record: the relay plans or drops reminders by it.
if phaseDone == 1 then
  table.insert(event, 'phaseState')
  table.insert(event, 'done')
elseif reopened == 1 then
  table.insert(event, 'phaseState')
  table.insert(event, 'reopened')
end
appendAudit(KEYS[1], KEYS[4], event)
if wantDone and isRollbackItem then
  if required and openNow == 0 then
    finishRollback(KEYS[1], KEYS[4], KEYS[5], KEYS[7], ARGV[3], now)
    completed = 1
  end
elseif wantDone then
  if phaseDone == 1 then
    deployed = markDeployedIfDone(KEYS[1], KEYS[4], phaseIndex, ARGV[3], now)
  end
  completed = completeIfDone(KEYS[1], KEYS[4], KEYS[5], KEYS[7], ARGV[3], now)
end
redis.call('SET', KEYS[6], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev, completed, deployed, phaseDone, reopened}
