--[[
  Extends a lease only if the caller still holds it: an attempt that is alive keeps its hold for as
  long as it runs, while a dead one's lapses after one lease period.

  KEYS[1] lease key   ARGV[1] holder   ARGV[2] lease (ms)

  Output: 1 extended | 0 not held by the caller
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
