-- @include release
--[[
  Records that a message shipcheck posted exists in Slack, once: the delivery marker, what the message
  means for the release (merged into a JSON field) and its audit events change together. Run again for
  the same delivery (a retry that found the message in Slack) it changes nothing.

  KEYS[1] delivery marker   KEYS[2] release audit stream   KEYS[3] hash holding the JSON field
  KEYS[4] the delivery's lease, given back here when the caller holds it
  KEYS[5] release meta hash (where the audit chain's head is kept)

  ARGV[1] message ts   ARGV[2] marker ttl (s)   ARGV[3] field name, or "" for none
  ARGV[4] JSON object merged into the field
  ARGV[5] JSON array of audit events, each an array of field pairs; [] for none
  ARGV[6] lease holder

  Output: the ts first recorded for this delivery
]]
if redis.call('GET', KEYS[4]) == ARGV[6] then
  redis.call('DEL', KEYS[4])
end
local recorded = redis.call('GET', KEYS[1])
if recorded then
  return recorded
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
if ARGV[3] ~= '' then
  local value = readJsonField(KEYS[3], ARGV[3]) or {}
  for name, patch in pairs(cjson.decode(ARGV[4])) do
    value[name] = patch
  end
  redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(value))
end
local now = nowMs()
for _, event in ipairs(cjson.decode(ARGV[5])) do
  table.insert(event, 'at')
  table.insert(event, now)
  appendAudit(KEYS[5], KEYS[2], event)
end
return ARGV[1]
