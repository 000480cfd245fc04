-- rebuild_renew.lua: extend the lease of a running rebuild (cachepipe self-healing marker, see rebuild_begin.lua).
--
-- KEYS[1]  the marker key, <keyPrefix>:@cachepipe
-- ARGV[1]  token of the rebuild
-- ARGV[2]  lease in milliseconds from now (Redis server time), decimal > 0
--
-- Returns 1 = extended, 0 = the caller no longer holds the lease: the key vanished (Redis lost its data again, so
-- the rebuild must start over) or another caller took the lease over after it expired.
local key = KEYS[1]
local token, lease = ARGV[1], tonumber(ARGV[2])
if #KEYS ~= 1 or #ARGV ~= 2 or lease == nil or lease <= 0 then
  return redis.error_reply('ERR rebuild_renew expects 1 key and 2 arguments: token, lease ms > 0')
end
if redis.call('HGET', key, 'lock') ~= token then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', key, 'lockUntil', tostring(now + lease))
return 1
