--[[
  Charges a check's ports to every budget it counts against, all or none.

  Fixed windows that start at a key's first use (so no replica can extend them), and sorted sets of
  the checks in flight (per client, and per IPv6 network of clients), each entry expiring at its
  check's hold, so that an API that dies holding ports cannot lock its clients out. Counters are
  charged first and taken back if one has no room; expired entries of a set (checks of an API that
  died) are removed only when there are some.

  Input:
    KEYS[1..n]      the window counters
    KEYS[n+1..]     the in-flight sets

    ARGV[1]         points: the ports the check costs
    ARGV[2]         the window, in seconds
    ARGV[3]         n: how many of KEYS are window counters
    ARGV[4]         the check's member id in the in-flight sets
    ARGV[5]         how long the check's ports count as in flight at the most, in ms
    ARGV[6..]       each key's limit: the counters', then the sets' caps, in KEYS' order

  Output:
    {0, used, ttl ms}  charged; used and reset of the first counter
    {i, used, ms}      refused by KEYS[i] (nothing charged): what it held, and ms until it frees up
]]
local points, window, counters = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
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
if #KEYS > counters then
  local time = redis.call('time')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  for s = counters + 1, #KEYS do
    local entries = redis.call('zrange', KEYS[s], 0, -1, 'WITHSCORES')
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
    if expired then redis.call('zremrangebyscore', KEYS[s], '-inf', now) end
    if held + points > tonumber(ARGV[5 + s]) then
      uncharge(counters)
      return {s, held, (first or now) - now}
    end
  end
  local member = points .. ':' .. ARGV[4]
  for s = counters + 1, #KEYS do
    redis.call('zadd', KEYS[s], now + tonumber(ARGV[5]), member)
    redis.call('pexpire', KEYS[s], ARGV[5])
  end
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
