-- @include reply
-- @include release
--[[
  The go/no-go call before the deployment phase. Go opens the deployment phase (once the phases
  before it are done); no-go stops the release: it is cancelled with the reason, its slot freed.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] user id   ARGV[2] go|no_go   ARGV[3] reason (no-go)   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.GO_DECIDED, who decided} decided already
          | {REPLY.NO_GO_STEP} no go/no-go in this release | {REPLY.RED_FLAG, who raised it} a red flag is up
          | {REPLY.LOCKED, blocking phase index} the phases before the deployment are not done
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local goPhase = redis.call('HGET', KEYS[1], 'goPhase')
if not goPhase then
  return {REPLY.NO_GO_STEP}
end
if redis.call('HEXISTS', KEYS[1], 'goAt') == 1 then
  return {REPLY.GO_DECIDED, redis.call('HGET', KEYS[1], 'goBy')}
end
local redFlag = redis.call('HGET', KEYS[1], 'redFlag')
if redFlag then
  return {REPLY.RED_FLAG, cjson.decode(redFlag).by}
end
local now = nowMs()
if ARGV[2] == 'go' then
  local blocking = findBlockingPhase(KEYS[1], tonumber(goPhase))
  if blocking ~= nil then
    return {REPLY.LOCKED, blocking}
  end
  redis.call('HSET', KEYS[1], 'goAt', now, 'goBy', ARGV[1])
  appendAudit(KEYS[1], KEYS[2], {'type', 'go_decided', 'user', ARGV[1], 'at', now,
    'from', 'waiting', 'to', 'go'})
else
  local reason = 'No-go: ' .. ARGV[3]
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finishedAt', now, 'finishedBy', ARGV[1],
    'cancelReason', reason)
  releaseActiveSlot(KEYS[1], KEYS[3], KEYS[5])
  appendAudit(KEYS[1], KEYS[2], {'type', 'go_decided', 'user', ARGV[1], 'at', now,
    'from', 'waiting', 'to', 'no_go', 'reason', ARGV[3]})
  appendAudit(KEYS[1], KEYS[2], {'type', 'cancelled', 'user', ARGV[1], 'at', now,
    'from', 'active', 'to', 'cancelled', 'reason', reason})
end
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev}
