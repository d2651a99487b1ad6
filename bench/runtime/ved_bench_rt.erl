%% The Erlang peers of bench/runtime (see README.md): the same three workloads as the Ved
%% programs beside this file, written the way Erlang wants them written. Each command
%% prints one line of `key=value` pairs that run.sh reads; times are measured inside the
%% VM with erlang:monotonic_time/1, so the start-up of `erl` is not part of them.
%%
%%   erl -noshell -pa DIR -run ved_bench_rt main ring N M REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main fanout K R REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main idle N
%%
%% ring: N processes in a ring pass a token M hops (M messages); the best of REPEATS.
%% fanout: a dispatcher sends one message to each of K workers, which reply; R rounds,
%% 2*K*R messages; the best of REPEATS.
%% idle: spawns N processes that wait in `receive` after one trivial step, and prints
%% erlang:memory(processes) and VmRSS before and after.
-module(ved_bench_rt).
-export([main/1]).

main([Mode | Args]) ->
    try run(Mode, [list_to_integer(A) || A <- Args]) of
        Line -> io:format("~s~n", [Line]), erlang:halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "ved_bench_rt: ~p:~p ~p~n", [Class, Reason, Stack]),
            erlang:halt(1)
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

best(Fun, Repeats) ->
    lists:min([Fun() || _ <- lists:seq(1, Repeats)]).

%% ---- ring -------------------------------------------------------------------------

run("ring", [N, M, Repeats]) ->
    {Ns, Seen} = best(fun() -> ring(N, M) end, Repeats),
    Seen =:= M orelse error({ring_lost_messages, Seen, M}),
    io_lib:format("ring n=~b m=~b messages=~b ns=~b", [N, M, Seen, Ns]);
run("fanout", [K, R, Repeats]) ->
    {Ns, Acked, Sum} = best(fun() -> fanout(K, R) end, Repeats),
    Acked =:= K * R orelse error({fanout_lost_acks, Acked, K * R}),
    Sum =:= R * (K * (K - 1) div 2) orelse error({fanout_bad_sum, Sum}),
    io_lib:format("fanout k=~b r=~b messages=~b ns=~b", [K, R, 2 * Acked, Ns]);
run("idle", [N]) ->
    idle(N).

ring(N, M) ->
    Main = self(),
    Pids = [spawn_link(fun() -> node_wait(Main) end) || _ <- lists:seq(1, N)],
    Nexts = tl(Pids) ++ [hd(Pids)],
    [P ! {next, Q} || {P, Q} <- lists:zip(Pids, Nexts)],
    T0 = now_ns(),
    hd(Pids) ! {pass, M},
    receive done -> ok end,
    T1 = now_ns(),
    % Every node reports how many tokens it saw: they must add up to M.
    [P ! {report, Main} || P <- Pids],
    Seen = lists:sum([receive {seen, P, S} -> S end || P <- Pids]),
    {T1 - T0, Seen}.

node_wait(Main) ->
    receive {next, Next} -> node_loop(Main, Next, 0) end.

node_loop(Main, Next, Seen) ->
    receive
        {pass, 1} ->
            Main ! done,
            node_loop(Main, Next, Seen + 1);
        {pass, H} ->
            Next ! {pass, H - 1},
            node_loop(Main, Next, Seen + 1);
        {report, To} ->
            To ! {seen, self(), Seen}
    end.

%% ---- fan-out ----------------------------------------------------------------------

fanout(K, R) ->
    Workers = [spawn_link(fun() -> worker(0) end) || _ <- lists:seq(1, K)],
    Indexed = lists:zip(lists:seq(0, K - 1), Workers),
    T0 = now_ns(),
    {Acked, Sum} = rounds(Indexed, K, R, 0, 0),
    T1 = now_ns(),
    [W ! stop || W <- Workers],
    {T1 - T0, Acked, Sum}.

rounds(_, _, 0, Acked, Sum) -> {Acked, Sum};
rounds(Indexed, K, R, Acked, Sum) ->
    Self = self(),
    [W ! {work, Self, I} || {I, W} <- Indexed],
    RoundSum = collect(K, 0),
    rounds(Indexed, K, R - 1, Acked + K, Sum + RoundSum).

collect(0, Sum) -> Sum;
collect(Left, Sum) -> receive {ack, I} -> collect(Left - 1, Sum + I) end.

worker(Done) ->
    receive
        {work, From, I} -> From ! {ack, I}, worker(Done + 1);
        stop -> ok
    end.

%% ---- idle processes ----------------------------------------------------------------

idle(N) ->
    garbage_collect(),
    P0 = erlang:memory(processes),
    R0 = vm_rss_kb(),
    Main = self(),
    Pids = [spawn(fun() -> Main ! {touched, self()}, idle_wait(1) end) || _ <- lists:seq(1, N)],
    [receive {touched, P} -> ok end || P <- Pids],
    P1 = erlang:memory(processes),
    R1 = vm_rss_kb(),
    Alive = length([P || P <- Pids, is_process_alive(P)]),
    Alive =:= N orelse error({idle_processes_died, Alive}),
    io_lib:format("idle n=~b processes_bytes=~b rss_kb_before=~b rss_kb_after=~b",
                  [N, P1 - P0, R0, R1]).

idle_wait(Touched) ->
    receive stop -> Touched end.

vm_rss_kb() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Status, <<"\n">>, [global]), binary:match(L, <<"VmRSS:">>) =/= nomatch],
    [_, Kb | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kb).
