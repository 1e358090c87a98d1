#!/bin/sh
# Event source mappings (issue 14): durability. 10,000 messages go through a mapping with
# ReportBatchItemFailures while the server is killed with -9 twice and restarted. One message in
# ten fails its first delivery ("-fail1"), one in a hundred fails always ("-fail": dead-lettered
# after maxReceiveCount 3). The function's own record is its log ("sqs-ok ID GROUP BODY" per
# processed message, written before the batch is deleted). Afterwards every message was processed
# or is in the dead-letter queue, every always-failing one is in the dead-letter queue, and
# nothing was processed twice beyond what at-least-once delivery allows: a batch that succeeded
# just before a kill, whose delete the kill prevented, is delivered again (as with Lambda). Such
# duplicates are counted and bounded by the batches in flight at the kills.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import boto3' 2>/dev/null || skip_all "needs Debian's python3-boto3"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
mkdir -p "$S"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP="http://127.0.0.1:$PORT"
CONC=4
BATCH=10
SERVE_PID=
serve() {
        "$HUSK" fn --store "$S" serve --listen "127.0.0.1:$PORT" --no-auth >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do curl -s -o /dev/null "$EP/" && break; sleep 0.05; done
}
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID"; _cleanup' EXIT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
"$HUSK" fn --store "$S" create fdur --image "$ARCHIVE" --handler sqs --concurrency $CONC \
        --log-rate 10m >/dev/null
ok $? "a function with the sqs handler"
serve

"$PY" - "$EP" <<'EOF'
import sys, json, boto3, threading
ep = sys.argv[1]
c = boto3.client("sqs", endpoint_url=ep, region_name="us-east-1")
c.create_queue(QueueName="dur-dlq")
q = c.create_queue(QueueName="dur", Attributes={"VisibilityTimeout": "4", "RedrivePolicy": json.dumps(
    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dur-dlq", "maxReceiveCount": "3"})})["QueueUrl"]
def body(i):
    if i % 100 == 5:
        return "d%05d-fail" % i
    if i % 10 == 0:
        return "d%05d-fail1" % i
    return "d%05d" % i
def sender(k):
    cl = boto3.client("sqs", endpoint_url=ep, region_name="us-east-1")
    for b in range(k, 1000, 4):
        r = cl.send_message_batch(QueueUrl=q, Entries=[{"Id": "e%d" % j, "MessageBody": body(b * 10 + j)} for j in range(10)])
        assert len(r.get("Successful", [])) == 10, r
ts = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
EOF
ok $? "10,000 messages sent (1,000 fail once, 100 always)"
t0=$(date +%s)
U=$(curl -s -X POST "$EP/2015-03-31/event-source-mappings/" -H 'Content-Type: application/json' \
        -d "{\"FunctionName\":\"fdur\",\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:dur\",\"BatchSize\":$BATCH,\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"]}" |
        jq -r .UUID)
like "$U" '^[0-9a-f-]{36}$' "a mapping with ReportBatchItemFailures"
processed() { awk '/^sqs-ok /{ n++ } END { print n + 0 }' "$S/fn/logs/fdur.log" 2>/dev/null || echo 0; }
kills=0
for at in 2500 6000; do
        for _i in $(seq 300); do [ "$(processed)" -ge "$at" ] && break; sleep 0.1; done
        kill -9 "$SERVE_PID"
        wait "$SERVE_PID" 2>/dev/null
        kills=$((kills + 1))
        diag "killed with -9 after $(processed) processed"
        serve
done
is "$kills" 2 "the server was killed with -9 twice while the mapping ran"
# Done when the queue is empty and nothing is in flight.
left() {
        "$PY" - "$EP" <<'EOF'
import sys, boto3
c = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
a = c.get_queue_attributes(QueueUrl=sys.argv[1] + "/000000000000/dur", AttributeNames=["All"])["Attributes"]
print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]) + int(a["ApproximateNumberOfMessagesDelayed"]))
EOF
}
for _i in $(seq 120); do [ "$(left)" = 0 ] && break; sleep 0.5; done
is "$(left)" 0 "the queue drained"
diag "run time: $(($(date +%s) - t0)) s"
"$PY" - "$EP" "$S/fn/logs/fdur.log" <<'EOF' > "$T/result.json"
import sys, json, collections, boto3
ep, logf = sys.argv[1:3]
c = boto3.client("sqs", endpoint_url=ep, region_name="us-east-1")
dlq = collections.Counter()
while True:
    r = c.receive_message(QueueUrl=ep + "/000000000000/dur-dlq", MaxNumberOfMessages=10, WaitTimeSeconds=0)
    ms = r.get("Messages", [])
    if not ms:
        break
    for m in ms:
        dlq[m["Body"]] += 1
    c.delete_message_batch(QueueUrl=ep + "/000000000000/dur-dlq", Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ms)])
ok = collections.Counter()
for line in open(logf, errors="replace"):
    p = line.split()
    if len(p) == 4 and p[0] == "sqs-ok":
        ok[p[3]] += 1
bodies = ["d%05d-fail" % i if i % 100 == 5 else "d%05d-fail1" % i if i % 10 == 0 else "d%05d" % i for i in range(10000)]
lost = [b for b in bodies if ok[b] == 0 and dlq[b] == 0]
print(json.dumps({
    "processed": sum(1 for b in bodies if ok[b] > 0),
    "dead_lettered": sum(1 for b in bodies if dlq[b] > 0),
    "lost": len(lost), "lost_sample": lost[:5],
    "duplicates": sum(ok[b] - 1 for b in bodies if ok[b] > 1),
    "processed_and_dead_lettered": sum(1 for b in bodies if ok[b] and dlq[b]),
    "always_failing_processed": sum(1 for b in bodies if b.endswith("-fail") and ok[b]),
    "always_failing_dead_lettered": sum(1 for b in bodies if b.endswith("-fail") and dlq[b]),
    "dlq_twice": sum(1 for b in bodies if dlq[b] > 1),
}))
EOF
R=$(cat "$T/result.json")
diag "$R"
j() { printf '%s' "$R" | jq -r ".$1"; }
is "$(j lost)" 0 "every message was processed or dead-lettered (none lost)"
is "$(j always_failing_dead_lettered)/$(j always_failing_processed)" "100/0" "the 100 always-failing messages are in the dead-letter queue, never processed"
is "$(j processed_and_dead_lettered)" 0 "no message was both processed and dead-lettered"
is "$(j dlq_twice)" 0 "no message is in the dead-letter queue twice"
is "$(j processed)" 9900 "the other 9,900 were processed"
dups=$(j duplicates)
[ "$dups" -le $((kills * CONC * BATCH)) ]
ok $? "duplicates ($dups) within at-least-once delivery: at most the batches in flight at the kills ($((kills * CONC * BATCH)))"
done_testing
