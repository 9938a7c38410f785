-- mixed.lua - wrk script for the mixed test: each request asks for one of
-- the files listed in a manifest, picked with Zipf-distributed popularity.
--
--   wrk ... -s mixed.lua URL -- MANIFEST EXPONENT SEED
--
-- MANIFEST has one "NAME SIZE" line per file, most popular first (rank 1).
-- The file of rank k is asked for with probability (1 / k^EXPONENT) / H,
-- H = sum over all ranks of 1 / k^EXPONENT. The requests are formatted
-- once at start; per request the script draws one random number and does a
-- binary search in the cumulative table, so the load generator's extra
-- work is small and the same for every server. A fixed SEED makes every
-- server see the same sequence of paths.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local reqs, cdf, n = {}, {}, 0

init = function(args)
   local manifest, s, seed = args[1], tonumber(args[2] or "1"), tonumber(args[3] or "1")
   local prefix = wrk.path:gsub("/*$", "")
   local total = 0
   for line in io.lines(manifest) do
      local name = line:match("^(%S+)")
      if name then
         n = n + 1
         reqs[n] = wrk.format("GET", prefix .. "/" .. name)
         total = total + 1 / (n ^ s)
         cdf[n] = total
      end
   end
   assert(n > 0, "mixed.lua: empty manifest " .. manifest)
   for i = 1, n do cdf[i] = cdf[i] / total end
   cdf[n] = 1
   math.randomseed(seed)
end

request = function()
   local u, lo, hi = math.random(), 1, n
   while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] < u then lo = mid + 1 else hi = mid end
   end
   return reqs[lo]
end
