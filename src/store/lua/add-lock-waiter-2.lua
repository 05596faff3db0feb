--[[
  Adds someone to the people told by DM when an environment is free again, but only while a release
  holds it. Checking and adding in one step leaves no gap: a lock freed before this runs is answered
  "free", and one freed after finds them on the list, which the lock-freed job reads only once the
  holder has ended (src/jobs/locks.ts).

  The lock counts while its release is active or rolling back, as in acquireEnvLock
  (includes/release.lua); a lock left by a release that ended or is gone is free. The holder's meta
  key "<prefix>:{team}:release:<id>" is derived from the locks hash "<prefix>:{team}:locks": which
  release holds the lock is only known here, and both share the {team} hash slot.

  KEYS[1] environment locks hash   KEYS[2] the environment's waiters set

  ARGV[1] environment   ARGV[2] user id

  Output: 1 added | 0 was waiting already | -1 the environment is free (nobody added)
]]
local lock = redis.call('HGET', KEYS[1], ARGV[1])
if not lock then
  return -1
end
local base = string.match(KEYS[1], '^(.*):locks$')
local holderStatus = redis.call('HGET', base .. ':release:' .. cjson.decode(lock).releaseId, 'status')
if holderStatus ~= 'active' and holderStatus ~= 'rolling_back' then
  return -1
end
return redis.call('SADD', KEYS[2], ARGV[2])
