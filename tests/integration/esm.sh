#!/bin/sh
# Event source mappings (issue 14): SQS queues of the server trigger functions. Driven by the real
# clients (Debian's /usr/bin/aws, python3-boto3), signed with the store's keys. The functions run
# the test bootstrap (images/fn.sh) with its "sqs" handler, whose own record is its log: one line
# per batch ("sqs-batch N") and per record ("sqs-ok|sqs-fail MESSAGEID GROUP BODY"); a body with
# "failN" fails while its receive count is at most N ("fail": always), "boom" fails the whole
# invocation. The functions have no network, so the end-to-end test relays their results from the
# log to a results queue.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
AWS=/usr/bin/aws
PY=/usr/bin/python3
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
"$PY" -c 'import boto3' 2>/dev/null || skip_all "needs python3-boto3 for $PY"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
mkdir -p "$S"
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT
serve
[ -n "$ADDR" ] || { cat "$T/serve.log" >&2; skip_all "the server did not start"; }
eval "$(fn serve credentials --format env 2>/dev/null)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
QARN=arn:aws:sqs:us-east-1:000000000000
QURL="http://$ADDR/000000000000"
lam() { "$AWS" --endpoint-url "http://$ADDR" --output json lambda "$@" > "$T/out" 2> "$T/err"; }
sqs() { "$AWS" --endpoint-url "http://$ADDR" --output json sqs "$@" > "$T/out" 2> "$T/err"; }
out() { jq -r "$1" "$T/out"; }
log() { cat "$S/fn/logs/$1.log" 2>/dev/null; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() { _w=$1; shift; for _i in $(seq $((_w * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
count_ok() { log "$1" | grep -c "^sqs-ok .* $2\$"; }
n_ok() { log "$1" | grep -c '^sqs-ok '; }
# mkq NAME [ATTRIBUTES as KEY=VALUE,...]
mkq() { if [ -n "${2:-}" ]; then sqs create-queue --queue-name "$1" --attributes "$2"; else sqs create-queue --queue-name "$1"; fi; }
redrive() { printf '{"RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"%s\\",\\"maxReceiveCount\\":\\"%s\\"}","VisibilityTimeout":"%s"}' "$QARN:$2" "$3" "$4" > "$T/attrs.json"; sqs set-queue-attributes --queue-url "$QURL/$1" --attributes "file://$T/attrs.json"; }
state_is() { lam get-event-source-mapping --uuid "$1" && [ "$(out .State)" = "$2" ]; }
visible() { sqs get-queue-attributes --queue-url "$QURL/$1" --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible && out '.Attributes.ApproximateNumberOfMessages + "/" + .Attributes.ApproximateNumberOfMessagesNotVisible'; }
# send_batch QUEUE BODY... (up to 10)
send_batch() {
        _q=$1; shift; _i=0; _e=
        for _b in "$@"; do _e="$_e${_e:+,}{\"Id\":\"e$_i\",\"MessageBody\":\"$_b\"}"; _i=$((_i + 1)); done
        sqs send-message-batch --queue-url "$QURL/$_q" --entries "[$_e]"
}

fn create fsqs --image "$ARCHIVE" --handler sqs --concurrency 4 --timeout 2s >/dev/null
fn create fplain --image "$ARCHIVE" --handler sqs --concurrency 2 --timeout 1s >/dev/null
mkq in VisibilityTimeout=2 && mkq in-dlq && redrive in in-dlq 2 2
ok $? "queues with a redrive policy"

# ---- the API's checks (husk before issue 14: UnknownOperationException)
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:nosuchqueue"
[ $? -ne 0 ] && grep -q InvalidParameterValueException "$T/err"
ok $? "an unknown queue ARN: InvalidParameterValueException"
lam create-event-source-mapping --function-name fsqs --event-source-arn "arn:aws:sqs:eu-west-1:000000000000:in"
[ $? -ne 0 ] && grep -q InvalidParameterValueException "$T/err"
ok $? "a queue ARN of another region: InvalidParameterValueException"
lam create-event-source-mapping --function-name nosuchfn --event-source-arn "$QARN:in"
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "an unknown function: ResourceNotFoundException"
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:in" --batch-size 20
[ $? -ne 0 ] && grep -q 'InvalidParameterValueException.*greater than 0' "$T/err"
ok $? "BatchSize 20 without a batching window: InvalidParameterValueException"
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:in" --batch-size 10001 \
        --maximum-batching-window-in-seconds 1
[ $? -ne 0 ] && grep -Eq 'InvalidParameterValueException|ParamValidation|Invalid value' "$T/err"
ok $? "BatchSize 10001 is refused"
fn create fslow --image "$ARCHIVE" --handler sqs --timeout 10s >/dev/null
lam create-event-source-mapping --function-name fslow --event-source-arn "$QARN:in"
[ $? -ne 0 ] && grep -q 'InvalidParameterValueException.*Queue visibility timeout: 2 seconds is less than Function timeout: 10 seconds' "$T/err"
ok $? "a queue whose visibility timeout is below the function's timeout is refused, as Lambda" "$(cat "$T/err")"
lam list-event-source-mappings
is "$(out '.EventSourceMappings | length')" 0 "refused creations leave no mapping"

# ---- a mapping: create, state, list, flow
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:in" --batch-size 4 \
        --function-response-types ReportBatchItemFailures
ok $? "create-event-source-mapping" "$(cat "$T/err")"
M1=$(out .UUID)
is "$(out .State)" Creating "a new mapping is Creating"
is "$(out .BatchSize)/$(out .FunctionResponseTypes[0])" "4/ReportBatchItemFailures" "BatchSize and FunctionResponseTypes as given"
is "$(out .FunctionArn)" arn:aws:lambda:us-east-1:000000000000:function:fsqs "FunctionArn"
like "$(out .LastModified)" '^[0-9]{4}-' "LastModified is a timestamp the CLI renders"
wait_for 5 state_is "$M1" Enabled
ok $? "the mapping becomes Enabled"
lam create-event-source-mapping --function-name fsqs --event-source-arn "$QARN:in"
[ $? -ne 0 ] && grep -q ResourceConflictException "$T/err"
ok $? "a second mapping of the same queue and function: ResourceConflictException"
lam list-event-source-mappings --function-name fsqs
is "$(out '.EventSourceMappings | length')/$(out '.EventSourceMappings[0].UUID')" "1/$M1" "list by function"
lam list-event-source-mappings --event-source-arn "$QARN:in-dlq"
is "$(out '.EventSourceMappings | length')" 0 "list by another queue: none"

send_batch in m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 >/dev/null
wait_for 15 sh -c "[ \$(grep -c '^sqs-ok ' '$S/fn/logs/fsqs.log' 2>/dev/null) -ge 10 ]"
ok $? "ten messages flow through the mapping" "$(log fsqs | tail -20)"
is "$(for i in 1 2 3 4 5 6 7 8 9 10; do count_ok fsqs "m$i"; done | sort -u)" 1 "each was processed once"
big=$(log fsqs | awk '/^sqs-batch/ && $2 > 4' | wc -l)
is "$big" 0 "no batch is larger than BatchSize 4"
wait_for 5 sh -c "[ \"\$($AWS --endpoint-url http://$ADDR sqs get-queue-attributes --queue-url $QURL/in --attribute-names All --output json | jq -r '.Attributes.ApproximateNumberOfMessages + .Attributes.ApproximateNumberOfMessagesNotVisible')\" = 00 ]"
ok $? "processed messages are deleted from the queue"

# ---- ReportBatchItemFailures: only the named items come back; past maxReceiveCount: the DLQ
send_batch in r1 r2-fail1 r3 r4-fail >/dev/null
wait_for 20 sh -c "grep -q '^sqs-ok .* r2-fail1\$' '$S/fn/logs/fsqs.log'"
ok $? "an item that failed once is retried and succeeds"
is "$(count_ok fsqs r1)$(count_ok fsqs r3)" 11 "the batch's other items were not retried"
is "$(log fsqs | grep -c '^sqs-fail .* r2-fail1$')" 1 "the failed item failed once"
wait_for 20 sh -c "[ \"\$($AWS --endpoint-url http://$ADDR sqs receive-message --queue-url $QURL/in-dlq --output json | jq -r '.Messages[0].Body')\" = r4-fail ]"
ok $? "an item that always fails is in the dead-letter queue after maxReceiveCount 2"
is "$(log fsqs | grep -c '^sqs-fail .* r4-fail$')" 2 "it was tried maxReceiveCount times"

# ---- without ReportBatchItemFailures: a function error fails the whole batch
mkq plain VisibilityTimeout=1 && mkq plain-dlq && redrive plain plain-dlq 2 1
lam create-event-source-mapping --function-name fplain --event-source-arn "$QARN:plain" --batch-size 10
M2=$(out .UUID)
wait_for 5 state_is "$M2" Enabled
ok $? "a second mapping (without ReportBatchItemFailures) is Enabled"
lam update-event-source-mapping --uuid "$M2" --no-enabled
ok $? "update-event-source-mapping --no-enabled"
wait_for 5 state_is "$M2" Disabled
ok $? "the mapping becomes Disabled"
send_batch plain p1 p2-boom p3 >/dev/null
sleep 3
is "$(log fplain | grep -c '^sqs-')" 0 "a disabled mapping consumes nothing"
is "$(visible plain)" 3/0 "the messages wait in the queue"
lam update-event-source-mapping --uuid "$M2" --enabled --batch-size 5
ok $? "update-event-source-mapping --enabled --batch-size 5"
is "$(out .State)" Updating "an updated mapping is Updating"
wait_for 5 state_is "$M2" Enabled
ok $? "the mapping is Enabled again"
is "$(out .BatchSize)" 5 "BatchSize 5 is kept"
lam update-event-source-mapping --uuid "$M2" --batch-size 5
[ $? -eq 0 ] || grep -q ResourceInUseException "$T/err"
ok $? "an update answers (or ResourceInUseException while Updating)"
wait_for 5 state_is "$M2" Enabled
wait_for 25 sh -c "[ \$($AWS --endpoint-url http://$ADDR sqs get-queue-attributes --queue-url $QURL/plain-dlq --attribute-names ApproximateNumberOfMessages --output json | jq -r .Attributes.ApproximateNumberOfMessages) = 3 ]"
ok $? "a batch whose invocation fails is redelivered, then dead-lettered whole" "$(log fplain | grep sqs- | tail)"
is "$(log fplain | grep -c '^sqs-ok .* p1$')" 2 "its other items were redelivered with it (2 receives)"

# ---- the batching window: a batch above 10 gathers for up to the window
mkq win VisibilityTimeout=30
fn create fwin --image "$ARCHIVE" --handler sqs >/dev/null
lam create-event-source-mapping --function-name fwin --event-source-arn "$QARN:win" --batch-size 25 \
        --maximum-batching-window-in-seconds 2
M3=$(out .UUID)
wait_for 5 state_is "$M3" Enabled
"$PY" - "http://$ADDR" "$QURL/win" <<'EOF'
import sys, boto3
c = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
for k in range(3):
    c.send_message_batch(QueueUrl=sys.argv[2], Entries=[{"Id": "e%d" % i, "MessageBody": "w%d%d" % (k, i)} for i in range(10)])
EOF
wait_for 15 sh -c "[ \$(grep -c '^sqs-ok ' '$S/fn/logs/fwin.log' 2>/dev/null) -ge 30 ]"
ok $? "30 messages through a mapping of BatchSize 25"
is "$(log fwin | awk '/^sqs-batch/ { print $2 }' | tr '\n' ' ')" "25 5 " "batches of 25 (full) and then 5 (the window's end)"

# ---- FIFO: order within each group across concurrent batches; a failure holds its group
mkq q.fifo FifoQueue=true,ContentBasedDeduplication=true,VisibilityTimeout=2
mkq q-dlq.fifo FifoQueue=true
redrive q.fifo q-dlq.fifo 3 2
fn create ffifo --image "$ARCHIVE" --handler sqs --concurrency 4 --timeout 2s >/dev/null
"$PY" - "http://$ADDR" "$QURL/q.fifo" > "$T/fifo-uuid" <<'EOF'
import sys, boto3
c = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
for i in range(10):
    entries = []
    for g in range(4):
        body = "g%d-%02d" % (g, i) + ("-fail1" if (g == 1 and i == 3) else "") + "-slow"
        entries.append({"Id": "e%d" % g, "MessageBody": body, "MessageGroupId": "g%d" % g})
    c.send_message_batch(QueueUrl=sys.argv[2], Entries=entries)
lam = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1")
m = lam.create_event_source_mapping(FunctionName="ffifo", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q.fifo",
                                    BatchSize=3, FunctionResponseTypes=["ReportBatchItemFailures"])
print(m["UUID"])
EOF
ok $? "boto3: 40 messages in 4 groups, then a mapping of BatchSize 3"
wait_for 40 sh -c "[ \$(grep -c '^sqs-ok .* g' '$S/fn/logs/ffifo.log' 2>/dev/null) -ge 40 ]"
ok $? "all 40 processed" "$(log ffifo | grep -c sqs-ok)"
good=1
for g in 0 1 2 3; do
        seq_=$(log ffifo | awk -v g="g$g" '$1 == "sqs-ok" && $3 == g { print $4 }' | sed 's/-slow$//; s/-fail1$//' | tr '\n' ' ')
        want=$(for i in 00 01 02 03 04 05 06 07 08 09; do printf 'g%s-%s ' "$g" "$i"; done)
        [ "$seq_" = "$want" ] || { good=0; diag "group g$g: $seq_"; }
done
ok $((1 - good)) "each group processed once, in send order (g1's 4th item failed once and held its group)"
is "$(log ffifo | awk '$1 == "sqs-fail" { print $3 }' | sort -u)/$(log ffifo | awk '$1 == "sqs-fail" { print $4; exit }')" \
        "g1/g1-03-fail1-slow" "only g1-03 (and what followed it in its group and batch) failed"
is "$(log ffifo | awk '/^sqs-batch/ && $2 > 3' | wc -l)" 0 "batches of at most 3"
ov=$(awk '$1 == "sqs-span" { print $2, 1; print $3, -1 }' "$S/fn/logs/ffifo.log" | sort -n -k1,1 -k2,2 |
        awk '{ c += $2; if (c > m) m = c } END { print m + 0 }')
[ "$ov" -ge 2 ]
ok $? "the groups' batches ran concurrently ($ov at once at most)"

# ---- scaling: concurrent batches grow with the backlog, up to the function's concurrency and
# ScalingConfig.MaximumConcurrency (observed as overlapping invocations in the handler's record)
fn create fscale --image "$ARCHIVE" --handler sqs --concurrency 3 --timeout 30s >/dev/null
fn create fscale2 --image "$ARCHIVE" --handler sqs --concurrency 4 --timeout 30s >/dev/null
mkq sa VisibilityTimeout=60 && mkq sb VisibilityTimeout=60
"$PY" - "http://$ADDR" "$QURL" <<'EOF'
import sys, boto3
c = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
for q, n in (("sa", 36), ("sb", 24)):
    for b in range(n // 6):
        c.send_message_batch(QueueUrl=sys.argv[2] + "/" + q, Entries=[{"Id": "e%d" % i, "MessageBody": "slow-%s-%d-%d" % (q, b, i)} for i in range(6)])
EOF
lam create-event-source-mapping --function-name fscale --event-source-arn "$QARN:sa" --batch-size 2
fn map fscale2 sb --batch-size 2 --max-concurrency 2 >/dev/null
ok $? "mappings of a 36- and a 24-message backlog (200 ms per message, BatchSize 2)"
wait_for 30 sh -c "[ \$(grep -c '^sqs-ok ' '$S/fn/logs/fscale.log' 2>/dev/null) -ge 36 ] && [ \$(grep -c '^sqs-ok ' '$S/fn/logs/fscale2.log' 2>/dev/null) -ge 24 ]"
ok $? "both backlogs drained"
overlap() {
        awk '$1 == "sqs-span" { print $2, 1; print $3, -1 }' "$S/fn/logs/$1.log" | sort -n -k1,1 -k2,2 |
                awk '{ c += $2; if (c > m) m = c } END { print m + 0 }'
}
is "$(overlap fscale)" 3 "batches ran 3 at once: grown up to the function's concurrency (3)"
is "$(overlap fscale2)" 2 "MaximumConcurrency 2 bounds a function of concurrency 4 to 2 at once"

# ---- the seed's shape: orders (FIFO, AWS CLI) -> function -> results queue; failures -> DLQ
mkq orders.fifo FifoQueue=true,ContentBasedDeduplication=true,VisibilityTimeout=1
mkq orders-dlq.fifo FifoQueue=true
mkq results
redrive orders.fifo orders-dlq.fifo 2 1
fn create orders --image "$ARCHIVE" --handler sqs --concurrency 3 --timeout 1s >/dev/null
lam create-event-source-mapping --function-name orders --event-source-arn "$QARN:orders.fifo" \
        --batch-size 10 --function-response-types ReportBatchItemFailures
M5=$(out .UUID)
for c in 1 2 3; do
        for i in 1 2 3 4 5 6 7 8; do
                b="order-c$c-$i"
                [ "$c$i" = 25 ] && b="order-c$c-$i-fail"
                "$AWS" --endpoint-url "http://$ADDR" sqs send-message --queue-url "$QURL/orders.fifo" \
                        --message-body "$b" --message-group-id "customer-$c" >/dev/null || fail "send $b"
        done
done
wait_for 30 sh -c "[ \$($AWS --endpoint-url http://$ADDR sqs get-queue-attributes --queue-url $QURL/orders-dlq.fifo --attribute-names ApproximateNumberOfMessages --output json | jq -r .Attributes.ApproximateNumberOfMessages) -ge 1 ] && [ \$(grep -c '^sqs-ok .* order-' '$S/fn/logs/orders.log') -ge 23 ]"
ok $? "orders processed, the failing one dead-lettered" "$(log orders | grep sqs- | tail -5)"
# The function's results, relayed by the test to the results queue (the function has no network).
log orders | awk '$1 == "sqs-ok" { print $4 }' | while read -r r; do
        "$AWS" --endpoint-url "http://$ADDR" sqs send-message --queue-url "$QURL/results" --message-body "done:$r" >/dev/null
done
sqs get-queue-attributes --queue-url "$QURL/results" --attribute-names ApproximateNumberOfMessages
is "$(out .Attributes.ApproximateNumberOfMessages)" 23 "23 results (24 orders, 1 dead-lettered)"
sqs receive-message --queue-url "$QURL/orders-dlq.fifo"
is "$(out '.Messages[0].Body')" order-c2-5-fail "the dead-letter queue holds the failing order"
is "$(log orders | awk '$1 == "sqs-ok" && $3 == "customer-1" { print $4 }' | tr '\n' ' ')" \
        "order-c1-1 order-c1-2 order-c1-3 order-c1-4 order-c1-5 order-c1-6 order-c1-7 order-c1-8 " \
        "customer 1's orders in order"
is "$(log orders | awk '$1 == "sqs-ok" && $3 == "customer-2" { print $4 }' | tr '\n' ' ')" \
        "order-c2-1 order-c2-2 order-c2-3 order-c2-4 order-c2-6 order-c2-7 order-c2-8 " \
        "customer 2's orders in order, the failed one skipped only after its allowed receives"

# ---- paging and delete
lam list-event-source-mappings --max-items 2
is "$(out '.EventSourceMappings | length')" 2 "list --max-items 2"
[ -n "$(out '.NextToken // empty')" ]
ok $? "a next token for the rest"
"$PY" - "http://$ADDR" <<'EOF' > "$T/pages"
import sys, boto3
lam = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1")
seen = []
r = lam.list_event_source_mappings(MaxItems=2)
seen += r["EventSourceMappings"]
while "NextMarker" in r:
    r = lam.list_event_source_mappings(MaxItems=2, Marker=r["NextMarker"])
    seen += r["EventSourceMappings"]
print(len(seen), len(set(m["UUID"] for m in seen)))
EOF
is "$(cat "$T/pages")" "7 7" "boto3 pages through all 7 mappings with Marker"
lam delete-event-source-mapping --uuid "$M2"
ok $? "delete-event-source-mapping"
is "$(out .State)" Deleting "a deleted mapping is Deleting"
wait_for 5 sh -c "! $AWS --endpoint-url http://$ADDR lambda get-event-source-mapping --uuid $M2 >/dev/null 2>&1"
ok $? "then it is gone"
lam get-event-source-mapping --uuid "$M2"
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "get of a deleted mapping: ResourceNotFoundException"
send_batch plain after-delete >/dev/null
sleep 3
is "$(log fplain | grep -c 'after-delete')" 0 "a deleted mapping consumes nothing"

# ---- husk fn map / maps / unmap: the same API from husk's command line
mkq cliq
out_=$(fn map fplain cliq --batch-size 3 --report-failures --max-concurrency 2 2>&1)
ok $? "husk fn map FUNCTION QUEUE-NAME" "$out_"
like "$out_" '^[0-9a-f-]{36}$' "it prints the new mapping's UUID"
wait_for 5 state_is "$out_" Enabled
is "$(out .EventSourceArn)/$(out .BatchSize)/$(out .ScalingConfig.MaximumConcurrency)/$(out .FunctionResponseTypes[0])" \
        "$QARN:cliq/3/2/ReportBatchItemFailures" "its options reach the record"
err_=$(fn map fplain cliq 2>&1)
[ $? -ne 0 ] && echo "$err_" | grep -q 'already exists'
ok $? "husk fn map of an existing pair fails with Lambda's message"
err_=$(fn map fplain nosuchq 2>&1)
ok $((! $?)) "husk fn map of a missing queue fails" "$err_"
err_=$(fn map fplain cliq --batch-size 0 2>&1)
ok $((! $?)) "husk fn map --batch-size 0 fails"
like "$(fn maps)" "$out_ +fplain +cliq +Enabled +3 +0 +report-failures max-concurrency=2" "husk fn maps lists it"
fn unmap "$out_"
ok $? "husk fn unmap UUID"
wait_for 5 sh -c "! '$HUSK' fn --store '$S' maps | grep -q '$out_'"
ok $? "the mapping is gone from husk fn maps"

# ---- mappings survive a restart; stopping the server stops the pollers
stop_serve
serve
[ -n "$ADDR" ] && QURL="http://$ADDR/000000000000"
send_batch in after-restart >/dev/null
wait_for 15 sh -c "grep -q '^sqs-ok .* after-restart\$' '$S/fn/logs/fsqs.log'"
ok $? "after a restart the mapping polls again"
lam get-event-source-mapping --uuid "$M1"
is "$(out .State)" Enabled "and it is still Enabled"
stop_serve
done_testing
