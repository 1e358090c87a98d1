#!/bin/sh
# A new user's first hour (issue 19): how `husk run WORD` picks bundle or image mode and what it
# says when neither fits; every name `image ls` prints runs; `image rm` of an image in use; the
# order of `husk logs`; husk as non-root; image inspect, ps -a and inspect after a restart.
# Containers use --network none.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -d "$A/busybox-oci" ] || skip_all "missing $A (images/oci.sh)"
HUSK_STORE="$T/store"
export HUSK_STORE
S=$HUSK_STORE
r() { hk run --network none "$@"; }
wait_for() {
        _n=$(($1 * 10)); shift
        while [ "$_n" -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
        return 1
}
hk image load "$A/busybox-oci.tar" >/dev/null || bail "load busybox"

# ---- bundle mode or image mode, and what a typo says ----
mkdir "$T/empty" "$T/bundle"
out=$(cd "$T/empty" && hk run busybx 2>&1)
is "$?:$out" "125:husk: no image 'busybx' in the store and no config.json in $T/empty (bundle mode): did you mean 'busybox'?" \
        "a typo without config.json: both modes tried, nearest name suggested"
out=$(cd "$T/empty" && hk run busybx true 2>&1)
is "$?:$out" "125:husk: no image 'busybx' in the store: did you mean 'busybox'?" \
        "a typo with a command: image mode only, nearest name suggested"
out=$(cd "$T/empty" && hk run nothinglikeit 2>&1)
like "$?:$out" "^125:husk: no image 'nothinglikeit' in the store \(husk image ls lists them\) and no config.json in $T/empty \(bundle mode\)$" \
        "an unknown word: no suggestion, both modes named"
out=$(cd "$T/empty" && r busybox echo image-mode 2>&1)
is "$?:$out" "0:image-mode" "a stored name without config.json: image mode"
b=$(new_bundle); cfg "$b" '.process.args = ["/bin/echo", "bundle-mode"]'
out=$(cd "$b" && hk run busybox 2>&1)
is "$?:$out" "0:bundle-mode" "with ./config.json one word is the container id (runc's bundle mode)"
out=$(hk run --help 2>&1)
like "$out" "Bundle mode or image mode" "run --help states the rule"

# ---- every name and id image ls shows runs ----
cp -r "$A/busybox-oci" "$T/ns-oci"
jq '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "localhost/ocitest/busybox:latest"' \
        "$A/busybox-oci/index.json" > "$T/ns-oci/index.json"
hk image load "$T/ns-oci" >/dev/null; ok $? "load an image named localhost/ocitest/busybox:latest"
bad=""
for n in $(hk image ls | awk 'NR > 1 { print $1; print $2 }'); do
        out=$(cd "$T/empty" && r --rm "$n" echo ran 2>&1) || bad="$bad $n($out)"
        [ "$out" = ran ] || bad="$bad $n($out)"
done
is "$bad" "" "every NAME and ID of image ls runs (names with '/' are names)"
out=$(cd "$T/empty" && r ocitest/busybox echo short 2>&1)
is "$?:$out" "0:short" "a name with '/' without its domain runs"
out=$(cd "$T/empty" && r ./nosuch.tar echo x 2>&1)
like "$?:$out" "^125:.*nosuch.tar" "./NAME is a path even when it does not exist"
mkdir -p "$T/empty/localhost/ocitest"
out=$(cd "$T/empty" && r localhost/ocitest echo x 2>&1)
like "$?:$out" "^125:" "a name with '/' that exists here is taken as a path"

# ---- not root without XDG_RUNTIME_DIR: say what is missing, not a raw path error ----
if command -v setpriv >/dev/null 2>&1; then
        nb() { setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR "$HUSK" "$@"; }
        for cmd in "list" "run busybox true" "image ls" "ps" "logs web"; do
                # shellcheck disable=SC2086
                out=$(cd / && nb $cmd 2>&1)
                like "$?:$out" "^1:husk: XDG_RUNTIME_DIR is not set: husk run by a user \(uid 65534\) keeps its state in \\\$XDG_RUNTIME_DIR/husk" \
                        "as a user without XDG_RUNTIME_DIR, husk $cmd says what is missing"
        done
        out=$(cd / && nb run --help 2>&1); like "$?:$out" "^0:Usage: husk" "run --help works without root"
        mkdir "$T/nb" && chmod 0777 "$T/nb"
        out=$(nb spec -b "$T/nb" 2>&1); is "$?:$out" "0:" "spec works without root"
else
        skip "needs setpriv"
fi

# ---- image inspect: one indented JSON document ----
j=$(hk image inspect busybox)
is "$(printf '%s\n' "$j" | head -n 2 | tr -d ' ')" '{
"id":"sha256:'"$(hk image inspect busybox | jq -r .id | cut -c8-)"'",' "image inspect: one document, indented from its first line"
is "$(printf '%s' "$j" | jq -r '.config.config.Cmd[0]')" "/bin/sh" "image inspect: the config is part of it"
is "$(printf '%s\n' "$j" | awk 'length > 160' | wc -l)" 0 "image inspect: no long line"

# ---- ps -a of an exited service shows no ports; inspect after a restart ----
id=$(hk run -d --name exited-p -p 127.0.0.1:18719:80 busybox true 2>&1)
is "$?:$id" "0:exited-p" "a service with a published port that exits at once"
ended() { [ "$(hk inspect exited-p | jq -r '.[0].State.Status')" = exited ]; }
wait_for 10 ended; ok $? "it is exited"
row=$(hk ps -a | awk '$NF == "exited-p"')
unlike "$row" "18719" "ps -a: an exited service shows no ports"
hk rm exited-p >/dev/null; ok $? "rm the exited service"
id=$(r -d --name again --restart always busybox sleep 300)
is "$?:$id" "0:again" "a service with --restart always"
running() { [ "$(hk inspect again | jq -r '.[0].State.Status')" = running ]; }
wait_for 10 running; ok $? "it runs"
kill -9 "$(hk inspect again | jq -r '.[0].State.Pid')"
restarted() { [ "$(hk inspect again | jq -r '.[0].State | "\(.Status) \(.Restarts)"')" = "running 1" ]; }
wait_for 15 restarted; ok $? "it was restarted and runs"
is "$(hk inspect again | jq -r '.[0].State.ExitCode')" 0 "inspect: ExitCode 0 while it runs again (not the 137 of the last exit)"
is "$(hk ps --format json | jq -r '.[] | select(.Id == "again") | .ExitCode')" 0 "ps --format json: ExitCode 0 while it runs"
hk rm -f again >/dev/null; ok $? "rm -f the service"

# ---- husk logs: lines in the order the service wrote them, stdout and stderr merged ----
id=$(r -d --name order busybox sh -c 'for i in 1 2 3; do echo out$i; sleep 0.1; echo err$i >&2; sleep 0.1; done; sleep 300')
is "$?:$id" "0:order" "a service writing to stdout and stderr in turn"
has_err3() { hk logs order 2>&1 | grep -q err3; }
wait_for 10 has_err3; ok $? "all its lines are in the log"
is "$(hk logs order 2>&1 | tr '\n' ' ')" "out1 err1 out2 err2 out3 err3 " "logs 2>&1: the order they were written"
is "$(hk logs -t order 2>&1 | cut -d' ' -f2 | tr '\n' ' ')" "out1 err1 out2 err2 out3 err3 " "logs -t 2>&1: the same order"
t=$(hk logs -t order 2>&1 | cut -d' ' -f1)
is "$t" "$(printf '%s\n' "$t" | sort)" "logs -t: the times go up"
is "$(hk logs order 2>/dev/null | tr '\n' ' ')" "out1 out2 out3 " "stdout lines on stdout"
is "$(hk logs order 2>&1 >/dev/null | tr '\n' ' ')" "err1 err2 err3 " "stderr lines on stderr"
hk rm -f order >/dev/null; ok $? "rm -f the service"

# ---- image rm of an image in use: refused unless -f, naming the users ----
F=$HUSK_BUILDDIR/images/out/fn/fn-oci.tar
bbid=$(hk image inspect busybox | jq -r .id)
id=$(r -d --name user1 busybox sleep 300)
is "$?:$id" "0:user1" "a service of the busybox image"
out=$(hk image rm "$bbid" 2>&1)
is "$?:$out" "1:husk: image $bbid is in use by container user1: remove them first (husk rm, husk fn rm), or use husk image rm -f" \
        "image rm of an image a running service uses is refused, naming it"
hk image inspect "$bbid" >/dev/null 2>&1; ok $? "the image is still there"
if [ -f "$F" ] && [ -x "$(dirname "$HUSK")/husk-fn" ]; then
        hk fn create fuser --image "$F" --handler echo >/dev/null 2>&1; ok $? "a function of the fn image"
        fid=$(hk image ls --format json | jq -r '.[] | select(any(.names[]; startswith("fn"))) | .id' | head -n 1)
        out=$(hk image rm "$fid" 2>&1)
        is "$?:$out" "1:husk: image $fid is in use by function fuser: remove them first (husk rm, husk fn rm), or use husk image rm -f" \
                "image rm of a function's image is refused, naming the function"
        hk fn rm fuser >/dev/null 2>&1
        out=$(hk image rm "$fid" 2>&1); like "$?:$out" "^0:Deleted: $fid" "once the function is gone, rm works"
else
        skip "needs $F and husk-fn"; skip "husk-fn"; skip "husk-fn"
fi
hk rm -f user1 >/dev/null
exited=$(r -d --name user2 busybox true); wait_for 10 sh -c "\"$HUSK\" --root \"$HUSK_TEST_ROOT\" inspect user2 2>/dev/null | grep -q '\"Status\": \"exited\"'"
out=$(hk image rm "$bbid" 2>&1); like "$?:$out" "^1:.*in use by container user2" "an exited service still uses its image (podman)"
out=$(hk image rm -f "$bbid" 2>&1); is "$?:$out" "0:Deleted: $bbid" "image rm -f removes it anyway"
hk rm user2 >/dev/null; ok $? "the service can still be removed"
done_testing
