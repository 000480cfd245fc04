-- fill_entry.lua: store a value that a client's loader produced on a cache miss, unless an invalidation overtook
-- the load (cachepipe Redis layout; written by cachepipe-client, read by everyone).
--
-- KEYS[1]  the entry key, <keyPrefix>:<entityType>:<entityId>
-- ARGV[1]  version to store (field v): canonical non-negative decimal (no sign, no leading zeros)
-- ARGV[2]  what the fill expects to find:
--            '*'        the loader returned the entity's version: version-gated like the pipeline's writes.
--                       Stored when the key is absent (or not a valid entry), holds a value or a tombstone with a
--                       lower version, or holds a fence with a lower or equal version (a fence at v drops the value
--                       of version v, and this is the value of version v).
--            ''         the loader returned no version and the key was absent when the load began: stored only if
--                       the key is still absent (ARGV[1] is then 0, so every later write of the pipeline wins).
--            <decimal>  the loader returned no version and the key held a fence at this version when the load
--                       began: stored only if it still holds exactly that fence (ARGV[1] is then that version).
-- ARGV[3]  payload bytes (field d)
-- ARGV[4]  content type (field ct); empty string = none
-- ARGV[5]  occurredAt, epoch milliseconds, decimal (field ts): when the loader ran
-- ARGV[6]  TTL in milliseconds, decimal > 0
-- ARGV[7]  optional: '1' = when the fill is dropped, reply with what the key holds instead of 0 (so that the caller
--          can return the newer state without a second read that could already see something else)
--
-- Returns 1 = stored (key replaced by v, d, ct, ts and PEXPIRE ttl),
--         0 = dropped (Redis holds something newer, or the key changed since the load began; nothing changed),
--         or, with ARGV[7] = '1', dropped: an array of the fields v, d, ct, del, inv of the key as it is (nil for a
--         field it lacks; 0 instead if the key is not a hash).
--
-- Versions are compared as decimal strings (length first, then byte by byte), never with tonumber, which loses
-- precision above 2^53. All arguments are validated before anything is written. One key per call: Cluster safe.
local key = KEYS[1]
local version, expect, payload, ctype, ts, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local reply_found = ARGV[7] == '1'

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

-- The reply of a dropped fill: 0, or (ARGV[7] = '1') what the key holds.
local function dropped()
  if not reply_found then
    return 0
  end
  local found = redis.pcall('HMGET', key, 'v', 'd', 'ct', 'del', 'inv')
  if type(found) ~= 'table' or found.err then
    return 0
  end
  return found
end

if #KEYS ~= 1 or (#ARGV ~= 6 and #ARGV ~= 7) then
  return redis.error_reply('ERR fill_entry expects 1 key and 6 or 7 arguments')
end
if #ARGV == 7 and ARGV[7] ~= '' and ARGV[7] ~= '1' then
  return redis.error_reply("ERR fill_entry: ARGV[7] must be '' or '1'")
end
if not canonical(version) then
  return redis.error_reply('ERR fill_entry: version must be a canonical non-negative decimal')
end
if expect ~= '*' and expect ~= '' and not canonical(expect) then
  return redis.error_reply("ERR fill_entry: expect must be '*', '' or a canonical decimal")
end
if string.match(ts, '^%-?%d+$') == nil then
  return redis.error_reply('ERR fill_entry: occurredAt must be a decimal')
end
if not canonical(ttl) or ttl == '0' then
  return redis.error_reply('ERR fill_entry: ttl must be a positive decimal')
end

if expect == '*' then
  local stored = redis.pcall('HGET', key, 'v')
  if canonical(stored) then
    local c = compare(version, stored)
    local fence = redis.call('HGET', key, 'inv') == '1' and redis.call('HGET', key, 'del') ~= '1'
    if c < 0 or (c == 0 and not fence) then
      return dropped()
    end
  end
elseif expect == '' then
  if redis.call('EXISTS', key) == 1 then
    return dropped()
  end
else
  local stored = redis.pcall('HGET', key, 'v')
  if type(stored) ~= 'string' or stored ~= expect or redis.call('HGET', key, 'inv') ~= '1'
      or redis.call('HGET', key, 'del') == '1' then
    return dropped()
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
