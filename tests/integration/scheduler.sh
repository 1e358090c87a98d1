#!/bin/sh
# Schedules (issue 17): EventBridge Scheduler's API driven by Debian's AWS CLI (/usr/bin/aws
# scheduler, signed with the store's keys) and `husk fn schedule`, and schedules that fire
# functions of the server. Time is the test's: the server runs with HUSK_SCHED_CLOCK_FILE, a file
# holding epoch milliseconds that the runner reads as its clock, so that a rate(1 minute)
# schedule fires when the test moves the clock a minute, without waiting one. The functions run
# the test bootstrap (images/fn.sh): "echo" prints each event it gets ("echo: EVENT") in its log,
# the function's own record of every invocation; "error" fails; "sleep" sleeps the event's "ms".
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
require_cmd curl
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
S="$T/store"
mkdir -p "$S"
CLOCK="$T/clock"
NOW=1893456000000 # 2030-01-01T00:00:00Z: the test's clock, in epoch ms
echo "$NOW" > "$CLOCK"
# set_clock MS: moves the server's clock (written whole: a rename)
set_clock() { NOW=$1; echo "$NOW" > "$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; }
advance() { set_clock $((NOW + $1)); }
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        HUSK_SCHED_CLOCK_FILE="$CLOCK" "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
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
FARN=arn:aws:lambda:us-east-1:000000000000:function
QARN=arn:aws:sqs:us-east-1:000000000000
ROLE=arn:aws:iam::000000000000:role/scheduler
sch() { "$AWS" --endpoint-url "http://$ADDR" --output json scheduler "$@" > "$T/out" 2> "$T/err"; }
sqs() { "$AWS" --endpoint-url "http://$ADDR" --output json sqs "$@" > "$T/out" 2> "$T/err"; }
out() { jq -r "$1" "$T/out"; }
log() { cat "$S/fn/logs/$1.log" 2>/dev/null; }
# count FUNCTION TEXT: the log lines of FUNCTION that are exactly "echo: TEXT"
count() { log "$1" | grep -cxF "echo: $2"; }
starts() { log "$1" | grep -c '^START '; }
# starts_ge FUNCTION N / count_ge FUNCTION TEXT N / seen FUNCTION TEXT: for wait_for
starts_ge() { [ "$(starts "$1")" -ge "$2" ]; }
count_ge() { [ "$(count "$1" "$2")" -ge "$3" ]; }
seen() { count_ge "$1" "$2" 1; }
wait_for() { _w=$1; shift; for _i in $(seq $((_w * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
# target FUNCTION [INPUT]: a --target of the CLI
target() { jq -cn --arg a "$FARN:$1" --arg r "$ROLE" --arg i "${2:-}" '{Arn: $a, RoleArn: $r} + (if $i == "" then {} else {Input: $i} end)'; }
# at SECONDS: at() of the test clock plus SECONDS
at() { date -u -d "@$(( NOW / 1000 + $1 ))" +'at(%Y-%m-%dT%H:%M:%S)'; }

fn create ftick --image "$ARCHIVE" --handler echo --timeout 5s >/dev/null
fn create fbad --image "$ARCHIVE" --handler error --timeout 5s >/dev/null
fn create fslow --image "$ARCHIVE" --handler sleep --timeout 30s >/dev/null
ok $? "functions: echo, error and sleep"

# ---- the control plane with the AWS CLI
sch create-schedule --name tick --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF \
        --target "$(target ftick '{"tick":1}')"
ok $? "create-schedule rate(1 minute)" "$(cat "$T/err")"
is "$(out .ScheduleArn)" arn:aws:scheduler:us-east-1:000000000000:schedule/default/tick "its ARN"
sch get-schedule --name tick
is "$(out '.ScheduleExpression + " " + .State + " " + .FlexibleTimeWindow.Mode + " " + .Target.Input')" \
        'rate(1 minute) ENABLED OFF {"tick":1}' "get-schedule shows what was created"
is "$(out .Target.RetryPolicy.MaximumRetryAttempts)/$(out .Target.RetryPolicy.MaximumEventAgeInSeconds)" \
        185/86400 "the default RetryPolicy"
like "$(out .CreationDate)" '^2030-01-01T00:00:00' "CreationDate comes from the (test) clock"
sch create-schedule --name tick --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF \
        --target "$(target ftick)"
[ $? -ne 0 ] && grep -q ConflictException "$T/err"
ok $? "the same name again: ConflictException"
sch create-schedule --name bad --schedule-expression 'cron(0 12 * * * *)' --flexible-time-window Mode=OFF \
        --target "$(target ftick)"
[ $? -ne 0 ] && grep -q "ValidationException.*must be '?'" "$T/err"
ok $? "cron() with neither day field '?': ValidationException" "$(cat "$T/err")"
sch create-schedule --name bad --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF \
        --schedule-expression-timezone Mars/Base --target "$(target ftick)"
[ $? -ne 0 ] && grep -q "ValidationException.*Mars/Base" "$T/err"
ok $? "an unknown time zone: ValidationException"
sch create-schedule --name bad --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF \
        --target "{\"Arn\":\"arn:aws:lambda:eu-west-1:000000000000:function:ftick\",\"RoleArn\":\"$ROLE\"}"
[ $? -ne 0 ] && grep -q "ValidationException.*Target.Arn" "$T/err"
ok $? "a function ARN of another region: ValidationException"
sch create-schedule --name bad --group-name nosuch --schedule-expression 'rate(1 minute)' \
        --flexible-time-window Mode=OFF --target "$(target ftick)"
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "a group that does not exist: ResourceNotFoundException"
head -c 262145 /dev/zero | tr '\0' a > "$T/big"
jq -n --rawfile i "$T/big" --arg a "$FARN:ftick" --arg r "$ROLE" \
        '{Name: "big", ScheduleExpression: "rate(1 hour)", FlexibleTimeWindow: {Mode: "OFF"}, Target: {Arn: $a, RoleArn: $r, Input: $i}}' > "$T/big.json"
sch create-schedule --cli-input-json "file://$T/big.json"
[ $? -ne 0 ] && grep -q "ValidationException.*256 KB" "$T/err"
ok $? "an Input over 256 KB: ValidationException naming the bound" "$(tail -c 300 "$T/err")"
sch get-schedule --name nosuch
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "get-schedule of nothing: ResourceNotFoundException"
sch list-schedules
is "$(out '[.Schedules[].Name] | join(",")')" tick "refused creations leave nothing: list-schedules"
sch create-schedule-group --name team --tags Key=owner,Value=ops
ok $? "create-schedule-group with a tag"
sch list-tags-for-resource --resource-arn arn:aws:scheduler:us-east-1:000000000000:schedule-group/team
is "$(out '.Tags[0].Key + "=" + .Tags[0].Value')" owner=ops "list-tags-for-resource"
sch create-schedule --name nightly --group-name team --schedule-expression 'cron(0 2 ? * MON-FRI *)' \
        --schedule-expression-timezone Europe/Berlin --flexible-time-window Mode=FLEXIBLE,MaximumWindowInMinutes=15 \
        --state DISABLED --target "$(target ftick)"
ok $? "a DISABLED cron() schedule in a group, in a time zone, with a flexible window" "$(cat "$T/err")"
sch list-schedules --group-name team
is "$(out '[.Schedules[] | .Name + ":" + .State] | join(",")')" nightly:DISABLED "list-schedules --group-name"
sch list-schedules --state ENABLED
is "$(out '[.Schedules[].Name] | join(",")')" tick "list-schedules --state ENABLED"
sch update-schedule --name nightly --group-name team --schedule-expression 'cron(30 3 ? * MON-FRI *)' \
        --flexible-time-window Mode=OFF --target "$(target ftick)" && sch get-schedule --name nightly --group-name team
is "$(out '.ScheduleExpression + " " + .State + " " + .ScheduleExpressionTimezone')" 'cron(30 3 ? * MON-FRI *) ENABLED UTC' \
        "update-schedule replaces the whole schedule"
sch update-schedule --name nosuch --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF --target "$(target ftick)"
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "update-schedule of nothing: ResourceNotFoundException"
sch delete-schedule-group --name default
[ $? -ne 0 ] && grep -q ValidationException "$T/err"
ok $? "the default group cannot be deleted"
sch delete-schedule-group --name team && sch get-schedule --name nightly --group-name team
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "delete-schedule-group deletes its schedules"

# ---- rate(1 minute) fired by the test clock: exactly one invocation per slot
advance 59000
sleep 1.5
is "$(count ftick '{"tick":1}')" 0 "59 s after the creation: no invocation"
advance 1000
wait_for 30 count_ge ftick '{"tick":1}' 1
ok $? "the first slot fires the function" "$(tail -5 "$T/serve.log")"
sleep 1.5
is "$(count ftick '{"tick":1}')" 1 "once"
advance 60000
wait_for 20 count_ge ftick '{"tick":1}' 2
sleep 1.5
is "$(count ftick '{"tick":1}')" 2 "the second slot: one more invocation, exactly"
advance 30000
sleep 1.5
is "$(count ftick '{"tick":1}')" 2 "half a minute later: none"
sch delete-schedule --name tick
ok $? "delete-schedule"
advance 120000
sleep 1.5
is "$(count ftick '{"tick":1}')" 2 "a deleted schedule fires no more"

# ---- a one-off at() schedule with ActionAfterCompletion DELETE (a member this CLI's model
# predates: sent with curl's SigV4)
jq -n --arg e "$(at 30)" --arg a "$FARN:ftick" --arg r "$ROLE" \
        '{ScheduleExpression: $e, FlexibleTimeWindow: {Mode: "OFF"}, ActionAfterCompletion: "DELETE", Target: {Arn: $a, RoleArn: $r, Input: "{\"once\":1}"}}' > "$T/once.json"
code=$(curl -s -o "$T/out" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:scheduler" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'Content-Type: application/json' \
        --data-binary "@$T/once.json" "http://$ADDR/schedules/once")
is "$code" 200 "CreateSchedule at() with ActionAfterCompletion DELETE" "$(cat "$T/out")"
curl -s -o "$T/out" --aws-sigv4 "aws:amz:us-east-1:scheduler" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        "http://$ADDR/schedules/once"
is "$(out .ActionAfterCompletion)" DELETE "GetSchedule shows ActionAfterCompletion"
advance 30000
wait_for 20 seen ftick '{"once":1}'
ok $? "the at() schedule fires at its time"
advance 3600000
sleep 1.5
is "$(count ftick '{"once":1}')" 1 "once only"
sch get-schedule --name once
[ $? -ne 0 ] && grep -q ResourceNotFoundException "$T/err"
ok $? "then it is deleted (ActionAfterCompletion DELETE)"

# ---- a failing target: retried, then the dead-letter event to an SQS queue
sqs create-queue --queue-name sched-dlq >/dev/null
sch create-schedule --name failing --schedule-expression "$(at 10)" --flexible-time-window Mode=OFF \
        --target "{\"Arn\":\"$FARN:fbad\",\"RoleArn\":\"$ROLE\",\"Input\":\"{\\\"job\\\":7}\",\"RetryPolicy\":{\"MaximumRetryAttempts\":2,\"MaximumEventAgeInSeconds\":600},\"DeadLetterConfig\":{\"Arn\":\"$QARN:sched-dlq\"}}"
ok $? "a schedule with a retry policy and a dead-letter queue" "$(cat "$T/err")"
advance 10000
wait_for 30 starts_ge fbad 1
# retries come 1 s and 2 s later on the schedule's clock
for _i in $(seq 20); do advance 1000; sleep 0.5; [ "$(starts fbad)" -ge 3 ] && break; done
sleep 1
is "$(starts fbad)" 3 "the first attempt and MaximumRetryAttempts 2 retries"
sqs receive-message --queue-url "http://$ADDR/000000000000/sched-dlq" --message-attribute-names All --wait-time-seconds 5
is "$(out '.Messages[0].Body')" '{"job":7}' "the dead-letter event carries the input"
is "$(out '.Messages[0].MessageAttributes.EXHAUSTED_RETRY_CONDITION.StringValue + " " + .Messages[0].MessageAttributes.RETRY_ATTEMPTS.StringValue + " " + .Messages[0].MessageAttributes.ERROR_CODE.StringValue')" \
        "MaximumRetryAttempts 2 FunctionError" "EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, ERROR_CODE"
is "$(out '.Messages[0].MessageAttributes.TARGET_ARN.StringValue + " " + .Messages[0].MessageAttributes.SCHEDULE_ARN.StringValue')" \
        "$FARN:fbad arn:aws:scheduler:us-east-1:000000000000:schedule/default/failing" "TARGET_ARN and SCHEDULE_ARN"
for _i in $(seq 10); do advance 60000; done
sleep 1.5
is "$(starts fbad)" 3 "no attempt after the dead letter"
# /metrics counts each attempt of a schedule, and its failures (issue 17's metrics)
curl -s "http://$ADDR/metrics" > "$T/metrics"
is "$(awk '$1 == "husk_schedule_invocations_total{schedule=\"default/failing\"}" {print $2}' "$T/metrics")" 3 \
        "/metrics: husk_schedule_invocations_total of the failing schedule is 3" "$(grep schedule "$T/metrics")"
is "$(awk '$1 == "husk_schedule_failures_total{schedule=\"default/failing\"}" {print $2}' "$T/metrics")" 3 \
        "/metrics: its husk_schedule_failures_total is 3"

# ---- slots missed while the server was down: within the window, once at start; outside, never
sch create-schedule --name missin --schedule-expression "$(at 60)" \
        --flexible-time-window Mode=FLEXIBLE,MaximumWindowInMinutes=5 --target "$(target ftick '{"miss":"in"}')" &&
sch create-schedule --name missout --schedule-expression "$(at 60)" --flexible-time-window Mode=OFF \
        --target "$(target ftick '{"miss":"out"}')"
ok $? "two at() schedules one minute ahead: a 5-minute window, and none"
stop_serve
advance $((60000 + 150000)) # down until 2.5 minutes after their slot
serve
[ -n "$ADDR" ] || bail "the server did not start again"
# the flexible one fires at its place in the window (at most 5 minutes after the slot)
for _i in $(seq 6); do
        wait_for 3 seen ftick '{"miss":"in"}' && break
        advance 30000
done
wait_for 20 seen ftick '{"miss":"in"}'
ok $? "a slot missed while down, within its flexible window, fires after the start"
advance 600000
sleep 2
is "$(count ftick '{"miss":"in"}')" 1 "once"
is "$(count ftick '{"miss":"out"}')" 0 "Mode OFF, 2.5 minutes late (past the 60 s grace): never"

# ---- kill -9 of the server during a target call: the slot does not fire again
sch create-schedule --name slow --schedule-expression 'rate(1 minute)' --flexible-time-window Mode=OFF \
        --target "$(target fslow '{"ms":4000}')"
ok $? "a schedule whose function takes 4 s"
advance 60000
wait_for 30 starts_ge fslow 1
ok $? "its slot fired: the function runs"
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
serve
[ -n "$ADDR" ] || bail "the server did not start again"
sleep 6
is "$(starts fslow)" 1 "after kill -9 in the middle of the call and a restart: not fired again"
advance 60000
wait_for 30 starts_ge fslow 2
ok $? "the next slot fires"
sleep 5
is "$(starts fslow)" 2 "once"
sch delete-schedule --name slow

# ---- cron() in a time zone, with an SQS queue as the target (its input is the message)
sqs create-queue --queue-name sched-out >/dev/null
sch create-schedule --name berlin --schedule-expression 'cron(0 9 * * ? *)' \
        --schedule-expression-timezone Europe/Berlin --flexible-time-window Mode=OFF \
        --target "{\"Arn\":\"$QARN:sched-out\",\"RoleArn\":\"$ROLE\",\"Input\":\"guten Morgen\"}"
ok $? "cron(0 9 * * ? *) in Europe/Berlin with an SQS target" "$(cat "$T/err")"
msgs() { sqs receive-message --queue-url "http://$ADDR/000000000000/sched-out" --wait-time-seconds "$1"; _m=$(jq -r '.Messages // [] | length' "$T/out" 2>/dev/null); echo "${_m:-0}"; }
set_clock $(( $(date -u -d 2030-01-02T07:59:30Z +%s) * 1000 )) # 08:59:30 in Berlin (UTC+1)
sleep 1.5
is "$(msgs 0)" 0 "08:59:30 in Berlin: nothing yet"
advance 30000
is "$(msgs 5)" 1 "09:00 in Berlin (08:00 UTC): the message"
is "$(out '.Messages[0].Body')" "guten Morgen" "it is the input"
sch delete-schedule --name berlin

# ---- husk fn schedule
fn schedule create cli1 --expression 'rate(5 minutes)' --function ftick --input '{"cli":1}' \
        --timezone Europe/Berlin --window 10 --retries 3 --dlq sched-dlq > "$T/arn" 2> "$T/err"
ok $? "husk fn schedule create" "$(cat "$T/err")"
is "$(cat "$T/arn")" arn:aws:scheduler:us-east-1:000000000000:schedule/default/cli1 "it prints the ARN"
fn schedule inspect cli1 > "$T/out"
is "$(out '.Target.Arn + " " + .Target.DeadLetterConfig.Arn + " " + (.Target.RetryPolicy.MaximumRetryAttempts|tostring) + " " + (.FlexibleTimeWindow.MaximumWindowInMinutes|tostring)')" \
        "$FARN:ftick $QARN:sched-dlq 3 10" "husk fn schedule inspect: the ARNs, retries and window"
fn schedule ls > "$T/ls"
grep -q '^cli1 .*default .*ENABLED .*rate(5 minutes) .*ftick' "$T/ls"
ok $? "husk fn schedule ls" "$(cat "$T/ls")"
fn schedule create cli2 --expression 'rate(0 minutes)' --function ftick 2> "$T/err"
[ $? -ne 0 ] && grep -q 'ValidationException' "$T/err"
ok $? "husk fn schedule create with a bad expression fails with the server's reason" "$(cat "$T/err")"
fn schedule rm cli1 && ! fn schedule inspect cli1 2> "$T/err" >/dev/null && grep -q ResourceNotFoundException "$T/err"
ok $? "husk fn schedule rm"

stop_serve
