#!/bin/sh
# Metrics (issue 17): the server's GET /metrics (Prometheus text 0.0.4, unsigned) and
# `husk fn stats` / `husk queue stats` report exactly what this test did: invocations that
# succeed, fail, are throttled (concurrency 1, --max-queue 0), run async and through a queue
# mapping; messages sent, received, deleted, delayed and left visible or in flight. The text is
# checked with promtool (Debian's prometheus package) when it is installed. Deleted functions
# and queues stop being reported. Every path but /metrics still needs a signature.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
mkdir -p "$S"
fn() { "$HUSK" fn --store "$S" "$@"; }
queue() { "$HUSK" queue --store "$S" "$@"; }
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 --retry-delay 100ms >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
BG=
trap 'stop_serve; [ -n "$BG" ] && kill $BG 2>/dev/null; _cleanup' EXIT
serve
[ -n "$ADDR" ] || { cat "$T/serve.log" >&2; skip_all "the server did not start"; }
eval "$(fn serve credentials --format env 2>/dev/null)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
QARN=arn:aws:sqs:us-east-1:000000000000
QURL="http://$ADDR/000000000000"
sqs() { "$AWS" --endpoint-url "http://$ADDR" --output json sqs "$@" > "$T/out" 2> "$T/err"; }
lam() { "$AWS" --endpoint-url "http://$ADDR" --output json lambda "$@" > "$T/out" 2> "$T/err"; }
out() { jq -r "$1" "$T/out"; }
wait_for() { _w=$1; shift; for _i in $(seq $((_w * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
# scrape: /metrics, unsigned, into $T/m; prints the status
scrape() { curl -s -o "$T/m" -w '%{http_code}' "http://$ADDR/metrics"; }
# m NAME 'LABELS': the value of one sample of the last scrape ("" when absent)
m() { awk -v k="$1{$2}" 'index($0, k " ") == 1 { print $2 }' "$T/m"; }
# ms NAME 'LABELS': scrape, then m
ms() { scrape >/dev/null; m "$@"; }
is_at() { [ "$(ms "$1" "$2")" = "$3" ]; } # is_at NAME LABELS VALUE (for wait_for)

# ---- what the test does
fn create fecho --image "$ARCHIVE" --handler echo --concurrency 2 >/dev/null &&
        fn create ferr --image "$ARCHIVE" --handler error >/dev/null &&
        fn create fslow --image "$ARCHIVE" --handler sleep --concurrency 1 --max-queue 0 --timeout 10s >/dev/null &&
        fn create fsqs --image "$ARCHIVE" --handler sqs --timeout 2s >/dev/null &&
        fn create fgone --image "$ARCHIVE" --handler echo >/dev/null &&
        fn create fidle --image "$ARCHIVE" --handler echo >/dev/null
ok $? "functions created"

is "$(scrape)" 200 "GET /metrics answers 200 without a signature"
is "$(m husk_function_invocations_total 'function="fidle"')" 0 \
        "a function never invoked is reported with 0 invocations"

n=0
for i in 1 2 3 4 5; do fn invoke fecho --payload "{\"i\":$i}" >/dev/null 2>&1 && n=$((n + 1)); done
is "$n" 5 "5 sync invocations of fecho succeed"
e=0
for i in 1 2 3; do fn invoke ferr >/dev/null 2>&1 || e=$((e + 1)); done
is "$e" 3 "3 invocations of ferr fail (the function reports an error)"
fn invoke fgone >/dev/null 2>&1
ok $? "fgone is invoked once"

# fslow: concurrency 1 and no queue: while one runs, others are throttled (429)
fn invoke fslow --payload '{"ms":4000}' > "$T/slow.out" 2>&1 &
BG=$!
wait_for 20 is_at husk_function_concurrent_executions 'function="fslow"' 1
ok $? "ConcurrentExecutions of fslow is 1 while its invocation runs" "$(grep fslow "$T/m")"
t=0
for i in 1 2; do fn invoke fslow --payload '{"ms":1}' > "$T/thr" 2>&1; grep -q 'HTTP 429' "$T/thr" && t=$((t + 1)); done
is "$t" 2 "2 more invocations of fslow are throttled (429)"
wait "$BG"
ok $? "the running fslow invocation ends well"
BG=
is "$(ms husk_function_concurrent_executions 'function="fslow"')" 0 "ConcurrentExecutions of fslow is 0 after it"

# async: 2 events of fecho
for i in 1 2; do fn invoke fecho --type Event >/dev/null 2>&1; done
wait_for 20 is_at husk_function_invocations_total 'function="fecho"' 7
ok $? "2 async invocations of fecho count as invocations (7 in all)" "$(grep fecho "$T/m")"

# queues: qm gets 5 messages (one delayed), 3 are received, 2 of them deleted
sqs create-queue --queue-name qm && sqs create-queue --queue-name qgone
ok $? "queues created"
sqs send-message-batch --queue-url "$QURL/qm" --entries '[{"Id":"a","MessageBody":"a"},{"Id":"b","MessageBody":"b"},{"Id":"c","MessageBody":"c"}]' &&
        sqs send-message --queue-url "$QURL/qm" --message-body d &&
        sqs send-message --queue-url "$QURL/qm" --message-body late --delay-seconds 600
ok $? "5 messages sent to qm (one delayed by 600 s)"
sqs receive-message --queue-url "$QURL/qm" --max-number-of-messages 3 --visibility-timeout 600
is "$(out '.Messages | length')" 3 "3 messages received"
cp "$T/out" "$T/recv"
for i in 0 1; do sqs delete-message --queue-url "$QURL/qm" --receipt-handle "$(jq -r ".Messages[$i].ReceiptHandle" "$T/recv")"; done
# deleting the same receipt again succeeds in SQS but deletes nothing
sqs delete-message --queue-url "$QURL/qm" --receipt-handle "$(jq -r '.Messages[0].ReceiptHandle' "$T/recv")"
ok $? "2 received messages deleted (one of them twice)"

# a queue mapping: 3 messages wait 2 s before fsqs is mapped (batch size 1: one invocation each)
sqs create-queue --queue-name qin --attributes VisibilityTimeout=5 &&
        sqs send-message-batch --queue-url "$QURL/qin" --entries '[{"Id":"a","MessageBody":"x1"},{"Id":"b","MessageBody":"x2"},{"Id":"c","MessageBody":"x3"}]'
ok $? "3 messages sent to qin"
sleep 2
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:qin" --batch-size 1
ok $? "qin triggers fsqs" "$(cat "$T/err")"
wait_for 30 is_at husk_queue_messages_deleted_total 'queue="qin"' 3
ok $? "the mapping processed and deleted the 3 messages" "$(grep qin "$T/m")"

# ---- /metrics says exactly that
is "$(scrape)" 200 "GET /metrics"
F='function="fecho"'
is "$(m husk_function_invocations_total "$F")/$(m husk_function_errors_total "$F")/$(m husk_function_throttles_total "$F")" \
        7/0/0 "fecho: 7 invocations, 0 errors, 0 throttles"
is "$(m husk_function_duration_milliseconds_count "$F")" 7 "fecho: 7 durations"
p50=$(m husk_function_duration_milliseconds "$F,quantile=\"0.5\"")
p99=$(m husk_function_duration_milliseconds "$F,quantile=\"0.99\"")
max=$(m husk_function_duration_milliseconds_max "$F")
sum=$(m husk_function_duration_milliseconds_sum "$F")
awk -v a="$p50" -v b="$p99" -v c="$max" -v s="$sum" 'BEGIN { exit !(a > 0 && a <= b && b <= c && c <= s && c < 3000) }'
ok $? "fecho: 0 < p50 <= p99 <= max <= sum, in milliseconds ($p50 $p99 $max $sum)"
F='function="ferr"'
is "$(m husk_function_invocations_total "$F")/$(m husk_function_errors_total "$F")/$(m husk_function_throttles_total "$F")" \
        3/3/0 "ferr: 3 invocations, 3 errors"
F='function="fslow"'
is "$(m husk_function_invocations_total "$F")/$(m husk_function_errors_total "$F")/$(m husk_function_throttles_total "$F")" \
        1/0/2 "fslow: 1 invocation, 2 throttles"
awk -v c="$(m husk_function_duration_milliseconds_max "$F")" 'BEGIN { exit !(c >= 4000 && c < 10000) }'
ok $? "fslow: the longest duration is the 4 s sleep ($(m husk_function_duration_milliseconds_max "$F"))"
F='function="fsqs"'
is "$(m husk_function_invocations_total "$F")/$(m husk_function_errors_total "$F")" 3/0 \
        "fsqs: 3 invocations through the mapping"
is "$(m husk_function_iterator_age_milliseconds_count "$F")" 3 "fsqs: 3 iterator ages"
age=$(m husk_function_iterator_age_milliseconds "$F,quantile=\"0.5\"")
awk -v a="$age" 'BEGIN { exit !(a >= 2000 && a < 60000) }'
ok $? "fsqs: the iterator age covers the 2 s the messages waited ($age ms)"
is "$(m husk_function_dead_letter_errors_total "$F")" 0 "DeadLetterErrors is reported, 0"
is "$(m husk_function_iterator_age_milliseconds_count 'function="fecho"')" "" \
        "a function without a mapping has no iterator age"
Q='queue="qm"'
is "$(m husk_queue_messages_sent_total "$Q")/$(m husk_queue_messages_received_total "$Q")/$(m husk_queue_messages_deleted_total "$Q")" \
        5/3/2 "qm: 5 sent, 3 received, 2 deleted"
is "$(m husk_queue_messages_visible "$Q")/$(m husk_queue_messages_in_flight "$Q")/$(m husk_queue_messages_delayed "$Q")" \
        1/1/1 "qm: 1 visible, 1 in flight, 1 delayed"
awk -v a="$(m husk_queue_oldest_message_age_seconds "$Q")" 'BEGIN { exit !(a > 0 && a < 600) }'
ok $? "qm: the oldest message's age in seconds ($(m husk_queue_oldest_message_age_seconds "$Q"))"
Q='queue="qin"'
is "$(m husk_queue_messages_sent_total "$Q")/$(m husk_queue_messages_received_total "$Q")/$(m husk_queue_messages_deleted_total "$Q")/$(m husk_queue_messages_visible "$Q")/$(m husk_queue_messages_in_flight "$Q")" \
        3/3/3/0/0 "qin: 3 sent, received and deleted by the mapping, none left"
is "$(m husk_queue_oldest_message_age_seconds "$Q")" 0 "qin: empty, oldest age 0"
grep -Eq '^# TYPE husk_function_duration_milliseconds summary$' "$T/m" &&
        grep -Eq '^# TYPE husk_function_duration_milliseconds_max gauge$' "$T/m" &&
        grep -Eq '^# TYPE husk_queue_messages_sent_total counter$' "$T/m" &&
        grep -Eq '^# TYPE husk_metrics_dropped_series_total counter$' "$T/m"
ok $? "HELP and TYPE lines: summaries, their _max gauges, counters"
is "$(grep -c . "$T/m")" "$(grep -c '^\(# HELP \|# TYPE \|[a-z_]*{\?[^ ]* [-+0-9.eEInfNa]*$\)' "$T/m")" \
        "every line is a HELP, a TYPE or a sample"
if command -v promtool >/dev/null 2>&1; then
        promtool check metrics < "$T/m" > "$T/lint" 2>&1
        rc=$?
        # 3: lint remarks only. The contract's family names carry milliseconds (Lambda's unit),
        # which promtool's naming lint remarks on; anything else is a failure.
        grep -v 'use base unit "seconds" instead of "milliseconds"' "$T/lint" > "$T/lint.other"
        { [ $rc -eq 0 ] || [ $rc -eq 3 ]; } && [ ! -s "$T/lint.other" ]
        ok $? "promtool check metrics: valid exposition text (rc $rc)" "$(cat "$T/lint")"
else
        skip "promtool not installed (apt-get install prometheus): the strict reader of the stats commands checks the text below"
fi

# ---- the stats commands read the same
fn stats fecho --format json > "$T/st" 2> "$T/st.err"
ok $? "husk fn stats fecho --format json" "$(cat "$T/st.err")"
is "$(jq -r '[.FunctionName, .Invocations, .Errors, .Throttles, .ConcurrentExecutions, .DeadLetterErrors, .Duration.Count] | join(" ")' "$T/st")" \
        "fecho 7 0 0 0 0 7" "husk fn stats: the figures of /metrics"
fn stats fslow > "$T/st" 2>&1
like "$(cat "$T/st")" '^FUNCTION +INVOCATIONS +ERRORS +THROTTLES +CONCURRENT' "husk fn stats NAME: a table"
is "$(awk '$1 == "fslow" { print $2 "/" $3 "/" $4 }' "$T/st")" 1/0/2 "the table row of fslow"
diag "$(cat "$T/st")"
fn stats --format json > "$T/st" 2>&1
is "$(jq -r '[.[].FunctionName] | join(" ")' "$T/st")" "fecho ferr fgone fidle fslow fsqs" \
        "husk fn stats without NAME: every function"
is "$(jq -r '.[] | select(.FunctionName == "fsqs") | .IteratorAge.Count' "$T/st")" 3 "with the iterator age of fsqs"
fn stats nosuch > "$T/st" 2>&1
[ $? -ne 0 ] && grep -q 'no function named nosuch' "$T/st"
ok $? "husk fn stats of an unknown function fails and says so" "$(cat "$T/st")"
queue stats qm --format json > "$T/st" 2> "$T/st.err"
ok $? "husk queue stats qm --format json" "$(cat "$T/st.err")"
is "$(jq -r '[.QueueName, .MessagesSent, .MessagesReceived, .MessagesDeleted, .MessagesVisible, .MessagesInFlight, .MessagesDelayed] | join(" ")' "$T/st")" \
        "qm 5 3 2 1 1 1" "husk queue stats: the figures of /metrics"
queue stats > "$T/st" 2>&1
is "$(awk 'NR > 1 { printf "%s:%s/%s/%s ", $1, $2, $3, $4 }' "$T/st")" "qgone:0/0/0 qin:3/3/3 qm:5/3/2 " \
        "husk queue stats: a table of every queue"
diag "$(cat "$T/st")"

# ---- HEAD, methods, signatures
curl -s -I "http://$ADDR/metrics" > "$T/head"
like "$(head -1 "$T/head")" '^HTTP/1.1 200' "HEAD /metrics answers 200"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/head"
ok $? "Content-Type: text/plain; version=0.0.4"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ADDR/metrics")" 404 \
        "POST /metrics is no scrape: an unknown request (404, as before /metrics existed)"
for p in /2015-03-31/functions/ /2015-03-31/event-source-mappings/ /v2/apis /schedules; do
        is "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR$p")" 403 "GET $p still needs a signature"
done
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: AmazonSQS.ListQueues' -d '{}' "http://$ADDR/")" 403 "SQS still needs a signature"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' \
        "http://$ADDR/2015-03-31/functions/fecho/invocations")" 403 "Invoke still needs a signature"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/metrics?Action=ListQueues")" 200 \
        "a query string does not turn /metrics into an SQS request"

# ---- deleted functions and queues stop being reported
lam delete-function --function-name fgone
ok $? "delete-function fgone"
fn rm fidle >/dev/null
ok $? "husk fn rm fidle (the store, while the server runs)"
sqs delete-queue --queue-url "$QURL/qgone"
ok $? "delete-queue qgone"
scrape >/dev/null
is "$(grep -c 'function="fgone"\|function="fidle"\|queue="qgone"' "$T/m")" 0 \
        "their series are gone from /metrics"
is "$(m husk_function_invocations_total 'function="fecho"')" 7 "the others stay"

done_testing
