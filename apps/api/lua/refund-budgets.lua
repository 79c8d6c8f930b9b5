--[[
  Gives a check's ports back to every budget it was charged to, as if never asked.

  Input:
    KEYS[1..n]    the window counters
    KEYS[n+1..]   the in-flight sets

    ARGV[1]       points: the ports the check was charged
    ARGV[2]       the check's member in the in-flight sets ("<points>:<id>")
    ARGV[3]       n: how many of KEYS are window counters

  Output: none.
]]
local counters = tonumber(ARGV[3])
for i = 1, counters do
  -- A counter whose window has ended is not recreated (it would have no TTL).
  if redis.call('exists', KEYS[i]) == 1 and redis.call('decrby', KEYS[i], ARGV[1]) < 0 then
    redis.call('set', KEYS[i], 0, 'KEEPTTL')
  end
end
for s = counters + 1, #KEYS do
  redis.call('zrem', KEYS[s], ARGV[2])
end
