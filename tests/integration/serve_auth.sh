#!/bin/sh
# husk serve (issue 13): the one front door checks AWS Signature Version 4 on every request before
# anything acts on it (Lambda Invoke, SQS JSON, SQS query), with the keys of STORE/credentials;
# a unix socket besides TCP; `husk serve credentials` for root only. Real clients sign:
# /usr/bin/aws (Debian's awscli), curl --aws-sigv4, husk fn invoke.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq setpriv
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
SOCK="$T/serve.sock"
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() { # serve [OPTIONS]: `husk serve` on a free loopback port, $ADDR
        rm -f "$S/fn/serve.addr"
        "$HUSK" serve --store "$S" --listen 127.0.0.1:0 "$@" >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT
INV=2015-03-31/functions/auth-echo/invocations
# req CURL_ARGS... -> the status; body in $T/body, headers in $T/hdr
req() { curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"; }
hdr() { awk -v n="$1" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(n) ":" { sub(/^[^:]*: */, ""); sub(/\r$/, ""); print }' "$T/hdr"; }
started() { grep -c '^START RequestId' "$S/fn/logs/auth-echo.log" 2>/dev/null || echo 0; }

# A first start on a store that does not exist yet makes it and the keys.
"$HUSK" serve --store "$T/fresh" --listen 127.0.0.1:0 --no-auth >> "$T/serve.log" 2>&1 &
SERVE_PID=$!
for _i in $(seq 100); do [ -s "$T/fresh/fn/serve.addr" ] && break; sleep 0.05; done
like "$(cat "$T/fresh/fn/serve.addr" 2>/dev/null)" '^127\.0\.0\.1:[0-9]+$' "husk serve --no-auth starts on a new store"
stop_serve
"$HUSK" serve --store "$T/fresh2" --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
SERVE_PID=$!
for _i in $(seq 100); do [ -s "$T/fresh2/fn/serve.addr" ] && break; sleep 0.05; done
like "$(cat "$T/fresh2/fn/serve.addr" 2>/dev/null)" '^127\.0\.0\.1:[0-9]+$' "husk serve starts on a new store"
is "$(stat -c %a "$T/fresh2/credentials" 2>/dev/null)" 600 "... and creates its credentials, 0600"
stop_serve
fn create auth-echo --image "$ARCHIVE" --handler echo >/dev/null
ok $? "create a function"
serve --listen-unix "$SOCK"
like "$ADDR" '^127\.0\.0\.1:[0-9]+$' "husk serve runs"

# ---- the keys: created at the first start, 0600, shown to root only
is "$(stat -c %a "$S/credentials" 2>/dev/null)" 600 "STORE/credentials was created with mode 0600"
is "$(stat -c %u "$S/credentials" 2>/dev/null)" 0 "... owned by root"
out=$("$HUSK" serve credentials --store "$S")
like "$out" '^aws_access_key_id=AKIA[A-Z2-7]{16}
aws_secret_access_key=[A-Za-z0-9+/]{40}$' "husk serve credentials prints the key id and secret"
KEY=$(printf '%s\n' "$out" | sed -n 's/^aws_access_key_id=//p')
SECRET=$(printf '%s\n' "$out" | sed -n 's/^aws_secret_access_key=//p')
env=$("$HUSK" serve credentials --store "$S" --format env)
is "$env" "export AWS_ACCESS_KEY_ID=$KEY
export AWS_SECRET_ACCESS_KEY=$SECRET" "--format env prints export lines"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$HUSK" serve credentials --store "$S" 2>&1)
rc=$?
isnt "$rc" 0 "husk serve credentials fails for a non-root user"
like "$out" "needs root|only root may read" "... with a clear error"
unlike "$out" "$SECRET" "... that does not show the secret"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$(dirname "$HUSK")/husk-fn" serve credentials --store "$S" 2>&1)
isnt $? 0 "husk-fn serve credentials (what husk runs) refuses a non-root user too"
like "$out" "only root may read the server's keys" "... saying that only root may read them"
"$HUSK" serve credentials --store "$S" --format xml >/dev/null 2>&1
isnt $? 0 "an unknown --format is refused"

SIGN_L="aws:amz:us-east-1:lambda"
SIGN_Q="aws:amz:us-east-1:sqs"
# ---- (a) Lambda Invoke: signed runs, unsigned and wrongly signed are refused and run nothing
is "$(req --aws-sigv4 "$SIGN_L" --user "$KEY:$SECRET" -d '{"a":1}' "http://$ADDR/$INV")" 200 \
        "curl --aws-sigv4 invokes the function"
is "$(cat "$T/body")" '{"a":1}' "... and gets its answer"
n0=$(started)
is "$(req -d '{"unsigned":1}' "http://$ADDR/$INV")" 403 "an unsigned invoke gets 403"
is "$(hdr x-amzn-ErrorType)" MissingAuthenticationTokenException "... MissingAuthenticationTokenException"
like "$(jq -r .message "$T/body")" "not signed" "... with a message saying so"
is "$(req -d '{"x":1}' --aws-sigv4 "$SIGN_L" --user "$KEY:wrong$SECRET" "http://$ADDR/$INV")" 403 \
        "a wrongly signed invoke gets 403"
is "$(hdr x-amzn-ErrorType)" InvalidSignatureException "... InvalidSignatureException"
is "$(req -d '{"x":1}' --aws-sigv4 "$SIGN_L" --user "AKIAAAAAAAAAAAAAAAAA:$SECRET" "http://$ADDR/$INV")" 403 \
        "an unknown access key gets 403"
is "$(hdr x-amzn-ErrorType)" UnrecognizedClientException "... UnrecognizedClientException"
is "$(req -d '{"x":1}' --aws-sigv4 "aws:amz:eu-west-1:lambda" --user "$KEY:$SECRET" "http://$ADDR/$INV")" 403 \
        "a signature for another region gets 403"
is "$(req -H 'X-Amz-Invocation-Type: Event' -d '{"ev":1}' "http://$ADDR/$INV")" 403 \
        "an unsigned Event invoke gets 403"
is "$(req -H 'X-Amz-Invocation-Type: DryRun' -d '{}' "http://$ADDR/2015-03-31/functions/nosuch/invocations")" 403 \
        "an unsigned invoke of an unknown function gets 403, not 404 (names are not revealed)"
sleep 0.5
is "$(started)" "$n0" "none of the refused invocations ran (no START line in the function's log)"
is "$(fn inspect auth-echo | jq -c .async)" '{"pending":0,"running":0,"done":0,"failed":0}' \
        "the refused Event was not queued"
grep -q '"unsigned"\|"ev"' "$S/fn/logs/auth-echo.log"
isnt $? 0 "no refused payload reached the worker"

# ---- husk fn invoke signs with the store's keys
out=$(fn invoke auth-echo --payload '{"via":"husk"}' 2>&1)
is "$out" '{"via":"husk"}' "husk fn invoke signs its request"

# ---- (b) the AWS CLI
if [ -x /usr/bin/aws ]; then
        AWSENV="AWS_ACCESS_KEY_ID=$KEY AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
        out=$(env $AWSENV AWS_SECRET_ACCESS_KEY="$SECRET" /usr/bin/aws --endpoint-url "http://$ADDR" \
                lambda invoke --function-name auth-echo --payload '{"cli":1}' \
                --cli-binary-format raw-in-base64-out "$T/out.json" 2>&1)
        is "$?:$(cat "$T/out.json" 2>/dev/null)" '0:{"cli":1}' "aws lambda invoke with the store's keys works"
        n0=$(started)
        out=$(env $AWSENV AWS_SECRET_ACCESS_KEY="x$SECRET" /usr/bin/aws --endpoint-url "http://$ADDR" \
                lambda invoke --function-name auth-echo --payload '{"cli":2}' \
                --cli-binary-format raw-in-base64-out "$T/out2.json" 2>&1)
        rc=$?
        isnt "$rc" 0 "aws lambda invoke with a wrong secret fails"
        like "$out" "InvalidSignatureException" "... with InvalidSignatureException"
        is "$(started)" "$n0" "... and nothing ran"
        # The ARN as the name: the CLI encodes its ':' (%3A), and the signature covers the path
        # as AWS canonicalizes it (encoded once more): it passes, and the name is then refused.
        out=$(env $AWSENV AWS_SECRET_ACCESS_KEY="$SECRET" /usr/bin/aws --endpoint-url "http://$ADDR" \
                lambda invoke --function-name arn:aws:lambda:us-east-1:000000000000:function:auth-echo \
                --payload '{}' --cli-binary-format raw-in-base64-out "$T/out3.json" 2>&1)
        like "$out" "ValidationException" "aws lambda invoke of an ARN (a %-encoded path) passes the signature check"
        out=$(env $AWSENV AWS_SECRET_ACCESS_KEY="x$SECRET" /usr/bin/aws --endpoint-url "http://$ADDR" \
                sqs list-queues 2>&1)
        isnt $? 0 "aws sqs list-queues (query protocol) with a wrong secret fails"
        like "$out" "SignatureDoesNotMatch" "... with SignatureDoesNotMatch"
        out=$(env $AWSENV AWS_SECRET_ACCESS_KEY="$SECRET" AWS_MAX_ATTEMPTS=1 /usr/bin/aws --endpoint-url "http://$ADDR" \
                sqs list-queues 2>&1)
        unlike "$out" "SignatureDoesNotMatch|InvalidClientTokenId|MissingAuthenticationToken" \
                "aws sqs list-queues with the store's keys passes the signature check"
else
        skip "no /usr/bin/aws (Debian's awscli)"
fi

# ---- (c) SQS: refusals in each protocol's shape; a signed request reaches its adapter
JSON="-H X-Amz-Target:AmazonSQS.ListQueues -H Content-Type:application/x-amz-json-1.0"
is "$(req $JSON -d '{}' "http://$ADDR/")" 403 "an unsigned SQS JSON request gets 403"
is "$(jq -r .__type "$T/body")" "com.amazon.coral.service#MissingAuthenticationTokenException" \
        "... with the JSON protocol's __type"
like "$(hdr Content-Type)" "application/x-amz-json-1.0" "... as application/x-amz-json-1.0"
is "$(req $JSON -d '{}' --aws-sigv4 "$SIGN_Q" --user "$KEY:x$SECRET" "http://$ADDR/")" 403 \
        "a wrongly signed SQS JSON request gets 403"
is "$(jq -r .__type "$T/body")" "com.amazon.coral.service#InvalidSignatureException" "... InvalidSignatureException"
is "$(req $JSON -d '{}' --aws-sigv4 "$SIGN_L" --user "$KEY:$SECRET" "http://$ADDR/")" 403 \
        "an SQS request signed for the lambda service gets 403"
st=$(req $JSON -d '{}' --aws-sigv4 "$SIGN_Q" --user "$KEY:$SECRET" "http://$ADDR/")
isnt "$st" 403 "a signed SQS JSON request passes the check (status $st)"
unlike "$(cat "$T/body")" "MissingAuthentication|InvalidSignature|UnrecognizedClient" "... and reaches the SQS side"

is "$(req -d 'Action=ListQueues&Version=2012-11-05' "http://$ADDR/")" 403 "an unsigned SQS query request gets 403"
like "$(cat "$T/body")" "<ErrorResponse.*<Type>Sender</Type><Code>MissingAuthenticationToken</Code>" \
        "... as the query protocol's ErrorResponse"
is "$(req "http://$ADDR/?Action=ListQueues&Version=2012-11-05")" 403 "an unsigned query GET gets 403"
is "$(req -d 'Action=ListQueues&Version=2012-11-05' --aws-sigv4 "$SIGN_Q" --user "$KEY:x$SECRET" "http://$ADDR/")" 403 \
        "a wrongly signed SQS query request gets 403"
like "$(cat "$T/body")" "<Code>SignatureDoesNotMatch</Code>" "... SignatureDoesNotMatch"
is "$(req -d 'Action=ListQueues&Version=2012-11-05' --aws-sigv4 "$SIGN_Q" --user "AKIAAAAAAAAAAAAAAAAA:$SECRET" "http://$ADDR/")" 403 \
        "an unknown key on the query protocol gets 403"
like "$(cat "$T/body")" "<Code>InvalidClientTokenId</Code>" "... InvalidClientTokenId"
st=$(req -d 'Action=ListQueues&Version=2012-11-05' --aws-sigv4 "$SIGN_Q" --user "$KEY:$SECRET" "http://$ADDR/")
isnt "$st" 403 "a signed SQS query request passes the check (status $st)"
st=$(req --aws-sigv4 "$SIGN_Q" --user "$KEY:$SECRET" "http://$ADDR/?Action=ListQueues&Version=2012-11-05")
isnt "$st" 403 "a signed query GET (curl signs the query as sent) passes the check (status $st)"

# ---- the router's bound on an SQS body (2 MiB), in each protocol's shape
head -c 3000000 /dev/zero | tr '\0' a > "$T/big"
is "$(req $JSON --data-binary @"$T/big" "http://$ADDR/")" 413 "a 3 MB SQS JSON body gets 413"
is "$(jq -r .__type "$T/body")" "com.amazonaws.sqs#RequestEntityTooLarge" "... RequestEntityTooLarge in the JSON shape"
like "$(jq -r .message "$T/body")" "2097152 bytes" "... naming the bound"
is "$(req -H Content-Type:application/x-www-form-urlencoded --data-binary @"$T/big" "http://$ADDR/")" 413 \
        "a 3 MB SQS query body gets 413"
like "$(cat "$T/body")" "<Code>RequestEntityTooLarge</Code>" "... in the query protocol's shape"

# ---- a key changed in STORE/credentials is taken without a restart
cp -p "$S/credentials" "$T/credentials.saved"
NKEY=AKIAROTATEDKEY234567
NSECRET=rotatedrotatedrotatedrotatedrotatedrot40
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$NKEY" "$NSECRET" > "$T/creds.new"
chmod 0600 "$T/creds.new"
mv "$T/creds.new" "$S/credentials"
is "$(req --aws-sigv4 "$SIGN_L" --user "$NKEY:$NSECRET" -d '{"rot":1}' "http://$ADDR/$INV")" 200 \
        "after the key file changed, the new key is accepted"
is "$(req --aws-sigv4 "$SIGN_L" --user "$KEY:$SECRET" -d '{"rot":2}' "http://$ADDR/$INV")" 403 \
        "... and the old one refused"
printf 'aws_access_key_id = %s\n' "$NKEY" > "$T/creds.bad"
chmod 0600 "$T/creds.bad"
mv "$T/creds.bad" "$S/credentials"
is "$(req --aws-sigv4 "$SIGN_L" --user "$NKEY:$NSECRET" -d '{"rot":3}' "http://$ADDR/$INV")" 200 \
        "a key file that cannot be used leaves the key in force"
mv "$T/credentials.saved" "$S/credentials"
is "$(req --aws-sigv4 "$SIGN_L" --user "$KEY:$SECRET" -d '{"rot":4}' "http://$ADDR/$INV")" 200 \
        "the first key is back with its file"

# ---- (d) the unix socket
is "$(stat -c %a "$SOCK" 2>/dev/null)" 600 "the unix socket has mode 0600"
is "$(req --unix-socket "$SOCK" --aws-sigv4 "$SIGN_L" --user "$KEY:$SECRET" -d '{"u":1}' "http://localhost/$INV")" 200 \
        "curl --unix-socket invokes the function"
is "$(cat "$T/body")" '{"u":1}' "... and gets its answer"
is "$(req --unix-socket "$SOCK" -d '{"u":2}' "http://localhost/$INV")" 403 "an unsigned request on the socket gets 403"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups curl -s --unix-socket "$SOCK" "http://localhost/$INV" 2>&1)
isnt $? 0 "another user cannot connect to the socket"
stop_serve
[ ! -e "$SOCK" ]; ok $? "a stopped server removes its socket"

# ---- the key stays across restarts; --no-auth
serve
out=$("$HUSK" serve credentials --store "$S")
like "$out" "aws_access_key_id=$KEY" "the next start keeps the key"
is "$(req -d '{}' "http://$ADDR/$INV")" 403 "unsigned requests are still refused"
stop_serve
chmod 0644 "$S/credentials"
serve
is "$ADDR" "" "a server whose credentials file others may read does not start"
like "$(tail -n 3 "$T/serve.log")" "credentials: others may read it" "... and says why"
stop_serve
chmod 0600 "$S/credentials"
serve --no-auth
is "$(req -d '{"open":1}' "http://$ADDR/$INV")" 200 "with --no-auth an unsigned invoke runs"
stop_serve

# ---- a long poll (ReceiveMessage WaitTimeSeconds) outlives --request-timeout: the guard bounds
# receiving and sending a request, not the wait between (needs the queue engine)
serve --request-timeout 1s
sqs() { # sqs OPERATION JSON -> status; body in $T/body
        req -H "X-Amz-Target: AmazonSQS.$1" -H Content-Type:application/x-amz-json-1.0 -d "$2" \
                --aws-sigv4 "$SIGN_Q" --user "$KEY:$SECRET" "http://$ADDR/"
}
st=$(sqs CreateQueue '{"QueueName":"auth-lp"}')
if [ "$st" = 200 ]; then
        URL=$(jq -r .QueueUrl "$T/body")
        t0=$(date +%s%N)
        st=$(sqs ReceiveMessage "{\"QueueUrl\":\"$URL\",\"WaitTimeSeconds\":3}")
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        is "$st" 200 "a 3 s long poll with --request-timeout 1s is answered"
        [ "$ms" -ge 2900 ]; ok $? "... after its wait ($ms ms)"
        sqs ReceiveMessage "{\"QueueUrl\":\"$URL\",\"WaitTimeSeconds\":20}" >/dev/null &
        poll=$!
        sleep 0.5
        t0=$(date +%s%N)
        stop_serve
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ "$ms" -lt 10000 ]; ok $? "a server stopped during a 20 s long poll stops at once ($ms ms)"
        wait "$poll"
else
        skip "no queue engine in this build (CreateQueue: $st)"
        stop_serve
fi

"$HUSK" serve --store "$S" --listen 127.0.0.1:0 --region 'Bad Region' >/dev/null 2>&1
isnt $? 0 "an invalid --region is refused"
"$HUSK" serve --store "$S" --listen 127.0.0.1:0 --account 12345 >/dev/null 2>&1
isnt $? 0 "an --account that is not 12 digits is refused"
fn rm auth-echo >/dev/null
done_testing
