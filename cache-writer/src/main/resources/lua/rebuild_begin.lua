-- rebuild_begin.lua: decide whether this caller must rebuild Redis from the mutations topic, and if so take the
-- rebuild lease (cachepipe self-healing marker).
--
-- KEYS[1]  the marker key, <keyPrefix>:@cachepipe, a HASH:
--            epoch      id of the last rebuild that completed (present = Redis holds a complete data set)
--            rebuiltAt  when it completed, epoch ms (Redis server time)
--            lock       token of the rebuild in progress, lockUntil its lease expiry (epoch ms), lockHolder who
-- ARGV[1]  token of the caller (unique per rebuild)
-- ARGV[2]  lease in milliseconds, decimal > 0
-- ARGV[3]  '1' = forced (rebuild even though the marker says complete), '0' = only if the marker lacks an epoch
-- ARGV[4]  holder description, for operators (e.g. 'writer cachepipe-writer on host-1')
--
-- Returns 1 = the caller holds the lease now and must rebuild,
--         0 = nothing to do (the marker has an epoch and the call was not forced),
--        -1 = another caller holds an unexpired lease (its rebuild is running).
-- Time comes from Redis (TIME), so the callers' clocks do not matter. A missing key means Redis lost its data (or
-- never had any): the lease is taken, which creates the key without an epoch until the rebuild completes.
local key = KEYS[1]
local token, lease, force, holder = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if #KEYS ~= 1 or #ARGV ~= 4 or token == '' or lease == nil or lease <= 0 then
  return redis.error_reply('ERR rebuild_begin expects 1 key and 4 arguments: token, lease ms > 0, force, holder')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

if force ~= '1' and redis.call('HEXISTS', key, 'epoch') == 1 then
  return 0
end
local lock = redis.call('HGET', key, 'lock')
local until_ms = tonumber(redis.call('HGET', key, 'lockUntil') or '0') or 0
if lock and lock ~= token and until_ms > now then
  return -1
end
redis.call('HSET', key, 'lock', token, 'lockUntil', tostring(now + lease), 'lockHolder', holder)
return 1
