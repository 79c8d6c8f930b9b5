--[[
  Gives a check's ports back to every budget it was charged to, as if never asked. Safe to call
  again: with in-flight sets, only while the check's member is still in the first of them, the mark
  that its charge ran and has not been given back (a charge whose reply never came may not have run).

  Input:
    KEYS[1..n]    the window counters
    KEYS[n+1..]   the in-flight sets

    ARGV[1]       points: the ports the check was charged
    ARGV[2]       the check's member in the in-flight sets ("<points>:<id>")
    ARGV[3]       n: how many of KEYS are window counters

  Output: 1 when given back, 0 when there was nothing to give back.
]]
local counters = tonumber(ARGV[3])
if #KEYS > counters and not redis.call('zscore', KEYS[counters + 1], ARGV[2]) then return 0 end
for i = 1, counters do
  -- A counter whose window has ended is not recreated (it would have no TTL).
  if redis.call('exists', KEYS[i]) == 1 and redis.call('decrby', KEYS[i], ARGV[1]) < 0 then
    redis.call('set', KEYS[i], 0, 'KEEPTTL')
  end
end
for s = counters + 1, #KEYS do
  redis.call('zrem', KEYS[s], ARGV[2])
end
return 1
