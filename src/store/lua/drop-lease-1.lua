--[[
  Deletes a lease only if the caller still holds it: one that expired and was taken by another
  instance stays with them.

  KEYS[1] lease key   ARGV[1] holder

  Output: 1 deleted | 0 not held by the caller
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
