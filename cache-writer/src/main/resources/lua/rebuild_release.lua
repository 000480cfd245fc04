-- rebuild_release.lua: give up the lease of a rebuild that did not complete (cancelled or failed), so that another
-- caller may start at once (cachepipe self-healing marker, see rebuild_begin.lua).
--
-- KEYS[1]  the marker key, <keyPrefix>:@cachepipe
-- ARGV[1]  token of the rebuild
--
-- Returns 1 = released, 0 = the caller did not hold the lease. When the key had no epoch, releasing deletes it, so
-- the next check sees Redis as not rebuilt and starts again.
local key = KEYS[1]
local token = ARGV[1]
if #KEYS ~= 1 or #ARGV ~= 1 then
  return redis.error_reply('ERR rebuild_release expects 1 key and 1 argument: token')
end
if redis.call('HGET', key, 'lock') ~= token then
  return 0
end
redis.call('HDEL', key, 'lock', 'lockUntil', 'lockHolder')
return 1
