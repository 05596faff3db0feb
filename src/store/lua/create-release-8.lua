-- @include create-reply
-- @include release
--[[
  Creates a release, unless the same request was applied already or the same version is active
  in the same environment. Records its attempt number: one past the last attempt of the version in
  the environment (src/domain/attempts.ts numbers releases started before numbers were recorded by
  the same rule).

  KEYS[1] release meta hash      KEYS[2] release index hash     KEYS[3] release audit stream
  KEYS[4] active releases hash   KEYS[5] all releases zset      KEYS[6] version releases zset
  KEYS[7] applied-request marker   KEYS[8] release template (JSON, written once)

  ARGV[1] release id             ARGV[2] active field "<env>|<version>"
  ARGV[3] request marker ttl (s) ARGV[4] JSON object of meta fields
  ARGV[5] JSON array of index pairs [itemId, "<phase>|<required>[|v]", ...] (v: a tick needs a value)
  ARGV[6] JSON array: open required items per phase
  ARGV[7] user id                ARGV[8] the template as JSON

  Output (CREATE_REPLY, not REPLY: the same numbers mean other things here):
          {CREATE_REPLY.CREATED, id, startedAt}
          | {CREATE_REPLY.REPLAYED, existing id} request already applied
          | {CREATE_REPLY.EXISTS, existing id} an active release of this version and environment exists
]]
local replayedId = redis.call('GET', KEYS[7])
if replayedId then
  return {CREATE_REPLY.REPLAYED, replayedId}
end
local existingId = redis.call('HGET', KEYS[4], ARGV[2])
if existingId then
  return {CREATE_REPLY.EXISTS, existingId}
end

local now = nowMs()
local releaseId = ARGV[1]
local meta = cjson.decode(ARGV[4])

-- The earlier releases' meta hashes share this one's key up to the id (same hash tag, same slot).
local metaKeyPrefix = string.sub(KEYS[1], 1, #KEYS[1] - #releaseId)
local lastAttempt = 0
for _, earlierId in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do
  local earlier = redis.call('HMGET', metaKeyPrefix .. earlierId, 'env', 'attempt')
  if earlier[1] == meta.env then
    lastAttempt = tonumber(earlier[2]) or (lastAttempt + 1)
  end
end

local fields = {'id', releaseId, 'status', 'active', 'startedAt', now, 'rev', 1, 'activeField', ARGV[2],
  'attempt', lastAttempt + 1}
for name, value in pairs(meta) do
  table.insert(fields, name)
  table.insert(fields, value)
end
local openCounts = cjson.decode(ARGV[6])
for phaseIndex, count in ipairs(openCounts) do
  table.insert(fields, 'open:' .. (phaseIndex - 1))
  table.insert(fields, count)
end
table.insert(fields, 'phases')
table.insert(fields, #openCounts)
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('SET', KEYS[8], ARGV[8])

local indexPairs = cjson.decode(ARGV[5])
for offset = 1, #indexPairs, 500 do
  redis.call('HSET', KEYS[2], unpack(indexPairs, offset, math.min(offset + 499, #indexPairs)))
end

redis.call('HSET', KEYS[4], ARGV[2], releaseId)
redis.call('ZADD', KEYS[5], now, releaseId)
redis.call('ZADD', KEYS[6], now, releaseId)
local startedEvent = {'type', 'started', 'user', ARGV[7], 'at', now, 'from', 'none', 'to', 'active',
  'version', meta.version, 'env', meta.env, 'template', meta.templateId}
if meta.windowAt then
  table.insert(startedEvent, 'window')
  table.insert(startedEvent, meta.windowAt)
  table.insert(startedEvent, 'zone')
  table.insert(startedEvent, meta.windowZone)
end
-- A pipeline's start names what it deploys and the run that asked.
if meta.commit then
  table.insert(startedEvent, 'commit')
  table.insert(startedEvent, meta.commit)
end
if meta.runUrl then
  table.insert(startedEvent, 'run')
  table.insert(startedEvent, meta.runUrl)
end
appendAudit(KEYS[1], KEYS[3], startedEvent)
if meta.freezeReason then
  appendAudit(KEYS[1], KEYS[3], {'type', 'freeze_overridden', 'user', ARGV[7], 'at', now,
    'from', 'frozen', 'to', 'started', 'env', meta.env, 'reason', meta.freezeReason,
    'window', meta.freezeEndsAt})
end
redis.call('SET', KEYS[7], releaseId, 'EX', tonumber(ARGV[3]))
return {CREATE_REPLY.CREATED, releaseId, now}
