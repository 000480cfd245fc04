-- rebuild_complete.lua: mark Redis complete after a rebuild replayed the whole mutations topic (cachepipe
-- self-healing marker, see rebuild_begin.lua).
--
-- KEYS[1]  the marker key, <keyPrefix>:@cachepipe
-- ARGV[1]  token of the rebuild
-- ARGV[2]  the new epoch (an id of this rebuild)
--
-- Returns 1 = marked (epoch and rebuiltAt set, the lease released),
--         0 = the caller no longer holds the lease (Redis lost its data during the rebuild, or another caller took
--             the lease over): nothing written, the rebuild must not be trusted.
local key = KEYS[1]
local token, epoch = ARGV[1], ARGV[2]
if #KEYS ~= 1 or #ARGV ~= 2 or epoch == '' then
  return redis.error_reply('ERR rebuild_complete expects 1 key and 2 arguments: token, epoch')
end
if redis.call('HGET', key, 'lock') ~= token then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', key, 'epoch', epoch, 'rebuiltAt', tostring(now))
redis.call('HDEL', key, 'lock', 'lockUntil', 'lockHolder')
return 1
