-- loop: s = s + i for i in 0..n; n = arg[1] (10^8 in the full run).
-- Lua 5.4 adds 64-bit integers; LuaJIT adds doubles, which is exact here because the
-- result (4999999950000000 for 10^8) is below 2^53. %d prints it without an exponent.
local n = tonumber(arg[1] or "100000000")
local s = 0
for i = 0, n - 1 do
    s = s + i
end
print(string.format("%d", s))
