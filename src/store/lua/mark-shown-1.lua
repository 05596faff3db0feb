--[[
  A sync has brought a release's Slack messages in line with what it read: the release leaves the
  workspace's unsynced set, unless a sync was asked for after this one started (its change may not be
  shown yet).

  KEYS[1] the workspace's unsynced set

  ARGV[1] release id   ARGV[2] when the sync started (epoch ms)

  Output: 1 left the set | 0 still waits for a later sync (or was not in it)
]]
local asked = redis.call('ZSCORE', KEYS[1], ARGV[1])
if asked and tonumber(asked) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
