#!/bin/sh
# husk queue (issue 13): the command line of the queues, a signed client of the running server.
# Signed with the store's keys (the server runs with auth on); what it does is checked through a
# second client, Debian's awscli, where it is installed.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
S="$T/store"
SERVE_PID=
"$HUSK" serve --store "$S" --listen 127.0.0.1:0 --listen-unix "$T/serve.sock" > "$T/serve.log" 2>&1 &
SERVE_PID=$!
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; _cleanup' EXIT
for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && [ -S "$T/serve.sock" ] && break; sleep 0.05; done
ADDR=$(cat "$S/fn/serve.addr")
q() { "$HUSK" queue --store "$S" "$@"; }

url=$(q create orders --attr VisibilityTimeout=2 --tag team=shop)
ok $? "create a queue"
like "$url" "^http://127\.0\.0\.1:[0-9]+/000000000000/orders$" "create prints the queue URL in AWS's form"
q create orders --attr VisibilityTimeout=2 >/dev/null; ok $? "creating it again with the same attributes is fine"
out=$(q create orders --attr VisibilityTimeout=5 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "creating it again with other attributes fails"
like "$out" "QueueNameExists|QueueAlreadyExists" "... naming AWS's error (QueueNameExists in the JSON protocol)"
q create jobs.fifo --attr ContentBasedDeduplication=true >/dev/null; ok $? "create a FIFO queue (NAME.fifo)"
is "$(q inspect jobs.fifo | jq -r .Attributes.FifoQueue)" true "a .fifo name makes a FIFO queue"
is "$(q inspect orders | jq -r '[.Attributes.VisibilityTimeout, .Tags.team] | join(",")')" "2,shop" \
        "inspect shows attributes and tags"
like "$(q inspect orders | jq -r .Attributes.QueueArn)" "^arn:aws:sqs:us-east-1:000000000000:orders$" "inspect shows the ARN"

id=$(q send orders "hello world" --attr kind=greeting); ok $? "send a message"
like "$id" "^[0-9a-f-]{36}$" "send prints the MessageId"
printf 'from a file' > "$T/body"
q send orders "@$T/body" >/dev/null; ok $? "send a body from a file"
like "$(q ls)" "orders +2 +0 +0 +http://" "ls shows the visible messages"
m=$(q receive orders --max 1)
is "$(printf '%s' "$m" | jq -r .Body)" "hello world" "receive returns the first message"
is "$(printf '%s' "$m" | jq -r .MessageAttributes.kind)" greeting "... with its attributes"
is "$(printf '%s' "$m" | jq -r .Attributes.ApproximateReceiveCount)" 1 "... and its receive count"
like "$(q ls)" "orders +1 +1 +0" "ls shows one in flight"
sleep 2.3
m2=$(q receive orders --max 10 | jq -r 'select(.Body == "hello world") | .Attributes.ApproximateReceiveCount')
is "$m2" 2 "after its visibility timeout the message comes back with receive count 2"
q receive orders --max 10 --visibility 0 --delete >/dev/null; ok $? "receive --delete"
sleep 0.2
is "$(q receive orders --wait 1 | wc -l)" 0 "the queue is empty afterwards (receive --wait 1 answers nothing)"
rh=$(q send orders x >/dev/null && q receive orders | jq -r .ReceiptHandle)
q delete orders "$rh"; ok $? "delete by receipt handle"

# FIFO order through the CLI
for i in 1 2 3; do q send jobs.fifo "job-$i" --group g1 >/dev/null; done
is "$(q receive jobs.fifo --max 10 --delete | jq -r .Body | tr '\n' ' ')" "job-1 job-2 job-3 " "FIFO order within a group"

# Dead-letter queue and redrive
q create dlq >/dev/null
arn=$(q inspect dlq | jq -r .Attributes.QueueArn)
q create work --attr VisibilityTimeout=0 --attr "RedrivePolicy={\"deadLetterTargetArn\":\"$arn\",\"maxReceiveCount\":\"1\"}" >/dev/null
ok $? "create a queue with a RedrivePolicy"
q send work poison >/dev/null
q receive work >/dev/null
q receive work >/dev/null
is "$(q receive dlq --visibility 0 | jq -r .Body)" poison "past maxReceiveCount the message is in the dead-letter queue"
task=$(q redrive dlq); ok $? "redrive the dead-letter queue"
[ -n "$task" ]; ok $? "... prints a task handle"
got=
for _i in $(seq 50); do got=$(q receive work --visibility 0 | jq -r .Body); [ -n "$got" ] && break; sleep 0.1; done
is "$got" poison "the message went back to the queue it came from"

q purge orders; ok $? "purge"
out=$(q purge orders 2>&1); [ $? -ne 0 ]; ok $? "a second purge within 60 s fails"
like "$out" "PurgeQueueInProgress" "... naming PurgeQueueInProgress"
q rm orders; ok $? "rm"
out=$(q inspect orders 2>&1); [ $? -ne 0 ]; ok $? "inspect of a removed queue fails"
like "$out" "QueueDoesNotExist|NonExistentQueue" "... naming the missing queue"

# Errors are the user's: clear, non-zero, nothing done.
out=$(q send 'bad/name' x 2>&1); is "$?" 2 "a bad queue name is refused before any request"
like "$out" "not a queue name" "... saying why"
out=$(q receive work --max 11 2>&1); [ $? -ne 0 ]; ok $? "--max past 10 is refused"
like "$out" "from 1 to 10" "... naming the bound"
big=$(head -c 262145 /dev/zero | tr '\0' a); printf '%s' "$big" > "$T/big"
out=$(q send work "@$T/big" 2>&1); [ $? -ne 0 ]; ok $? "a body over 256 KiB is refused"

# The unix socket and other keys
q --endpoint "$T/serve.sock" create viasock >/dev/null 2>&1 || q create viasock --endpoint "$T/serve.sock" >/dev/null
like "$(q ls --endpoint "$T/serve.sock")" "viasock" "the CLI reaches the server over its unix socket"
out=$(AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG1 AWS_SECRET_ACCESS_KEY=x "$HUSK" queue --store "$T/nostore" \
        --endpoint "$ADDR" ls 2>&1); [ $? -ne 0 ]; ok $? "a client with other keys is refused"
like "$out" "UnrecognizedClient|InvalidClientTokenId|Signature" "... with AWS's error"
if [ -x /usr/bin/aws ]; then
        eval "$("$HUSK" serve credentials --store "$S" --format env)"
        export AWS_DEFAULT_REGION=us-east-1
        is "$(/usr/bin/aws --endpoint-url "http://$ADDR" sqs get-queue-url --queue-name work --query QueueUrl --output text)" \
                "http://$ADDR/000000000000/work" "the AWS CLI sees the queue the husk CLI made"
else
        skip "Debian's awscli is not installed"
fi
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
done_testing
