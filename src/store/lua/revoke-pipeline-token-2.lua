--[[
  Revokes the workspace's pipeline token of a name: its record goes, the name is free again, and who
  did it is recorded in the workspace's token audit stream. The record's key is derived from the names
  hash key ("<prefix>:{team}:tokens" → "<prefix>:{team}:token:<id>"), since the id is only known here;
  both share the {team} hash slot.

  KEYS[1] workspace token names hash   KEYS[2] workspace token audit stream

  ARGV[1] name   ARGV[2] revoked by   ARGV[3] revoked at (ms)   ARGV[4] audit stream cap

  Output: the revoked token's id | false when no token has that name
]]
local tokenId = redis.call('HGET', KEYS[1], ARGV[1])
if not tokenId then
  return false
end
local base = string.match(KEYS[1], '^(.*):tokens$')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', base .. ':token:' .. tokenId)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'token_revoked', 'user', ARGV[2],
  'at', ARGV[3], 'name', ARGV[1], 'tokenId', tokenId)
return tokenId
