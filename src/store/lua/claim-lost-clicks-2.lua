--[[
  Gives up on clicks that were read before a cut-off and never committed: their process died. Each
  one's applied-request marker is set to "abandoned" first, so a commit that arrives even later (a
  command stuck in a client's queue) changes nothing. A click whose marker exists otherwise was
  committed after all and is only forgotten.

  The abandoned clicks stay pending until forget() once their notices are queued; a claim after a
  crash returns them again (their marker already says "abandoned"), so none goes untold.

  KEYS[1] pending clicks set   KEYS[2] pending click details hash

  ARGV[1] cut-off (epoch ms)   ARGV[2] most clicks to return   ARGV[3] marker key prefix
  ARGV[4] marker ttl (s)

  Output: {click id, click JSON, …} of the abandoned clicks
]]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local abandoned = {}
for _, id in ipairs(ids) do
  local marker = ARGV[3] .. id
  local state = redis.call('GET', marker)
  if not state then
    redis.call('SET', marker, 'abandoned', 'EX', tonumber(ARGV[4]))
    state = 'abandoned'
  end
  local click = redis.call('HGET', KEYS[2], id)
  if state == 'abandoned' and click then
    table.insert(abandoned, id)
    table.insert(abandoned, click)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
return abandoned
