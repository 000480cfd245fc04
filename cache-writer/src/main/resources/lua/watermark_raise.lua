-- watermark_raise.lua: raise the watermark of one mutations partition in this Redis, unless this Redis went back in
-- time (cachepipe watermarks, see the README's "Self-healing").
--
-- KEYS[1]  the watermarks key, <keyPrefix>:@cachepipe:watermarks, a HASH: field <mutationsTopic>:<partition> = the
--          highest mutations offset of that partition whose writes this Redis holds (and every write before it:
--          the writer calls this after the batch's writes, over the same connection)
-- ARGV[1]  the field, <mutationsTopic>:<partition>
-- ARGV[2]  the offset to raise to, decimal >= 0; -1 only reads
-- ARGV[3]  the floor, decimal >= -1: the lowest value the caller knows this Redis holds (-1 = none known)
-- ARGV[4]  optional, the partition's end offset when the caller was assigned it, decimal >= -1 (-1 = not known).
--          A stored value at or above it was written for another incarnation of the topic (a new Kafka cluster, a
--          deleted and recreated topic): it is dropped (replaced by ARGV[2], or removed when only reading) and -2
--          is returned.
--
-- Returns the previous value, or -1 when the field is absent (a new Redis, or one that lost everything: then the
-- marker decides, and the field is set). The value is raised to ARGV[2] only if that is higher and the previous
-- value is not below the floor: a previous value below the floor means this Redis went back in time, and the
-- watermark stays where it is until the replay of the gap completes. It never goes down.
local key, field = KEYS[1], ARGV[1]
local offset, floor, endOffset = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4] or '-1')
if #KEYS ~= 1 or #ARGV < 3 or #ARGV > 4 or field == '' or offset == nil or offset < -1 or floor == nil
    or endOffset == nil then
  return redis.error_reply('ERR watermark_raise expects 1 key and 3 or 4 arguments: field, offset >= -1, floor[, end offset]')
end
local prev = redis.call('HGET', key, field)
if not prev then
  if offset >= 0 then
    redis.call('HSET', key, field, ARGV[2])
  end
  return -1
end
prev = tonumber(prev)
if endOffset >= 0 and prev >= endOffset then
  if offset >= 0 then
    redis.call('HSET', key, field, ARGV[2])
  else
    redis.call('HDEL', key, field)
  end
  return -2
end
if prev >= floor and offset > prev then
  redis.call('HSET', key, field, ARGV[2])
end
return prev
