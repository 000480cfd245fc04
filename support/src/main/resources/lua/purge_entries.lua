-- purge_entries.lua: turn entities' values into invalidation fences at their own versions, for `cachepipe purge`
-- (cachepipe Redis layout).
--
-- KEYS[1]  the first entry key, <keyPrefix>:<entityType>:<entityId>; KEYS[2..n] more (in a Redis Cluster all of one
--          hash slot; one key per call is fine)
-- ARGV[1]  TTL of the fences in milliseconds (the entity type's tombstone TTL), decimal > 0 of at most 15 digits
--
-- Returns an array with one code per key, in order:
--         1 = fenced (fields d and ct removed, inv=1 set, PEXPIRE ttl; v and ts kept),
--         2 = unchanged (already a fence or a tombstone),
--         3 = gone (no entry: expired or deleted since the scan, or a key that is not an entry of the layout).
--
-- Each key is fenced in this one script, so nothing can land in between: the fence keeps exactly the version the entry
-- held, a write of that version or lower is refused from then on, and a newer one (an event published after the purge)
-- is applied over the fence as usual. A value is the only kind of entry with a payload (field d): removing d and ct is
-- the first step of its fence, done in place (no DEL and re-create), and finding neither means a fence, a tombstone or
-- no entry at all (three commands per value: the fewer, the faster a purge runs).
local ttl = ARGV[1]

local function canonical(s)
  return type(s) == 'string' and string.match(s, '^%d+$') ~= nil and (#s == 1 or string.sub(s, 1, 1) ~= '0')
end

if #KEYS < 1 or #ARGV ~= 1 then
  return redis.error_reply('ERR purge_entries expects n >= 1 keys and 1 argument')
end
if not canonical(ttl) or ttl == '0' or #ttl > 15 then
  return redis.error_reply('ERR purge_entries: ttl must be a positive decimal of at most 15 digits')
end

local codes = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  -- a value is the only kind of entry with a payload: removing d and ct is the first step of its fence, and
  -- finding none means a fence, a tombstone, or no entry
  local removed = redis.pcall('HDEL', key, 'd', 'ct')
  local code
  if type(removed) ~= 'number' then
    code = 3
  elseif removed > 0 then
    redis.call('HSET', key, 'inv', '1')
    redis.call('PEXPIRE', key, ttl)
    code = 1
  elseif redis.call('HEXISTS', key, 'v') == 1 then
    code = 2
  else
    code = 3
  end
  codes[i] = code
end
return codes
