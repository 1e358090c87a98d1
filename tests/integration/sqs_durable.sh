#!/bin/sh
# husk queues (issue 13): durability. 10,000 messages sent by 4 boto3 clients (and received and
# deleted by 4 more) while the server is killed with -9 twice and restarted on the same port;
# afterwards every acknowledged message was deleted exactly once or is still in the queue, no
# message whose delete was acknowledged came back, FIFO order held (sqs_durable.py checks).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import boto3' 2>/dev/null || skip_all "needs Debian's python3-boto3"
S="$T/store"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVE_PID=
serve() {
        "$HUSK" serve --store "$S" --listen "127.0.0.1:$PORT" --no-auth >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
}
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; _cleanup' EXIT
serve
mkdir -p "$T/out"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$PY" "$HUSK_SRCDIR/tests/integration/sqs_durable.py" \
        "http://127.0.0.1:$PORT" "$T/out" > "$T/driver.log" 2>&1 &
DRIVER=$!
for _i in $(seq 300); do [ -e "$T/out/started" ] && break; sleep 0.1; done
[ -e "$T/out/started" ]; ok $? "the clients started"
# Kill when a quarter and when 60% of the messages were acknowledged (not at fixed times: a
# quiet host with fast fsyncs sends all 10,000 in a few seconds).
progress() { cat "$T/out/progress" 2>/dev/null || echo 0; }
kills=0
for at in 2500 6000; do
        for _i in $(seq 600); do [ "$(progress)" -ge "$at" ] || [ -e "$T/out/produced" ] && break; sleep 0.05; done
        [ -e "$T/out/produced" ] && break
        kill -9 "$SERVE_PID" && wait "$SERVE_PID" 2>/dev/null
        kills=$((kills + 1))
        diag "killed at $(progress) acknowledged sends"
        sleep 0.3
        serve
done
is "$kills" 2 "the server was killed with -9 twice while the clients sent"
wait "$DRIVER"
ok $? "the clients finished"
R=$(cat "$T/out/result.json" 2>/dev/null)
diag "$R"
[ -n "$R" ] || { diag "$(tail -n 20 "$T/driver.log")"; bail "no result"; }
j() { printf '%s' "$R" | jq -r ".$1"; }
is "$(j sent_acked)" 10000 "all 10,000 messages were acknowledged (resent as new ones when an answer was lost)"
is "$(j lost)" 0 "no acknowledged message was lost"
is "$(j deleted_twice)" 0 "no message was deleted twice"
is "$(j received_after_delete)" 0 "no message came back after its delete was acknowledged"
is "$(j fifo_order_errors)" 0 "FIFO order held within each group across the restarts"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
done_testing
