#!/bin/sh
# SQS over AWS JSON 1.0 (issue 13): the front door's X-Amz-Target: AmazonSQS.* requests, signed
# with SigV4 by curl (--aws-sigv4) with the store's credentials, for every operation and every
# error of the issue; hostile bodies (malformed JSON, wrong types, 10,000-entry batches, invalid
# UTF-8, forbidden characters, oversized bodies, names with path tricks) after which the server
# still serves; and, when npm can fetch it, the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs,
# which speaks this protocol and checks the MD5s itself).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq md5sum
S="$T/store"
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 200); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT

serve
[ -n "$ADDR" ] || { cat "$T/serve.log" >&2; bail "the server did not start"; }
KEY=$(sed -n 's/^aws_access_key_id *= *//p' "$S/credentials")
SECRET=$(sed -n 's/^aws_secret_access_key *= *//p' "$S/credentials")
[ -n "$KEY" ] && [ -n "$SECRET" ] || bail "no credentials in $S/credentials"
ACCT=000000000000
U="http://$ADDR/$ACCT"

# sqs OP BODY -> prints the status; the answer in $T/body, headers in $T/hdr
sqs() {
        curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:sqs" \
                --user "$KEY:$SECRET" -H "X-Amz-Target: AmazonSQS.$1" \
                -H 'Content-Type: application/x-amz-json-1.0' --data-binary "$2" "http://$ADDR/"
}
# sqsf OP FILE: the body from a file
sqsf() {
        curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:sqs" \
                --user "$KEY:$SECRET" -H "X-Amz-Target: AmazonSQS.$1" \
                -H 'Content-Type: application/x-amz-json-1.0' --data-binary "@$2" "http://$ADDR/"
}
j() { jq -r "$1" "$T/body"; }
jc() { jq -c "$1" "$T/body"; }
hdr() { tr -d '\r' < "$T/hdr" | awk -v h="$1" 'BEGIN { h = tolower(h) } { n = index($0, ":"); if (tolower(substr($0, 1, n - 1)) == h) print substr($0, n + 2) }'; }
# err OP BODY STATUS TYPE QUERYCODE DESCRIPTION
err() {
        _s=$(sqs "$1" "$2")
        is "$_s $(j .__type) $(hdr x-amzn-query-error)" "$3 com.amazonaws.sqs#$4 $5;Sender" "$6"
}
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# ---- the protocol's framing
is "$(sqs ListQueues '{}')" 200 "a signed ListQueues answers 200"
is "$(hdr content-type)" "application/x-amz-json-1.0" "answers are application/x-amz-json-1.0"
like "$(hdr x-amzn-requestid)" '^[0-9a-f-]{36}$' "answers carry x-amzn-RequestId"
s=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Amz-Target: AmazonSQS.ListQueues" \
        -H 'Content-Type: application/x-amz-json-1.0' --data-binary '{}' "http://$ADDR/")
is "$s" 403 "an unsigned JSON request is refused"
is "$(sqs Frobnicate '{}') $(j .__type)" "400 com.amazon.coral.service#UnknownOperationException" \
        "an unknown operation is UnknownOperationException"

# ---- queues
is "$(sqs CreateQueue '{"QueueName":"jq-a","Attributes":{"VisibilityTimeout":"40","DelaySeconds":"0"},"tags":{"team":"x"}}') $(j .QueueUrl)" \
        "200 $U/jq-a" "CreateQueue answers the queue's URL"
is "$(sqs CreateQueue '{"QueueName":"jq-a","Attributes":{"VisibilityTimeout":"40"}}') $(j .QueueUrl)" \
        "200 $U/jq-a" "CreateQueue of an existing queue with the same attributes is its URL"
err CreateQueue '{"QueueName":"jq-a","Attributes":{"VisibilityTimeout":"50"}}' 400 QueueNameExists QueueAlreadyExists \
        "CreateQueue with other attributes: QueueNameExists / QueueAlreadyExists"
sqs CreateQueue '{"QueueName":"jq-b"}' >/dev/null
is "$(sqs GetQueueUrl '{"QueueName":"jq-b"}') $(j .QueueUrl)" "200 $U/jq-b" "GetQueueUrl"
is "$(sqs GetQueueUrl '{"QueueName":"jq-b","QueueOwnerAWSAccountId":"000000000000"}') $(j .QueueUrl)" "200 $U/jq-b" \
        "GetQueueUrl with our QueueOwnerAWSAccountId"
err GetQueueUrl '{"QueueName":"jq-b","QueueOwnerAWSAccountId":"123456789012"}' 400 QueueDoesNotExist \
        AWS.SimpleQueueService.NonExistentQueue "GetQueueUrl of another account: QueueDoesNotExist"
err GetQueueUrl '{"QueueName":"jq-none"}' 400 QueueDoesNotExist AWS.SimpleQueueService.NonExistentQueue \
        "GetQueueUrl of a missing queue: QueueDoesNotExist with x-amzn-query-error"
is "$(sqs ListQueues '{"QueueNamePrefix":"jq-"}') $(jc .QueueUrls)" "200 [\"$U/jq-a\",\"$U/jq-b\"]" \
        "ListQueues with QueueNamePrefix"
sqs ListQueues '{"QueueNamePrefix":"jq-","MaxResults":1}' >/dev/null
is "$(jc .QueueUrls)" "[\"$U/jq-a\"]" "ListQueues MaxResults 1 gives one URL"
tok=$(jq -c .NextToken "$T/body")
isnt "$tok" null "... and a NextToken"
sqs ListQueues "{\"QueueNamePrefix\":\"jq-\",\"MaxResults\":1,\"NextToken\":$tok}" >/dev/null
is "$(jc .QueueUrls)" "[\"$U/jq-b\"]" "ListQueues with the NextToken gives the next page"
err ListQueues '{"MaxResults":0}' 400 InvalidParameterValue InvalidParameterValue "ListQueues MaxResults 0 is refused"
sqs GetQueueAttributes "{\"QueueUrl\":\"$U/jq-a\",\"AttributeNames\":[\"All\"]}" >/dev/null
is "$(jc '.Attributes | [.VisibilityTimeout, .QueueArn, .ApproximateNumberOfMessages]')" \
        '["40","arn:aws:sqs:us-east-1:000000000000:jq-a","0"]' "GetQueueAttributes All"
is "$(sqs SetQueueAttributes "{\"QueueUrl\":\"$U/jq-a\",\"Attributes\":{\"VisibilityTimeout\":\"45\"}}")" 200 \
        "SetQueueAttributes"
sqs GetQueueAttributes "{\"QueueUrl\":\"$U/jq-a\",\"AttributeNames\":[\"VisibilityTimeout\"]}" >/dev/null
is "$(jc .Attributes)" '{"VisibilityTimeout":"45"}' "GetQueueAttributes shows the new value"
err GetQueueAttributes "{\"QueueUrl\":\"$U/jq-a\",\"AttributeNames\":[\"Nope\"]}" 400 InvalidAttributeName InvalidAttributeName \
        "an unknown attribute name: InvalidAttributeName"
err SetQueueAttributes "{\"QueueUrl\":\"$U/jq-a\",\"Attributes\":{\"MaximumMessageSize\":\"1\"}}" 400 InvalidAttributeValue \
        InvalidAttributeValue "an attribute value out of range: InvalidAttributeValue"
is "$(sqs TagQueue "{\"QueueUrl\":\"$U/jq-a\",\"Tags\":{\"env\":\"ci\",\"tmp\":\"1\"}}")" 200 "TagQueue"
is "$(sqs UntagQueue "{\"QueueUrl\":\"$U/jq-a\",\"TagKeys\":[\"tmp\"]}")" 200 "UntagQueue"
is "$(sqs ListQueueTags "{\"QueueUrl\":\"$U/jq-a\"}") $(jc '.Tags | to_entries | sort_by(.key) | from_entries')" \
        '200 {"env":"ci","team":"x"}' "ListQueueTags"
is "$(sqs DeleteQueue "{\"QueueUrl\":\"$U/jq-b\"}")" 200 "DeleteQueue"
err GetQueueAttributes "{\"QueueUrl\":\"$U/jq-b\",\"AttributeNames\":[\"All\"]}" 400 QueueDoesNotExist \
        AWS.SimpleQueueService.NonExistentQueue "a deleted queue does not exist"
err CreateQueue '{"QueueName":"jq-b"}' 400 QueueDeletedRecently AWS.SimpleQueueService.QueueDeletedRecently \
        "re-creating a queue deleted within 60 s: QueueDeletedRecently"

# ---- messages
B='héllo "json"'
A='"MessageAttributes":{"color":{"DataType":"String","StringValue":"blue"},"n":{"DataType":"Number","StringValue":"42"},"raw":{"DataType":"Binary","BinaryValue":"AAEC/w=="}}'
sqs SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"héllo \\\"json\\\"\",$A}" >/dev/null
is "$(j .MD5OfMessageBody)" "$(md5 "$B")" "SendMessage answers MD5OfMessageBody of the body"
# SQS's digest of attributes: for each, sorted by name, 4-byte length + name, length + type,
# transport 1 (string) or 2 (binary), length + value.
amd5=$( { printf '\0\0\0\005color\0\0\0\006String\001\0\0\0\004blue'
          printf '\0\0\0\001n\0\0\0\006Number\001\0\0\0\00242'
          printf '\0\0\0\003raw\0\0\0\006Binary\002\0\0\0\004\0\001\002\377'; } | md5sum | cut -d' ' -f1)
is "$(j .MD5OfMessageAttributes)" "$amd5" "SendMessage answers MD5OfMessageAttributes as SQS computes it"
like "$(j .MessageId)" '^[0-9a-f-]{36}$' "SendMessage answers a MessageId"
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageSystemAttributeNames\":[\"All\"],\"MessageAttributeNames\":[\"All\"],\"VisibilityTimeout\":0}" >/dev/null
is "$(jc '.Messages[0] | [.Body, .MD5OfBody, .MD5OfMessageAttributes, .MessageAttributes.raw.BinaryValue, .MessageAttributes.n.DataType, .Attributes.ApproximateReceiveCount]')" \
        "$(jq -cn --arg b "$B" --arg m "$(md5 "$B")" --arg a "$amd5" '[$b, $m, $a, "AAEC/w==", "Number", "1"]')" \
        "ReceiveMessage: body, MD5s, attributes (binary in base64), system attributes"
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageAttributeNames\":[\"color\",\"n\"],\"AttributeNames\":[\"SentTimestamp\"]}" >/dev/null
cmd5=$( { printf '\0\0\0\005color\0\0\0\006String\001\0\0\0\004blue'
          printf '\0\0\0\001n\0\0\0\006Number\001\0\0\0\00242'; } | md5sum | cut -d' ' -f1)
is "$(jc '.Messages[0] | [(.MessageAttributes | keys), .MD5OfMessageAttributes, (.Attributes | keys)]')" \
        "[[\"color\",\"n\"],\"$cmd5\",[\"SentTimestamp\"]]" \
        "ReceiveMessage of some attributes: the MD5 covers the attributes returned"
rh=$(jq -c '.Messages[0].ReceiptHandle' "$T/body")
is "$(sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\"}") $(jc .)" "200 {}" "an in-flight message is not received again"
is "$(sqs ChangeMessageVisibility "{\"QueueUrl\":\"$U/jq-a\",\"ReceiptHandle\":$rh,\"VisibilityTimeout\":0}")" 200 \
        "ChangeMessageVisibility"
err ChangeMessageVisibility "{\"QueueUrl\":\"$U/jq-a\",\"ReceiptHandle\":$rh,\"VisibilityTimeout\":10}" 400 MessageNotInflight \
        AWS.SimpleQueueService.MessageNotInflight "ChangeMessageVisibility of a visible message: MessageNotInflight"
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"AttributeNames\":[\"ApproximateReceiveCount\"]}" >/dev/null
is "$(j '.Messages[0].Attributes.ApproximateReceiveCount')" 3 "the message is back with its receive count + 1"
rh=$(jq -c '.Messages[0].ReceiptHandle' "$T/body")
is "$(sqs DeleteMessage "{\"QueueUrl\":\"$U/jq-a\",\"ReceiptHandle\":$rh}")" 200 "DeleteMessage"
err DeleteMessage "{\"QueueUrl\":\"$U/jq-a\",\"ReceiptHandle\":\"bogus\"}" 404 ReceiptHandleIsInvalid ReceiptHandleIsInvalid \
        "a bad receipt handle: ReceiptHandleIsInvalid (404)"
err ChangeMessageVisibility "{\"QueueUrl\":\"$U/jq-a\",\"ReceiptHandle\":$rh,\"VisibilityTimeout\":10}" 400 InvalidParameterValue \
        InvalidParameterValue "ChangeMessageVisibility of a deleted message: InvalidParameterValue, as AWS"
t0=$(date +%s%N)
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"WaitTimeSeconds\":1}" >/dev/null
t1=$(date +%s%N)
is "$(jc .) $(( (t1 - t0) / 100000000 >= 9 ))" "{} 1" "a long poll on an empty queue waits WaitTimeSeconds"

# ---- batches
sqs SendMessageBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"one\"},{\"Id\":\"b\",\"MessageBody\":\"two\",$A},{\"Id\":\"c\",\"MessageBody\":\"bad\\u0001\"}]}" >/dev/null
is "$(jc '[[.Successful[] | .Id, .MD5OfMessageBody], [.Failed[] | .Id, .SenderFault, .Code]]')" \
        "[[\"a\",\"$(md5 one)\",\"b\",\"$(md5 two)\"],[\"c\",true,\"InvalidMessageContents\"]]" \
        "SendMessageBatch: Successful with MD5s, Failed with SenderFault and Code"
is "$(j '.Successful[1].MD5OfMessageAttributes')" "$amd5" "... and MD5OfMessageAttributes per entry"
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"MaxNumberOfMessages\":10}" >/dev/null
is "$(jc '[.Messages[].Body] | sort')" '["one","two"]' "ReceiveMessage MaxNumberOfMessages 10 gets both"
r1=$(jq -c '.Messages[0].ReceiptHandle' "$T/body"); r2=$(jq -c '.Messages[1].ReceiptHandle' "$T/body")
sqs ChangeMessageVisibilityBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[{\"Id\":\"x\",\"ReceiptHandle\":$r1,\"VisibilityTimeout\":60},{\"Id\":\"y\",\"ReceiptHandle\":\"bogus\",\"VisibilityTimeout\":60}]}" >/dev/null
is "$(jc '[[.Successful[].Id], [.Failed[] | .Id, .Code]]')" '[["x"],["y","ReceiptHandleIsInvalid"]]' \
        "ChangeMessageVisibilityBatch reports each entry"
sqs DeleteMessageBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[{\"Id\":\"x\",\"ReceiptHandle\":$r1},{\"Id\":\"y\",\"ReceiptHandle\":$r2}]}" >/dev/null
is "$(jc '[[.Successful[].Id], .Failed]')" '[["x","y"],[]]' "DeleteMessageBatch"
err SendMessageBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[]}" 400 EmptyBatchRequest AWS.SimpleQueueService.EmptyBatchRequest \
        "an empty batch: EmptyBatchRequest"
err DeleteMessageBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[{\"Id\":\"x\",\"ReceiptHandle\":\"a\"},{\"Id\":\"x\",\"ReceiptHandle\":\"b\"}]}" \
        400 BatchEntryIdsNotDistinct AWS.SimpleQueueService.BatchEntryIdsNotDistinct "repeated batch ids: BatchEntryIdsNotDistinct"
err SendMessageBatch "{\"QueueUrl\":\"$U/jq-a\",\"Entries\":[{\"Id\":\"no spaces\",\"MessageBody\":\"x\"}]}" 400 InvalidBatchEntryId \
        AWS.SimpleQueueService.InvalidBatchEntryId "an invalid batch id: InvalidBatchEntryId"
big=$(head -c 200000 /dev/zero | tr '\0' x)
printf '{"QueueUrl":"%s/jq-a","Entries":[{"Id":"a","MessageBody":"%s"},{"Id":"b","MessageBody":"%s"}]}' "$U" "$big" "$big" > "$T/long.json"
s=$(sqsf SendMessageBatch "$T/long.json")
is "$s $(j .__type)" "400 com.amazonaws.sqs#BatchRequestTooLong" "a batch over 256 KiB in total: BatchRequestTooLong"
printf '{"QueueUrl":"%s/jq-a","MessageBody":"%s%s"}' "$U" "$big" "$big" > "$T/long.json"
s=$(sqsf SendMessage "$T/long.json")
is "$s $(j .__type)" "400 com.amazonaws.sqs#InvalidParameterValue" "a message over 256 KiB: InvalidParameterValue"

# ---- FIFO
sqs CreateQueue '{"QueueName":"jq-f.fifo","Attributes":{"FifoQueue":"true","ContentBasedDeduplication":"true"}}' >/dev/null
for m in 1 2 3; do
        sqs SendMessage "{\"QueueUrl\":\"$U/jq-f.fifo\",\"MessageBody\":\"m$m\",\"MessageGroupId\":\"g\"}" >/dev/null
done
like "$(j .SequenceNumber)" '^[0-9]{20}$' "a FIFO send answers a SequenceNumber"
sqs SendMessage "{\"QueueUrl\":\"$U/jq-f.fifo\",\"MessageBody\":\"m1\",\"MessageGroupId\":\"g\"}" >/dev/null
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-f.fifo\",\"MaxNumberOfMessages\":10,\"AttributeNames\":[\"MessageGroupId\"],\"ReceiveRequestAttemptId\":\"r1\"}" >/dev/null
is "$(jc '[.Messages[] | .Body, .Attributes.MessageGroupId]')" '["m1","g","m2","g","m3","g"]' \
        "FIFO: in order, the content-based duplicate dropped, MessageGroupId shown"
err SendMessage "{\"QueueUrl\":\"$U/jq-f.fifo\",\"MessageBody\":\"x\"}" 400 MissingParameter MissingParameter \
        "a FIFO send without MessageGroupId: MissingParameter"

# ---- dead letters and redrive
sqs CreateQueue '{"QueueName":"jq-dlq"}' >/dev/null
pol='{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:jq-dlq\",\"maxReceiveCount\":\"1\"}'
sqs CreateQueue "{\"QueueName\":\"jq-src\",\"Attributes\":{\"RedrivePolicy\":\"$pol\"}}" >/dev/null
is "$(sqs ListDeadLetterSourceQueues "{\"QueueUrl\":\"$U/jq-dlq\"}") $(jc .queueUrls)" "200 [\"$U/jq-src\"]" \
        "ListDeadLetterSourceQueues (queueUrls)"
sqs SendMessage "{\"QueueUrl\":\"$U/jq-src\",\"MessageBody\":\"dead\"}" >/dev/null
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-src\",\"VisibilityTimeout\":0}" >/dev/null
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-src\"}" >/dev/null
sqs GetQueueAttributes "{\"QueueUrl\":\"$U/jq-dlq\",\"AttributeNames\":[\"ApproximateNumberOfMessages\"]}" >/dev/null
is "$(j .Attributes.ApproximateNumberOfMessages)" 1 "past maxReceiveCount the message is in the dead-letter queue"
s=$(sqs StartMessageMoveTask '{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:jq-dlq"}')
is "$s $(j '.TaskHandle | length > 0')" "200 true" "StartMessageMoveTask answers a TaskHandle"
th=$(jq -c .TaskHandle "$T/body")
for _i in $(seq 50); do
        sqs ListMessageMoveTasks '{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:jq-dlq"}' >/dev/null
        [ "$(j '.Results[0].Status')" = COMPLETED ] && break; sleep 0.1
done
is "$(jc '.Results[0] | [.Status, .SourceArn, .ApproximateNumberOfMessagesMoved]')" \
        '["COMPLETED","arn:aws:sqs:us-east-1:000000000000:jq-dlq",1]' "ListMessageMoveTasks shows the task done"
sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-src\"}" >/dev/null
is "$(j '.Messages[0].Body')" dead "the message is back in its source queue"
s=$(sqs CancelMessageMoveTask "{\"TaskHandle\":$th}")
isnt "$s" 200 "CancelMessageMoveTask of a finished task is refused"
err StartMessageMoveTask '{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:jq-nothing"}' 404 ResourceNotFoundException \
        ResourceNotFoundException "StartMessageMoveTask of a missing queue: ResourceNotFoundException"

# ---- purge
sqs SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"p\"}" >/dev/null
is "$(sqs PurgeQueue "{\"QueueUrl\":\"$U/jq-a\"}")" 200 "PurgeQueue"
err PurgeQueue "{\"QueueUrl\":\"$U/jq-a\"}" 403 PurgeQueueInProgress AWS.SimpleQueueService.PurgeQueueInProgress \
        "a second purge within 60 s: PurgeQueueInProgress (403)"
is "$(sqs ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\"}") $(jc .)" "200 {}" "the purged queue is empty"

# ---- hostile input: each answer is a clear 4xx, and the server keeps serving
ser() { _s=$(sqs "$1" "$2"); is "$_s $(j .__type)" "400 com.amazon.coral.service#SerializationException" "$3"; }
ser ListQueues '{"QueueNamePrefix":' "truncated JSON: SerializationException"
ser ListQueues '[]' "a JSON array: SerializationException"
ser ListQueues '{"a":1}}' "trailing bytes: SerializationException"
printf '{"QueueUrl":"%s/jq-a","MessageBody":"\377\376"}' "$U" > "$T/bad.json"
s=$(sqsf SendMessage "$T/bad.json")
is "$s $(j .__type)" "400 com.amazon.coral.service#SerializationException" "invalid UTF-8: SerializationException"
printf '{"QueueUrl":"%s/jq-a","MessageBody":"\355\240\200"}' "$U" > "$T/bad.json"
s=$(sqsf SendMessage "$T/bad.json")
is "$s $(j .__type)" "400 com.amazon.coral.service#SerializationException" "an encoded surrogate: SerializationException"
s=$(sqs SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"a\\u0000b\"}")
is "$s" 400 "a NUL in a body is refused"
err SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"a\\u001fb\"}" 400 InvalidMessageContents InvalidMessageContents \
        "a forbidden character in a body: InvalidMessageContents"
err SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"a\\uffffb\"}" 400 InvalidMessageContents InvalidMessageContents \
        "U+FFFF in a body: InvalidMessageContents"
err ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"MaxNumberOfMessages\":\"10\"}" 400 InvalidParameterValue InvalidParameterValue \
        "a string where the model says integer: InvalidParameterValue"
err ReceiveMessage "{\"QueueUrl\":\"$U/jq-a\",\"MaxNumberOfMessages\":11}" 400 InvalidParameterValue InvalidParameterValue \
        "MaxNumberOfMessages 11: InvalidParameterValue"
err SendMessage "{\"QueueUrl\":[1],\"MessageBody\":\"x\"}" 400 InvalidParameterValue InvalidParameterValue \
        "a list where the model says string: InvalidParameterValue"
err SendMessage "{\"QueueUrl\":\"$U/jq-a\",\"MessageBody\":\"x\",\"MessageAttributes\":{\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"%%%\"}}}" \
        400 InvalidParameterValue InvalidParameterValue "a BinaryValue that is not base64: InvalidParameterValue"
awk -v u="$U" 'BEGIN { printf "{\"QueueUrl\":\"%s/jq-a\",\"Entries\":[", u
        for (i = 0; i < 10000; i++) printf "%s{\"Id\":\"e%d\",\"MessageBody\":\"b\"}", i ? "," : "", i
        printf "]}" }' > "$T/big.json"
t0=$(date +%s%N)
s=$(sqsf SendMessageBatch "$T/big.json")
t1=$(date +%s%N)
is "$s $(j .__type) $(hdr x-amzn-query-error)" \
        "400 com.amazonaws.sqs#TooManyEntriesInBatchRequest AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender" \
        "a 10,000-entry batch: TooManyEntriesInBatchRequest"
is "$(( (t1 - t0) / 1000000 < 2000 ))" 1 "... answered quickly ($(( (t1 - t0) / 1000000 )) ms)"
sed 's/"MessageBody":"b"/"ReceiptHandle":"r"/g' "$T/big.json" > "$T/big2.json"
s=$(sqsf DeleteMessageBatch "$T/big2.json")
is "$s $(j .__type)" "400 com.amazonaws.sqs#TooManyEntriesInBatchRequest" "a 10,000-entry DeleteMessageBatch"
awk 'BEGIN { printf "{\"QueueNamePrefix\":\""; for (i = 0; i < 3 * 1024 * 1024; i++) printf "a"; printf "\"}" }' > "$T/huge.json"
s=$(sqsf ListQueues "$T/huge.json")
like "$s" '^4[0-9][0-9]$' "a 3 MiB body is refused ($s)"
awk 'BEGIN { printf "{\"AttributeNames\":[0"; for (i = 0; i < 900000; i++) printf ",0"; printf "]}" }' > "$T/values.json"
s=$(sqsf GetQueueAttributes "$T/values.json")
is "$s $(j .__type)" "400 com.amazonaws.sqs#InvalidParameterValue" "900,000 JSON values (1.8 MiB): refused before parsing"
like "$(j .message)" "SQS_JSON_VALUES_MAX" "... naming the bound"
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "["; for (i = 0; i < 1000; i++) printf "]" }' > "$T/deep.json"
s=$(sqsf ListQueues "$T/deep.json")
is "$s $(j .__type)" "400 com.amazon.coral.service#SerializationException" "JSON nested 1,000 deep: SerializationException"
for n in '../jq-a' 'jq-a/../jq-a' 'a%2Fb' '%2E%2E' 'a\u0000b' '' 'a b' '.fifo'; do
        s=$(sqs CreateQueue "{\"QueueName\":\"$n\"}")
        like "$s" '^400$' "CreateQueue '$n' is refused"
done
for url in "$U/../jq-a" "$U/jq-a/" "$U/jq%2Fa" "http://$ADDR/111111111111/jq-a" "$U/jq-a%00" "$U/" "http://$ADDR/$ACCT/jq-a/../jq-src"; do
        s=$(sqs GetQueueAttributes "{\"QueueUrl\":\"$url\",\"AttributeNames\":[\"All\"]}")
        is "$s" 400 "QueueUrl '$url' reaches no queue"
done
is "$(sqs GetQueueUrl '{"QueueName":"jq-a"}') $(j .QueueUrl)" "200 $U/jq-a" "after all that, the server still serves"
kill -0 "$SERVE_PID" 2>/dev/null
ok $? "the server is still running"

# ---- the AWS SDK for JavaScript v3 (JSON protocol), when npm can fetch it
# A pinned version (the one this test was written against), cached under the build tree.
SDK_VERSION=3.1178.0
NPMDIR="$HUSK_BUILDDIR/tests/npm-cache/sqs"
sdk_ready() { grep -q "\"version\": \"$SDK_VERSION\"" "$NPMDIR/node_modules/@aws-sdk/client-sqs/package.json" 2>/dev/null; }
sdk_install() {
        mkdir -p "$NPMDIR" && { [ -f "$NPMDIR/package.json" ] || echo '{"private":true}' > "$NPMDIR/package.json"; } &&
                timeout 180 npm install --prefix "$NPMDIR" --no-audit --no-fund --silent \
                        "@aws-sdk/client-sqs@$SDK_VERSION" >"$T/npm.log" 2>&1
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        skip "the AWS SDK for JavaScript: node or npm is not installed"
elif ! node -e 'process.exit(+process.versions.node.split(".")[0] < 20 ? 1 : 0)'; then
        skip "the AWS SDK for JavaScript: it needs node >= 20 (this is $(node --version))"
elif ! sdk_ready && ! sdk_install; then
        skip "the AWS SDK for JavaScript: npm install @aws-sdk/client-sqs failed ($(tail -1 "$T/npm.log"))"
else
        out=$(cd "$NPMDIR" && ENDPOINT="http://$ADDR" AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" \
                AWS_REGION=us-east-1 NODE_NO_WARNINGS=1 timeout 60 node "$HUSK_SRCDIR/tests/integration/sqs_json_sdk.js" \
                2>"$T/node.err")
        is "$out" "ok" "the AWS SDK for JavaScript v3: create, send with attributes, receive (MD5s checked by the SDK), delete, batches, FIFO, errors"
        [ "$out" = ok ] || diag "$(cat "$T/node.err")"
fi

done_testing
