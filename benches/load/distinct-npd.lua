-- wrk: every request a distinct NPD query (a new, valid 12-digit INN), so every one is a miss.
-- wrk -s benches/load/distinct-npd.lua URL -- FIRST   (FIRST: where this run's INNs start)
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  first = tonumber(args[1] or "1")
  counter = 0
end
local w1 = {7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
local w2 = {3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
local function inn(n)
  local s = string.format("%010d", n)
  local d = {}
  for i = 1, 10 do d[i] = tonumber(s:sub(i, i)) end
  local a = 0
  for i = 1, 10 do a = a + w1[i] * d[i] end
  d[11] = a % 11 % 10
  local b = 0
  for i = 1, 11 do b = b + w2[i] * d[i] end
  d[12] = b % 11 % 10
  return table.concat(d)
end
request = function()
  counter = counter + 1
  local n = first + id * 50000000 + counter
  return wrk.format("GET", "/parser/nalog_npd_api/?inn=" .. inn(n) .. "&date=2024-02-01")
end
