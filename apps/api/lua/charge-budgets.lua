--[[
  Charges a check's ports to every budget it counts against, all or none.

  Fixed windows that start at a key's first use (so no replica can extend them), and a sorted set of
  the checks in flight per client, each entry expiring at its check's hold, so that an API that dies
  holding ports cannot lock its clients out. Counters are charged first and taken back if one has no
  room; expired entries of the set (checks of an API that died) are removed only when there are some.

  Input:
    KEYS[1..n]    the window counters
    KEYS[n+1]     the client's in-flight set, present when ARGV[3] > 0

    ARGV[1]       points: the ports the check costs
    ARGV[2]       the window, in seconds
    ARGV[3]       the in-flight cap in ports (0: off)
    ARGV[4]       the check's member id in the in-flight set
    ARGV[5]       how long the check's ports count as in flight at the most, in ms
    ARGV[6..n+5]  each counter's limit

  Output:
    {0, used, ttl ms}  charged; used and reset of the first counter
    {i, used, ms}      refused by KEYS[i] (nothing charged): what it held, and ms until it frees up
]]
local points, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local counters = #KEYS
if cap > 0 then counters = counters - 1 end
local charged = {}
-- Takes back what this call charged to counters 1..n: a counter it created is deleted.
local function uncharge(n)
  for j = 1, n do
    if charged[j] == points then redis.call('del', KEYS[j]) else redis.call('decrby', KEYS[j], points) end
  end
end
for i = 1, counters do
  charged[i] = redis.call('incrby', KEYS[i], points)
  if charged[i] > tonumber(ARGV[5 + i]) then
    local ttl = redis.call('pttl', KEYS[i])
    uncharge(i)
    return {i, charged[i] - points, ttl}
  end
end
if cap > 0 then
  local set = KEYS[#KEYS]
  local time = redis.call('time')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local entries = redis.call('zrange', set, 0, -1, 'WITHSCORES')
  local held, expired, first = 0, false, nil
  for k = 1, #entries, 2 do
    local until_ms = tonumber(entries[k + 1])
    if until_ms <= now then
      expired = true
    else
      held = held + tonumber(string.match(entries[k], '^(%d+):'))
      first = first or until_ms
    end
  end
  if expired then redis.call('zremrangebyscore', set, '-inf', now) end
  if held + points > cap then
    uncharge(counters)
    return {#KEYS, held, (first or now) - now}
  end
  redis.call('zadd', set, now + tonumber(ARGV[5]), points .. ':' .. ARGV[4])
  redis.call('pexpire', set, ARGV[5])
end
local result = {0, 0, 0}
for i = 1, counters do
  -- Only a counter this call may have created can lack its expiry; the first's TTL goes in the headers.
  if i == 1 or charged[i] == points then
    local ttl = redis.call('pttl', KEYS[i])
    if ttl < 0 then
      redis.call('expire', KEYS[i], window)
      ttl = window * 1000
    end
    if i == 1 then result = {0, charged[i], ttl} end
  end
end
return result
