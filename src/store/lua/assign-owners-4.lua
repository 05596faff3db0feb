-- @include reply
-- @include release
--[[
  Sets who owns items of an active release (reminders go to them), each change with its audit event.

  KEYS[1] release meta hash   KEYS[2] release index hash   KEYS[3] release audit stream
  KEYS[4] applied-request marker

  ARGV[1] user id (who assigns)   ARGV[2] marker ttl (s)
  ARGV[3] JSON array of [item id, owner user id or ""] pairs; "" clears the owner

  Output: {REPLY.APPLIED, rev, 0, changed count} (rev unchanged when nothing changed; the 0 stands
          where other scripts say whether the release completed)
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.UNKNOWN_ITEM} no such item
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local changes = cjson.decode(ARGV[3])
for _, change in ipairs(changes) do
  if redis.call('HEXISTS', KEYS[2], change[1]) == 0 then
    return {REPLY.UNKNOWN_ITEM}
  end
end
local now = nowMs()
local changed = 0
for _, change in ipairs(changes) do
  local itemId, owner = change[1], change[2]
  local location = redis.call('HGET', KEYS[2], itemId)
  local phaseIndex = string.sub(location, 1, string.find(location, '|', 1, true) - 1)
  local current = redis.call('HGET', KEYS[1], 'owner:' .. itemId) or ''
  if current ~= owner then
    if owner == '' then
      redis.call('HDEL', KEYS[1], 'owner:' .. itemId)
    else
      redis.call('HSET', KEYS[1], 'owner:' .. itemId, owner)
    end
    appendAudit(KEYS[1], KEYS[3], {'type', 'assigned', 'user', ARGV[1], 'at', now, 'item', itemId,
      'phase', phaseIndex, 'from', current == '' and 'none' or current, 'to', owner == '' and 'none' or owner})
    changed = changed + 1
  end
end
local rev
if changed > 0 then
  rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
else
  rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
end
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[2]))
return {REPLY.APPLIED, rev, 0, changed}
