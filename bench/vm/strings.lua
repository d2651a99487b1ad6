-- strings: append tostring(i % 10) for i in 0..n and print the length; n = arg[1]
-- (10^6 in the full run).
-- This uses the idiomatic Lua string builder: the pieces go into a table and one
-- table.concat joins them at the end. Appending with `s = s .. piece` copies the whole
-- string on every step and is quadratic in Lua, so it would measure a misuse of Lua
-- rather than Lua.
local n = tonumber(arg[1] or "1000000")
local pieces = {}
for i = 0, n - 1 do
    pieces[i + 1] = tostring(i % 10)
end
local s = table.concat(pieces)
print(string.format("%d", #s))
