--[[
  Notes a click that was read and is about to be committed. Sent on the same connection just before
  the commit, it costs no extra round trip; a process killed between the two leaves the click here,
  where the relay finds it (claim-lost-clicks-2.lua) and tells the person it was not applied.

  KEYS[1] pending clicks set   KEYS[2] pending click details hash

  ARGV[1] click id   ARGV[2] read at (epoch ms)   ARGV[3] the click (JSON)

  Output: 1
]]
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
