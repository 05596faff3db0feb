-- @include release
--[[
  Appends one audit event stamped with the server's time, like the events the other scripts write.

  KEYS[1] release audit stream   ARGV field, value pairs (type and user first)

  Output: the entry id
]]
return redis.call('XADD', KEYS[1], '*', 'at', nowMs(), unpack(ARGV))
