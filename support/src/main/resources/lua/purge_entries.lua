-- purge_entries.lua: turn entities' values into invalidation fences at their own versions, for `cachepipe purge`
-- (cachepipe Redis layout), each gated on the version the purge read when it scanned that key.
--
-- KEYS[1]  the first entry key, <keyPrefix>:<entityType>:<entityId>; KEYS[2..n] more (in a Redis Cluster all of one
--          hash slot; one key per call is fine)
-- ARGV[1]  TTL of the fences in milliseconds (the entity type's tombstone TTL), decimal > 0 of at most 15 digits
-- ARGV[i+1] the version the purge read for KEYS[i]: canonical non-negative decimal (no sign, no leading zeros)
--
-- Returns an array with one code per key, in order:
--         1 = fenced (fields d and ct removed, inv=1 set, PEXPIRE ttl; v and ts kept),
--         0 = newer (the stored version is greater than the one read: an event landed meanwhile and is kept),
--         2 = unchanged (already a fence or a tombstone at that version),
--         3 = gone (no entry any more: expired or deleted meanwhile, or not an entry of the layout).
--
-- Each key is gated on its own version, exactly as if it were purged alone. Versions are compared as decimal strings
-- (length first, then byte by byte), never with tonumber, which loses precision above 2^53. All arguments are
-- validated before anything is written.
local ttl = ARGV[1]

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

if #KEYS < 1 or #ARGV ~= #KEYS + 1 then
  return redis.error_reply('ERR purge_entries expects n >= 1 keys and n + 1 arguments')
end
if not canonical(ttl) or ttl == '0' or #ttl > 15 then
  return redis.error_reply('ERR purge_entries: ttl must be a positive decimal of at most 15 digits')
end
for i = 1, #KEYS do
  if not canonical(ARGV[i + 1]) then
    return redis.error_reply('ERR purge_entries: version must be a canonical non-negative decimal')
  end
end

local codes = {}
for i = 1, #KEYS do
  local key, version = KEYS[i], ARGV[i + 1]
  local fields = redis.pcall('HMGET', key, 'v', 'del', 'inv')
  local code
  if type(fields) ~= 'table' or not canonical(fields[1]) then
    code = 3
  else
    local c = compare(version, fields[1])
    if c < 0 then
      code = 0
    elseif c > 0 then
      code = 3
    elseif fields[2] == '1' or fields[3] == '1' then
      code = 2
    else
      -- in place (no DEL and re-create): the value's fields go, v and ts stay, inv marks the fence
      redis.call('HDEL', key, 'd', 'ct')
      redis.call('HSET', key, 'inv', '1')
      redis.call('PEXPIRE', key, ttl)
      code = 1
    end
  end
  codes[i] = code
end
return codes
