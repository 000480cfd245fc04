-- release_lease.lua: end a load lease that this client holds (cachepipe-client stampede protection).
--
-- KEYS[1]  the lease key, <keyPrefix>::lease:<entityType>:<entityId>
-- ARGV[1]  the holder's token (the value it set with SET NX PX)
-- ARGV[2]  '' to delete the lease, or a marker to leave in its place (e.g. '!notfound': the loader found nothing)
-- ARGV[3]  lifetime of the marker in milliseconds, decimal > 0 (ignored when ARGV[2] is '')
--
-- Returns 1 = the lease was ours and is released (deleted or replaced by the marker),
--         0 = it was not ours any more (expired, or taken by another instance): nothing changed.
-- One key per call: Cluster safe.
if #KEYS ~= 1 or #ARGV ~= 3 then
  return redis.error_reply('ERR release_lease expects 1 key and 3 arguments')
end
local current = redis.pcall('GET', KEYS[1])
if type(current) ~= 'string' or current ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  if string.match(ARGV[3], '^[1-9]%d*$') == nil then
    return redis.error_reply('ERR release_lease: marker lifetime must be a positive decimal')
  end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
