--[[
  Records a person's names in a release's people record, unless the release already has them: the
  names kept are those of the person's first appearance. A release removed meanwhile (retention) gets
  no record, so no key outlives it.

  KEYS[1] release meta hash   KEYS[2] release people hash
  ARGV[1] user id             ARGV[2] JSON {name, realName, at}

  Output: 1 recorded | 0 already recorded | -1 no such release
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
return redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
