#!/bin/sh
# Lambda's control plane (issue 14) driven by the real clients: Debian's AWS CLI (/usr/bin/aws)
# and python3-boto3, signed with the store's keys, against `husk fn serve`. Functions are made
# from the test image (images/fn.sh: busybox + tests/helpers/fn-bootstrap, whose behaviour
# follows the handler) as Image functions, and as Zip packages (the same bootstrap in a zip made
# here) on --zip-base-image. Effects are observed from inside the workers.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq base64 sha256sum
AWS=/usr/bin/aws
PY=/usr/bin/python3
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
"$PY" -c 'import boto3' 2>/dev/null || skip_all "needs python3-boto3 for $PY"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
BOOT="$HUSK_HELPERS/fn-bootstrap"
S="$T/store"
mkdir -p "$S"
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 --zip-base-image "$ARCHIVE" "$@" \
                >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
}
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT

serve
if [ -z "$ADDR" ]; then
        fail "the server starts with --zip-base-image" "$(cat "$T/serve.log")"
        serve_plain=1
        rm -f "$S/fn/serve.addr"
        "$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
        [ -n "$ADDR" ] || { cat "$T/serve.log" >&2; skip_all "the server did not start"; }
fi
eval "$(fn serve credentials --format env 2>/dev/null)"
# (a server without SigV4 takes any keys)
: "${AWS_ACCESS_KEY_ID:=unsigned}" "${AWS_SECRET_ACCESS_KEY:=unsigned}"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
ROLE=arn:aws:iam::000000000000:role/r
ARN=arn:aws:lambda:us-east-1:000000000000:function
# lam ARGS...: the AWS CLI; output in $T/out, errors in $T/err, the exit status returned
lam() { "$AWS" --endpoint-url "http://$ADDR" --output json lambda "$@" > "$T/out" 2> "$T/err"; }
# raw METHOD PATH [curl args...]: a signed request; prints the status, body in $T/body, headers in $T/hdr
raw() {
        _m=$1 _p=$2; shift 2
        curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$_m" --aws-sigv4 "aws:amz:us-east-1:lambda" \
                --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@" "http://$ADDR$_p"
}
etype() { sed -n 's/^x-amzn-ErrorType: *\([^\r]*\).*/\1/ip' "$T/hdr"; }
out() { jq -r "$1" "$T/out"; }
# invoke NAME PAYLOAD [ARGS...]: the response's metadata in $T/out, the payload in $T/payload
invoke() {
        _n=$1 _pl=$2; shift 2
        lam invoke --function-name "$_n" --cli-binary-format raw-in-base64-out --payload "$_pl" "$@" \
                "$T/payload"
}
mkzip() { # mkzip OUT MARKER [bootstrap file]
        "$PY" - "$1" "$2" "${3:-$BOOT}" <<'EOF'
import sys, zipfile
out, marker, boot = sys.argv[1:4]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(boot, "bootstrap")
    z.writestr("marker.txt", marker + "\n")
EOF
}

# ---- the control plane answers (husk before issue 14: UnknownOperationException)
lam list-functions
ok $? "list-functions answers"
is "$(out '.Functions | length')" 0 "an empty store lists no functions"

# ---- CreateFunction, PackageType Image: a husk image archive, ImageConfig, env, memory, tags
lam create-function --function-name la-env --package-type Image --code "ImageUri=$ARCHIVE" \
        --role "$ROLE" --image-config Command=env --environment 'Variables={CUSTOM=one}' \
        --memory-size 256 --timeout 5 --description "first" --tags team=a
ok $? "create-function --package-type Image with an image archive" || diag "$(cat "$T/err")"
is "$(out '[.FunctionName, .FunctionArn, .PackageType, .State, .LastUpdateStatus, .Version] | join(" ")')" \
        "la-env $ARN:la-env Image Pending Successful \$LATEST" "its configuration: name, ARN, Image, Pending, Successful, \$LATEST"
is "$(out '[.MemorySize, .Timeout, .Description, .Environment.Variables.CUSTOM, .Role] | join(" ")')" \
        "256 5 first one $ROLE" "MemorySize, Timeout, Description, Environment and Role as given"
like "$(out .LastModified)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+0000$' \
        "LastModified in Lambda's format"
id=$(fn inspect la-env | jq -r .image_id)
want=$(printf '%s' "${id#sha256:}" | "$PY" -c 'import sys,base64; print(base64.b64encode(bytes.fromhex(sys.stdin.read())).decode())')
is "$(out .CodeSha256)" "$want" "CodeSha256 is the image digest in base64"
is "$(out '.ImageConfigResponse.ImageConfig.Command | join(",")')" env "ImageConfig.Command is kept"
is "$(out '.Architectures | join(",")')" "$(uname -m | sed 's/aarch64/arm64/')" "Architectures: the host's"

lam get-function-configuration --function-name la-env
is "$(out '[.State, .MemorySize] | join(" ")')" "Active 256" "get-function-configuration: Active"
lam get-function --function-name la-env
is "$(out '[.Code.RepositoryType, .Code.ImageUri, .Tags.team] | join(" ")')" "ECR $ARCHIVE a" \
        "get-function: Code (ECR, ImageUri) and Tags"
like "$(fn ls)" "la-env +.*fn-oci.tar +256M +5s" "husk fn ls shows the function made through the API"

invoke la-env '{}'
ok $? "invoke the Image function"
is "$(jq -r '[.memory, .custom, .handler, .name] | join(" ")' "$T/payload")" "256 one env la-env" \
        "the worker sees MemorySize, Environment and the handler (ImageConfig.Command)"

# ---- UpdateFunctionConfiguration: observed from inside the next worker
lam update-function-configuration --function-name la-env --memory-size 512 \
        --environment 'Variables={CUSTOM=two}'
is "$(out '[.MemorySize, .Environment.Variables.CUSTOM, .State] | join(" ")')" "512 two Active" \
        "update-function-configuration answers the new configuration"
invoke la-env '{}'
is "$(jq -r '[.memory, .custom] | join(" ")' "$T/payload")" "512 two" \
        "the next invocation runs with the new memory and environment"
is "$(fn inspect la-env | jq -c '[.memory_mb, .env]')" '[512,["CUSTOM=two"]]' "husk fn inspect sees the update"

lam create-function --function-name la-sleep --package-type Image --code "ImageUri=$ARCHIVE" \
        --role "$ROLE" --image-config Command=sleep --timeout 1
invoke la-sleep '{"ms":2500}'
is "$(out .FunctionError)" Unhandled "a 1 s timeout ends a 2.5 s handler (FunctionError Unhandled)"
is "$(jq -r .errorType "$T/payload")" Sandbox.Timedout "with Lambda's timeout error"
lam update-function-configuration --function-name la-sleep --timeout 5
invoke la-sleep '{"ms":1500}'
is "$(out .FunctionError)/$(jq -c . "$T/payload")" 'null/{"slept":1500}' "after --timeout 5 the same handler finishes"

# ---- CreateFunction, Zip: a package with a bootstrap on --zip-base-image
mkzip "$T/f.zip" zip-one
lam create-function --function-name la-zip --zip-file "fileb://$T/f.zip" --runtime provided.al2023 \
        --handler probe --role "$ROLE" --ephemeral-storage Size=1024
ok $? "create-function --zip-file with a custom runtime" || diag "$(cat "$T/err")"
zsum=$(sha256sum "$T/f.zip" | cut -c1-64 | "$PY" -c 'import sys,base64; print(base64.b64encode(bytes.fromhex(sys.stdin.read().strip())).decode())')
is "$(out '[.PackageType, .Runtime, .Handler, .CodeSize, .CodeSha256, .EphemeralStorage.Size] | join(" ")')" \
        "Zip provided.al2023 probe $(stat -c %s "$T/f.zip") $zsum 1024" \
        "its configuration: Zip, Runtime, Handler, CodeSize and CodeSha256 of the zip, EphemeralStorage"
ctx=$(printf '{"custom":{"k":"v"}}' | base64 -w0)
invoke la-zip '{}' --client-context "$ctx"
is "$(jq -r '[.exe, .cwd, .marker, .tmp_mb] | join(" ")' "$T/payload")" "/var/task/bootstrap /var/task zip-one 1024" \
        "the package's bootstrap runs from /var/task, with /tmp of EphemeralStorage's size"
is "$(jq -r .ctx "$T/payload")" '{"custom":{"k":"v"}}' "ClientContext reaches the Runtime API (Lambda-Runtime-Client-Context)"
is "$(ls "$S/fn/code" | wc -l)" 1 "one task root on the host"
lam get-function --function-name la-zip
is "$(out .Code.RepositoryType)" S3 "get-function of a Zip function: Code.RepositoryType S3"

mkzip "$T/g.zip" zip-two
lam update-function-code --function-name la-zip --zip-file "fileb://$T/g.zip"
isnt "$(out .CodeSha256)" "$zsum" "update-function-code: a new CodeSha256"
invoke la-zip '{}'
is "$(jq -r .marker "$T/payload")" zip-two "the next invocation runs the new package"
is "$(ls "$S/fn/code" | wc -l)" 1 "the old task root is removed"
lam update-function-code --function-name la-env --image-uri "$ARCHIVE"
ok $? "update-function-code --image-uri of an Image function"
lam update-function-code --function-name la-env --zip-file "fileb://$T/g.zip"
grep -q InvalidParameterValueException "$T/err"; ok $? "a zip for an Image function is refused"

# ---- names as partial and full ARNs, and qualifiers
lam get-function-configuration --function-name "$ARN:la-env"
is "$(out .FunctionName)" la-env "a full ARN names the function"
lam get-function-configuration --function-name "000000000000:function:la-env"
is "$(out .FunctionName)" la-env "a partial ARN names the function"
lam get-function --function-name la-env --qualifier 7
grep -q ResourceNotFoundException "$T/err"; ok $? "a version qualifier: ResourceNotFoundException (only \$LATEST)"

# ---- ListFunctions with Marker/MaxItems
for n in la-l1 la-l2 la-l3; do
        lam create-function --function-name $n --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE" \
                --image-config Command=echo
done
all=$(fn ls | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')
lam list-functions --max-items 2 --page-size 1
is "$(out '.Functions | length')" 2 "list-functions --max-items 2 (pages of 1) gives 2"
tok=$(out .NextToken)
isnt "$tok" null "and a NextToken"
got=$(out '.Functions[].FunctionName' | tr '\n' ' ')
lam list-functions --page-size 2 --starting-token "$tok"
got="$got$(out '.Functions[].FunctionName' | tr '\n' ' ')"
is "$got" "$all" "following the token lists every function once, by name"
raw GET "/2015-03-31/functions/?MaxItems=2" >/dev/null
is "$(jq -r '[(.Functions | length), .NextMarker] | join(" ")' "$T/body")" "2 la-l1" "MaxItems=2: two and a NextMarker"
raw GET "/2015-03-31/functions/?MaxItems=0" >/dev/null
is "$(etype)" InvalidParameterValueException "MaxItems=0 is refused"

# ---- concurrency: the worker limit of --concurrency
lam put-function-concurrency --function-name la-env --reserved-concurrent-executions 0
is "$(out .ReservedConcurrentExecutions)" 0 "put-function-concurrency 0"
invoke la-env '{}'
grep -q TooManyRequestsException "$T/err"; ok $? "with 0 reserved every invoke is throttled (TooManyRequestsException)"
raw POST /2015-03-31/functions/la-env/invocations -d '{}' >/dev/null
is "$(jq -r .Reason "$T/body")" ReservedFunctionConcurrentInvocationLimitExceeded "the 429 names its Reason"
lam get-function-concurrency --function-name la-env
is "$(out .ReservedConcurrentExecutions)" 0 "get-function-concurrency"
lam put-function-concurrency --function-name la-env --reserved-concurrent-executions 2
is "$(fn inspect la-env | jq .concurrency)" 2 "husk fn inspect: concurrency 2"
lam get-function --function-name la-env
is "$(out .Concurrency.ReservedConcurrentExecutions)" 2 "get-function shows the Concurrency"
invoke la-env '{}'
is "$(jq -r .memory "$T/payload")" 512 "invokes run again"
lam delete-function-concurrency --function-name la-env
ok $? "delete-function-concurrency"
lam get-function-concurrency --function-name la-env
is "$(jq -c . "$T/out" 2>/dev/null)$(raw GET /2019-09-30/functions/la-env/concurrency)$(cat "$T/body")" '200{}' \
        "no reserved concurrency left"
fn create la-cli --image "$ARCHIVE" --handler echo --concurrency 3 >/dev/null
lam get-function-concurrency --function-name la-cli
is "$(out .ReservedConcurrentExecutions)" 3 "husk fn create --concurrency is the reserved concurrency"

# ---- tags
lam tag-resource --resource "$ARN:la-env" --tags a=1,b=2
ok $? "tag-resource"
lam list-tags --resource "$ARN:la-env"
is "$(jq -c .Tags "$T/out")" '{"team":"a","a":"1","b":"2"}' "list-tags: the old and the new tags"
lam untag-resource --resource "$ARN:la-env" --tag-keys a
lam list-tags --resource "$ARN:la-env"
is "$(jq -c .Tags "$T/out")" '{"team":"a","b":"2"}' "untag-resource removes one"
long=$(head -c 300 /dev/zero | tr '\0' v)
is "$(raw POST "/2017-03-31/tags/$ARN:la-env" -d "{\"Tags\":{\"n1\":\"1\",\"n2\":\"2\",\"n3\":\"3\",\"bad\":\"$long\"}}")/$(etype)" \
        400/InvalidParameterValueException "a tag value over 256 characters is refused"
lam list-tags --resource "$ARN:la-env"
is "$(jq -c .Tags "$T/out")" '{"team":"a","b":"2"}' "and none of that request's tags is kept"
is "$(raw PUT /2015-03-31/functions/la-env/configuration -d '{"Environment":{"Variables":{"A=B":"C"}}}')/$(etype)" \
        400/InvalidParameterValueException "an environment variable name with = is refused"

# ---- Invoke extras: Tail, function errors, DryRun
lam create-function --function-name la-echo --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE" \
        --image-config Command=echo
invoke la-echo '{"x":"tailme"}' --log-type Tail
log=$(out .LogResult | base64 -d)
rid=$(printf '%s\n' "$log" | sed -n 's/^START RequestId: \([^ ]*\).*/\1/p')
like "$rid" '^[0-9a-f-]{36}$' "--log-type Tail: the log starts with START"
printf '%s\n' "$log" | grep -q '^echo: {"x":"tailme"}'; ok $? "it holds the function's own output"
printf '%s\n' "$log" | grep -q "^END RequestId: $rid" && printf '%s\n' "$log" | grep -q "^REPORT RequestId: $rid"
ok $? "and its END and REPORT lines"
is "$(out .ExecutedVersion)" '$LATEST' "ExecutedVersion \$LATEST"
lam create-function --function-name la-spam --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE" \
        --image-config Command=spam
invoke la-spam '{"bytes":100000}' --log-type Tail
log=$(out .LogResult | base64 -d)
[ "$(out .LogResult | base64 -d | wc -c)" -le 4096 ]; ok $? "Tail is at most 4 KB"
printf '%s\n' "$log" | tail -n 1 | grep -q '^REPORT'; ok $? "the last 4 KB: it ends with REPORT"
invoke la-echo '{}'
is "$(out .LogResult)" null "without --log-type Tail no log comes back"
raw POST /2015-03-31/functions/la-echo/invocations -H 'X-Amz-Log-Type: Everything' -d '{}' >/dev/null
is "$(etype)" InvalidParameterValueException "an unknown X-Amz-Log-Type is refused"
raw POST /2015-03-31/functions/la-zip/invocations -H 'X-Amz-Client-Context: bm90IGpzb24=' -d '{}' >/dev/null
is "$(etype)" InvalidRequestContentException "a ClientContext that is not a JSON object is refused"

lam create-function --function-name la-err --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE" \
        --image-config Command=error
invoke la-err '{}'
is "$(out '[.StatusCode, .FunctionError] | join(" ")')" "200 Unhandled" "a failing handler: 200, FunctionError Unhandled"
is "$(jq -c '[.errorType, .errorMessage]' "$T/payload")" '["Boom","boom"]' "with the error body {errorMessage, errorType}"
invoke la-echo '{}' --invocation-type DryRun
is "$(out .StatusCode)" 204 "DryRun: 204"
invoke la-none '{}' --invocation-type DryRun
grep -q ResourceNotFoundException "$T/err"; ok $? "DryRun of a missing function: ResourceNotFoundException"

# ---- errors in Lambda's codes and shapes
is "$(raw GET /2015-03-31/functions/la-none)" 404 "GetFunction of a missing function: 404"
is "$(etype)/$(jq -r .Message "$T/body")" "ResourceNotFoundException/Function not found: $ARN:la-none" \
        "ResourceNotFoundException with Lambda's message"
lam create-function --function-name la-env --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE"
grep -q ResourceConflictException "$T/err"; ok $? "create-function of an existing name: ResourceConflictException"
is "$(raw POST /2015-03-31/functions -d "{\"FunctionName\":\"la-env\",\"PackageType\":\"Image\",\"Code\":{\"ImageUri\":\"$ARCHIVE\"}}")" 409 "... 409"
is "$(raw POST /2015-03-31/functions -d "{\"FunctionName\":\"la-big\",\"PackageType\":\"Image\",\"MemorySize\":20000,\"Code\":{\"ImageUri\":\"$ARCHIVE\"}}")/$(etype)" \
        400/InvalidParameterValueException "MemorySize 20000: 400 InvalidParameterValueException"
other=arm64; [ "$(uname -m)" = aarch64 ] && other=x86_64
lam create-function --function-name la-arch --package-type Image --code "ImageUri=$ARCHIVE" --role "$ROLE" \
        --architectures $other
grep -q InvalidParameterValueException "$T/err"; ok $? "Architectures $other on this host: InvalidParameterValueException"
lam create-function --function-name la-noimg --package-type Image --code ImageUri=no-such-image:1 --role "$ROLE"
grep -q 'InvalidParameterValueException.*Source image no-such-image:1 does not exist' "$T/err"
ok $? "an unknown ImageUri: InvalidParameterValueException"
lam create-function --function-name la-s3 --code S3Bucket=bucket,S3Key=k --runtime provided.al2023 --handler x --role "$ROLE"
grep -q InvalidParameterValueException "$T/err"; ok $? "S3 code: InvalidParameterValueException"
is "$(raw GET /2015-03-31/functions/bad.name)/$(etype)" 400/ValidationException "an invalid name: 400 ValidationException"
is "$(raw GET /2015-03-31/nothing/here)/$(etype)" 404/UnknownOperationException "an unknown path: UnknownOperationException"
is "$(raw PATCH /2015-03-31/functions/la-env)/$(etype)" 404/UnknownOperationException "an unknown method: UnknownOperationException"
is "$(raw POST /2015-03-31/functions -d '{not json')/$(etype)" 400/InvalidRequestContentException "a body that is not JSON"
st=$(head -c 75000000 /dev/zero | raw POST /2015-03-31/functions -H 'Content-Type: application/json' --data-binary @-)
is "$st/$(etype)" 413/RequestTooLargeException "a 75 MB body: 413 RequestTooLargeException"
like "$(jq -r .message "$T/body")" 73400320 "the error names the bound"
st=$(head -c 3000000 /dev/zero | raw PUT /2015-03-31/functions/la-env/configuration --data-binary @-)
is "$st/$(etype)" 413/RequestTooLargeException "other operations keep the front door's 2 MiB bound"

# ---- hostile packages: bounded, inside the task root, no devices, no setuid
zbad() { # zbad NAME PYTHON-BODY: a zip made by the body (z: the ZipFile), then create-function
        "$PY" - "$T/$1.zip" "$2" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    def entry(name, data, mode):
        i = zipfile.ZipInfo(name)
        i.external_attr = mode << 16
        i.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(i, data)
    exec(sys.argv[2])
EOF
        lam create-function --function-name "$1" --zip-file "fileb://$T/$1.zip" --runtime provided.al2023 \
                --handler probe --role "$ROLE"
}
zbad la-big 'entry("bootstrap", b"#!/bin/sh\n", 0o100755)
for k in range(6): entry("zero%d" % k, b"\0" * (45 << 20), 0o100644)'
grep -q 'InvalidParameterValueException.*Unzipped size must be smaller than 262144000 bytes' "$T/err"
ok $? "more than 250 MB unzipped: refused, naming the bound" || diag "$(cat "$T/err")"
zbad la-dots 'entry("bootstrap", b"x", 0o100755); entry("../../escaped", b"x", 0o100644)'
grep -q InvalidParameterValueException "$T/err"; ok $? "an entry with ..: refused"
zbad la-abs 'entry("bootstrap", b"x", 0o100755); entry("/tmp/husk-abs-escape", b"x", 0o100644)'
grep -q InvalidParameterValueException "$T/err"; ok $? "an absolute entry: refused"
[ ! -e /tmp/husk-abs-escape ] && [ ! -e "$S/fn/escaped" ] && [ ! -e "$S/escaped" ]; ok $? "nothing was written outside"
zbad la-link 'entry("bootstrap", b"x", 0o100755); entry("lnk", b"'"$T"'", 0o120777); entry("lnk/through-link", b"x", 0o100644)'
grep -q InvalidParameterValueException "$T/err"; ok $? "an entry through a symlink of the package: refused"
[ ! -e "$T/through-link" ]; ok $? "nothing was written where the symlink points"
zbad la-dev 'entry("bootstrap", b"x", 0o100755); entry("dev", b"", 0o020666)'
st=$?
dev=$(find "$S/fn/code" -type c 2>/dev/null | wc -l)
[ $st != 0 ] && [ "$dev" = 0 ]; ok $? "a device entry: refused, no device made"
zbad la-suid 'entry("bootstrap", b"x", 0o104755); entry("sgid", b"x", 0o102755)'
ok $? "setuid and setgid files are taken ..." || diag "$(cat "$T/err")"
is "$(find "$S/fn/code" -perm /6000 | wc -l)" 0 "... without their setuid and setgid bits"
zbad la-noboot 'entry("other", b"x", 0o100755)'
grep -q 'InvalidParameterValueException.*bootstrap' "$T/err"; ok $? "a custom-runtime package without bootstrap: refused"
nz=$(printf 'PK\003\004 and then not a zip' | base64 -w0)
raw POST /2015-03-31/functions -d "{\"FunctionName\":\"la-nz\",\"Runtime\":\"provided.al2023\",\"Handler\":\"x\",\"Code\":{\"ZipFile\":\"$nz\"}}" >/dev/null
is "$(etype)/$(jq -r .message "$T/body" | cut -d: -f1)" "InvalidParameterValueException/Could not unzip uploaded file" \
        "a file that is not a zip: refused"
lam list-functions --page-size 50
is "$(out '[.Functions[].FunctionName | select(test("la-(big|dots|abs|link|dev|noboot|nz)"))] | length')" 0 \
        "no refused package left a function"
is "$(ls "$S/fn/code" | wc -l)" 2 "nor a task root (only la-zip's and la-suid's are there)"

# ---- boto3: the other client
"$PY" - "http://$ADDR" "$ARCHIVE" > "$T/py.out" 2>&1 <<'EOF'
import base64, sys, boto3, botocore
url, archive = sys.argv[1:3]
c = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
r = c.create_function(FunctionName="la-py", PackageType="Image", Code={"ImageUri": archive},
                      Role="arn:aws:iam::000000000000:role/r", ImageConfig={"Command": ["echo"]})
print("create", r["ResponseMetadata"]["HTTPStatusCode"], r["State"])
print("get", c.get_function(FunctionName="la-py")["Configuration"]["State"])
names, marker = [], None
while True:
    kw = {"MaxItems": 1}
    if marker:
        kw["Marker"] = marker
    page = c.list_functions(**kw)
    names += [f["FunctionName"] for f in page["Functions"]]
    marker = page.get("NextMarker")
    if not marker:
        break
print("list", len(names), names == sorted(names))
r = c.invoke(FunctionName="la-py", Payload=b'{"py":1}', LogType="Tail")
print("invoke", r["StatusCode"], r["Payload"].read().decode(),
      "START" in base64.b64decode(r["LogResult"]).decode())
c.put_function_concurrency(FunctionName="la-py", ReservedConcurrentExecutions=0)
try:
    c.invoke(FunctionName="la-py", Payload=b"{}")
    print("throttle none")
except c.exceptions.TooManyRequestsException as e:
    print("throttle", e.response.get("Reason"))
print("delete", c.delete_function(FunctionName="la-py")["ResponseMetadata"]["HTTPStatusCode"])
try:
    c.get_function(FunctionName="la-py")
except c.exceptions.ResourceNotFoundException:
    print("gone")
EOF
py=$(cat "$T/py.out")
like "$py" "create 201 Pending" "boto3 create_function: 201, Pending" || diag "$py"
like "$py" "get Active" "boto3 get_function: Active"
like "$py" "list $(($(fn ls | wc -l) - 1 + 1)) True" "boto3 list_functions pages with MaxItems/NextMarker through every function"
like "$py" 'invoke 200 \{"py":1\} True' "boto3 invoke with LogType Tail"
like "$py" "throttle ReservedFunctionConcurrentInvocationLimitExceeded" "boto3 sees the throttle's Reason"
like "$py" "delete 204" "boto3 delete_function: 204"
like "$py" "gone" "and the function is gone"

# ---- a task root no record names (a server killed while it unpacked) goes at the next start
stop_serve
mkdir -p "$S/fn/code/la-orphan.12345678" && touch "$S/fn/code/la-orphan.12345678/bootstrap"
serve
[ ! -e "$S/fn/code/la-orphan.12345678" ]; ok $? "a restarted server removes an orphaned task root"
is "$(ls "$S/fn/code" | wc -l)" 2 "and keeps those of its functions"
lam get-function-configuration --function-name la-zip
is "$(out .State)" Active "functions survive the restart"

# ---- DeleteFunction; and the command line as the other door
lam delete-function --function-name la-zip
ok $? "delete-function"
lam get-function --function-name la-zip
grep -q ResourceNotFoundException "$T/err"; ok $? "a deleted function is not found"
fn ls | grep -q '^la-zip '; isnt $? 0 "husk fn ls does not show it"
fn rm la-env >/dev/null
lam get-function --function-name la-env
grep -q ResourceNotFoundException "$T/err"; ok $? "husk fn rm removes what the API made"
fn rm la-suid >/dev/null
is "$(ls "$S/fn/code" | wc -l)" 0 "every task root went with its function"
is "$(raw DELETE /2015-03-31/functions/la-zip)/$(etype)" 404/ResourceNotFoundException "delete-function of a missing function: 404"

stop_serve
is "$(ls "$S/fn/run" 2>/dev/null | wc -l)" 0 "no worker state is left"
done_testing 2>/dev/null || true
