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

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then V=2; else V=1; fi # pure v2: the root is cgroup2
diag "cgroup driver: v$V"
SFX=$$
# dir CONTROLLER PATH: the host directory of PATH in CONTROLLER's hierarchy.
dir() { if [ $V = 2 ]; then echo "/sys/fs/cgroup$2"; else echo "/sys/fs/cgroup/$1$2"; fi; }
cgfile() { cat "$(dir "$1" "$2")/$3" 2>/dev/null; }
create() { "$CG" create "$@"; }
# Whatever a failing test left behind: every cgroup dir named after this run, deepest first.
cleanup_cgroups() {
        find /sys/fs/cgroup -depth -type d \( -name "*-$SFX" -o -path "*/husk-*-$SFX/*" \) 2>/dev/null |
        while IFS= read -r d; do
                for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state"
                [ -f "$d/cgroup.freeze" ] && echo 0 > "$d/cgroup.freeze"
                rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; }
        done
}
trap '_r=$?; cleanup_cgroups; (exit $_r); _cleanup' EXIT

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
for _ in $(seq 200); do [ -n "$("$CG" pids "$s")" ] && break; sleep 0.1; done
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

# ---------------------------------------------------------------- blkio, hugetlb, unified
out=$("$CG" create "blk-$SFX" --blkio-weight 500 2>&1); rc=$?
if [ $rc = 0 ]; then
        if [ $V = 1 ]; then
                w=$(cgfile blkio "/husk/blk-$SFX" blkio.weight || cgfile blkio "/husk/blk-$SFX" blkio.bfq.weight)
                like "$w" "500" "blkio weight written"
        else
                w=$(cgfile io "/husk/blk-$SFX" io.bfq.weight || cgfile io "/husk/blk-$SFX" io.weight)
                like "$w" "default (500|4950)" "io weight written (bfq as is, io.weight converted)"
        fi
        "$CG" destroy "$out"
else
        like "$out" "no such cgroup file" "blkio weight without kernel support: a clear error"
fi
hp=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sed -n 's/^hugepages-2048kB$/2MB/p')
if [ -n "$hp" ]; then
        out=$("$CG" create "huge-$SFX" --hugetlb 2MB:4194304 2>&1); rc=$?
        if [ $V = 2 ]; then
                is "$rc" 0 "hugepageLimits accepted"
                is "$(cgfile hugetlb "/husk/huge-$SFX" hugetlb.2MB.max)" 4194304 "hugetlb.2MB.max"
                "$CG" destroy "$out"
        elif [ -d /sys/fs/cgroup/hugetlb ]; then
                is "$(cgfile hugetlb "/husk/huge-$SFX" hugetlb.2MB.limit_in_bytes)" 4194304 "hugetlb.2MB.limit_in_bytes"
                "$CG" destroy "$out"
        else
                like "$out" "hugetlb cgroup controller is not mounted" "no v1 hugetlb: a clear error"
        fi
fi
if [ $V = 2 ]; then
        out=$("$CG" create "uni-$SFX" --unified memory.high=52428800 --unified pids.max=7); rc=$?
        is "$rc" 0 "linux.resources.unified accepted on v2"
        is "$(cgfile memory "/husk/uni-$SFX" memory.high)" 52428800 "unified: memory.high written"
        is "$(cgfile pids "/husk/uni-$SFX" pids.max)" 7 "unified: pids.max written"
        "$CG" destroy "$out"
        out=$("$CG" create "uni2-$SFX" --unified ../../cgroup.procs=1 2>&1)
        like "$out" "invalid key" "unified: a key with a path is refused"
fi

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
        dev="$typ:$(printf %d 0x${mm% *}):$(printf %d 0x${mm#* })"
        s2=$(create "dev2-$SFX" --device "$dev")
        out=$("$CG" exec "$s2" sh -c "head -c1 $rdev >/dev/null && echo dev-ok" 2>&1)
        is "$out" dev-ok "a linux.devices entry ($rdev) is allowed without device rules"
        "$CG" destroy "$s2"
        # issue 16: a configured deny wins over it (runc and crun add no rule for linux.devices)
        s2=$(create "dev3-$SFX" --rule "deny:a:*:*:rwm" --device "$dev")
        out=$("$CG" exec "$s2" sh -c "head -c1 $rdev >/dev/null && echo dev-ok" 2>&1)
        like "$out" "Operation not permitted" "a deny-all rule wins over the linux.devices entry ($rdev)"
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
for _ in $(seq 200); do [ -s "$T/ticks" ] && break; sleep 0.1; done
"$CG" freeze "$s"; ok $? "freeze"
is "$("$CG" frozen "$s")" frozen "reported frozen"
st=$(awk '{print $3}' /proc/$bg/stat)
# v1's freezer shows D; v2 usually S, but D when the task was frozen inside a kernel wait (seen in
# the v2 guest when the freeze lands while the shell forks): either way it is not running.
like "$st" '^(S|D)$' "frozen process is not running (host view: S or D)"
n1=$(wc -l < "$T/ticks"); sleep 0.4; n2=$(wc -l < "$T/ticks")
is "$n2" "$n1" "no progress while frozen"
"$CG" thaw "$s"; ok $? "thaw"
is "$("$CG" frozen "$s")" thawed "reported thawed"
# Poll (up to 20 s: loaded hosts and the emulated v2 VM are slow) for the loop to tick again.
for _ in $(seq 200); do
        n3=$(wc -l < "$T/ticks")
        [ "$n3" -gt "$n2" ] && break
        sleep 0.1
done
[ "$n3" -gt "$n2" ]; ok $? "progress again after thaw"
"$CG" freeze "$s"
"$CG" destroy "$s"; ok $? "destroy of a frozen cgroup"
wait $bg 2>/dev/null

# ---------------------------------------------------------------- kill_all
s=$(create "kill-$SFX")
"$CG" exec "$s" sh -c 'sleep 30 & sleep 30 & wait' & bg=$!
# Wait (up to 20 s: the v2 run is in an emulated VM) until the shell has forked both sleeps.
for _ in $(seq 200); do
        n=$("$CG" pids "$s" | wc -l)
        [ "$n" -ge 3 ] && break
        sleep 0.1
done
is "$n" 3 "three processes in the cgroup"
"$CG" kill "$s" 15; ok $? "kill_all SIGTERM"
wait $bg; is "$?" 143 "shell got SIGTERM"
for _ in $(seq 200); do [ "$("$CG" pids "$s" | wc -l)" = 0 ] && break; sleep 0.1; done
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
cfg "$b" 'del(.linux.cgroupsPath) | .linux.resources.pids.limit = 4'
out=$(run_in "$b" cli4 sh -c 'for i in 1 2 3 4 5 6; do sleep 2 & done 2>&1; wait' 2>&1)
like "$out" "(fork|Resource temporarily unavailable)" "container: fork fails past pids.limit"
# detached: limits seen from the host, then delete removes every controller's dir
cfg "$b" '.process.args = ["sleep","30"] | .linux.resources.pids.limit = 20 | .linux.resources.cpu = {"shares":256}'
hk create -b "$b" cli5 >/dev/null 2>&1 && hk start cli5; ok $? "create + start a detached container"
if [ $V = 1 ]; then
        is "$(cgfile memory /husk/cli5 memory.limit_in_bytes)" 33554432 "host: memory limit of the running container"
        is "$(cgfile cpu /husk/cli5 cpu.shares)" 256 "host: cpu.shares of the running container"
else
        is "$(cgfile memory /husk/cli5 memory.max)" 33554432 "host: memory limit of the running container"
        is "$(cgfile cpu /husk/cli5 cpu.weight)" 10 "host: cpu.weight of the running container"
fi
is "$(cgfile pids /husk/cli5 pids.max)" 20 "host: pids.max of the running container"
pid=$(hk state cli5 | jq -r .pid)
grep -q "/husk/cli5" /proc/$pid/cgroup; ok $? "container init is in /husk/cli5"
# husk_update / husk_pause / husk_resume (the library calls behind `update`, `pause`, `resume`)
"$CG" husk-update "$HUSK_TEST_ROOT" cli5 '{"memory":{"limit":67108864,"swap":67108864},"pids":{"limit":30}}'
ok $? "husk_update on a running container"
if [ $V = 1 ]; then f=memory.limit_in_bytes; else f=memory.max; fi
is "$(cgfile memory /husk/cli5 $f)" 67108864 "update: new memory limit"
is "$(cgfile pids /husk/cli5 pids.max)" 30 "update: new pids limit"
out=$("$CG" husk-update "$HUSK_TEST_ROOT" cli5 '{"memory":{"limit":"x"}}' 2>&1)
isnt "$?" 0 "update with invalid JSON values fails"
"$CG" husk-pause "$HUSK_TEST_ROOT" cli5; ok $? "husk_pause"
is "$(hk state cli5 | jq -r .status)" paused "state: paused"
st=$(awk '{print $3}' /proc/$pid/stat)
like "$st" "^[DS]$" "paused init is not running"
out=$("$CG" husk-pause "$HUSK_TEST_ROOT" cli5 2>&1)
like "$out" "not running" "pause of a paused container: not running"
"$CG" husk-resume "$HUSK_TEST_ROOT" cli5; ok $? "husk_resume"
is "$(hk state cli5 | jq -r .status)" running "state: running again"
out=$("$CG" husk-resume "$HUSK_TEST_ROOT" cli5 2>&1)
like "$out" "not paused" "resume of a running container: not paused"
"$CG" husk-pause "$HUSK_TEST_ROOT" cli5
hk delete --force cli5; ok $? "delete --force (of a paused container)"
left=$(ls -d /sys/fs/cgroup/*/husk/cli5 /sys/fs/cgroup/husk/cli5 2>/dev/null)
is "$left" "" "delete removes the cgroup from every hierarchy"
done_testing
