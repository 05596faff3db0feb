-- @include reply
-- @include release
--[[
  Records values observed at a posted check-in for the template's success criteria, each change with
  its audit event. A value replaces the one recorded before for the same criterion at that check-in;
  "" clears it. Values equal to what is recorded change nothing. The caller checks that the criteria
  are the template's and the values fit their units (the template is fixed for the release).

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] applied-request marker

  ARGV[1] check-in index   ARGV[2] user id   ARGV[3] marker ttl (s)
  ARGV[4] JSON array of [criterion id, value as decimal text or ""] pairs

  Output: {REPLY.APPLIED, rev, 0, changed count} (the 0 stands where other scripts say whether the
          release completed) | {REPLY.UNCHANGED} every value was recorded already
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.UNKNOWN_CHECKIN} no such check-in posted
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[3])
if refusal then
  return refusal
end
local index = ARGV[1]
local checkin = readJsonField(KEYS[1], 'checkin:' .. index)
if not checkin or not checkin.postedAt then
  return {REPLY.UNKNOWN_CHECKIN}
end

local now = nowMs()
local user = ARGV[2]
local observed = checkin.observed or {}
local changed = 0
for _, pair in ipairs(cjson.decode(ARGV[4])) do
  local criterion, text = pair[1], pair[2]
  local current = observed[criterion]
  local value = tonumber(text)
  if text ~= '' and not value then
    error('value of ' .. criterion .. ' is not a number: ' .. text)
  end
  if not (current and current.value == value) and not (current == nil and value == nil) then
    observed[criterion] = value and {value = value, by = user, at = now} or nil
    appendAudit(KEYS[1], KEYS[2], {'type', 'criterion_recorded', 'user', user, 'at', now,
      'checkin', index, 'criterion', criterion,
      'from', current and auditField(current.value) or 'none', 'to', value and text or 'none'})
    changed = changed + 1
  end
end
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[3]))
if changed == 0 then
  return {REPLY.UNCHANGED}
end
-- A check-in left with no values has no `observed`, like one stored before values existed.
checkin.observed = next(observed) and observed or nil
redis.call('HSET', KEYS[1], 'checkin:' .. index, cjson.encode(checkin))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
return {REPLY.APPLIED, rev, 0, changed}
