-- fib: naive doubly recursive fib(n); n = arg[1] (30 in the full run).
-- Runs unchanged on Lua 5.4 and LuaJIT; %d prints LuaJIT's doubles as integers.
local function fib(n)
    if n < 2 then
        return n
    end
    return fib(n - 1) + fib(n - 2)
end

local n = tonumber(arg[1] or "30")
print(string.format("%d", fib(n)))
