--[[
  Gives a check's ports back to every budget it was charged to, as if never asked.

  Input:
    KEYS[1..n]    the window counters
    KEYS[n+1]     the client's in-flight set

    ARGV[1]       points: the ports the check was charged
    ARGV[2]       the check's member in the in-flight set ("<points>:<id>")

  Output: none.
]]
for i = 1, #KEYS - 1 do
  -- A counter whose window has ended is not recreated (it would have no TTL).
  if redis.call('exists', KEYS[i]) == 1 and redis.call('decrby', KEYS[i], ARGV[1]) < 0 then
    redis.call('set', KEYS[i], 0, 'KEEPTTL')
  end
end
redis.call('zrem', KEYS[#KEYS], ARGV[2])
