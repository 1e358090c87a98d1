#!/bin/sh
# SQS over the query protocol (issue 13): `husk serve` driven by Debian's awscli 2.9 (/usr/bin/aws,
# `aws sqs ...`) and boto3 1.26 (sqs_boto3.py), both of which speak the query protocol with XML
# answers and sign every request with the store's keys (husk serve credentials); hostile input
# with curl (signed too). Checks the effect through the clients: what they print and parse.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq md5sum
[ -x /usr/bin/aws ] || skip_all "needs Debian's awscli (/usr/bin/aws; apt-get install awscli)"
/usr/bin/python3 -c 'import boto3' 2>/dev/null || skip_all "needs python3-boto3"
S="$T/store"
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
PY_PID=
trap '[ -n "$PY_PID" ] && kill "$PY_PID" 2>/dev/null; stop_serve; _cleanup' EXIT
"$HUSK" serve --store "$S" --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
SERVE_PID=$!
for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
[ -n "$ADDR" ] || { fail "husk serve starts" "$(cat "$T/serve.log")"; done_testing; }
E="http://$ADDR"
Q="$E/000000000000"
# The clients sign with the store's keys and read no configuration of this machine's user.
eval "$("$HUSK" serve credentials --store "$S" --format env)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= HOME="$T" \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
aws() { /usr/bin/aws --endpoint-url "$E" --output json "$@"; }
# cq ARGS...: a signed query request with curl; status printed, body in $T/body
cq() {
        curl -s -o "$T/body" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:sqs" \
                --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
                -H 'Content-Type: application/x-www-form-urlencoded' "$@"
}
code() { sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$T/body"; }

# The boto3 half runs beside the aws commands (its queues are b3-*; awscli starts slowly).
/usr/bin/python3 "$HUSK_SRCDIR/tests/integration/sqs_boto3.py" "$E" > "$T/boto3.out" 2> "$T/boto3.err" &
PY_PID=$!

# ---- queues ----
out=$(aws sqs create-queue --queue-name cli-q --attributes VisibilityTimeout=1,DelaySeconds=0 \
        --tags team=blue,env=test)
is "$(echo "$out" | jq -r .QueueUrl)" "$Q/cli-q" "create-queue answers the queue's URL"
U="$Q/cli-q"
is "$(aws sqs get-queue-url --queue-name cli-q | jq -r .QueueUrl)" "$U" "get-queue-url"
aws sqs create-queue --queue-name cli-other >/dev/null
is "$(aws sqs list-queues --queue-name-prefix cli- | jq -c '.QueueUrls')" "[\"$Q/cli-other\",\"$Q/cli-q\"]" \
        "list-queues --queue-name-prefix"
aws sqs set-queue-attributes --queue-url "$U" --attributes \
        "{\"MaximumMessageSize\":\"4096\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:000000000000:cli-other\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}"
ok $? "set-queue-attributes (with a RedrivePolicy)"
out=$(aws sqs get-queue-attributes --queue-url "$U" --attribute-names All)
is "$(echo "$out" | jq -c '.Attributes | [.VisibilityTimeout, .MaximumMessageSize, .QueueArn]')" \
        '["1","4096","arn:aws:sqs:us-east-1:000000000000:cli-q"]' "get-queue-attributes All"
is "$(echo "$out" | jq -r '.Attributes.RedrivePolicy | fromjson | .maxReceiveCount')" 5 \
        "the RedrivePolicy reads back"
is "$(aws sqs list-dead-letter-source-queues --queue-url "$Q/cli-other" | jq -c .queueUrls)" "[\"$U\"]" \
        "list-dead-letter-source-queues"
aws sqs tag-queue --queue-url "$U" --tags owner=me >/dev/null
aws sqs untag-queue --queue-url "$U" --tag-keys env >/dev/null
is "$(aws sqs list-queue-tags --queue-url "$U" | jq -c '.Tags')" '{"owner":"me","team":"blue"}' \
        "tag-queue, untag-queue, list-queue-tags"

# ---- messages ----
body='héllo <wörld> & "friends"'
out=$(aws sqs send-message --queue-url "$U" --message-body "$body" --message-attributes \
        '{"colour":{"DataType":"String","StringValue":"blue"},"blob":{"DataType":"Binary","BinaryValue":"AAEC"},"n":{"DataType":"Number","StringValue":"7"}}')
is "$(echo "$out" | jq -r .MD5OfMessageBody)" "$(printf '%s' "$body" | md5sum | cut -d' ' -f1)" \
        "send-message: MD5OfMessageBody"
md5a=$(echo "$out" | jq -r .MD5OfMessageAttributes)
# SQS's MD5 of attributes, by name: length-prefixed name and type, 1 (string) or 2 (binary),
# length-prefixed value
want=$(/usr/bin/python3 -c '
import hashlib, struct
h = hashlib.md5()
for n, t, k, v in (("blob", "Binary", 2, b"\x00\x01\x02"), ("colour", "String", 1, b"blue"),
                   ("n", "Number", 1, b"7")):
    for x in (n.encode(), t.encode()):
        h.update(struct.pack(">I", len(x)) + x)
    h.update(bytes([k]) + struct.pack(">I", len(v)) + v)
print(h.hexdigest())')
is "$md5a" "$want" "send-message --message-attributes: MD5OfMessageAttributes as SQS computes it"
out=$(aws sqs send-message-batch --queue-url "$U" --entries \
        '[{"Id":"a","MessageBody":"one"},{"Id":"b","MessageBody":"two","DelaySeconds":0}]')
is "$(echo "$out" | jq -c '[.Successful[].Id] | sort')" '["a","b"]' "send-message-batch: both entries"
out=$(aws sqs receive-message --queue-url "$U" --attribute-names All --message-attribute-names All \
        --max-number-of-messages 10 --visibility-timeout 30)
is "$(echo "$out" | jq -r '.Messages | length')" 3 "receive-message --max-number-of-messages 10: all three"
m=$(echo "$out" | jq -c '.Messages[] | select(.MessageAttributes != null)')
is "$(echo "$m" | jq -r .Body)" "$body" "receive-message: the body as sent"
is "$(echo "$m" | jq -c '.MessageAttributes | [.colour.StringValue, .blob.BinaryValue, .n.StringValue]')" \
        '["blue","AAEC","7"]' "receive-message --message-attribute-names All: the attributes"
is "$(echo "$m" | jq -r .MD5OfMessageAttributes)" "$md5a" "receive-message: MD5OfMessageAttributes as sent"
is "$(echo "$m" | jq -r '.Attributes.ApproximateReceiveCount')" 1 "--attribute-names All: ApproximateReceiveCount"
is "$(echo "$m" | jq -r '.Attributes.SenderId')" "$AWS_ACCESS_KEY_ID" "SenderId is the signing key"
rh1=$(echo "$out" | jq -r '.Messages[0].ReceiptHandle')
rh2=$(echo "$out" | jq -r '.Messages[1].ReceiptHandle')
rh3=$(echo "$out" | jq -r '.Messages[2].ReceiptHandle')
aws sqs delete-message --queue-url "$U" --receipt-handle "$rh1"
ok $? "delete-message"
aws sqs change-message-visibility --queue-url "$U" --receipt-handle "$rh2" --visibility-timeout 60
ok $? "change-message-visibility"
out=$(aws sqs change-message-visibility-batch --queue-url "$U" --entries \
        "[{\"Id\":\"x\",\"ReceiptHandle\":\"$rh3\",\"VisibilityTimeout\":60},{\"Id\":\"y\",\"ReceiptHandle\":\"$rh3\"}]")
is "$(echo "$out" | jq -c '[[.Successful[].Id], [.Failed[] | [.Id, .Code]]]')" '[["x"],[["y","MissingParameter"]]]' \
        "change-message-visibility-batch (an entry without a timeout fails alone)"
out=$(aws sqs delete-message-batch --queue-url "$U" --entries \
        "[{\"Id\":\"p\",\"ReceiptHandle\":\"$rh2\"},{\"Id\":\"q\",\"ReceiptHandle\":\"$rh3\"},{\"Id\":\"r\",\"ReceiptHandle\":\"nonsense\"}]")
is "$(echo "$out" | jq -c '[([.Successful[].Id] | sort), [.Failed[] | [.Id, .Code, .SenderFault]]]')" \
        '[["p","q"],[["r","ReceiptHandleIsInvalid",true]]]' "delete-message-batch: two deleted, one failed"
aws sqs purge-queue --queue-url "$U"
ok $? "purge-queue"
aws sqs delete-queue --queue-url "$Q/cli-other"
ok $? "delete-queue"
err=$(aws sqs get-queue-url --queue-name cli-other 2>&1)
like "$err" 'AWS\.SimpleQueueService\.NonExistentQueue' "get-queue-url of a deleted queue: NonExistentQueue"

# ---- semantics through boto3 (started above, beside the aws commands) ----
wait "$PY_PID"
rc=$?
PY_PID=
while IFS='|' read -r st desc diag; do
        if [ "$st" = ok ]; then pass "boto3: $desc"; else fail "boto3: $desc" "$diag"; fi
done < "$T/boto3.out"
[ $rc -eq 0 ] || fail "sqs_boto3.py ran to its end" "$(tail -5 "$T/boto3.err")"

# ---- dead-letter redrive: StartMessageMoveTask (newer than these clients: signed curl) ----
xv() { sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" "$T/body"; }
enc() { jq -rn --arg v "$1" '$v | @uri'; }
cq --data-binary 'Action=CreateQueue&QueueName=mv-dlq' "$E/" >/dev/null
rp=$(enc '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:mv-dlq","maxReceiveCount":"1"}')
cq --data-binary "Action=CreateQueue&QueueName=mv-src&Attribute.1.Name=RedrivePolicy&Attribute.1.Value=$rp" \
        "$E/" >/dev/null
cq --data-binary "Action=SendMessage&MessageBody=come-back" "$Q/mv-src" >/dev/null
cq --data-binary "Action=ReceiveMessage&VisibilityTimeout=0" "$Q/mv-src" >/dev/null
cq --data-binary "Action=ReceiveMessage&VisibilityTimeout=0" "$Q/mv-src" >/dev/null
st=$(cq --data-binary "Action=GetQueueAttributes&AttributeName.1=ApproximateNumberOfMessages" "$Q/mv-dlq")
is "$st $(xv Value)" "200 1" "a message past maxReceiveCount is in the dead-letter queue"
st=$(cq --data-binary "Action=StartMessageMoveTask&SourceArn=$(enc arn:aws:sqs:us-east-1:000000000000:mv-dlq)" "$E/")
like "$st $(xv TaskHandle)" '^200 [0-9a-f-]{30,}$' "StartMessageMoveTask answers a TaskHandle"
for _i in $(seq 50); do
        cq --data-binary "Action=ListMessageMoveTasks&SourceArn=$(enc arn:aws:sqs:us-east-1:000000000000:mv-dlq)" \
                "$E/" >/dev/null
        [ "$(xv Status)" = COMPLETED ] && break
        sleep 0.1
done
is "$(xv Status) $(xv ApproximateNumberOfMessagesMoved)" "COMPLETED 1" "ListMessageMoveTasks: COMPLETED, 1 moved"
st=$(cq --data-binary "Action=ReceiveMessage" "$Q/mv-src")
is "$st $(xv Body)" "200 come-back" "the redriven message is back in its source queue"
st=$(cq --data-binary "Action=CancelMessageMoveTask&TaskHandle=nope" "$E/")
is "$st $(code)" "400 ResourceNotFoundException" "CancelMessageMoveTask of an unknown task"

# ---- hostile input (signed with curl) ----
st=$(cq --data-binary 'Action=ListQueues&QueueNamePrefix=%zz' "$E/")
is "$st $(code)" "400 MalformedQueryString" "a bad %-escape: 400 MalformedQueryString"
st=$(cq --data-binary 'Action=SendMessage&MessageBody=x' "$E/")
is "$st $(code)" "400 MissingParameter" "SendMessage without QueueUrl: MissingParameter"
st=$(cq --data-binary 'Action=Frobnicate' "$E/")
is "$st $(code)" "400 InvalidAction" "an unknown Action: InvalidAction"
st=$(cq --data-binary "Action=SendMessage&QueueUrl=$U&MessageBody=%FF%FE%80" "$E/")
is "$st $(code)" "400 InvalidMessageContents" "invalid UTF-8 in a body: InvalidMessageContents"
st=$(cq --data-binary "Action=SendMessage&QueueUrl=$U&MessageBody=a%00b" "$E/")
is "$st $(code)" "400 MalformedQueryString" "a NUL in a body: refused"
st=$(cq --data-binary "Action=SendMessage&QueueUrl=$U&MessageBody=a%EF%BF%BEb" "$E/")
is "$st $(code)" "400 InvalidMessageContents" "U+FFFE in a body: InvalidMessageContents"
# 10,000 entries: past the front door's parameter bound; 1,500 entries: within it, refused by the
# adapter at the 11th index
awk 'BEGIN { printf "Action=SendMessageBatch&QueueUrl='"$U"'"; for (i = 1; i <= 10000; i++)
        printf "&SendMessageBatchRequestEntry.%d.Id=e%d&SendMessageBatchRequestEntry.%d.MessageBody=x", i, i, i }' \
        > "$T/big"
st=$(cq --data-binary "@$T/big" "$E/")
is "$st" 400 "a 10,000-entry batch: 400 ($(code))"
awk 'BEGIN { printf "Action=SendMessageBatch&QueueUrl='"$U"'"; for (i = 1; i <= 1500; i++)
        printf "&SendMessageBatchRequestEntry.%d.Id=e%d&SendMessageBatchRequestEntry.%d.MessageBody=x", i, i, i }' \
        > "$T/big2"
st=$(cq --data-binary "@$T/big2" "$E/")
is "$st $(code)" "400 AWS.SimpleQueueService.TooManyEntriesInBatchRequest" \
        "a 1,500-entry batch: TooManyEntriesInBatchRequest"
st=$(cq --data-binary "Action=SendMessageBatch&QueueUrl=$U&SendMessageBatchRequestEntry.4294967297.Id=a&SendMessageBatchRequestEntry.4294967297.MessageBody=x" "$E/")
is "$st $(code)" "400 AWS.SimpleQueueService.TooManyEntriesInBatchRequest" "an absurd entry index"
st=$(cq --data-binary 'Action=CreateQueue&QueueName=..%2F..%2Fetc' "$E/")
is "$st $(code)" "400 InvalidParameterValue" "CreateQueue of ../../etc: InvalidParameterValue"
st=$(cq --data-binary "Action=GetQueueUrl&QueueName=cli-q%2F..%2Fcli-q" "$E/")
is "$st $(code)" "400 AWS.SimpleQueueService.NonExistentQueue" "GetQueueUrl of cli-q/../cli-q: NonExistentQueue"
st=$(cq --data-binary "Action=PurgeQueue&QueueUrl=$Q/..%2Fcli-q" "$E/")
is "$st" 400 "a QueueUrl with ../ is refused ($(code))"
st=$(cq --data-binary 'Action=SendMessage&MessageBody=by-path' "$U")
is "$st" 200 "SendMessage POSTed to the queue's URL (no QueueUrl parameter)"
st=$(cq --data-binary 'Action=PurgeQueue' "$Q/..%2F000000000000%2Fcli-q")
is "$st" 400 "a queue path with ../ is refused ($(code))"
st=$(cq --data-binary 'Action=ReceiveMessage' "$U")
like "$st $(sed -n 's:.*<Body>\(.*\)</Body>.*:\1:p' "$T/body")" '^200 by-path$' \
        "ReceiveMessage at the queue's URL gets it"
st=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:sqs" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$E/?Action=ListQueues&QueueNamePrefix=cli-q")
is "$st $(xv QueueUrl)" "200 $U" "a GET with the parameters in the query string"
rid=$(sed -n 's/^x-amzn-RequestId: *\([^\r]*\)\r*$/\1/ip' "$T/hdr")
is "$(xv RequestId) ${#rid}" "$rid 36" "the RequestId element is the x-amzn-RequestId header"
st=$(cq --data-binary 'Action=GetQueueUrl&QueueName=cli-q' "$E/")
like "$st $(cat "$T/body")" "^200 .*<QueueUrl>$U</QueueUrl>" "the server keeps serving after the hostile requests"
kill -0 "$SERVE_PID"
ok $? "the server is alive"
done_testing
