--[[
  Creates a pipeline token under a name not in use in the workspace, and records who did it in the
  workspace's token audit stream. Only the SHA-256 of the secret is stored; the stream never sees it.

  KEYS[1] workspace token names hash (name → token id)   KEYS[2] the token's record hash
  KEYS[3] workspace token audit stream

  ARGV[1] token id   ARGV[2] name   ARGV[3] environments (JSON array, or "all")
  ARGV[4] secret hash (hex)   ARGV[5] created by   ARGV[6] created at (ms)   ARGV[7] audit stream cap
  ARGV[8] the channel it was created in ("" none)

  Output: 1 created | 0 the name is taken
]]
if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'tokenId', ARGV[1], 'name', ARGV[2], 'environments', ARGV[3],
  'secretHash', ARGV[4], 'createdBy', ARGV[5], 'createdAt', ARGV[6])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[2], 'channel', ARGV[8])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'type', 'token_created', 'user', ARGV[5],
  'at', ARGV[6], 'name', ARGV[2], 'tokenId', ARGV[1], 'environments', ARGV[3])
return 1
