--[[
  Reserves the next send slot on a pacer shared by every instance: one call per interval.

  KEYS[1] pacer key (holds the earliest time, in ms, the next call may go)
  ARGV[1] interval (ms)   ARGV[2] extra pause (ms) to push every later slot back, e.g. a Retry-After

  Output: how many ms the caller waits before its call
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local pause = tonumber(ARGV[2])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now + pause, nextFree)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
return slot - now
