// Lua scripts of the Redis coordination: each runs atomically on the server.

// Stores and publishes one change, ordered by an epoch from the server's clock (microseconds):
// a restart cannot reset it, and it is never below what the key or the publisher already saw.
// Built by hand rather than with cjson.encode, which would print the epoch in 14 digits. ARGV[7],
// when not empty, is the hold (`{"until":…,"reason":…}`), built by the client with JSON.stringify.
export const PUBLISH_SCRIPT = `
local t = redis.call('TIME')
local epoch = tonumber(t[1]) * 1000000 + tonumber(t[2])
local floor = tonumber(ARGV[6]) or 0
local old = redis.call('GET', KEYS[1])
if old then
  local ok, prev = pcall(cjson.decode, old)
  if ok and type(prev) == 'table' and type(prev.epoch) == 'number' and prev.epoch > floor then floor = prev.epoch end
end
if epoch <= floor then epoch = floor + 1 end
local hold = ''
if ARGV[7] and ARGV[7] ~= '' then hold = ',"hold":' .. ARGV[7] end
local value = '{"endpoint":' .. cjson.encode(ARGV[1]) .. ',"state":' .. cjson.encode(ARGV[2]) ..
  ',"epoch":' .. string.format('%.0f', epoch) .. ',"instanceId":' .. cjson.encode(ARGV[3]) .. hold .. '}'
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[5], value)
return value`;

// Takes the lease when free (SET NX PX), renews it when ours; returns the holder.
export const LEASE_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return ARGV[1] end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return holder`;

// Gives the lease up only if it is still ours.
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
