#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command line itself: help, version, global flags, logs (text and JSON), spec.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# ---- help and version
out=$("$HUSK" --help); ok $? "--help: rc 0"
like "$out" "^Usage: husk" "--help: usage"
"$HUSK" -h >/dev/null; ok $? "-h: rc 0"
for c in create start run state list kill delete spec pause resume update ps; do
        out=$("$HUSK" $c --help 2>&1); rc=$?
        is "$rc" 0 "$c --help: rc 0"
        like "$out" "^Usage: husk .* $c" "$c --help: usage line"
done
out=$("$HUSK" help kill); like "$out" "kill \\[options\\] CONTAINER_ID \\[SIGNAL\\]" "help kill"
out=$("$HUSK" --version); ok $? "--version: rc 0"
like "$(printf '%s\n' "$out" | head -n1)" '^husk version [0-9]+\.[0-9]+\.[0-9]+' "--version: first line"
like "$out" "spec: 1\\.2\\.0" "--version: spec line"
like "$out" "libseccomp: [0-9]" "--version: libseccomp"

# ---- usage errors: rc 1 (runc's for a bad option; 2 for an unknown command), one line "husk: ..."
# on stderr, nothing on stdout
err=$("$HUSK" 2>&1 >/dev/null); is "$?" 1 "no command: rc 1"
out=$("$HUSK" frobnicate 2>"$T/e"); rc=$?
is "$rc" 2 "unknown command: rc 2"; is "$out" "" "unknown command: no stdout"
like "$(cat "$T/e")" "^husk: unknown command 'frobnicate'" "unknown command: message names it"
err=$("$HUSK" --bogus list 2>&1); is "$?" 1 "unknown global option: rc 1"
like "$err" "unknown global option --bogus" "unknown global option: message"
err=$(hk kill 2>&1); is "$?" 1 "kill without id: rc 1"; like "$err" "missing argument" "kill without id: message"
err=$(hk state a b 2>&1); is "$?" 1 "state with 2 ids: rc 1"
err=$(hk list --format yaml 2>&1); is "$?" 1 "list --format yaml: rc 1"
err=$(hk delete --frobnicate x 2>&1); is "$?" 1 "unknown command option: rc 1"
like "$err" "unknown option --frobnicate" "unknown command option: message"
err=$("$HUSK" --log-format xml list 2>&1); is "$?" 1 "--log-format xml: rc 1"

# ---- global flag forms: --root DIR and --root=DIR; state dir is not created by reads
r2="$T/otherroot"
"$HUSK" --root="$r2" list >/dev/null; ok $? "--root=DIR list"
"$HUSK" --root "$r2" list -q >/dev/null; ok $? "--root DIR list -q"
[ ! -e "$r2" ]; ok $? "list does not create the root"
is "$(XDG_RUNTIME_DIR= "$HUSK" --root "$r2" list -q)" "" "empty XDG_RUNTIME_DIR is fine"

# ---- logs
log="$T/log.json"
out=$("$HUSK" --root "$HUSK_TEST_ROOT" --log "$log" --log-format json state nope 2>"$T/e"); rc=$?
is "$rc" 1 "json log: failing call rc 1"
is "$(cat "$T/e")" "husk: container does not exist" "json log: stderr message"
is "$(wc -l <"$log" | tr -d ' ')" 1 "json log: exactly one line per failed call"
jq -e . "$log" >/dev/null; ok $? "json log: the line is valid JSON"
is "$(jq -r .level "$log")" error "json log: level"
is "$(jq -r .msg "$log")" "container does not exist" "json log: msg"
like "$(jq -r .time "$log")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9:]+)$' "json log: RFC 3339 time"
# the shim style (two words) and the podman style (=), appending
"$HUSK" --root "$HUSK_TEST_ROOT" --log="$log" --log-format=json kill nope 9 2>/dev/null
is "$(wc -l <"$log" | tr -d ' ')" 2 "json log: appended, one more line"
jq -se 'length == 2 and all(.[]; .level == "error")' "$log" >/dev/null; ok $? "json log: every line parses"
# messages with quotes, backslashes and control characters stay one valid line
"$HUSK" --root "$HUSK_TEST_ROOT" --log "$log" --log-format json state "$(printf 'a\nb"\\')" 2>/dev/null
is "$(wc -l <"$log" | tr -d ' ')" 3 "json log: escaped message is one line"
jq -se '.[2].msg | test("control characters")' "$log" >/dev/null; ok $? "json log: escaped message parses"
# success writes nothing (no --debug) and prints nothing on stderr
: >"$log"
out=$("$HUSK" --root "$HUSK_TEST_ROOT" --log "$log" --log-format json list -q 2>"$T/e"); ok $? "json log: successful call"
is "$(cat "$T/e")" "" "success: nothing on stderr"
is "$(wc -c <"$log" | tr -d ' ')" 0 "success: nothing in the log"
# --debug adds debug lines, still valid JSON
"$HUSK" --root "$HUSK_TEST_ROOT" --debug --log "$log" --log-format json list -q >/dev/null 2>"$T/e"
is "$(cat "$T/e")" "" "--debug with --log: nothing on stderr"
jq -se 'length >= 1 and all(.[]; .level == "debug")' "$log" >/dev/null; ok $? "--debug: debug lines in the JSON log"
# text format
tlog="$T/log.txt"
"$HUSK" --root "$HUSK_TEST_ROOT" --log "$tlog" state nope 2>/dev/null
like "$(cat "$tlog")" '^time="[^"]+" level=error msg="container does not exist"$' "text log line"

# ---- --systemd-cgroup: a clear error on create
b=$(new_bundle)
err=$(hk --systemd-cgroup create -b "$b" sd1 2>&1 </dev/null); rc=$?
is "$rc" 1 "--systemd-cgroup create: rc 1"
like "$err" "systemd-cgroup is not supported" "--systemd-cgroup: clear message"
is "$(leaked_state)" "" "--systemd-cgroup: nothing created"
hk --systemd-cgroup delete --force sd1; ok $? "--systemd-cgroup delete --force still works"

# ---- spec
sb="$T/specbundle"; mkdir -p "$sb"
hk spec -b "$sb"; ok $? "spec -b DIR"
jq -e '.ociVersion and .process.args and .root.path' "$sb/config.json" >/dev/null; ok $? "spec: valid config.json"
err=$(hk spec --bundle "$sb" 2>&1); rc=$?
is "$rc" 1 "spec refuses to overwrite: rc 1"
is "$err" "husk: File config.json exists. Remove it first" "spec refuses to overwrite: message"
sb2="$T/specbundle2"; mkdir -p "$sb2"
(cd "$sb2" && "$HUSK" spec); ok $? "spec in the current directory"
[ -f "$sb2/config.json" ]; ok $? "spec: config.json in cwd"
hk spec --rootless -b "$T/nonexistent" 2>/dev/null; is "$?" 1 "spec into a missing dir: rc 1"
# the quickstart path: spec + busybox rootfs + run
cp -a "$HUSK_IMAGE" "$sb/rootfs"
jq '.process.args = ["echo","hello from husk"] | .process.terminal = false' "$sb/config.json" >"$sb/c.new" && mv "$sb/c.new" "$sb/config.json"
out=$(cd "$sb" && "$HUSK" --root "$HUSK_TEST_ROOT" run q1 2>"$T/e" </dev/null); rc=$?
is "$rc" 0 "spec + run in the bundle: rc 0"
is "$out" "hello from husk" "spec + run: output"
is "$(cat "$T/e")" "" "spec + run: nothing on stderr"

done_testing
