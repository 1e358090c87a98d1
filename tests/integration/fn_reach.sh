#!/bin/sh
# A function reaches the server's own APIs (issue 14: "a Lambda + SQS application runs under husk
# with nothing but --endpoint-url changed"): inside its network namespace, 127.0.0.1:9000 is the
# front door, signed with the keys of its environment (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...),
# and nothing else is. The test bootstrap's "sqsput" handler sends each event to the queue
# $RESULT_QUEUE with its own SigV4 signing (SQS JSON), tries one unsigned request and a connect to
# 127.0.0.1:$PROBE_PORT (the server's port on the host).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
mkdir -p "$S"
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 "$@" >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
        PORT=${ADDR##*:}
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; _rc=$?; SERVE_PID=; return $_rc; }
trap 'stop_serve; _cleanup' EXIT
serve
[ -n "$ADDR" ] || { cat "$T/serve.log" >&2; skip_all "the server did not start"; }
case "$PORT" in 9000|9001) skip_all "the server got port $PORT, which a worker uses inside" ;; esac
eval "$(fn serve credentials --format env 2>/dev/null)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
QARN=arn:aws:sqs:us-east-1:000000000000
QURL="http://$ADDR/000000000000"
lam() { "$AWS" --endpoint-url "http://$ADDR" --output json lambda "$@" > "$T/out" 2> "$T/err"; }
sqs() { "$AWS" --endpoint-url "http://$ADDR" --output json sqs "$@" > "$T/out" 2> "$T/err"; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds (a client call takes a second or so here)
wait_for() { _end=$(($(date +%s) + $1)); shift; while :; do "$@" && return 0; [ "$(date +%s)" -lt "$_end" ] || return 1; sleep 0.2; done; }

sqs create-queue --queue-name results && sqs create-queue --queue-name orders
ok $? "queues results and orders"
fn create freach --image "$ARCHIVE" --handler sqsput --env RESULT_QUEUE=results \
        --env "PROBE_PORT=$PORT" --timeout 10s >/dev/null
ok $? "a function whose handler writes to the queue results"

# ---- invoked directly: its answer says what it saw inside
fn invoke freach --payload '{"order":1}' > "$T/inv" 2> "$T/inv.err"
cat "$T/inv" "$T/inv.err" | sed 's/^/# /'
is "$(jq -r .url_status "$T/inv")" 200 "inside, a signed GetQueueUrl to \$AWS_ENDPOINT_URL answers 200"
is "$(jq -r .url "$T/inv")" "http://127.0.0.1:9000/000000000000/results" \
        "the queue URL the server gives inside names 127.0.0.1:9000 (the request's Host)"
is "$(jq -r .send_status "$T/inv")" 200 "inside, a signed SendMessage to that URL answers 200"
is "$(jq -r .unsigned_status "$T/inv")" 403 "inside, an unsigned request is refused (403) as outside"
# A workload holds the server's keys, but not its rights: the control planes answer 403 there.
is "$(jq -r .create_status "$T/inv")" 403 \
        "inside, a signed CreateFunction (ImageUri /etc/passwd) is refused (403): the control plane is not a function's"
is "$(jq -r .apis_status "$T/inv")" 403 "inside, a signed apigatewayv2 GetApis is refused (403)"
is "$(jq -r .schedules_status "$T/inv")" 403 "inside, a signed scheduler ListSchedules is refused (403)"
probe=$(jq -r .probe "$T/inv")
[ "$probe" != ok ] && [ "$probe" != none ]
ok $? "inside, the server's port on the host (127.0.0.1:$PORT) is not reachable ($probe)"
sqs receive-message --queue-url "$QURL/results" --wait-time-seconds 2
is "$(jq -r '.Messages[0].Body' "$T/out")" '{"order":1}' "the function's result arrived in the queue results"
sqs delete-message --queue-url "$QURL/results" --receipt-handle "$(jq -r '.Messages[0].ReceiptHandle' "$T/out")"

# ---- triggered by the queue orders: each order's result lands in results
lam create-event-source-mapping --function-name freach --event-source-arn "$QARN:orders" --batch-size 1
ok $? "a mapping from orders to the function"
for i in 1 2 3; do sqs send-message --queue-url "$QURL/orders" --message-body "order-$i" || break; done
ok $? "three orders sent"
: > "$T/bodies"
collect() {
        sqs receive-message --queue-url "$QURL/results" --max-number-of-messages 10 --wait-time-seconds 1 || return 1
        jq -r '.Messages[]?.Body' "$T/out" >> "$T/bodies"
        for h in $(jq -r '.Messages[]?.ReceiptHandle' "$T/out"); do
                "$AWS" --endpoint-url "http://$ADDR" sqs delete-message --queue-url "$QURL/results" --receipt-handle "$h"
        done
        [ "$(grep -c '"body": *"order-[123]"' "$T/bodies")" -ge 3 ]
}
wait_for 30 collect
ok $? "the three orders' SQS events arrived in results (written by the function)"
for i in 1 2 3; do grep -q "\"body\": *\"order-$i\"" "$T/bodies" || echo "# missing order-$i"; done
grep -c '"eventSource": *"aws:sqs"' "$T/bodies" | grep -q '^[3-9]'
ok $? "each result is the SQS event the function got"

# ---- a worker has at most 16 connections to the front door inside
fn create fconns --image "$ARCHIVE" --handler endpointconns --timeout 20s >/dev/null
n=$(fn invoke fconns --payload '{}' | jq -r .answered)
[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -le 16 ]
ok $? "of 24 connections a worker opens to 127.0.0.1:9000 at once, at most 16 are served ($n)"
is "$(fn invoke freach --payload '"after"' | jq -r .send_status)" 200 "and the function's requests are served after"

# ---- the server stops cleanly with workers alive (their endpoints stop first)
stop_serve
ok $? "the server stops (exit 0) while workers serve the front door inside"

# ---- --no-auth: the worker's dummy keys do, and so does an unsigned request
serve --no-auth
[ -n "$ADDR" ] || { cat "$T/serve.log" >&2; }
fn invoke freach --payload '{"order":"noauth"}' > "$T/inv" 2> "$T/inv.err"
cat "$T/inv" "$T/inv.err" | sed 's/^/# /'
[ "$(jq -r .send_status "$T/inv")" = 200 ] && [ "$(jq -r .unsigned_status "$T/inv")" = 200 ]
ok $? "with --no-auth, the function's requests (with its dummy keys, or unsigned) are served"
wait_for 10 sh -c "$AWS --endpoint-url http://$ADDR --output json sqs receive-message --queue-url http://$ADDR/000000000000/results | grep -q noauth"
ok $? "with --no-auth, the result arrived"
stop_serve
ok $? "the server stops"
done_testing
