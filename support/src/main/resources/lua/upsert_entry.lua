-- upsert_entry.lua: store an entity's value, version-gated (cachepipe Redis layout).
--
-- KEYS[1]  the entry key, <keyPrefix>:<entityType>:<entityId>
-- ARGV[1]  version: canonical non-negative decimal (no sign, no leading zeros)
-- ARGV[2]  payload bytes (field d)
-- ARGV[3]  content type (field ct); empty string = none
-- ARGV[4]  occurredAt, epoch milliseconds, decimal (field ts)
-- ARGV[5]  TTL in milliseconds, decimal > 0 of at most 15 digits
--
-- Returns 1 = applied (key replaced by v, d, ct, ts and PEXPIRE ttl),
--         0 = stale (the stored version is greater; nothing changed),
--         2 = the same version is already stored (nothing changed).
--
-- Versions are compared as decimal strings (length first, then byte by byte), never with tonumber, which loses
-- precision above 2^53. A stored entry whose v is missing or not a canonical decimal, or a key that is not a hash,
-- counts as absent and is replaced. All arguments are validated before anything is written, so an error reply
-- never leaves a half-written entry.
local key = KEYS[1]
local version, payload, ctype, ts, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

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

if #KEYS ~= 1 or #ARGV ~= 5 then
  return redis.error_reply('ERR upsert_entry expects 1 key and 5 arguments')
end
if not canonical(version) then
  return redis.error_reply('ERR upsert_entry: version must be a canonical non-negative decimal')
end
if string.match(ts, '^%-?%d+$') == nil then
  return redis.error_reply('ERR upsert_entry: occurredAt must be a decimal')
end
if not canonical(ttl) or ttl == '0' or #ttl > 15 then
  return redis.error_reply('ERR upsert_entry: ttl must be a positive decimal of at most 15 digits')
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
if ctype == '' then
  redis.call('HSET', key, 'v', version, 'd', payload, 'ts', ts)
else
  redis.call('HSET', key, 'v', version, 'd', payload, 'ct', ctype, 'ts', ts)
end
redis.call('PEXPIRE', key, ttl)
return 1
