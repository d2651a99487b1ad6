%% The Erlang peers of bench/runtime (see README.md): the same three workloads as the Ved
%% programs beside this file, written the way Erlang wants them written. Each command
%% prints one line of `key=value` pairs that run.sh reads; times are measured inside the
%% VM with erlang:monotonic_time/1, so the start-up of `erl` is not part of them.
%%
%%   erl -noshell -pa DIR -run ved_bench_rt main ring N M REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main fanout K R REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main pairs K R REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main fanout_wide D W R REPEATS
%%   erl -noshell -pa DIR -run ved_bench_rt main idle N
%%
%% ring: N processes in a ring pass a token M hops (M messages); the best of REPEATS.
%% fanout: a dispatcher sends one message to each of K workers, which reply; R rounds,
%% 2*K*R messages; the best of REPEATS.
%% pairs: K pairs of processes, one ball per pair, passed back and forth 2*R times (R to
%% each side): 2*K*R messages, K in flight at any time; the best of REPEATS.
%% fanout_wide: D dispatchers, each the fan-out over its own W workers, all at once;
%% 2*D*W*R messages; the best of REPEATS.
%% idle: spawns N processes that wait in `receive` after one trivial step, and prints
%% erlang:memory(processes) and VmRSS before and after.
-module(ved_bench_rt).
-export([main/1]).

main([Mode | Args]) ->
    % `erl -run` starts this process trapping exits, so every linked process that ends
    % would leave an {'EXIT', Pid, normal} message at the head of the mailbox for every
    % later receive to scan past: quadratic at a million processes. A linked process that
    % crashes still takes this one down.
    process_flag(trap_exit, false),
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
run("pairs", [K, R, Repeats]) ->
    {Ns, Got, Wrong} = best(fun() -> pairs(K, R) end, Repeats),
    Wrong =:= 0 orelse error({pairs_players_without_r_balls, Wrong}),
    Got =:= 2 * K * R orelse error({pairs_lost_balls, Got, 2 * K * R}),
    io_lib:format("pairs k=~b r=~b messages=~b ns=~b", [K, R, Got, Ns]);
run("fanout_wide", [D, W, R, Repeats]) ->
    {Ns, Acked, Sum} = best(fun() -> fanout_wide(D, W, R) end, Repeats),
    Acked =:= D * W * R orelse error({fanout_wide_lost_acks, Acked, D * W * R}),
    Sum =:= D * R * (W * (W - 1) div 2) orelse error({fanout_wide_bad_sum, Sum}),
    io_lib:format("fanout_wide d=~b w=~b r=~b messages=~b ns=~b", [D, W, R, 2 * Acked, Ns]);
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
    % Every node reports how many tokens it saw: they must add up to M. The reports are
    % taken in arrival order: a receive that picks one sender's report scans the mailbox,
    % which is quadratic with a million nodes.
    [P ! {report, Main} || P <- Pids],
    Seen = lists:sum([receive {seen, _, S} -> S end || _ <- Pids]),
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

%% D dispatchers run `rounds` over their own workers at the same time; Main times them
%% from the first `go` to the last result.
fanout_wide(D, W, R) ->
    Main = self(),
    Groups = [[spawn_link(fun() -> worker(0) end) || _ <- lists:seq(1, W)] || _ <- lists:seq(1, D)],
    Dispatchers = [spawn_link(fun() ->
                                  Indexed = lists:zip(lists:seq(0, W - 1), Workers),
                                  receive go -> ok end,
                                  Main ! {dispatched, self(), rounds(Indexed, W, R, 0, 0)}
                              end) || Workers <- Groups],
    T0 = now_ns(),
    [P ! go || P <- Dispatchers],
    Results = [receive {dispatched, _, Result} -> Result end || _ <- Dispatchers],
    T1 = now_ns(),
    [Wk ! stop || Workers <- Groups, Wk <- Workers],
    {T1 - T0, lists:sum([A || {A, _} <- Results]), lists:sum([S || {_, S} <- Results])}.

%% ---- pairs ------------------------------------------------------------------------

%% The Ved program's shape: the first player of each pair is served the ball and sends it
%% to its partner; each player that receives it counts it and returns it while hops are
%% left. The player that receives the last ball tells Main.
pairs(K, R) ->
    Main = self(),
    Firsts = [spawn_link(fun() -> player(Main, 0) end) || _ <- lists:seq(1, K)],
    Seconds = [spawn_link(fun() -> player(Main, 0) end) || _ <- lists:seq(1, K)],
    T0 = now_ns(),
    [F ! {serve, S, 2 * R} || {F, S} <- lists:zip(Firsts, Seconds)],
    [receive finished -> ok end || _ <- Firsts],
    T1 = now_ns(),
    [P ! {report, Main} || P <- Firsts ++ Seconds],
    Gots = [receive {got, _, G} -> G end || _ <- Firsts ++ Seconds],  % in arrival order, as in ring/2
    {T1 - T0, lists:sum(Gots), length([G || G <- Gots, G =/= R])}.

player(Main, Got) ->
    receive
        {serve, Partner, Hops} ->
            Partner ! {ball, self(), Hops - 1},
            player(Main, Got);
        {ball, _, 0} ->
            Main ! finished,
            player(Main, Got + 1);
        {ball, From, Hops} ->
            From ! {ball, self(), Hops - 1},
            player(Main, Got + 1);
        {report, To} ->
            To ! {got, self(), Got}
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
