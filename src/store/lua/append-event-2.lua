-- @include release
--[[
  Appends one audit event stamped with the server's time, chained like the events the other
  scripts write.

  KEYS[1] release meta hash   KEYS[2] release audit stream
  ARGV field, value pairs (type and user first)

  Output: the entry id
]]
local list = {}
for index = 1, #ARGV do
  list[index] = ARGV[index]
end
table.insert(list, 'at')
table.insert(list, nowMs())
return appendAudit(KEYS[1], KEYS[2], list)
