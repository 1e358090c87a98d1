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
done_testing
