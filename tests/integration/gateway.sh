#!/bin/sh
# The gateway's data plane (issue 17): `husk serve --api-listen`, with HTTP APIs made by Debian's
# AWS CLI (aws apigatewayv2). A function route with payload 2.0 and 1.0 (the echo handler
# answers, and logs, the event it got: its fields are checked), a path parameter, a greedy
# proxy route to a busybox httpd service on a husk network without -p, throttling (429 past the
# burst), a slow integration (504 after TimeoutInMillis), CORS, an access log line, and hostile
# requests (path traversal, oversized headers and body, a slow client) answered without reaching
# the integration: the echo function's invocations are counted in its log, the service's
# requests in httpd's (-v: a response: line each).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip_all "needs Debian's AWS CLI at $AWS (apt-get install awscli)"
ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/fn/.built)"
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -f "$A/busybox-oci.tar" ] || skip_all "missing $A (images/oci.sh)"
[ -x /usr/lib/cni/bridge ] || [ -n "${HUSK_CNI_PATH:-}" ] || skip_all "needs the CNI plugins (containernetworking-plugins)"
LORIS=$HUSK_HELPERS/slowloris
[ -x "$LORIS" ] || skip_all "missing $LORIS"
S="$T/store"
HUSK_STORE=$S
export HUSK_STORE
NET=gw-test BR=huskgw0 SUB=10.99.117.0/24
fn() { "$HUSK" fn --store "$S" "$@"; }
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
_gw_cleanup() {
        stop_serve
        hk rm -f gw-web >/dev/null 2>&1
        hk network rm -f "$NET" >/dev/null 2>&1
        _cleanup
}
trap _gw_cleanup EXIT

fn create gw-echo --image "$ARCHIVE" --handler echo --concurrency 4 >/dev/null || skip_all "fn create failed"
fn create gw-slow --image "$ARCHIVE" --handler sleep --timeout 20s >/dev/null
"$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 > "$T/serve.log" 2>&1 &
SERVE_PID=$!
for _i in $(seq 100); do [ -s "$S/fn/serve.addr" ] && grep -q "HTTP APIs on" "$T/serve.log" && break; sleep 0.05; done
ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
GW=$(sed -n 's|.*HTTP APIs on http://\([0-9.:]*\).*|\1|p' "$T/serve.log")
if [ -z "$ADDR" ] || [ -z "$GW" ]; then
        fail "husk serve --api-listen 127.0.0.1:0 listens" "$(cat "$T/serve.log")"
        done_testing
fi
pass "husk serve --api-listen 127.0.0.1:0 listens ($GW)"
eval "$(fn serve credentials --format env 2>/dev/null)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
# api ARGS...: aws apigatewayv2, output in $T/out; out JQ
api() { "$AWS" --endpoint-url "http://$ADDR" --output json apigatewayv2 "$@" > "$T/out" 2> "$T/err"; }
out() { jq -r "$1" "$T/out"; }
FARN=arn:aws:lambda:us-east-1:000000000000:function
# req [curl args...] URL-PATH: a request to the gateway; prints the status; body $T/body,
# headers $T/hdr
req() { curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' --max-time 30 "$@"; }
hdr() { sed -n "s/^$1: *\([^\r]*\).*/\1/ip" "$T/hdr" | head -1; }
calls() { grep -c '^START' "$S/fn/logs/gw-echo.log" 2>/dev/null || echo 0; }
# the last event the echo function logged
last_event() { grep '^echo: ' "$S/fn/logs/gw-echo.log" | tail -1 | sed 's/^echo: //'; }

# ---- the API, its integrations, routes and stage (all with the AWS CLI) ----
api create-api --name gwtest --protocol-type HTTP \
        --cors-configuration 'AllowOrigins=https://a.example,AllowMethods=GET,POST,AllowHeaders=x-token,MaxAge=300,ExposeHeaders=x-id'
ok $? "create-api (with a CORS configuration)" || diag "$(cat "$T/err")"
ID=$(out .ApiId)
api create-integration --api-id "$ID" --integration-type AWS_PROXY --integration-uri "$FARN:gw-echo" \
        --payload-format-version 2.0
I2=$(out .IntegrationId)
api create-integration --api-id "$ID" --integration-type AWS_PROXY \
        --integration-uri "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/$FARN:gw-echo/invocations" \
        --payload-format-version 1.0
I1=$(out .IntegrationId)
api create-integration --api-id "$ID" --integration-type AWS_PROXY --integration-uri gw-slow \
        --payload-format-version 2.0 --timeout-in-millis 1000
IS=$(out .IntegrationId)
api create-integration --api-id "$ID" --integration-type HTTP_PROXY --integration-method ANY \
        --integration-uri 'http://gw-web:80/site/{proxy}' --payload-format-version 1.0
IW=$(out .IntegrationId)
[ -n "$I2" ] && [ -n "$I1" ] && [ -n "$IS" ] && [ -n "$IW" ]; ok $? "create-integration: AWS_PROXY 2.0, 1.0 (API Gateway's URI form), a slow one, HTTP_PROXY" || diag "$(cat "$T/err")"
for rk in "POST /items/{id}:$I2" "GET /items/{id}:$I2" "ANY /v1/{proxy+}:$I1" "GET /slow:$IS" \
        "ANY /web/{proxy+}:$IW" "GET /limited:$I2"; do
        api create-route --api-id "$ID" --route-key "${rk%:*}" --target "integrations/${rk##*:}" ||
                diag "create-route ${rk%:*}: $(cat "$T/err")"
done
api get-routes --api-id "$ID"
is "$(out '.Items | length')" 6 "create-route: six routes"
FMT='{"requestId":"$context.requestId","status":"$context.status","routeKey":"$context.routeKey","method":"$context.httpMethod","path":"$context.path","ip":"$context.identity.sourceIp","latency":"$context.responseLatency","ilatency":"$context.integrationLatency","time":"$context.requestTime"}'
api create-stage --api-id "$ID" --stage-name '$default' --auto-deploy --stage-variables env=test \
        --route-settings '{"GET /limited":{"ThrottlingBurstLimit":2,"ThrottlingRateLimit":0.2}}' \
        --access-log-settings "$(jq -cn --arg f "$FMT" '{DestinationArn: "arn:aws:logs:us-east-1:000000000000:log-group:gw-access", Format: $f}')"
ok $? "create-stage \$default with AutoDeploy, StageVariables, RouteSettings throttling and AccessLogSettings"
[ -s "$T/err" ] && diag "$(cat "$T/err")"
H="Host: $ID.execute-api.localhost"

# ---- a function route, payload 2.0, with a path parameter ----
n0=$(calls)
st=$(req -X POST -H "$H" -H 'X-Multi: one' -H 'X-Multi: two' -H 'Cookie: a=1; b=2' \
        -H 'Content-Type: application/json' --data '{"k":1}' "http://$GW/items/42?q=x&q=y")
is "$st" 200 "POST /items/42 through the gateway: 200 (a bare JSON answer of payload 2.0)"
is "$(hdr content-type)" "application/json" "with Content-Type application/json"
rid=$(hdr apigw-requestid)
isnt "$rid" "" "and an apigw-requestid header"
B="$T/body"
is "$(jq -r '[.version, .routeKey, .rawPath, .rawQueryString] | join(" ")' "$B")" \
        "2.0 POST /items/{id} /items/42 q=x&q=y" "event 2.0: version, routeKey, rawPath, rawQueryString"
is "$(jq -r '[.pathParameters.id, .queryStringParameters.q, .headers["x-multi"], (.cookies | join(";")), (.headers.cookie // "none")] | join(" ")' "$B")" \
        "42 x,y one,two a=1;b=2 none" "event 2.0: pathParameters, comma-joined query and headers, cookies apart"
is "$(jq -r '[.body, .isBase64Encoded, .stageVariables.env] | join(" ")' "$B")" '{"k":1} false test' "event 2.0: body, isBase64Encoded, stageVariables"
is "$(jq -r '.requestContext | [.accountId, .apiId, .domainPrefix, .http.method, .http.path, .http.protocol, .http.sourceIp, .requestId, .routeKey, .stage] | join(" ")' "$B")" \
        "000000000000 $ID $ID POST /items/42 HTTP/1.1 127.0.0.1 $rid POST /items/{id} \$default" \
        "event 2.0: requestContext (account, api, domain prefix, http, requestId, routeKey, stage)"
like "$(jq -r '.requestContext | "\(.time) \(.timeEpoch)"' "$B")" \
        '^[0-9]{2}/[A-Z][a-z]{2}/20[0-9]{2}:[0-9:]{8} \+0000 1[0-9]{12}$' "event 2.0: requestContext time and timeEpoch"
is "$(( $(calls) - n0 ))" 1 "the function ran once"
st=$(req -H "$H" --data-binary @"$HUSK_HELPERS/slowloris" -H 'Content-Type: application/octet-stream' \
        -X POST "http://$GW/items/bin")
is "$st:$(jq -r .isBase64Encoded "$T/body")" "200:true" "a binary body reaches the function base64-encoded"
jq -r .body "$T/body" | base64 -d | cmp -s - "$HUSK_HELPERS/slowloris"; ok $? "and decodes to the bytes sent"

# ---- payload 1.0: the echo answer has no statusCode: 500, as API Gateway; the event is logged ----
n0=$(calls)
st=$(req -H "$H" -H 'X-Multi: one' -H 'X-Multi: two' "http://$GW/v1/a/b?m=1&m=2")
is "$st:$(cat "$T/body")" '500:{"message":"Internal Server Error"}' "payload 1.0 requires statusCode: 500 Internal Server Error"
is "$(( $(calls) - n0 ))" 1 "the function ran once"
last_event > "$T/ev1"
is "$(jq -r '[.version, .resource, .path, .httpMethod, .pathParameters.proxy] | join(" ")' "$T/ev1")" \
        "1.0 /v1/{proxy+} /v1/a/b GET a/b" "event 1.0: version, resource, path, httpMethod, greedy pathParameters"
is "$(jq -r '[.headers["x-multi"], (.multiValueHeaders["x-multi"] | join(",")), .queryStringParameters.m, (.multiValueQueryStringParameters.m | join(","))] | join(" ")' "$T/ev1")" \
        "two one,two 2 1,2" "event 1.0: headers (last) and multiValueHeaders, query and multiValue query"
is "$(jq -r '.requestContext | [.httpMethod, .identity.sourceIp, .resourcePath, .stage] | join(" ")' "$T/ev1")" \
        "GET 127.0.0.1 /v1/{proxy+} \$default" "event 1.0: requestContext"
is "$(jq -r '[.body, .isBase64Encoded, .stageVariables.env] | map(tostring) | join(" ")' "$T/ev1")" \
        "null false test" "event 1.0: no body: null; stageVariables"

# ---- routes that do not exist ----
st=$(req -H "$H" "http://$GW/nothing/here")
is "$st:$(cat "$T/body")" '404:{"message":"Not Found"}' "no route: 404 Not Found"
st=$(req -H "Host: zzzzzzzzzz.execute-api.localhost" "http://$GW/items/1")
is "$st" 404 "an API id that does not exist: 404"

# ---- DisableExecuteApiEndpoint: the default endpoint answers 403 ----
api update-api --api-id "$ID" --disable-execute-api-endpoint
ok $? "update-api --disable-execute-api-endpoint" || diag "$(cat "$T/err")"
n0=$(calls)
st=$(req -H "$H" "http://$GW/items/7")
is "$st:$(cat "$T/body")" '403:{"message":"Forbidden"}' "a disabled default endpoint: 403 Forbidden"
is "$(calls)" "$n0" "and the function is not invoked"
api update-api --api-id "$ID" --no-disable-execute-api-endpoint
is "$(req -H "$H" "http://$GW/items/7")" 200 "enabled again: 200"

# ---- CORS ----
st=$(req -X OPTIONS -H "$H" -H 'Origin: https://a.example' -H 'Access-Control-Request-Method: POST' \
        -H 'Access-Control-Request-Headers: x-token' "http://$GW/items/1")
is "$st" 204 "a CORS preflight is answered by the gateway (204)"
is "$(hdr access-control-allow-origin) $(hdr access-control-allow-methods) $(hdr access-control-allow-headers) $(hdr access-control-max-age)" \
        "https://a.example GET,POST x-token 300" "with the API's CORS configuration"
st=$(req -H "$H" -H 'Origin: https://a.example' "http://$GW/items/7")
is "$st $(hdr access-control-allow-origin) $(hdr access-control-expose-headers)" "200 https://a.example x-id" \
        "an answer to an allowed origin carries Access-Control-Allow-Origin and Expose-Headers"
req -X OPTIONS -H "$H" -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' "http://$GW/items/1" >/dev/null
is "$(hdr access-control-allow-origin)" "" "another origin gets no CORS headers"

# ---- throttling: burst 2, 0.2/s ----
n0=$(calls)
codes=""
for _i in 1 2 3 4 5; do codes="$codes $(req -H "$H" "http://$GW/limited")"; done
is "$codes" " 200 200 429 429 429" "GET /limited with burst 2: 429 past the burst"
is "$(cat "$T/body")" '{"message":"Too Many Requests"}' "429 {\"message\":\"Too Many Requests\"}"
is "$(( $(calls) - n0 ))" 2 "throttled requests never reach the function"
is "$(req -H "$H" "http://$GW/items/3")" 200 "other routes are not throttled by it"

# ---- a slow integration: TimeoutInMillis 1000, the function sleeps 10 s ----
t0=$(date +%s%N)
st=$(req -H "$H" "http://$GW/slow")
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$st:$(cat "$T/body")" '504:{"message":"Service Unavailable"}' "a slow integration: 504 after TimeoutInMillis"
[ "$dt" -ge 900 ] && [ "$dt" -lt 5000 ]; ok $? "after about 1 s (took $dt ms)"

# ---- hostile requests: answered before any integration ----
n0=$(calls)
st=$(req --path-as-is -H "$H" "http://$GW/v1/../items/1")
is "$st:$(cat "$T/body")" '400:{"message":"Bad Request"}' "a /../ segment: 400 Bad Request"
is "$(req --path-as-is -H "$H" "http://$GW/v1/%2e%2e/items/1")" 400 "an encoded %2e%2e segment: 400"
is "$(req --path-as-is -H "$H" "http://$GW/v1/a/%2E./b")" 400 "a mixed %2E. segment: 400"
big=$(head -c 11000 /dev/zero | tr '\0' a)
st=$(req -H "$H" -H "X-Big: $big" "http://$GW/items/1")
is "$st:$(cat "$T/body")" '431:{"message":"Request Header Fields Too Large"}' "11,000 bytes of headers: 431 (API Gateway's 10,240)"
head -c 10485761 /dev/zero > "$T/big"
st=$(req -X POST -H "$H" --data-binary @"$T/big" "http://$GW/items/1")
is "$st" 413 "a body of 10 MB + 1: 413"
"$LORIS" "$GW" 20 200 25 > "$T/loris" 2>&1
read -r _ opened _ closed _ open _ maxms < "$T/loris"
is "$opened/$closed" "20/20" "slow clients trickling their headers are cut off"
[ "${maxms:-99999}" -lt 14000 ]; ok $? "within the 10 s bound of a request's arrival (the longest lived $maxms ms)"
is "$(( $(calls) - n0 ))" 0 "none of them reached the function"
is "$(req -H "$H" "http://$GW/items/9")" 200 "the gateway still answers afterwards"

# ---- a greedy proxy route to a busybox httpd service on a husk network, without -p ----
if hk network create --subnet "$SUB" --bridge "$BR" "$NET" >/dev/null 2>&1; then
        mkdir -p "$T/www/site/sub"
        echo hello-gateway > "$T/www/site/sub/page.html"
        echo top-secret > "$T/www/secret.html"
        hk run -d --name gw-web --network "$NET" -v "$T/www:/www:ro" "$A/busybox-oci.tar" \
                httpd -f -v -p 80 -h /www > "$T/run" 2>&1
        ok $? "a busybox httpd service on network $NET without -p" || diag "$(cat "$T/run")"
        ip=$(jq -r '.ips[0]' "$S/containers/gw-web/network.json" 2>/dev/null)
        for _i in $(seq 50); do nc -z "${ip%/*}" 80 2>/dev/null && break; sleep 0.1; done
        st=$(req -H "$H" -H 'X-Forwarded-For: 10.1.1.1' "http://$GW/web/sub/page.html")
        is "$st:$(cat "$T/body")" "200:hello-gateway" "GET /web/sub/page.html: proxied to http://gw-web:80/site/sub/page.html"
        is "$(req -H "$H" "http://$GW/web/sub/nope.html")" 404 "the service's own 404 passes through"
        # traversal out of /site must not reach the service at all
        before=$(hk logs gw-web 2>&1 | grep -c 'response:')
        is "$(req --path-as-is -H "$H" "http://$GW/web/../secret.html")" 400 "proxy path /web/../secret.html: 400"
        is "$(req --path-as-is -H "$H" "http://$GW/web/%2e%2e/secret.html")" 400 "proxy path /web/%2e%2e/secret.html: 400"
        is "$(req --path-as-is -H "$H" "http://$GW/web/sub%2f..%2f..%2fsecret.html")" 400 \
                "encoded slashes around '..' (sub%2f..%2f..%2fsecret.html): 400"
        unlike "$(cat "$T/body")" "top-secret" "and the file outside the prefix is never served"
        after=$(hk logs gw-web 2>&1 | grep -c 'response:')
        is "$(( after - before ))" 0 "none of them reached the service"
        is "$(req -H "$H" "http://$GW/web/sub/page.html?x=1")" 200 "a request inside the prefix does"
        for _i in $(seq 20); do [ "$(hk logs gw-web 2>&1 | grep -c 'response:')" -gt "$after" ] && break; sleep 0.1; done
        is "$(hk logs gw-web 2>&1 | grep -c 'response:')" "$((after + 1))" "(httpd's log counts it)"
        hk rm -f gw-web >/dev/null 2>&1
        st=$(req -H "$H" "http://$GW/web/sub/page.html")
        is "$st:$(cat "$T/body")" '503:{"message":"Service Unavailable"}' "a service that is gone: 503"
else
        skip "cannot create network $NET"
fi

# ---- HTTP_PROXY to a local upstream (python3): forwarded headers, kept-alive connections,
# timeouts and refused connections ----
if [ -x /usr/bin/python3 ]; then
        cat > "$T/up.py" <<'PYEOF'
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
log = open(sys.argv[2], "a", buffering=1)
def serve(c, n):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        log.write("conn %d %s\n" % (n, head.decode().replace("\r\n", " | ")))
        if b"/hang" in head.split(b"\r\n")[0]:
            time.sleep(5)
            return
        body = b"upstream-ok"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nKeep-Alive: timeout=5\r\nX-Up: 1\r\n\r\n" % len(body) + body)
n = 0
while True:
    c, _ = srv.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
PYEOF
        /usr/bin/python3 "$T/up.py" "$T/up.port" "$T/up.log" & UP_PID=$!
        for _i in $(seq 50); do [ -s "$T/up.port" ] && break; sleep 0.1; done
        UP=$(cat "$T/up.port")
        api create-integration --api-id "$ID" --integration-type HTTP_PROXY --integration-method ANY \
                --integration-uri "http://127.0.0.1:$UP/base/{proxy}" --payload-format-version 1.0 \
                --timeout-in-millis 800
        IU=$(out .IntegrationId)
        api create-route --api-id "$ID" --route-key 'ANY /up/{proxy+}' --target "integrations/$IU"
        api create-integration --api-id "$ID" --integration-type HTTP_PROXY --integration-method ANY \
                --integration-uri "http://127.0.0.1:1/" --payload-format-version 1.0
        api create-route --api-id "$ID" --route-key 'GET /closed' --target "integrations/$(out .IntegrationId)"
        st=$(req -H "$H" -H 'X-Forwarded-For: 10.1.1.1' -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' \
                -H 'Proxy-Authorization: x' -H 'X-Kept: 1' \
                "http://$GW/up/a/b?k=v")
        is "$st:$(cat "$T/body"):$(hdr x-up)" "200:upstream-ok:1" "HTTP_PROXY to 127.0.0.1: the upstream's answer and headers"
        l1=$(tail -1 "$T/up.log")
        like "$l1" "GET /base/a/b\?k=v HTTP/1.1" "the upstream gets /base/a/b?k=v"
        like "$l1" "Host: 127.0.0.1:$UP \|.*X-Forwarded-For: 10.1.1.1, 127.0.0.1 \|.*X-Forwarded-Proto: http \|.*X-Forwarded-Port: ${GW##*:}" \
                "with Host, X-Forwarded-For (appended), -Proto and -Port"
        unlike "$l1" "Proxy-Authorization|Connection:|X-Hop" "without hop-by-hop headers (those Connection names too)"
        like "$l1" "X-Kept: 1" "and with the others"
        req -H "$H" "http://$GW/up/again" >/dev/null
        is "$(tail -1 "$T/up.log" | cut -d' ' -f2)" "$(echo "$l1" | cut -d' ' -f2)" "the next request reuses the kept-alive upstream connection"
        t0=$(date +%s%N)
        st=$(req -H "$H" "http://$GW/up/hang")
        dt=$(( ($(date +%s%N) - t0) / 1000000 ))
        is "$st:$(cat "$T/body")" '504:{"message":"Service Unavailable"}' "an upstream that does not answer: 504"
        [ "$dt" -ge 700 ] && [ "$dt" -lt 4000 ]; ok $? "after its TimeoutInMillis of 800 ms (took $dt ms)"
        is "$(req -H "$H" "http://$GW/closed")" 503 "a refused connection: 503"
        kill "$UP_PID" 2>/dev/null; wait "$UP_PID" 2>/dev/null
else
        skip "no /usr/bin/python3 for a local upstream"
fi

# ---- the access log ----
LOG="$S/gw/logs/gw-access.log"
[ -f "$LOG" ]; ok $? "the stage's access log is written to STORE/gw/logs/gw-access.log"
line=$(grep "\"requestId\":\"$rid\"" "$LOG")
is "$(printf '%s' "$line" | jq -r '[.status, .routeKey, .method, .path, .ip] | join(" ")')" \
        "200 POST /items/{id} POST /items/42 127.0.0.1" "a line with the request's id, status, route key, method, path, source IP"
like "$(printf '%s' "$line" | jq -r '"\(.latency) \(.ilatency) \(.time)"')" \
        '^[0-9]+ [0-9]+ [0-9]{2}/[A-Z][a-z]{2}/20[0-9]{2}:' "with the response and integration latencies and the request time"
like "$(grep -c '"status":"429"' "$LOG")" '^3$' "the throttled requests are logged as 429"

# A destination that names a path of the host: the access log stays under STORE/gw/logs (the
# stage's keys are in every function's environment; the server writes as root).
mkdir -p "$T/outside"
api update-stage --api-id "$ID" --stage-name '$default' \
        --access-log-settings "$(jq -cn --arg d "$T/outside/evil.log" '{DestinationArn: $d, Format: "$context.requestId x"}')"
ok $? "update-stage: AccessLogSettings with a file path" || diag "$(cat "$T/err")"
is "$(req -H "$H" "http://$GW/items/5")" 200 "a request after it"
rid=$(hdr apigw-requestid)
[ ! -e "$T/outside/evil.log" ]; ok $? "nothing is written at the path given"
is "$(cat "$S/gw/logs/evil.log" 2>/dev/null)" "$rid x" "the line goes to STORE/gw/logs/evil.log"

stop_serve
pass "the server stops"

# ---- the bounds of the pool: one worker, one waiting request; a third gets 503 at once ----
out=$("$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --api-workers 0 2>&1)
like "$?:$out" "^1:.*--api-workers 0: 1 \.\. 1024" "--api-workers 0 is refused, naming the option"
"$HUSK" fn --store "$S" serve --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --api-workers 1 \
        --api-backlog 1 --api-connections 20 > "$T/serve2.log" 2>&1 &
SERVE_PID=$!
GW=
for _i in $(seq 100); do grep -q "HTTP APIs on" "$T/serve2.log" && break; sleep 0.05; done
GW=$(sed -n 's|.*HTTP APIs on http://\([0-9.:]*\).*|\1|p' "$T/serve2.log")
for k in 1 2; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "$H" "http://$GW/slow" > "$T/pool$k" &
        sleep 0.2
done
is "$(req -H "$H" "http://$GW/slow")" 503 "past --api-backlog: 503 at once"
wait_n=0
while [ "$(cat "$T/pool1" "$T/pool2" 2>/dev/null | wc -l)" -lt 2 ] && [ $wait_n -lt 100 ]; do sleep 0.1; wait_n=$((wait_n + 1)); done
is "$(cat "$T/pool1" "$T/pool2" | tr '\n' ' ')" "504 504 " "the running and the waiting one end at their timeout (504)"
like "$(cat "$T/serve2.log")" "wait for a worker.*--api-backlog 1, --api-workers 1" "the log names the bound"
LOAD=$HUSK_BUILDDIR/tools/gw-load
if [ -x "$LOAD" ]; then
        out=$("$LOAD" idle "$GW" 30 0 /nothing "$ID.execute-api.localhost" 3)
        like "$out" "^opened 30 answered_first 20 " "--api-connections 20: 20 of 30 connections are served"
        like "$(cat "$T/serve2.log")" "20 connections open: new ones wait or are refused \(--api-connections 20" \
                "the log names the bound"
else
        skip "missing $LOAD"
fi
stop_serve
done_testing
