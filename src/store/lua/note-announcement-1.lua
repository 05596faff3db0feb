--[[
  Gives a stakeholder announcement its place in the release's order, once: an event noted again
  keeps its first place.

  KEYS[1] release messages hash   ARGV[1] field (announce:<event>|<occurrence>)

  Output: the announcement's place (1, 2, …)
]]
local place = redis.call('HGET', KEYS[1], ARGV[1])
if place then return tonumber(place) end
place = redis.call('HINCRBY', KEYS[1], 'announced', 1)
redis.call('HSET', KEYS[1], ARGV[1], place)
return place
