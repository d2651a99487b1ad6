-- maps: n updates of a table used as a map over 1000 integer keys (k = i % 1000), then
-- print m[7]; n = arg[1] (10^6 in the full run).
-- `(m[k] or 0) + 1` is the idiomatic Lua form of the contains / get / put in the Ved
-- program. Keys 1..999 are dense small integers, so Lua keeps them in the table's array
-- part and key 0 in its hash part: Lua gets that layout for free.
local n = tonumber(arg[1] or "1000000")
local m = {}
for i = 0, n - 1 do
    local k = i % 1000
    m[k] = (m[k] or 0) + 1
end
print(string.format("%d", m[7]))
