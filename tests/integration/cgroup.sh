#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cgroup driver tests on the running host (v1 hybrid here, pure v2 inside tools/vm).
# Part 1 drives the module directly through tests/helpers/cgroup_helper (create / enter / apply /
# freeze / destroy on real cgroups, processes observed from the host and from inside).
# Part 2 runs real containers through the CLI (skipped while `husk run` does not work yet).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
CG=$HUSK_HELPERS/cgroup_helper
[ -x "$CG" ] || skip_all "missing $CG"
[ -d /sys/fs/cgroup ] || skip_all "no /sys/fs/cgroup"

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then V=2; else V=1; fi
diag "cgroup driver: v$V"
SFX=$$
# dir CONTROLLER PATH: the host directory of PATH in CONTROLLER's hierarchy.
dir() { if [ $V = 2 ]; then echo "/sys/fs/cgroup$2"; else echo "/sys/fs/cgroup/$1$2"; fi; }
cgfile() { cat "$(dir "$1" "$2")/$3" 2>/dev/null; }
STATES=""
create() { # create ID OPTS... -> prints the state, remembers it for cleanup
        _s=$("$CG" create "$@") || return 1
        STATES="$STATES
$_s"
        echo "$_s"
}
cleanup_cgroups() {
        printf '%s\n' "$STATES" | while IFS= read -r s; do
                [ -n "$s" ] && "$CG" destroy "$s" >/dev/null 2>&1
        done
}
trap 'cleanup_cgroups; _cleanup' EXIT

# ---------------------------------------------------------------- paths
s=$(create "t-abs-$SFX" --path "/husk-test-$SFX/abs")
is "$s" "v$V;;/husk-test-$SFX/abs" "absolute cgroupsPath kept as is"
test -d "$(dir memory "/husk-test-$SFX/abs")"; ok $? "absolute path created (memory)"
test -d "$(dir pids "/husk-test-$SFX/abs")"; ok $? "absolute path created (pids)"
if [ $V = 1 ] && [ -d /sys/fs/cgroup/unified ]; then
        test -d "/sys/fs/cgroup/unified/husk-test-$SFX/abs"; ok $? "hybrid: dir made in the unified hierarchy too"
fi
"$CG" destroy "$s"; ok $? "destroy"
gone=0
for c in memory pids cpu devices freezer cpuset unified systemd; do
        [ -d "/sys/fs/cgroup/$c/husk-test-$SFX/abs" ] && gone=1
        [ $V = 2 ] && [ -d "/sys/fs/cgroup/husk-test-$SFX/abs" ] && gone=1
done
ok $gone "destroy removes the dir of every controller"

s=$(create "rel-$SFX" --path "husk-rel-$SFX")
is "$s" "v$V;;/husk/husk-rel-$SFX" "relative cgroupsPath goes under /husk"
"$CG" destroy "$s"
s=$(create "dflt-$SFX")
is "$s" "v$V;;/husk/dflt-$SFX" "absent cgroupsPath: /husk/ID"
test -d "$(dir pids "/husk/dflt-$SFX")"; ok $? "default dir exists"
"$CG" destroy "$s"
out=$("$CG" create "sd-$SFX" --path "system.slice:husk:sd" 2>&1); rc=$?
isnt "$rc" 0 "systemd cgroupsPath refused"
like "$out" "systemd" "the error names systemd"

# ---------------------------------------------------------------- failed create leaves nothing
out=$("$CG" create "bad-$SFX" --path "/husk-test-$SFX/bad" --memory 67108864 --unified "bogus.file=1" 2>&1); rc=$?
isnt "$rc" 0 "create with an impossible setting fails"
if [ $V = 1 ]; then
        like "$out" "unified requires cgroup v2" "v1: clear error for linux.resources.unified"
else
        like "$out" "bogus.file" "v2: the error names the unknown file"
fi
left=$(ls -d /sys/fs/cgroup/*/husk-test-$SFX/bad /sys/fs/cgroup/husk-test-$SFX/bad 2>/dev/null)
is "$left" "" "a failed create leaves no cgroup dir"

# ---------------------------------------------------------------- memory
s=$(create "mem-$SFX" --memory 33554432 --swap 33554432 --reservation 16777216)
if [ $V = 1 ]; then
        is "$(cgfile memory "/husk/mem-$SFX" memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes"
        is "$(cgfile memory "/husk/mem-$SFX" memory.soft_limit_in_bytes)" 16777216 "memory.soft_limit_in_bytes"
        m=$(cgfile memory "/husk/mem-$SFX" memory.memsw.limit_in_bytes)
        [ -z "$m" ] || is "$m" 33554432 "memsw = limit + swap total (no swap)"
else
        is "$(cgfile memory "/husk/mem-$SFX" memory.max)" 33554432 "memory.max"
        is "$(cgfile memory "/husk/mem-$SFX" memory.low)" 16777216 "memory.low"
        m=$(cgfile memory "/husk/mem-$SFX" memory.swap.max)
        [ -z "$m" ] || is "$m" 0 "memory.swap.max = swap - limit"
fi
# A process allocating past the limit is OOM-killed (it runs inside the cgroup).
"$CG" exec "$s" sh -c 'cat /proc/self/cgroup > '"$T"'/mem-cg; x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' > "$T/mem-out" 2>&1
rc=$?
is "$rc" 137 "allocating 100 MB under a 32 MB limit: SIGKILL (OOM)"
unlike "$(cat "$T/mem-out")" survived "the allocating process did not survive"
like "$(cat "$T/mem-cg")" "/husk/mem-$SFX" "/proc/self/cgroup inside shows the cgroup"
"$CG" exec "$s" sh -c 'x=$(head -c 1000000 /dev/zero | tr "\0" a); echo small-ok' > "$T/mem-out2" 2>&1
is "$(cat "$T/mem-out2")" small-ok "a small allocation works under the limit"

# update changes the limit of a running process' cgroup
"$CG" exec "$s" sleep 30 & bg=$!
sleep 0.3
"$CG" update "$s" --memory 67108864 --swap 67108864; ok $? "update memory"
if [ $V = 1 ]; then f=memory.limit_in_bytes; else f=memory.max; fi
is "$(cgfile memory "/husk/mem-$SFX" $f)" 67108864 "updated limit visible"
pids=$("$CG" pids "$s")
is "$pids" "$bg" "cgroup_pids lists the process"
"$CG" destroy "$s"; ok $? "destroy kills the leftover process"
wait $bg; rc=$?
is "$rc" 137 "leftover process was SIGKILLed"

# ---------------------------------------------------------------- pids
s=$(create "pids-$SFX" --pids 5)
is "$(cgfile pids "/husk/pids-$SFX" pids.max)" 5 "pids.max"
out=$("$CG" exec "$s" sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; wait' 2>&1)
like "$out" "(fork|Resource temporarily unavailable|can't fork)" "fork fails past pids.max"
"$CG" update "$s" --pids 0
is "$(cgfile pids "/husk/pids-$SFX" pids.max)" max "pids limit 0 -> max"
"$CG" destroy "$s"

# ---------------------------------------------------------------- cpu
s=$(create "cpu-$SFX" --shares 512 --quota 50000 --period 100000 --cpus 0)
if [ $V = 1 ]; then
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.shares)" 512 "cpu.shares"
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.cfs_quota_us)" 50000 "cpu.cfs_quota_us"
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
else
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.weight)" 20 "cpu.weight from shares 512"
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.max)" "50000 100000" "cpu.max"
fi
is "$(cgfile cpuset "/husk/cpu-$SFX" cpuset.cpus)" 0 "cpuset.cpus"
out=$("$CG" exec "$s" sh -c 'grep Cpus_allowed_list /proc/self/status')
like "$out" "Cpus_allowed_list:[[:space:]]+0$" "the process is confined to cpu 0"
"$CG" update "$s" --quota -1 --period 100000
if [ $V = 1 ]; then
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.cfs_quota_us)" -1 "update: quota unlimited"
else
        is "$(cgfile cpu "/husk/cpu-$SFX" cpu.max)" "max 100000" "update: quota unlimited"
fi
"$CG" destroy "$s"

# ---------------------------------------------------------------- devices
s=$(create "dev-$SFX" --rule "deny:a:*:*:rwm")
out=$("$CG" exec "$s" sh -c 'head -c1 /dev/null && echo null-ok')
is "$out" null-ok "deny-all config: /dev/null still readable"
out=$("$CG" exec "$s" sh -c 'head -c4 /dev/urandom | wc -c')
is "$(echo $out)" 4 "/dev/urandom readable"
# a device outside the default list that this host lets us open at all
rdev=$(for d in /dev/cpu_dma_latency /dev/loop0 /dev/vda /dev/sda; do
        [ -e $d ] && head -c1 $d >/dev/null 2>&1 && { echo $d; break; }; done)
if [ -n "$rdev" ]; then
        out=$("$CG" exec "$s" sh -c "head -c1 $rdev" 2>&1); rc=$?
        isnt "$rc" 0 "reading $rdev is denied"
        like "$out" "Operation not permitted" "denied with EPERM"
else
        skip "no block device to test a denied device"; skip "no block device"
fi
if [ -n "$rdev" ]; then
        mm=$(stat -L -c '%t %T' "$rdev")
        typ=$( [ -b "$rdev" ] && echo b || echo c)
        s2=$(create "dev2-$SFX" --rule "deny:a:*:*:rwm" --device "$typ:$(printf %d 0x${mm% *}):$(printf %d 0x${mm#* })")
        out=$("$CG" exec "$s2" sh -c "head -c1 $rdev >/dev/null && echo dev-ok" 2>&1)
        is "$out" dev-ok "a linux.devices entry ($rdev) is allowed"
        "$CG" destroy "$s2"
else
        skip "no device for the linux.devices test"
fi
if [ $V = 1 ]; then
        like "$(cgfile devices "/husk/dev-$SFX" devices.list)" "c 1:3 rwm" "devices.list has the default rules"
fi
# update with new rules replaces the old ones
"$CG" update "$s" --rule "deny:a:*:*:rwm" --rule "deny:c:1:5:rwm"
out=$("$CG" exec "$s" sh -c 'head -c1 /dev/null && echo null-ok')
is "$out" null-ok "after update: /dev/null still readable"
"$CG" destroy "$s"

# ---------------------------------------------------------------- freezer
s=$(create "frz-$SFX")
"$CG" exec "$s" sh -c 'while :; do echo x >> '"$T"'/ticks; sleep 0.05; done' & bg=$!
sleep 0.3
"$CG" freeze "$s"; ok $? "freeze"
is "$("$CG" frozen "$s")" frozen "reported frozen"
st=$(awk '{print $3}' /proc/$bg/stat)
is "$st" "$( [ $V = 1 ] && echo D || echo S)" "frozen process state from the host" # v1 freezer: D, v2: S
n1=$(wc -l < "$T/ticks"); sleep 0.4; n2=$(wc -l < "$T/ticks")
is "$n2" "$n1" "no progress while frozen"
"$CG" thaw "$s"; ok $? "thaw"
is "$("$CG" frozen "$s")" thawed "reported thawed"
sleep 0.4; n3=$(wc -l < "$T/ticks")
[ "$n3" -gt "$n2" ]; ok $? "progress again after thaw"
"$CG" freeze "$s"
"$CG" destroy "$s"; ok $? "destroy of a frozen cgroup"
wait $bg 2>/dev/null

# ---------------------------------------------------------------- kill_all
s=$(create "kill-$SFX")
"$CG" exec "$s" sh -c 'sleep 30 & sleep 30 & wait' & bg=$!
sleep 0.3
n=$("$CG" pids "$s" | wc -l)
is "$n" 3 "three processes in the cgroup"
"$CG" kill "$s" 15; ok $? "kill_all SIGTERM"
wait $bg; is "$?" 143 "shell got SIGTERM"
sleep 0.2
is "$("$CG" pids "$s" | wc -l)" 0 "every process got the signal"
"$CG" destroy "$s"

rmdir "$(dir memory "/husk-test-$SFX")" 2>/dev/null
for c in /sys/fs/cgroup/*/husk-test-$SFX /sys/fs/cgroup/husk-test-$SFX; do [ -d "$c" ] && rmdir "$c"; done

# ---------------------------------------------------------------- through the CLI
if ! hk run -b "$(new_bundle)" probe-$SFX >/dev/null 2>&1; then
        skip "husk run does not work yet: CLI cgroup tests skipped"
        done_testing
fi
b=$(new_bundle)
cfg "$b" '.linux.resources = {"memory":{"limit":33554432},"pids":{"limit":20},"devices":[{"allow":false,"access":"rwm"}]}'
out=$(run_in "$b" cli1 sh -c 'cat /proc/self/cgroup; head -c1 /dev/null && echo null-ok')
like "$out" "/husk/cli1" "container process is in /husk/ID"
like "$out" "null-ok" "container: /dev/null works with podman's deny-all"
cfg "$b" '.linux.cgroupsPath = "/husk-cli-'$SFX'/c2"'
out=$(run_in "$b" cli2 sh -c 'cat /proc/self/cgroup')
like "$out" "/husk-cli-$SFX/c2" "container honours an absolute cgroupsPath"
left=$(ls -d /sys/fs/cgroup/*/husk-cli-$SFX/c2 /sys/fs/cgroup/husk-cli-$SFX/c2 2>/dev/null)
is "$left" "" "run + delete removes the cgroup"
for c in /sys/fs/cgroup/*/husk-cli-$SFX /sys/fs/cgroup/husk-cli-$SFX; do [ -d "$c" ] && rmdir "$c"; done
out=$(run_in "$b" cli3 sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived'); rc=$?
is "$rc" 137 "container OOM-killed past its memory limit"
done_testing
