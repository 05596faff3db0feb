-- @include reply
-- @include release
--[[
  Records the answer to a posted post-deploy check-in, once. "healthy" on the latest check-in, with no
  issue open, closes the monitoring window (and completes the release when its checklist is done too);
  "issue" opens an issue that holds the window open; "rollback" starts the rollback (its window closes
  with it, reported as 0; "completed" then says whether the release is rolled back already).

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] check-in index   ARGV[2] healthy|issue|rollback   ARGV[3] user id   ARGV[4] marker ttl (s)
  ARGV[5] what was found, or the rollback reason   ARGV[6] severity (issue)

  Output: {REPLY.APPLIED, rev, completed 0|1, monitoring closed 0|1, issue id or 0}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.UNKNOWN_CHECKIN} no such check-in posted
          | {REPLY.CHECKIN_ANSWERED, answer, user} answered already
          | {REPLY.MONITORING_CLOSED} the monitoring window is closed
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local index = ARGV[1]
local checkin = readJsonField(KEYS[1], 'checkin:' .. index)
if not checkin or not checkin.postedAt then
  return {REPLY.UNKNOWN_CHECKIN}
end
if checkin.answer then
  return {REPLY.CHECKIN_ANSWERED, checkin.answer.kind, checkin.answer.by}
end
if redis.call('HGET', KEYS[1], 'monitoring') ~= 'open' then
  return {REPLY.MONITORING_CLOSED}
end

local now = nowMs()
local kind = ARGV[2]
local user = ARGV[3]
checkin.answer = {kind = kind, by = user, at = now}
local issueId = 0
if kind == 'issue' then
  issueId = redis.call('HINCRBY', KEYS[1], 'issues', 1)
  redis.call('HINCRBY', KEYS[1], 'openIssues', 1)
  checkin.answer.issue = issueId
  redis.call('HSET', KEYS[1], 'issue:' .. issueId, cjson.encode({
    foundBy = user, foundAt = now, what = ARGV[5], severity = ARGV[6], checkin = tonumber(index)}))
end
redis.call('HSET', KEYS[1], 'checkin:' .. index, cjson.encode(checkin))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'checkin_answered', 'user', user, 'at', now, 'checkin', index,
  'from', 'posted', 'to', kind})
if kind == 'issue' then
  appendAudit(KEYS[1], KEYS[2], {'type', 'issue_found', 'user', user, 'at', now, 'checkin', index,
    'issue', issueId, 'from', 'none', 'to', 'open', 'reason', ARGV[5], 'severity', ARGV[6]})
end

local completed = 0
local closed = 0
if kind == 'healthy' then
  local latest = tonumber(redis.call('HGET', KEYS[1], 'checkins')) - 1
  local openIssues = tonumber(redis.call('HGET', KEYS[1], 'openIssues') or '0')
  if tonumber(index) == latest and openIssues == 0 then
    closed = 1
    completed = closeMonitoring(KEYS[1], KEYS[2], KEYS[3], KEYS[5], user, now)
  end
elseif kind == 'rollback' then
  completed = startRollback(KEYS[1], KEYS[2], KEYS[3], KEYS[5], user, ARGV[5], now)
end
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev, completed, closed, issueId}
