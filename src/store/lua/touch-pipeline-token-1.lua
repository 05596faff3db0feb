--[[
  Notes when a pipeline token was last used, at most once per interval, and never for a token that
  was revoked meanwhile (the record would otherwise come back as a stub).

  KEYS[1] the token's record hash
  ARGV[1] now (ms)   ARGV[2] interval (ms)

  Output: 1 noted | 0 noted recently, or no such token
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastUsedAt') or '0')
if tonumber(ARGV[1]) - last < tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1])
return 1
