-- read_versions.lua: the version and kind of each entry, for `cachepipe purge` (cachepipe Redis layout). Read only.
--
-- KEYS[1]  the first entry key; KEYS[2..n] more (in a Redis Cluster all of one hash slot)
--
-- Returns an array of 2n elements: for KEYS[i], element 2i-1 is field v (false/nil if the key is gone or not a hash)
-- and element 2i is 1 for a fence or a tombstone (field inv or del = 1), else 0.
--
-- One call per page of scanned keys costs Redis less than as many HMGET commands.
local out = {}
for i = 1, #KEYS do
  local f = redis.pcall('HMGET', KEYS[i], 'v', 'del', 'inv')
  if type(f) == 'table' and f[1] then
    out[2 * i - 1] = f[1]
    out[2 * i] = (f[2] == '1' or f[3] == '1') and 1 or 0
  else
    out[2 * i - 1] = false
    out[2 * i] = 0
  end
end
return out
