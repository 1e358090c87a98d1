#!/bin/sh
# Rootless with a delegated cgroup v2 subtree (issue 15): run by rootless_v2.sh inside the cgroup v2
# guest (tools/vm). A user made for the test owns /sys/fs/cgroup/husk-rl-PID (the way systemd
# delegates user@UID.service) and runs from a cgroup below it; its rootless bundle's memory and pids
# limits must then apply in a cgroup husk makes inside that subtree, which goes away with the
# container.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq setpriv useradd userdel
[ -f /sys/fs/cgroup/cgroup.controllers ] || skip_all "needs a pure cgroup v2 host (rootless_v2.sh runs it in the guest)"

RU=husk-rlv2-$$
useradd -M -d "$T/home" -s /bin/sh "$RU" || bail "useradd $RU"
RUID=$(id -u "$RU")
RGID=$(id -g "$RU")
mkdir -p "$T/home" "$T/xdg" && chown "$RU:" "$T/home" "$T/xdg" && chmod 0700 "$T/xdg"
D=/sys/fs/cgroup/husk-rl-$$
mkdir -p "$D/shell"
chown -R "$RU:" "$D"
rlv2_cleanup() {
        pkill -9 -u "$RUID" 2>/dev/null
        sleep 0.2
        find "$D" -depth -type d -exec rmdir {} \; 2>/dev/null
        userdel "$RU" 2>/dev/null
}
trap 'rlv2_cleanup; _cleanup' EXIT
# uhk ARGS: husk as the user, started from the delegated subtree's leaf (root moves itself there
# first, then drops to the user).
uhk() {
        sh -c 'echo $$ > "$1/shell/cgroup.procs" && shift && exec "$@"' sh "$D" \
                /usr/bin/setpriv --reuid "$RUID" --regid "$RGID" --init-groups --reset-env \
                env HOME="$T/home" USER="$RU" XDG_RUNTIME_DIR="$T/xdg" PATH=/usr/bin:/bin "$HUSK" "$@"
}

b=$(new_bundle)
chmod 0755 "$b" && chmod 0644 "$b/config.json"
cfg "$b" --argjson u "$RUID" --argjson g "$RGID" '.linux.namespaces = [{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"},{"type":"cgroup"}]
        | .linux.uidMappings = [{"containerID":0,"hostID":$u,"size":1}]
        | .linux.gidMappings = [{"containerID":0,"hostID":$g,"size":1}]
        | .mounts |= map(if .destination == "/sys" then {"destination":"/sys","type":"bind","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end)
        | .mounts |= map(select(.destination != "/tmp"))
        | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}
        | .process.args = ["sleep", "30"]'
uhk run -d -b "$b" rl1 >"$T/out" 2>&1
r=$?
ok $r "a user runs a bundle with memory and pids limits in its delegated subtree"
[ $r = 0 ] || diag "$(cat "$T/out")" "$(ls -l "$D")" "$(cat /proc/self/cgroup)"
is "$(grep -c warning "$T/out")" 0 "no warning: the cgroup is there"
pid=$(jq -r .pid "$T/xdg/husk/rl1/state.json" 2>/dev/null)
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
is "$cg" "/husk-rl-$$/husk/rl1" "the container's cgroup is husk/ID under the delegation root"
is "$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)" 67108864 "its memory limit applies"
is "$(cat "/sys/fs/cgroup$cg/pids.max" 2>/dev/null)" 50 "its pids limit applies"
uhk delete -f rl1 >/dev/null 2>&1
ok $? "delete -f as the user"
[ ! -d "/sys/fs/cgroup$cg" ]; ok $? "the container's cgroup is gone"

# ---- a function of the user's: husk serve from the delegated subtree; its workers' cgroups are
# husk-fn/ID under the delegation root, with the function's memory limit: a handler that
# allocates past it is killed, and the invocation says so
FA=$HUSK_BUILDDIR/images/out/fn/fn-oci.tar
if [ -f "$FA" ] && [ -x "$(dirname "$HUSK")/husk-fn" ] && command -v curl >/dev/null 2>&1; then
        cp "$FA" "$T/fn.tar" && chmod 0644 "$T/fn.tar"
        FS="$T/home/.local/share/husk"
        out=$(uhk fn create hog --image "$T/fn.tar" --handler oom --memory 32M 2>&1)
        is "$?:$out" "0:hog" "fn create as the user"
        uhk fn create greet --image "$T/fn.tar" --handler echo >/dev/null 2>&1
        uhk serve --no-auth --listen 127.0.0.1:0 >"$T/fn.log" 2>&1 &
        for _i in $(seq 600); do [ -s "$FS/fn/serve.addr" ] && break; sleep 0.1; done
        addr=$(cat "$FS/fn/serve.addr" 2>/dev/null)
        isnt "$addr" "" "husk serve as the user in its delegated subtree" || diag "$(cat "$T/fn.log")"
        is "$(grep -c 'not enforced' "$T/fn.log")" 0 "no warning about limits: the subtree is there"
        out=$(curl -s -m 300 -d '{"a":1}' "http://$addr/2015-03-31/functions/greet/invocations")
        is "$out" '{"a":1}' "a function answers" || diag "$(cat "$T/fn.log")"
        wcg=$(for c in /proc/[0-9]*/cgroup; do sed -n "s|^0::\(/husk-rl-$$/husk-fn/greet\..*\)|\1|p" "$c" 2>/dev/null; done | head -n 1)
        like "$wcg" "^/husk-rl-$$/husk-fn/" "its worker's cgroup is husk-fn/ID under the delegation root"
        is "$(cat "/sys/fs/cgroup$wcg/memory.max" 2>/dev/null)" 134217728 "with the function's memory limit (128 MB)"
        out=$(curl -s -m 300 -d '{}' "http://$addr/2015-03-31/functions/hog/invocations")
        like "$out" '"errorType":"Runtime.OutOfMemory"' "a handler that allocates past 32 MB is killed: the invocation reports it" ||
                diag "$(cat "$T/fn.log")"
        like "$out" "the limit is 32 MB" "naming the limit"
        # the server: the oldest process of the user started with --listen (its zygote, a fork,
        # is younger; its name may be a sealed copy's)
        spid=$(for p in /proc/[0-9]*; do [ "$(stat -c %u "$p")" = "$RUID" ] &&
                tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "--listen" && echo "${p#/proc/}"; done |
                sort -n | head -n 1)
        kill "$spid" 2>/dev/null
        for _i in $(seq 300); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
        [ -d "/proc/$spid" ] && diag "still there: $(cat /proc/$spid/stack 2>/dev/null; for t in /proc/$spid/task/*; do echo "$t $(cat $t/comm) $(cat $t/wchan)"; done)" "$(cat "$T/fn.log")" "$(for f in "$D"/husk-fn/*/; do echo "$f $(cat $f/cgroup.freeze) $(cat $f/cgroup.procs | tr '\n' ' ')"; done)"
        like "$(cat "$T/fn.log")" "stopping \(signal 15\)" "husk serve stops on SIGTERM"
        for _i in $(seq 50); do [ -z "$(find "$D/husk-fn" -mindepth 1 -type d 2>/dev/null)" ] && break; sleep 0.1; done
        is "$(find "$D/husk-fn" -mindepth 1 -type d 2>/dev/null)" "" "no worker cgroup is left"
        is "$(cat "$D/husk-fn/"*/cgroup.procs 2>/dev/null)" "" "no worker process is left in one"

else
        skip "a user's function: needs $FA and husk-fn"
fi
done_testing
