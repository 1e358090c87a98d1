#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The start path's shortcuts (issue 6) keep every rule they replace:
# - the container process (and exec's) joins its v1 cgroups itself ("0" into tasks) and the hybrid
#   host's cgroup2 dir through clone3: it is in every hierarchy's cgroup, already before any
#   setup (a createContainer hook, forked by it before the pivot, is in them too);
# - run starts what it created without re-reading the state: status "running", poststart runs;
# - an image run's overlay is mounted "volatile" and is gone after the run.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# every_hier FILE ID: each line of a /proc/PID/cgroup copy names /husk/ID (v1 and cgroup2 lines).
every_hier() {
        [ -s "$1" ] && awk -F: -v p="/husk/$2" '$3 != p { bad = 1 } END { exit bad }' "$1"
}

b=$(new_bundle)
out=$(run_in "$b" speed-cg1 cat /proc/self/cgroup)
printf '%s\n' "$out" > "$T/run.cg"
every_hier "$T/run.cg" speed-cg1; ok $? "run: the container is in /husk/ID in every hierarchy"
diag "$(cat "$T/run.cg")"
n_host=$(wc -l < /proc/self/cgroup)
is "$(wc -l < "$T/run.cg")" "$n_host" "run: as many hierarchies as the host has"

# Joined before any setup: a createContainer hook runs in the container's mount namespace before
# the pivot, as a child of the container process.
cfg "$b" --arg f "$T/hook.cg" '.hooks.createContainer = [{path:"/bin/sh", args:["sh","-c","cat /proc/self/cgroup > \($f)"]}]'
run_in "$b" speed-cg2 /bin/true
every_hier "$T/hook.cg" speed-cg2; ok $? "createContainer hook (before the pivot) is already in the cgroups"
cfg "$b" 'del(.hooks)'

# exec: the intermediate joins itself, the exec'd process inherits.
cfg "$b" '.process.args = ["sleep", "30"]'
hk run -d -b "$b" speed-ex </dev/null >/dev/null 2>&1; ok $? "run -d a sleeping container"
hk exec speed-ex cat /proc/self/cgroup > "$T/exec.cg"
every_hier "$T/exec.cg" speed-ex; ok $? "exec: the process is in /husk/ID in every hierarchy"
is "$(hk state speed-ex | jq -r .status)" "running" "run -d: status running (exec.fifo consumed)"
hk delete -f speed-ex >/dev/null 2>&1

# run's in-place start: status running while it runs, poststart hook runs with the state.
cfg "$b" --arg f "$T/poststart.json" '.process.args = ["sleep", "3"] | .hooks.poststart = [{path:"/bin/sh", args:["sh","-c","cat > \($f)"]}]'
hk run -b "$b" speed-run >/dev/null 2>&1 &
rp=$!
st=""
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        st=$(hk state speed-run 2>/dev/null | jq -r .status 2>/dev/null)
        [ "$st" = running ] && break
        sleep 0.1
done
is "$st" "running" "foreground run: status running while the workload runs"
wait $rp
is "$?" "0" "foreground run exits with the workload's status"
is "$(jq -r '.id + " " + .status' "$T/poststart.json" 2>/dev/null)" "speed-run running" "run: poststart hook ran with the running state"
is "$(leaked_state)" "" "run: state removed"

# Image run: the overlay is mounted volatile (no upper-fs sync at unmount), removed after.
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
if [ -f "$A/busybox-oci.tar" ]; then
        S="$T/store"
        hk run -d --store "$S" --name speed-img "$A/busybox-oci.tar" sleep 30 </dev/null >/dev/null 2>&1
        ok $? "image run -d"
        # mountinfo: ... MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTS
        opts=$(awk -v s="$S/containers/" 'index($5, s) == 1 { sub(/.* - /, ""); if ($1 == "overlay") print $3 }' /proc/self/mountinfo)
        like "$opts" "(^|,)(fsync=)?volatile(,|$)" "the image overlay is mounted volatile"
        hk delete -f speed-img >/dev/null 2>&1
        is "$(awk -v s="$S" 'index($5, s) == 1' /proc/self/mountinfo | wc -l)" "0" "delete unmounts the overlay"
else
        skip "no $A/busybox-oci.tar: image overlay checks"
        skip "no image"
        skip "no image"
fi
done_testing
