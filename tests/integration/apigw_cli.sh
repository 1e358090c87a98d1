#!/bin/sh
# HTTP APIs' control plane (issue 17): `husk serve` driven by Debian's awscli 2.9 (`aws
# apigatewayv2 ...`, signed with the store's keys) through every operation husk serves, its
# errors, bounds and conflicts, what quick create makes (ApiGatewayManaged, AWS's rules for it,
# update-api --target/--route-key, the new route key served by the gateway), persistence across
# a restart of the server; then `husk api ...` over the same API. What the clients print is what
# is checked.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd curl jq
[ -x /usr/bin/aws ] || skip_all "needs Debian's awscli (/usr/bin/aws; apt-get install awscli)"
S="$T/store"
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; _cleanup' EXIT
start_serve() {
        rm -f "$S/fn/serve.addr"
        "$HUSK" serve --store "$S" --listen 127.0.0.1:0 "$@" >> "$T/serve.log" 2>&1 &
        SERVE_PID=$!
        for _i in $(seq 200); do [ -s "$S/fn/serve.addr" ] && break; sleep 0.05; done
        ADDR=$(cat "$S/fn/serve.addr" 2>/dev/null)
        [ -n "$ADDR" ] || { fail "husk serve starts" "$(cat "$T/serve.log")"; done_testing; }
        E="http://$ADDR"
}
start_serve
eval "$("$HUSK" serve credentials --store "$S" --format env)"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= HOME="$T" \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
gw() { /usr/bin/aws --endpoint-url "$E" --output json apigatewayv2 "$@" 2> "$T/err"; }
# err: the error type the CLI printed for the last gw call
err() { sed -n 's/.*An error occurred (\([A-Za-z]*\)).*/\1/p' "$T/err" | head -1; }
errmsg() { sed -n 's/.*operation[^:]*: //p' "$T/err" | head -1; }
ARN="arn:aws:apigateway:us-east-1::/apis"
# cj METHOD PATH [JSON]: a signed request with curl; the status printed, the body in $T/body
cj() {
        curl -s -o "$T/body" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:apigateway" \
                --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'Content-Type: application/json' \
                -X "$1" ${3:+--data-binary "$3"} "$E$2"
}

# ---- APIs ----
out=$(gw create-api --name shop --protocol-type HTTP --description "the shop" --tags team=blue)
A=$(echo "$out" | jq -r .ApiId)
like "$A" '^[a-z0-9]{10}$' "create-api: a 10-character id of a-z 0-9"
is "$(echo "$out" | jq -c '[.Name, .ProtocolType, .RouteSelectionExpression, .Tags.team]')" \
        '["shop","HTTP","$request.method $request.path","blue"]' "create-api answers the API"
is "$(echo "$out" | jq -r '.ApiEndpoint // "none"')" none "no --api-listen: no ApiEndpoint"
is "$(gw get-api --api-id "$A" | jq -r .Description)" "the shop" "get-api"
out=$(gw update-api --api-id "$A" --name shop2 --cors-configuration \
        'AllowOrigins=https://a.example,AllowMethods=GET,POST,AllowHeaders=x-one,MaxAge=300,AllowCredentials=true')
is "$(echo "$out" | jq -c '[.Name, .Description, .CorsConfiguration.AllowOrigins, .CorsConfiguration.MaxAge, .CorsConfiguration.AllowCredentials]')" \
        '["shop2","the shop",["https://a.example"],300,true]' "update-api: the name and CORS change, the rest stays"
gw delete-cors-configuration --api-id "$A"
ok $? "delete-cors-configuration"
is "$(gw get-api --api-id "$A" | jq -r '.CorsConfiguration // "none"')" none "the CORS configuration is gone"
gw update-api --api-id "$A" --cors-configuration 'AllowOrigins=*,AllowCredentials=true' >/dev/null
is "$(err)" BadRequestException "CORS: credentials with origin * is refused"
gw get-api --api-id nosuchapi0 >/dev/null
is "$(err)" NotFoundException "get-api of an unknown id: NotFoundException"
like "$(errmsg)" "nosuchapi0" "the error names the id"
gw create-api --name ws --protocol-type WEBSOCKET --route-selection-expression '$request.body.action' >/dev/null
is "$(err)" BadRequestException "a WEBSOCKET API is refused"
like "$(errmsg)" WEBSOCKET "the refusal names WEBSOCKET"
gw create-api --name "$(printf 'n%.0s' $(seq 129))" --protocol-type HTTP >/dev/null
is "$(err)" BadRequestException "a name of 129 characters is refused"
like "$(errmsg)" "GW_NAME_MAX" "the error names the bound"
gw create-api --protocol-type HTTP --name x --credentials-arn arn:aws:iam::000000000000:role/r >/dev/null
is "$(err)" BadRequestException "credentialsArn (IAM) is refused"

# ---- quick create ----
n0=$(gw get-apis | jq '.Items | length')
out=$(gw create-api --name quick --protocol-type HTTP \
        --target arn:aws:lambda:us-east-1:000000000000:function:hello --route-key 'GET /hi')
Q=$(echo "$out" | jq -r .ApiId)
is "$(gw get-routes --api-id "$Q" | jq -c '[.Items[] | .RouteKey]')" '["GET /hi"]' "quick create: the route"
out=$(gw get-integrations --api-id "$Q")
is "$(echo "$out" | jq -c '[.Items[] | .IntegrationType, .IntegrationUri, .PayloadFormatVersion, .TimeoutInMillis]')" \
        '["AWS_PROXY","arn:aws:lambda:us-east-1:000000000000:function:hello","2.0",29000]' \
        "quick create: an AWS_PROXY integration (payload 2.0, 29 s)"
is "$(gw get-routes --api-id "$Q" | jq -r '.Items[0].Target')" \
        "integrations/$(echo "$out" | jq -r '.Items[0].IntegrationId')" "the route targets it"
out=$(gw get-stages --api-id "$Q")
is "$(echo "$out" | jq -c '[.Items[] | .StageName, .AutoDeploy, (.DeploymentId != null)]')" \
        '["$default",true,true]' "quick create: the \$default stage, deployed, AutoDeploy"
out=$(gw create-api --name quick2 --protocol-type HTTP --target http://web:8080/base)
Q2=$(echo "$out" | jq -r .ApiId)
is "$(gw get-integrations --api-id "$Q2" | jq -c '[.Items[0].IntegrationType, .Items[0].IntegrationMethod]')" \
        '["HTTP_PROXY","ANY"]' "quick create to a URL: HTTP_PROXY, ANY"
is "$(gw get-routes --api-id "$Q2" | jq -r '.Items[0].RouteKey')" '$default' "its route is \$default"
gw create-api --name bad --protocol-type HTTP --target hello --route-key 'GET nope' >/dev/null
is "$(err)" BadRequestException "quick create with a bad route key is refused"
gw create-api --name bad --protocol-type HTTP --target 'no such thing!' >/dev/null
is "$(err)" BadRequestException "quick create with a target that is no function or URL is refused"
is "$(gw get-apis | jq '.Items | length')" "$((n0 + 2))" "refused creates leave no API behind"

# ---- what quick create made is ApiGatewayManaged, with AWS's rules ----
is "$(gw get-routes --api-id "$Q" | jq -c '[.Items[] | .ApiGatewayManaged]')" '[true]' \
        "get-routes: quick create's route is ApiGatewayManaged"
is "$(gw get-integrations --api-id "$Q" | jq -c '[.Items[] | .ApiGatewayManaged]')" '[true]' \
        "get-integrations: its integration is ApiGatewayManaged"
is "$(gw get-stages --api-id "$Q" | jq -c '[.Items[] | .ApiGatewayManaged]')" '[true]' \
        "get-stages: its \$default stage is ApiGatewayManaged"
QR=$(gw get-routes --api-id "$Q" | jq -r '.Items[0].RouteId')
QI=$(gw get-integrations --api-id "$Q" | jq -r '.Items[0].IntegrationId')
is "$(gw get-route --api-id "$Q" --route-id "$QR" | jq -c '[.RouteKey, .ApiGatewayManaged]')" \
        '["GET /hi",true]' "get-route: ApiGatewayManaged"
is "$(gw get-integration --api-id "$Q" --integration-id "$QI" | jq .ApiGatewayManaged)" true \
        "get-integration: ApiGatewayManaged"
is "$(gw get-stage --api-id "$Q" --stage-name '$default' | jq .ApiGatewayManaged)" true \
        "get-stage: ApiGatewayManaged"
out=$(gw create-route --api-id "$Q" --route-key 'GET /mine' --target "integrations/$QI")
is "$(echo "$out" | jq .ApiGatewayManaged)" false "create-route of one's own on that API: not managed"
gw delete-route --api-id "$Q" --route-id "$(echo "$out" | jq -r .RouteId)"
ok $? "and it is deleted as any route"
gw update-route --api-id "$Q" --route-id "$QR" --route-key 'GET /changed' >/dev/null
st=$?
is "$(err)" BadRequestException "update-route --route-key on the managed route: BadRequestException"
isnt "$st" 0 "and the AWS CLI exits non-zero"
like "$(errmsg)" 'GET /hi .*quick create .*ApiGatewayManaged.*route key cannot be changed.*RouteKey' \
        "the message names the route and says why"
is "$(gw get-route --api-id "$Q" --route-id "$QR" | jq -r .RouteKey)" "GET /hi" "its key is unchanged"
is "$(gw update-route --api-id "$Q" --route-id "$QR" --operation-name hi | jq -c '[.OperationName, .RouteKey, .ApiGatewayManaged]')" \
        '["hi","GET /hi",true]' "update-route of its other members works"
gw delete-route --api-id "$Q" --route-id "$QR"
is "$(err)" BadRequestException "delete-route of the managed route: BadRequestException"
like "$(errmsg)" "GET /hi.*ApiGatewayManaged.*cannot be deleted" "the message says why"
gw delete-integration --api-id "$Q" --integration-id "$QI"
is "$(err)" BadRequestException "delete-integration of the managed integration: BadRequestException"
like "$(errmsg)" "$QI .*ApiGatewayManaged.*cannot be deleted" "the message names it and says why"
gw delete-stage --api-id "$Q" --stage-name '$default'
is "$(err)" BadRequestException "delete-stage of the managed \$default stage: BadRequestException"
like "$(errmsg)" '\$default .*ApiGatewayManaged.*cannot be deleted' "the message says why"
is "$(gw get-routes --api-id "$Q" | jq '.Items | length'),$(gw get-integrations --api-id "$Q" | jq '.Items | length'),$(gw get-stages --api-id "$Q" | jq '.Items | length')" \
        "1,1,1" "the refused deletes left all three"
out=$(gw update-integration --api-id "$Q" --integration-id "$QI" --timeout-in-millis 5000 --description tuned)
is "$(echo "$out" | jq -c '[.TimeoutInMillis, .Description, .ApiGatewayManaged]')" '[5000,"tuned",true]' \
        "update-integration of the managed integration works"
out=$(gw update-stage --api-id "$Q" --stage-name '$default' --description tuned \
        --default-route-settings ThrottlingRateLimit=50,ThrottlingBurstLimit=20)
is "$(echo "$out" | jq -c '[.Description, .DefaultRouteSettings.ThrottlingRateLimit, .DefaultRouteSettings.ThrottlingBurstLimit, .AutoDeploy, .ApiGatewayManaged]')" \
        '["tuned",50,20,true,true]' "update-stage of the managed \$default: its settings change"
gw update-stage --api-id "$Q" --stage-name '$default' --no-auto-deploy >/dev/null
is "$(err)" BadRequestException "but it keeps AutoDeploy"
gw update-api --api-id "$A" --target arn:aws:lambda:us-east-1:000000000000:function:hello >/dev/null
st=$?
is "$(err)" BadRequestException "update-api --target on an API not made by quick create: BadRequestException"
isnt "$st" 0 "and the AWS CLI exits non-zero"
like "$(errmsg)" "$A was not made by quick create" "the message says why"
gw update-api --api-id "$A" --route-key 'GET /x' >/dev/null
is "$(err)" BadRequestException "update-api --route-key on it: BadRequestException"
out=$(gw update-api --api-id "$Q" --route-key 'GET /hello')
is "$(echo "$out" | jq -r .Name)" quick "update-api --route-key on the quick-created API"
is "$(gw get-routes --api-id "$Q" | jq -c '[.Items[] | .RouteId, .RouteKey, .ApiGatewayManaged]')" \
        "[\"$QR\",\"GET /hello\",true]" "the managed route has the new key"
gw update-api --api-id "$Q" --route-key 'GET nope' >/dev/null
is "$(err)" BadRequestException "update-api with a bad route key is refused"
gw update-api --api-id "$Q" --target http://web:8080/x >/dev/null
is "$(gw get-integration --api-id "$Q" --integration-id "$QI" | jq -c '[.IntegrationType, .IntegrationUri, .IntegrationMethod, .PayloadFormatVersion, .TimeoutInMillis, .ApiGatewayManaged]')" \
        '["HTTP_PROXY","http://web:8080/x","ANY","1.0",5000,true]' \
        "update-api --target a URL: the managed integration becomes HTTP_PROXY"
gw update-api --api-id "$Q" --target arn:aws:lambda:us-east-1:000000000000:function:hello >/dev/null
is "$(gw get-integration --api-id "$Q" --integration-id "$QI" | jq -c '[.IntegrationType, .IntegrationUri, .PayloadFormatVersion]')" \
        '["AWS_PROXY","arn:aws:lambda:us-east-1:000000000000:function:hello","2.0"]' \
        "update-api --target a function: AWS_PROXY again"

# ---- integrations ----
out=$(gw create-integration --api-id "$A" --integration-type AWS_PROXY --integration-uri hello \
        --payload-format-version 1.0 --timeout-in-millis 5000 --description d)
I1=$(echo "$out" | jq -r .IntegrationId)
like "$I1" '^[a-z0-9]{7}$' "create-integration: a 7-character id"
is "$(echo "$out" | jq -c '[.IntegrationType, .IntegrationUri, .IntegrationMethod, .PayloadFormatVersion, .TimeoutInMillis, .ConnectionType]')" \
        '["AWS_PROXY","hello","POST","1.0",5000,"INTERNET"]' "AWS_PROXY to a function name"
I2=$(gw create-integration --api-id "$A" --integration-type AWS_PROXY --payload-format-version 2.0 \
        --integration-uri "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations" \
        | jq -r .IntegrationId)
like "$I2" '^[a-z0-9]{7}$' "AWS_PROXY to an apigateway lambda path URI"
I3=$(gw create-integration --api-id "$A" --integration-type HTTP_PROXY --integration-method ANY \
        --integration-uri http://web:8080/x | jq -r .IntegrationId)
is "$(gw get-integration --api-id "$A" --integration-id "$I3" | jq -c '[.IntegrationType, .PayloadFormatVersion, .TimeoutInMillis]')" \
        '["HTTP_PROXY","1.0",29000]' "HTTP_PROXY: payload 1.0, the 29 s default timeout"
gw create-integration --api-id "$A" --integration-type AWS_PROXY --integration-uri hello >/dev/null
is "$(err)" BadRequestException "AWS_PROXY without PayloadFormatVersion is refused"
like "$(errmsg)" PayloadFormatVersion "the error names PayloadFormatVersion"
gw create-integration --api-id "$A" --integration-type AWS_PROXY --integration-uri hello \
        --payload-format-version 2.0 --timeout-in-millis 30001 >/dev/null
is "$(err)" BadRequestException "TimeoutInMillis 30001 is refused (50 .. 30000)"
# (the CLI itself refuses 49: the server is asked directly)
code=$(cj POST "/v2/apis/$A/integrations" '{"integrationType":"AWS_PROXY","integrationUri":"hello","payloadFormatVersion":"2.0","timeoutInMillis":49}')
is "$code $(jq -r .message "$T/body")" "400 TimeoutInMillis 49: a whole number from 50 to 30000" \
        "TimeoutInMillis 49 is refused (50 .. 30000)"
gw create-integration --api-id "$A" --integration-type HTTP_PROXY --integration-uri https://web/ \
        --integration-method ANY >/dev/null
is "$(err)" BadRequestException "HTTP_PROXY to https is refused"
gw create-integration --api-id "$A" --integration-type AWS --integration-uri hello >/dev/null
is "$(err)" BadRequestException "IntegrationType AWS is refused"
gw create-integration --api-id "$A" --integration-type HTTP_PROXY --integration-uri http://web/ \
        --integration-method ANY --request-parameters 'append:header.x=y' >/dev/null
is "$(err)" BadRequestException "parameter mapping is refused"
like "$(errmsg)" requestParameters "the refusal names it"
out=$(gw update-integration --api-id "$A" --integration-id "$I1" --timeout-in-millis 50)
is "$(echo "$out" | jq -c '[.TimeoutInMillis, .IntegrationUri, .PayloadFormatVersion]')" '[50,"hello","1.0"]' \
        "update-integration changes the timeout only"
is "$(gw get-integrations --api-id "$A" | jq '.Items | length')" 3 "get-integrations"
gw get-integration --api-id "$A" --integration-id nosuchi >/dev/null
is "$(err)" NotFoundException "get-integration of an unknown id"

# ---- routes ----
out=$(gw create-route --api-id "$A" --route-key 'GET /items/{id}' --target "integrations/$I1")
R1=$(echo "$out" | jq -r .RouteId)
is "$(echo "$out" | jq -c '[.RouteKey, .Target, .AuthorizationType, .ApiGatewayManaged]')" \
        "[\"GET /items/{id}\",\"integrations/$I1\",\"NONE\",false]" "create-route (not ApiGatewayManaged)"
gw create-route --api-id "$A" --route-key 'GET /items/{id}' >/dev/null
is "$(err)" ConflictException "the same route key again: ConflictException"
gw create-route --api-id "$A" --route-key 'GET /items/{other}' >/dev/null
is "$(err)" ConflictException "the same path with another parameter name: ConflictException"
for k in 'BREW /x' 'GET /a//b' 'GET /{p+}/x' 'GET x'; do
        gw create-route --api-id "$A" --route-key "$k" >/dev/null
        is "$(err)" BadRequestException "route key '$k' is refused"
done
gw create-route --api-id "$A" --route-key 'GET /t' --target integrations/nosuchi >/dev/null
is "$(err)" BadRequestException "a target that is no integration of the API is refused"
gw create-route --api-id "$A" --route-key 'GET /auth' --authorization-type JWT >/dev/null
is "$(err)" BadRequestException "an authorizer is refused"
gw create-authorizer --api-id "$A" --authorizer-type JWT --identity-source '$request.header.Authorization' \
        --name au >/dev/null
is "$(err)" BadRequestException "create-authorizer is refused"
like "$(errmsg)" "Authorizers are not supported" "the refusal names authorizers"
R2=$(gw create-route --api-id "$A" --route-key 'ANY /{proxy+}' --target "integrations/$I3" | jq -r .RouteId)
gw create-route --api-id "$A" --route-key '$default' --target "integrations/$I2" >/dev/null
ok $? "a \$default route"
out=$(gw update-route --api-id "$A" --route-id "$R1" --route-key 'GET /things/{id}')
is "$(echo "$out" | jq -c '[.RouteKey, .Target]')" "[\"GET /things/{id}\",\"integrations/$I1\"]" "update-route"
gw update-route --api-id "$A" --route-id "$R1" --route-key 'ANY /{x+}' >/dev/null
is "$(err)" ConflictException "update-route onto a taken key: ConflictException"
is "$(gw get-route --api-id "$A" --route-id "$R2" | jq -r .RouteKey)" 'ANY /{proxy+}' "get-route"
R3=$(gw create-route --api-id "$A" --route-key 'GET /detach' --target "integrations/$I2" | jq -r .RouteId)
is "$(gw update-route --api-id "$A" --route-id "$R3" --target '' | jq -r '.Target // "none"')" none \
        "update-route with an empty target detaches it"
gw delete-route --api-id "$A" --route-id "$R3"
gw delete-integration --api-id "$A" --integration-id "$I3"
is "$(err)" ConflictException "an integration a route uses is not deleted"
gw delete-route --api-id "$A" --route-id "$R2"
ok $? "delete-route"
gw delete-integration --api-id "$A" --integration-id "$I3"
ok $? "delete-integration once no route uses it"
gw get-route --api-id "$A" --route-id "$R2" >/dev/null
is "$(err)" NotFoundException "the deleted route is gone"

# ---- paging ----
for i in 1 2 3 4 5; do gw create-route --api-id "$A" --route-key "GET /p$i" >/dev/null; done
is "$(gw get-routes --api-id "$A" --page-size 2 | jq '.Items | length')" 7 \
        "get-routes in pages of 2 (MaxResults, NextToken) returns all 7"
out=$(gw get-routes --api-id "$A" --max-items 3)
is "$(echo "$out" | jq '.Items | length')" 3 "--max-items 3"
isnt "$(echo "$out" | jq -r '.NextToken // ""')" "" "with a NextToken to go on"
is "$(cj GET "/v2/apis/$A/routes?maxResults=501") $(jq -r .message "$T/body")" "400 MaxResults 501: 1 to 500" "maxResults above 500 is refused"

# ---- stages and deployments ----
out=$(gw create-stage --api-id "$A" --stage-name prod --description p \
        --default-route-settings ThrottlingRateLimit=10,ThrottlingBurstLimit=5 \
        --route-settings '{"GET /things/{id}":{"ThrottlingRateLimit":1.5,"ThrottlingBurstLimit":2}}' \
        --access-log-settings "DestinationArn=$T/access.log,Format=\$context.requestId \$context.status" \
        --stage-variables a=b)
is "$(echo "$out" | jq -c '[.StageName, .AutoDeploy, .DefaultRouteSettings.ThrottlingRateLimit, .DefaultRouteSettings.ThrottlingBurstLimit, .RouteSettings["GET /things/{id}"].ThrottlingRateLimit, .AccessLogSettings.DestinationArn, .StageVariables.a, (.DeploymentId // "none")]')" \
        "[\"prod\",false,10,5,1.5,\"$T/access.log\",\"b\",\"none\"]" "create-stage with throttling, access log, variables"
gw create-stage --api-id "$A" --stage-name prod >/dev/null
is "$(err)" ConflictException "the same stage name again: ConflictException"
gw create-stage --api-id "$A" --stage-name 'bad name' >/dev/null
is "$(err)" BadRequestException "a stage name with a space is refused"
gw create-stage --api-id "$A" --stage-name logs --access-log-settings 'DestinationArn=/var/log/,Format=$context.requestId' >/dev/null
is "$(err)" BadRequestException "an access log destination without a name is refused"
gw create-stage --api-id "$A" --stage-name logs --access-log-settings 'DestinationArn=arn:aws:s3:::bucket,Format=$context.requestId' >/dev/null
is "$(err)" BadRequestException "an ARN that is no log group is refused"
gw create-stage --api-id "$A" --stage-name logs --access-log-settings "DestinationArn=$T/x.log,Format=\$context.status" >/dev/null
is "$(err)" BadRequestException "an access log format without \$context.requestId is refused"
out=$(gw create-deployment --api-id "$A" --stage-name prod --description first)
D1=$(echo "$out" | jq -r .DeploymentId)
is "$(echo "$out" | jq -c '[.DeploymentStatus, .Description, .AutoDeployed]')" '["DEPLOYED","first",false]' \
        "create-deployment for a stage"
is "$(gw get-stage --api-id "$A" --stage-name prod | jq -r .DeploymentId)" "$D1" "the stage serves it"
is "$(gw get-deployment --api-id "$A" --deployment-id "$D1" | jq -r .Description)" first "get-deployment"
out=$(gw update-deployment --api-id "$A" --deployment-id "$D1" --description renamed)
is "$(echo "$out" | jq -c '[.DeploymentId, .Description, .DeploymentStatus]')" "[\"$D1\",\"renamed\",\"DEPLOYED\"]" \
        "update-deployment changes its description"
is "$(gw get-deployment --api-id "$A" --deployment-id "$D1" | jq -r .Description)" renamed "and keeps it"
gw update-deployment --api-id "$A" --deployment-id zzzzzzz --description x >/dev/null
is "$(err)" NotFoundException "update-deployment of one that does not exist: NotFoundException"
gw delete-deployment --api-id "$A" --deployment-id "$D1"
is "$(err)" BadRequestException "a deployment a stage serves is not deleted"
out=$(gw update-stage --api-id "$A" --stage-name prod --default-route-settings ThrottlingRateLimit=20 \
        --route-settings '{"GET /p1":{"ThrottlingBurstLimit":9}}' --stage-variables c=d)
is "$(echo "$out" | jq -c '[.DefaultRouteSettings.ThrottlingRateLimit, (.RouteSettings | keys), .StageVariables, .Description]')" \
        '[20,["GET /p1","GET /things/{id}"],{"a":"b","c":"d"},"p"]' "update-stage merges route settings and variables"
gw delete-route-settings --api-id "$A" --stage-name prod --route-key 'GET /things/{id}'
ok $? "delete-route-settings (a route key in the path)"
gw delete-access-log-settings --api-id "$A" --stage-name prod
ok $? "delete-access-log-settings"
is "$(gw get-stage --api-id "$A" --stage-name prod | jq -c '[(.RouteSettings | keys), (.AccessLogSettings // "none")]')" \
        '[["GET /p1"],"none"]' "both are gone"
out=$(gw create-stage --api-id "$A" --stage-name '$default' --auto-deploy)
D2=$(echo "$out" | jq -r .DeploymentId)
isnt "$D2" null "an AutoDeploy stage is deployed at creation"
gw create-route --api-id "$A" --route-key 'GET /new' >/dev/null
isnt "$(gw get-stage --api-id "$A" --stage-name '$default' | jq -r .DeploymentId)" "$D2" \
        "and again at a change of the API"
is "$(gw get-stage --api-id "$A" --stage-name prod | jq -r .DeploymentId)" "$D1" "a manual stage keeps its deployment"
gw create-deployment --api-id "$A" --stage-name '$default' >/dev/null
is "$(err)" BadRequestException "create-deployment for an AutoDeploy stage is refused"
is "$(gw get-deployments --api-id "$A" | jq '[.Items[] | select(.AutoDeployed)] | length')" 2 \
        "get-deployments lists the automatic ones"
for i in 3 4 5 6 7 8 9 10; do gw create-stage --api-id "$A" --stage-name "s$i" >/dev/null; done
gw create-stage --api-id "$A" --stage-name s11 >/dev/null
is "$(err)" TooManyRequestsException "an 11th stage: TooManyRequestsException"
like "$(errmsg)" "GW_STAGES_MAX" "the error names the bound"
gw delete-stage --api-id "$A" --stage-name s10
ok $? "delete-stage"
gw get-stage --api-id "$A" --stage-name s10 >/dev/null
is "$(err)" NotFoundException "the deleted stage is gone"

# ---- tags ----
gw tag-resource --resource-arn "$ARN/$A" --tags k=v,x=y
ok $? "tag-resource on an API"
gw untag-resource --resource-arn "$ARN/$A" --tag-keys x
is "$(gw get-tags --resource-arn "$ARN/$A" | jq -Sc .Tags)" '{"k":"v","team":"blue"}' "untag-resource, get-tags"
gw tag-resource --resource-arn "$ARN/$A/stages/prod" --tags env=prod
is "$(gw get-tags --resource-arn "$ARN/$A/stages/prod" | jq -c .Tags)" '{"env":"prod"}' "tags on a stage"
gw get-tags --resource-arn "arn:aws:apigateway:us-east-1::/apis/nosuchapi0" >/dev/null
is "$(err)" NotFoundException "get-tags of an unknown API"

# ---- unknown operations ----
is "$(cj POST "/v2/apis/$A") $(jq -r .message "$T/body")" "404 Unknown operation: POST /v2/apis/$A" \
        "POST on an API is an unknown operation (it crashed the server once: fuzz_apigw)"
is "$(cj GET "/v2/apis/$A/models") $(jq -r .message "$T/body")" \
        "400 Models are not supported by husk (WebSocket APIs' feature)" "models are refused by name"

# ---- bounded body ----
head -c 300000 /dev/zero | tr '\0' 'a' | sed 's/^/{"name":"/; s/$/"}/' > "$T/big.json"
code=$(curl -s -o "$T/body" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:apigateway" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'Content-Type: application/json' \
        --data-binary @"$T/big.json" "$E/v2/apis")
is "$code $(jq -r .message "$T/body")" "400 the request body is larger than 262144 bytes" \
        "a body above 256 KiB is refused, naming the bound"

# ---- persistence across a restart ----
before=$(gw get-routes --api-id "$A" | jq -c '[.Items[] | .RouteKey] | sort')
stop_serve
start_serve
is "$(gw get-routes --api-id "$A" | jq -c '[.Items[] | .RouteKey] | sort')" "$before" "routes survive a restart"
is "$(gw get-stage --api-id "$A" --stage-name prod | jq -c '[.DeploymentId, .DefaultRouteSettings.ThrottlingRateLimit]')" \
        "[\"$D1\",20]" "stages survive a restart"
is "$(gw get-tags --resource-arn "$ARN/$A" | jq -Sc .Tags)" '{"k":"v","team":"blue"}' "tags survive a restart"
is "$(gw get-routes --api-id "$Q" | jq -c '[.Items[] | .ApiGatewayManaged]'),$(gw get-stages --api-id "$Q" | jq -c '[.Items[] | .ApiGatewayManaged]')" \
        "[true],[true]" "ApiGatewayManaged survives a restart"
gw delete-route --api-id "$Q" --route-id "$QR"
is "$(err)" BadRequestException "and so does its rule"

# ---- delete-api takes all ----
gw delete-api --api-id "$Q"
ok $? "delete-api (of the quick-created API)"
gw get-routes --api-id "$Q" >/dev/null
is "$(err)" NotFoundException "its routes are gone with it"
gw get-integration --api-id "$Q" --integration-id "$QI" >/dev/null
is "$(err)" NotFoundException "its managed integration too"
gw get-stage --api-id "$Q" --stage-name '$default' >/dev/null
is "$(err)" NotFoundException "and its managed stage"
gw delete-api --api-id "$Q"
is "$(err)" NotFoundException "delete-api of a deleted API"

# ---- ApiEndpoint with --api-listen: a smoke check of the data plane (tests/integration/gateway.sh
# is its test) ----
stop_serve
FN_ARCHIVE=${HUSK_FN_ARCHIVE:-$HUSK_BUILDDIR/images/out/fn/fn-oci.tar}
FN=
[ -f "$FN_ARCHIVE" ] && "$HUSK" fn --store "$S" create qecho --image "$FN_ARCHIVE" --handler echo \
        >/dev/null 2>> "$T/serve.log" && FN=qecho
start_serve --api-listen 127.0.0.1:0
if grep -q "HTTP APIs on http" "$T/serve.log" && [ -n "$FN" ]; then
        # update-api --route-key: the gateway serves the new key at once (the managed $default
        # stage deploys itself), the old one no longer
        L=$(gw create-api --name live --protocol-type HTTP --target "$FN" --route-key 'GET /old' | jq -r .ApiId)
        lep=$(gw get-api --api-id "$L" | jq -r '.ApiEndpoint // ""')
        code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 30 "$lep/old")
        is "$code $(jq -r .routeKey "$T/body" 2>/dev/null)" "200 GET /old" \
                "quick create to a function: GET /old reaches it through the gateway"
        gw update-api --api-id "$L" --route-key 'GET /new' >/dev/null
        ok $? "update-api --route-key 'GET /new'" || diag "$(cat "$T/err")"
        code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 30 "$lep/new")
        is "$code $(jq -r .routeKey "$T/body" 2>/dev/null)" "200 GET /new" "GET /new now reaches the function"
        code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 30 "$lep/old")
        is "$code $(cat "$T/body")" '404 {"message":"Not Found"}' "and GET /old is 404"
        gw delete-api --api-id "$L"
else
        for _i in 1 2 3 4; do skip "no --api-listen listener or no function image ($FN_ARCHIVE: make images/out/fn/.built)"; done
fi
if grep -q "HTTP APIs on http" "$T/serve.log"; then
        SM=$(gw create-api --name smoke --protocol-type HTTP | jq -r .ApiId)
        gw create-stage --api-id "$SM" --stage-name '$default' --auto-deploy >/dev/null
        ep=$(gw get-api --api-id "$SM" | jq -r '.ApiEndpoint // ""')
        like "$ep" "^http://$SM\.localhost:[0-9]+\$" "with --api-listen, ApiEndpoint names the API at the listener"
        code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$ep/no/route")
        is "$code $(cat "$T/body")" '404 {"message":"Not Found"}' \
                "the endpoint reaches the gateway, which selects the API by that name"
        is "$(gw update-api --api-id "$SM" --disable-execute-api-endpoint | jq -r '.ApiEndpoint // "none"')" none \
                "DisableExecuteApiEndpoint: no ApiEndpoint"
else
        skip "the server has no --api-listen listener (the gateway is not built)"
        skip "the server has no --api-listen listener (the gateway is not built)"
        skip "the server has no --api-listen listener (the gateway is not built)"
fi

# ---- husk api ----
h() { "$HUSK" api --store "$S" "$@"; }
id=$(h create web --function hello --route 'GET /hi')
like "$id" '^[a-z0-9]{10}$' "husk api create (quick create) prints the id"
is "$(gw get-routes --api-id "$id" | jq -r '.Items[0].RouteKey')" "GET /hi" "the AWS CLI sees its route"
id2=$(h create web2 --url http://web:8080 --timeout 2s)
is "$(gw get-integrations --api-id "$id2" | jq -c '[.Items[0].IntegrationType, .Items[0].TimeoutInMillis]')" \
        '["HTTP_PROXY",2000]' "husk api create --url --timeout"
like "$(h ls)" "$id +web +1 " "husk api ls"
r=$(h route add "$id" 'ANY /svc/{proxy+}' --url http://web:8080 --timeout 5s)
like "$r" '^[a-z0-9]{7}$' "husk api route add prints the route id"
like "$(h routes "$id")" "ANY /svc/\{proxy\+\} +url http://web:8080 timeout 5000 ms" "husk api routes"
like "$(h routes "$id")" "GET /hi +function hello payload 2.0 timeout 29000 ms  \(managed\)" \
        "husk api routes marks the route quick create made (managed)"
h routes "$id" | grep 'ANY /svc/' | grep -q managed
ok $(( $? == 0 )) "and only that one"
h route rm "$id" 'GET /hi' 2> "$T/herr"
ok $(( $? == 0 )) "husk api route rm of the managed route fails"
like "$(cat "$T/herr")" "ApiGatewayManaged" "and says why"
h route add "$id" 'GET /hi' --function other 2> "$T/herr"
ok $(( $? == 0 )) "husk api route add of a taken key fails"
like "$(cat "$T/herr")" "already has a route" "and says why"
is "$(gw get-integrations --api-id "$id" | jq '.Items | length')" 2 "the refused route leaves no integration"
h route add "$id" 'GET /x' --function f --payload 3.0 2>/dev/null
ok $(( $? == 0 )) "--payload 3.0 is refused"
h stage add "$id" prod --rate 10 --burst 5 --access-log "$T/a.log" 2>/dev/null
ok $(( $? == 0 )) "husk api stage add --access-log takes a name, not a path"
h stage add "$id" prod --rate 10 --burst 5 --access-log shop
ok $? "husk api stage add"
is "$(gw get-stage --api-id "$id" --stage-name prod | jq -c '[.AutoDeploy, .DefaultRouteSettings.ThrottlingRateLimit, .DefaultRouteSettings.ThrottlingBurstLimit, .AccessLogSettings.DestinationArn]')" \
        '[true,10,5,"shop"]' "the stage deploys itself, with its throttle and log"
like "$(h stage ls "$id")" "prod +[a-z0-9]{7} +10" "husk api stage ls"
like "$(h stage ls "$id")" '\$default +[a-z0-9]{7} +- +- +-  \(managed\)' "husk api stage ls marks the managed \$default"
h route rm "$id" 'ANY /svc/{proxy+}'
ok $? "husk api route rm (by key)"
is "$(gw get-integrations --api-id "$id" | jq '.Items | length')" 1 "its integration went with it"
is "$(h inspect "$id" | jq -c '[.name, (.routes | length), (.stages | map(.stageName) | sort)]')" \
        '["web",1,["$default","prod"]]' "husk api inspect"
h stage rm "$id" prod
ok $? "husk api stage rm"
h stage rm "$id" '$default' 2> "$T/herr"
ok $(( $? == 0 )) "husk api stage rm of quick create's \$default fails"
like "$(cat "$T/herr")" "ApiGatewayManaged" "and says why"
h stage rm "$id2" '$default'
ok $? "husk api stage rm \$default of an API made step by step (--timeout: not quick create)"
h rm "$id"
ok $? "husk api rm"
gw get-api --api-id "$id" >/dev/null
is "$(err)" NotFoundException "the API is gone"
h inspect 'bad/id' 2> "$T/herr"
is "$?" 2 "a bad API id is a usage error"
like "$(cat "$T/herr")" "not an API id" "and says so"
h frob 2>/dev/null
is "$?" 2 "an unknown command is a usage error"
for c in create ls inspect rm routes route stage; do
        h "$c" --help > "$T/help" 2>&1
        like "$(head -1 "$T/help")" "^Usage: husk api $c" "husk api $c --help"
done

stop_serve
done_testing
