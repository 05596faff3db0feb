-- @include reply
-- @include release
--[[
  Resolves an issue found at a check-in, with a note. With no issue left open, the monitoring window
  closes if the latest check-in was answered healthy; if it was answered otherwise, a follow-up
  check-in is planned for now (its job posts it), since only a healthy answer closes the window.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] active releases hash
  KEYS[4] applied-request marker   KEYS[5] environment locks hash

  ARGV[1] issue id   ARGV[2] user id   ARGV[3] resolution note   ARGV[4] marker ttl (s)

  Output: {REPLY.APPLIED, rev, completed 0|1, monitoring closed 0|1, follow-up check-in index or -1}
          | {REPLY.REPLAYED} request already applied | {REPLY.NOT_FOUND} no such release
          | {REPLY.CLOSED, status} release not active
          | {REPLY.UNKNOWN_ISSUE} no such issue | {REPLY.ISSUE_RESOLVED, user} resolved already
]]
local refusal = refuseUnlessActive(KEYS[1], KEYS[4])
if refusal then
  return refusal
end
local issueId = ARGV[1]
local issue = readJsonField(KEYS[1], 'issue:' .. issueId)
if not issue then
  return {REPLY.UNKNOWN_ISSUE}
end
if issue.resolvedAt then
  return {REPLY.ISSUE_RESOLVED, issue.resolvedBy}
end

local now = nowMs()
local user = ARGV[2]
issue.resolvedBy = user
issue.resolvedAt = now
issue.resolution = ARGV[3]
redis.call('HSET', KEYS[1], 'issue:' .. issueId, cjson.encode(issue))
local openIssues = redis.call('HINCRBY', KEYS[1], 'openIssues', -1)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)

local completed = 0
local closed = 0
local followUp = -1
if openIssues == 0 and redis.call('HGET', KEYS[1], 'monitoring') == 'open' then
  local latest = tonumber(redis.call('HGET', KEYS[1], 'checkins')) - 1
  local latestCheckin = readJsonField(KEYS[1], 'checkin:' .. latest)
  if latestCheckin and latestCheckin.answer then
    if latestCheckin.answer.kind == 'healthy' then
      closed = 1
    else
      followUp = latest + 1
      redis.call('HSET', KEYS[1], 'checkin:' .. followUp, cjson.encode({dueAt = now, followUp = true}),
        'checkins', followUp + 1)
    end
  end
end
local resolved = {'type', 'issue_resolved', 'user', user, 'at', now, 'issue', issueId,
  'from', 'open', 'to', 'resolved', 'reason', ARGV[3]}
if followUp >= 0 then
  table.insert(resolved, 'checkin')
  table.insert(resolved, followUp)
end
appendAudit(KEYS[1], KEYS[2], resolved)
if closed == 1 then
  completed = closeMonitoring(KEYS[1], KEYS[2], KEYS[3], KEYS[5], user, now)
end
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[4]))
return {REPLY.APPLIED, rev, completed, closed, followUp}
