-- write_fence.lua: drop an entity's value behind an invalidation fence (readers treat it as a miss), version-gated (cachepipe Redis layout).
--
-- KEYS[1]  the entry key, <keyPrefix>:<entityType>:<entityId>
-- ARGV[1]  version: canonical non-negative decimal (no sign, no leading zeros)
-- ARGV[2]  occurredAt, epoch milliseconds, decimal (field ts)
-- ARGV[3]  TTL in milliseconds, decimal > 0 of at most 15 digits (the tombstone TTL)
--
-- Returns 1 = applied (key replaced by v, ts, inv=1 and PEXPIRE ttl),
--         0 = stale (the stored version is greater; nothing changed),
--         2 = the same version is already stored (nothing changed).
--
-- Versions are compared as decimal strings (length first, then byte by byte), never with tonumber, which loses
-- precision above 2^53. A stored entry whose v is missing or not a canonical decimal, or a key that is not a hash,
-- counts as absent and is replaced. All arguments are validated before anything is written, so an error reply
-- never leaves a half-written entry.
local key = KEYS[1]
local version, ts, ttl = ARGV[1], ARGV[2], ARGV[3]

local function canonical(s)
  return type(s) == 'string' and string.match(s, '^%d+$') ~= nil and (#s == 1 or string.sub(s, 1, 1) ~= '0')
end

-- 1 if a > b, 0 if equal, -1 if a < b (a, b canonical decimals)
local function compare(a, b)
  if #a ~= #b then
    return #a > #b and 1 or -1
  end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x > y and 1 or -1
    end
  end
  return 0
end

if #KEYS ~= 1 or #ARGV ~= 3 then
  return redis.error_reply('ERR write_fence expects 1 key and 3 arguments')
end
if not canonical(version) then
  return redis.error_reply('ERR write_fence: version must be a canonical non-negative decimal')
end
if string.match(ts, '^%-?%d+$') == nil then
  return redis.error_reply('ERR write_fence: occurredAt must be a decimal')
end
if not canonical(ttl) or ttl == '0' or #ttl > 15 then
  return redis.error_reply('ERR write_fence: ttl must be a positive decimal of at most 15 digits')
end

local stored = redis.pcall('HGET', key, 'v')
if canonical(stored) then
  local c = compare(version, stored)
  if c < 0 then
    return 0
  elseif c == 0 then
    return 2
  end
end

redis.call('DEL', key)
redis.call('HSET', key, 'v', version, 'ts', ts, 'inv', '1')
redis.call('PEXPIRE', key, ttl)
return 1
