-- purge_entry.lua: turn an entity's value into an invalidation fence at its own version, for `cachepipe purge`
-- (cachepipe Redis layout), gated on the version the purge read when it scanned the key.
--
-- KEYS[1]  the entry key, <keyPrefix>:<entityType>:<entityId>
-- ARGV[1]  the version the purge read: canonical non-negative decimal (no sign, no leading zeros)
-- ARGV[2]  TTL of the fence in milliseconds (the entity type's tombstone TTL), decimal > 0 of at most 15 digits
--
-- Returns 1 = fenced (key replaced by v, ts, inv=1 and PEXPIRE ttl; v and ts kept),
--         0 = newer (the stored version is greater than the one read: an event landed meanwhile and is kept),
--         2 = unchanged (already a fence or a tombstone at that version),
--         3 = gone (no entry any more: expired or deleted meanwhile, or not an entry of the layout).
--
-- Versions are compared as decimal strings (length first, then byte by byte), never with tonumber, which loses
-- precision above 2^53. All arguments are validated before anything is written.
local key = KEYS[1]
local version, ttl = ARGV[1], ARGV[2]

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

if #KEYS ~= 1 or #ARGV ~= 2 then
  return redis.error_reply('ERR purge_entry expects 1 key and 2 arguments')
end
if not canonical(version) then
  return redis.error_reply('ERR purge_entry: version must be a canonical non-negative decimal')
end
if not canonical(ttl) or ttl == '0' or #ttl > 15 then
  return redis.error_reply('ERR purge_entry: ttl must be a positive decimal of at most 15 digits')
end

local fields = redis.pcall('HMGET', key, 'v', 'del', 'inv', 'ts')
if type(fields) ~= 'table' or not canonical(fields[1]) then
  return 3
end
local c = compare(version, fields[1])
if c < 0 then
  return 0
elseif c > 0 then
  return 3
end
if fields[2] == '1' or fields[3] == '1' then
  return 2
end

redis.call('DEL', key)
if fields[4] then
  redis.call('HSET', key, 'v', version, 'ts', fields[4], 'inv', '1')
else
  redis.call('HSET', key, 'v', version, 'inv', '1')
end
redis.call('PEXPIRE', key, ttl)
return 1
