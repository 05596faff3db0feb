--[[
  Takes the right to relay one release's events and reads the events past its cursor, in one step.

  KEYS[1] release meta hash   KEYS[2] release audit stream   KEYS[3] the workspace's unrelayed set
  KEYS[4] the release's relay lease

  ARGV[1] release id   ARGV[2] lease holder   ARGV[3] lease (ms)   ARGV[4] most events to read

  Output: {'held'} another instance holds the lease | {'leased', entries, sealed, before} the lease
          is taken (or was this holder's already) and these are the events past the cursor, oldest
          first, as XRANGE gives them. A release without a cursor (its first relay) starts at its oldest unrelayed event's
          time, never at the start of its record. `sealed` is the newest keyed seal
          ("<position>:<key id>:<seal>", or "" when none), so the relay can continue the chain;
          without one, `before` counts the events ahead of the batch (its first seal's position - 1).
]]
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[2] then
  return {'held'}
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', tonumber(ARGV[3]))
local cursor = redis.call('HGET', KEYS[1], 'relayed')
local start
if cursor then
  start = '(' .. cursor
else
  local since = redis.call('ZSCORE', KEYS[3], ARGV[1])
  start = since and (since .. '-0') or '-'
end
local entries = redis.call('XRANGE', KEYS[2], start, '+', 'COUNT', tonumber(ARGV[4]))
local sealed = redis.call('HGET', KEYS[1], 'sealed')
local before = 0
if not sealed and entries[1] then
  -- Once per release (its first sealed batch): a trail from before seals has events ahead of it.
  before = #redis.call('XRANGE', KEYS[2], '-', '(' .. entries[1][1])
end
return {'leased', entries, sealed or '', before}
