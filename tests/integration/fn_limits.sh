#!/bin/sh
# husk fn, bounded by default (issue 12 section 2, issue 19 item 6): a worker's pids limit and a
# fork bomb, log rotation and the per-invocation output rate, the async history and queue bound,
# slow clients on the front door and on a worker's Runtime API, env records, logs of a removed
# function. A private store; the image is images/fn.sh (busybox + tests/helpers/fn-bootstrap).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
LORIS=$HUSK_HELPERS/slowloris
[ -x "$LORIS" ] || skip_all "missing $LORIS"
if [ -d /sys/fs/cgroup/pids ]; then PIDCG=/sys/fs/cgroup/pids/husk-fn; else PIDCG=/sys/fs/cgroup/husk-fn; fi
S="$T/store"
TOL=${HUSK_FN_TEST_TOL_MS:-1500}
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() { # serve [OPTIONS]: a server on a free loopback port, $ADDR
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --no-auth --listen 127.0.0.1:0 --retry-delay 200ms "$@" >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT
inv() { # inv NAME PAYLOAD [TYPE] -> the status; body in $T/body, headers in $T/hdr
        curl -s -m 30 -o "$T/body" -D "$T/hdr" -w '%{http_code}' -H "X-Amz-Invocation-Type: ${3:-RequestResponse}" \
                --data-binary "$2" "http://$ADDR/2015-03-31/functions/$1/invocations"
}
wait_for() { # wait_for SECONDS COMMAND...
        _n=$(($1 * 10)); shift
        while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done; return 1
}
log() { cat "$S/fn/logs/$1.log" 2>/dev/null; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
mk() { _n=$1; shift; fn create "$_n" --image "$ARCHIVE" "$@" >/dev/null; }
async() { fn inspect "$1" | jq -r ".async.$2"; }

mk lim-echo --handler echo
ok $? "create a function"
mk lim-bomb --handler forkbomb --pids 64 --timeout 3s
ok $? "create takes --pids"
mk lim-spam --handler spam
mk lim-rot --handler echo --log-max-size 8k
ok $? "create takes --log-max-size"
mk lim-q --handler sleep --concurrency 1 --timeout 30s --max-events 5
ok $? "create takes --max-events"
mk lim-hist --handler echo --concurrency 4
is "$(fn inspect lim-echo | jq -c '[.pids, .log_max_size, .log_rate, .max_events]')" '[1024,10485760,1048576,1000]' \
        "inspect shows the defaults: 1024 pids, 10 MiB log, 1 MiB/s output, 1000 events"

# ---- env records: one variable per line, so no control characters
out=$(fn create lim-bad --image "$ARCHIVE" --env "$(printf 'A=1\nB=2')" 2>&1)
isnt $? 0 "--env with a line break in the value is refused"
like "$out" "environment variable A: its value holds a control character \\(0x0a\\)" "and the error says why"
fn inspect lim-bad >/dev/null 2>&1
isnt $? 0 "nothing was stored"
out=$(fn create lim-bad --image "$ARCHIVE" --env "$(printf 'A\tX=1')" 2>&1)
isnt $? 0 "--env with a control character in the name is refused"
fn update lim-echo --env "$(printf 'A=x\rB=2')" >/dev/null 2>&1
isnt $? 0 "update refuses it too"
is "$(fn inspect lim-echo | jq -c .env)" '[]' "the record is unchanged"
fn create lim-bad --image "$ARCHIVE" --handler "$(printf 'a\nb')" >/dev/null 2>&1
isnt $? 0 "a handler with a line break is refused"
mk lim-env --handler env --env 'CUSTOM=two words = fine'
ok $? "a value with spaces and '=' is accepted"

serve
like "$ADDR" '^127\.0\.0\.1:[0-9]+$' "the server runs"

# ---- pids: every worker has a limit; a fork bomb ends at it, the host keeps serving
is "$(inv lim-echo '{"a":1}')" 200 "echo answers"
w=$(ls -d "$PIDCG"/lim-echo.* 2>/dev/null | head -n 1)
is "$(cat "$w/pids.max" 2>/dev/null)" 1024 "a worker's pids.max is 1024 by default"
curl -s -m 30 -o "$T/bomb" --data-binary '{}' "http://$ADDR/2015-03-31/functions/lim-bomb/invocations" & BOMB=$!
wait_for 10 sh -c "ls -d '$PIDCG'/lim-bomb.* >/dev/null 2>&1"
bw=$(ls -d "$PIDCG"/lim-bomb.* 2>/dev/null | head -n 1)
wait_for 5 sh -c "[ \"\$(cat '$bw/pids.current' 2>/dev/null || echo 0)\" -ge 60 ]"
ok $? "the fork bomb runs (pids.current $(cat "$bw/pids.current" 2>/dev/null))"
is "$(cat "$bw/pids.max" 2>/dev/null)" 64 "its worker's pids.max is the function's --pids"
peak=$(cat "$bw/pids.current" 2>/dev/null || echo 0)
t0=$(ms)
is "$(inv lim-echo '{"during":"bomb"}')" 200 "another function is served during the bomb"
dt=$(( $(ms) - t0 ))
[ "$dt" -lt "$TOL" ]; ok $? "promptly (${dt} ms)"
[ "$peak" -le 64 ]; ok $? "the bomb stays within its limit (pids.current $peak)"
wait $BOMB
is "$(jq -r .errorType "$T/bomb")" "Sandbox.Timedout" "the bomb's invocation ends at its timeout"
like "$(jq -r .errorMessage "$T/bomb")" "reached its limit of 64 processes and threads; husk fn update lim-bomb --pids N" \
        "its error names the process limit and the option"
wait_for 10 sh -c "! ls -d '$PIDCG'/lim-bomb.* >/dev/null 2>&1"
ok $? "the bombed worker is removed"
is "$(inv lim-echo '{"after":"bomb"}')" 200 "the host still serves after the bomb"
fn update lim-bomb --pids 3 >/dev/null 2>&1
isnt $? 0 "--pids below 8 is refused"

# ---- output rate: 50 MiB in one go is cut to the per-invocation budget, with one marker
is "$(inv lim-spam '{}')" 200 "a function writing 50 MiB answers"
is "$(jq -c . "$T/body")" '{"wrote":52428800}' "it wrote all of it"
sz=$(size "$S/fn/logs/lim-spam.log")
[ "$sz" -lt $((3 * 1048576)) ]; ok $? "the log took at most the budget (${sz} bytes, not 50 MiB)"
is "$(log lim-spam | grep -c 'husk-fn: dropped')" 1 "one marker line says so"
like "$(log lim-spam | grep 'husk-fn: dropped')" \
        "^RequestId: [0-9a-f-]{36} husk-fn: dropped [0-9]+ bytes of output: over the limit of 1048576 bytes per second per invocation \\(husk fn update lim-spam --log-rate\\)$" \
        "the marker names the request, the count, the limit and the option"
d=$(log lim-spam | sed -n 's/.*dropped \([0-9]*\) bytes.*/\1/p')
[ "$d" -ge $((48 * 1048576)) ] && [ "$d" -le 52428800 ]; ok $? "it counts what was dropped ($d bytes)"
like "$(log lim-spam | tail -n 2 | head -n 1)" '^END RequestId' "the log goes on with END and REPORT"

# ---- rotation: NAME.log.1 past --log-max-size; logs shows both
p=$(head -c 2000 /dev/zero | tr '\0' 'r')
"$HUSK" fn --store "$S" logs -f lim-rot > "$T/follow" 2>&1 & FP=$! # husk execs husk-fn: FP is the follower
# 0.15 s apart: the follower polls every 0.1 s and must see each rotation
i=0; while [ $i -lt 12 ]; do inv lim-rot "\"$i$p\"" >/dev/null; sleep 0.15; i=$((i + 1)); done
[ -f "$S/fn/logs/lim-rot.log.1" ]; ok $? "the log rotated to lim-rot.log.1"
sz=$(size "$S/fn/logs/lim-rot.log"); sz1=$(size "$S/fn/logs/lim-rot.log.1")
[ "$sz" -le 8192 ] && [ "$sz1" -le $((8192 + 4096)) ]; ok $? "both stay near the limit (${sz} and ${sz1} bytes)"
like "$(fn logs lim-rot)" "echo: \"11r" "husk fn logs shows the newest invocation"
is "$(fn logs lim-rot | grep -c '^START')" "$(cat "$S/fn/logs/lim-rot.log.1" "$S/fn/logs/lim-rot.log" | grep -c '^START')" \
        "and the rotated file before it"
wait_for 3 grep -q 'echo: "11r' "$T/follow"
ok $? "logs -f follows across the rotations"
is "$(grep -c '^START' "$T/follow")" 12 "and loses no line"
kill "$FP"; wait "$FP" 2>/dev/null

# ---- async: a bounded queue (429 past it) and a bounded history
i=0; codes=
while [ $i -lt 5 ]; do codes="$codes $(inv lim-q "{\"ms\":20000,\"n\":$i}" Event)"; i=$((i + 1)); done
is "$codes" " 202 202 202 202 202" "five events are accepted"
is "$(inv lim-q '{"ms":1,"n":5}' Event)" 429 "the sixth, past --max-events 5, is refused: 429"
grep -qi '^x-amzn-ErrorType: TooManyRequestsException' "$T/hdr"; ok $? "as TooManyRequestsException"
like "$(jq -r .message "$T/body")" "function lim-q has 5 events waiting or running.*--max-events" "the 429 says why and what to change"
is "$(inv lim-echo '{"x":1}' Event)" 202 "another function's queue is separate"
head -c 20000 /dev/zero | tr '\0' 'p' | sed 's/.*/"&"/' > "$T/p20k"
i=0; n202=0
while [ $i -lt 200 ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Amz-Invocation-Type: Event' --data-binary @"$T/p20k" \
                "http://$ADDR/2015-03-31/functions/lim-hist/invocations")" = 202 ] && n202=$((n202 + 1))
        i=$((i + 1))
done
is "$n202" 200 "200 events of 20 KB are accepted"
wait_for 60 sh -c "[ \"\$('$HUSK' fn --store '$S' inspect lim-hist | jq '.async.pending + .async.running')\" = 0 ]"
ok $? "they all ran"
wait_for 5 sh -c "[ \"\$('$HUSK' fn --store '$S' inspect lim-hist | jq .async.done)\" -le 100 ]"
ok $? "the history keeps at most 100 finished events (done: $(async lim-hist done))"
if command -v sqlite3 >/dev/null 2>&1; then
        is "$(sqlite3 "$S/fn/fn.db" "SELECT coalesce(sum(length(payload)), 0) FROM async WHERE state IN ('done','failed')")" 0 \
                "finished events keep no payload"
else skip "sqlite3 is not installed"; fi

# ---- fn rm takes the logs with it; a new function of the same name starts clean
mk lim-gone --handler echo
inv lim-gone '{"old":1}' >/dev/null
fn rm lim-gone >/dev/null
[ ! -e "$S/fn/logs/lim-gone.log" ] && [ ! -e "$S/fn/logs/lim-gone.log.1" ]; ok $? "rm removes the function's log"
mk lim-gone --handler echo
inv lim-gone '{"new":1}' >/dev/null
is "$(fn logs lim-gone | grep -c '^START')" 1 "the new function's log has only its own invocation"
unlike "$(fn logs lim-gone)" '"old"' "and none of the old one's output"
fn rm lim-rot >/dev/null
[ ! -e "$S/fn/logs/lim-rot.log" ] && [ ! -e "$S/fn/logs/lim-rot.log.1" ]; ok $? "rm removes the rotated log too"

# ---- a server stopped with events waiting for a worker stops at once and keeps them
mk lim-stop --handler sleep --concurrency 1 --timeout 30s
i=0; while [ $i -lt 3 ]; do inv lim-stop "{\"ms\":20000,\"n\":$i}" Event >/dev/null; i=$((i + 1)); done
wait_for 10 grep -q 'sleeping 20000' "$S/fn/logs/lim-stop.log"
kill "$SERVE_PID"
wait_for 15 sh -c "! kill -0 $SERVE_PID 2>/dev/null"
if [ $? = 0 ]; then pass "SIGTERM stops the server while events wait for a busy worker"
else fail "SIGTERM stops the server while events wait for a busy worker" "still running after 15 s"; kill -9 "$SERVE_PID"; fi
wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
is "$(fn inspect lim-stop | jq -c '[.async.pending, .async.running, .async.failed]')" '[3,0,0]' \
        "the three events wait for the next server (none failed)"
if command -v sqlite3 >/dev/null 2>&1; then
        is "$(sqlite3 "$S/fn/fn.db" "SELECT group_concat(attempts) FROM (SELECT attempts FROM async WHERE function = 'lim-stop' ORDER BY attempts)")" \
                "0,0,1" "only the interrupted one counts an attempt"
else skip "sqlite3 is not installed"; fi
fn rm lim-stop >/dev/null

# ---- slow clients: each request must arrive within --request-timeout, however slowly
# (first, with the server stopped: lim-q's unfinished events are made 7 hours old; Lambda keeps
# an event at most 6 hours, so they must fail as expired without running)
if command -v sqlite3 >/dev/null 2>&1; then
        DB=$S/fn/fn.db
        left=$(sqlite3 "$DB" "SELECT count(*) FROM async WHERE function = 'lim-q' AND state IN ('pending','running')")
        sqlite3 "$DB" "UPDATE async SET created = created - 7 * 3600 * 1000 WHERE function = 'lim-q'"
        starts=$(log lim-q | grep -c '^START')
fi
mk lim-rs --handler rapislow --timeout 10s
mk lim-rc --handler rapiconns
serve --request-timeout 2s
like "$ADDR" '^127\.0\.0\.1:[0-9]+$' "serve takes --request-timeout"
if [ -n "${left:-}" ]; then
        [ "$left" -ge 1 ]; ok $? "lim-q had unfinished events when the server stopped ($left)"
        wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM async WHERE function = 'lim-q' AND state IN ('pending','running')\")\" = 0 ]"
        ok $? "after the restart none of them is pending or running"
        is "$(sqlite3 "$DB" "SELECT count(*) FROM async WHERE function = 'lim-q' AND result LIKE '%expired%'")" "$left" \
                "each failed as expired (EventAgeExceeded)"
        sleep 0.5
        is "$(log lim-q | grep -c '^START')" "$starts" "and none of them ran"
else
        skip "sqlite3 is not installed"
fi
"$LORIS" "$ADDR" 200 200 8 > "$T/loris" 2>&1 & LP=$!
sleep 0.5
slow=0; i=0
while [ $i -lt 10 ]; do
        t0=$(ms)
        [ "$(inv lim-echo "{\"n\":$i}")" = 200 ] || slow=$((slow + 1000000))
        dt=$(( $(ms) - t0 )); [ "$dt" -gt "$slow" ] && slow=$dt
        i=$((i + 1))
done
[ "$slow" -lt "$TOL" ]; ok $? "10 invocations during 200 slow connections are answered promptly (slowest ${slow} ms)"
wait $LP
r=$(cat "$T/loris")
like "$r" '^opened 200 closed 200 open 0 ' "every slow connection was cut ($r)"
mx=$(printf '%s' "$r" | sed -n 's/.*max_ms \([0-9]*\).*/\1/p')
[ "${mx:-0}" -gt 0 ] && [ "$mx" -le $((2000 + TOL)) ]; ok $? "after the 2 s bound, not renewed by each byte (longest ${mx} ms)"
is "$(inv lim-echo '{"after":"loris"}')" 200 "the front door serves after them"
inv lim-rs '{"ms":6000}' >/dev/null
c=$(jq -r .closed_after_ms "$T/body")
[ "$c" -ge 1500 ] && [ "$c" -le $((2000 + TOL)) ]; ok $? "a worker trickling into its Runtime API is cut after the bound ($c ms)"
inv lim-rc '{}' >/dev/null
a=$(jq -r .answered "$T/body")
[ "$a" -le 3 ]; ok $? "a worker gets at most 4 Runtime API connections (extra connections answered: $a of 12)"
is "$(inv lim-echo '{"end":1}')" 200 "still serving"

stop_serve
is "$(ls "$S/fn/run" 2>/dev/null | wc -l)" 0 "no worker state is left"
is "$(ls "$S/containers" 2>/dev/null | wc -l)" 0 "no worker bundle is left"
done_testing 2>/dev/null || true
