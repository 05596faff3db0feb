--[[
  Starts an attempt to post a delivery, in one round trip: says whether it is done already, held by
  another instance, or free to post (and whether an earlier attempt began, which means the message
  may be in Slack already).

  KEYS[1] delivery marker (ts when done)   KEYS[2] lease   KEYS[3] attempt marker (first start, ms)

  ARGV[1] holder   ARGV[2] lease (ms)   ARGV[3] now (ms)   ARGV[4] attempt marker ttl (s)

  Output: {'done', ts} | {'busy', remaining lease ms} | {'go', earlier attempt start ms or ''}
]]
local done = redis.call('GET', KEYS[1])
if done then
  return {'done', done}
end
if not redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]), 'NX') then
  return {'busy', redis.call('PTTL', KEYS[2])}
end
local earlier = redis.call('GET', KEYS[3])
if not earlier then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[4]))
end
return {'go', earlier or ''}
