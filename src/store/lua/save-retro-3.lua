-- @include reply
-- @include release
--[[
  Saves (or revises) a finished release's retrospective: what went well, what went wrong, the
  follow-ups, who wrote it and when; recorded in the audit trail.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] applied-request marker

  ARGV[1] user id   ARGV[2] JSON {wentWell, wentWrong, followUps}   ARGV[3] marker ttl (s)

  Output: {REPLY.APPLIED, rev} | {REPLY.REPLAYED} request already applied
          | {REPLY.NOT_FOUND} no such release
]]
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {REPLY.REPLAYED}
end
if not redis.call('HGET', KEYS[1], 'status') then
  return {REPLY.NOT_FOUND}
end
local now = nowMs()
local retro = cjson.decode(ARGV[2])
retro.by = ARGV[1]
retro.at = now
local previous = redis.call('HEXISTS', KEYS[1], 'retro') == 1 and 'saved' or 'none'
redis.call('HSET', KEYS[1], 'retro', cjson.encode(retro))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
appendAudit(KEYS[1], KEYS[2], {'type', 'retro_saved', 'user', ARGV[1], 'at', now, 'from', previous, 'to', 'saved'})
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[3]))
return {REPLY.APPLIED, rev}
