#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 16, behaviour that must match runc/crun: device rules (a configured deny wins), existing
# cgroups (frozen, populated), sub-cgroups made by the workload, realtime budgets, hooks (cwd,
# environment, state, order, poststart failure), SCMP_ACT_NOTIFY on write, and the pty (owner,
# output without \r). Runs on the host's driver (v1 hybrid here, v2 in tools/vm).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then V=2; else V=1; fi
diag "cgroup driver: v$V"
SFX=$$
# cgdir CONTROLLER PATH: the host directory of cgroup PATH in CONTROLLER's hierarchy.
cgdir() { if [ $V = 2 ]; then echo "/sys/fs/cgroup$2"; else echo "/sys/fs/cgroup/$1$2"; fi; }
# Whatever a failing test left behind: every cgroup dir named after this run, deepest first.
cleanup_cgroups() {
        find /sys/fs/cgroup -depth -type d -path "*husk-cg-$SFX*" 2>/dev/null |
        while IFS= read -r d; do
                [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state"
                [ -f "$d/cgroup.freeze" ] && echo 0 > "$d/cgroup.freeze"
                for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; }
        done
}
trap '_r=$?; cleanup_cgroups; (exit $_r); _cleanup' EXIT

# ---------------------------------------------------------------- 3. device rules
# /dev/kmsg (c 1:11) is listed in linux.devices; opening it for writing (nothing is written)
# shows whether the device cgroup lets the container use it.
KMSG='[{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":438,"uid":0,"gid":0}]'
b=$(new_bundle)
kmsg_open() { # kmsg_open ID RULES_JSON
        cfg "$b" --argjson d "$KMSG" --argjson r "$2" '.linux.devices = $d | .linux.resources.devices = $r'
        run_in "$b" "$1" /bin/sh -c '(: > /dev/kmsg) 2>/dev/null && echo open-ok || echo open-denied' 2>&1
}
is "$(kmsg_open dev-none '[]')" "open-ok" "devices: a linux.devices entry is usable without rules"
is "$(kmsg_open dev-denyall '[{"allow":false,"access":"rwm"}]')" "open-denied" \
        "devices: a deny-all rule wins over the linux.devices entry (as runc and crun)"
is "$(kmsg_open dev-exact '[{"allow":false,"type":"c","major":1,"minor":11,"access":"w"}]')" "open-denied" \
        "devices: a deny of c 1:11 w wins over the linux.devices entry"
is "$(kmsg_open dev-wide '[{"allow":false,"type":"c","access":"w"}]')" "open-denied" \
        "devices: a deny of c *:* w wins over the linux.devices entry"
is "$(kmsg_open dev-readd '[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":11,"access":"w"}]')" \
        "open-denied" "devices: deny after an explicit allow wins"
is "$(kmsg_open dev-allow '[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"rw"}]')" \
        "open-ok" "devices: an explicit allow still grants"
out=$(kmsg_open dev-null '[{"allow":false,"access":"rwm"}]'; cfg "$b" '.process.args = ["/bin/sh","-c","echo x > /dev/null && echo null-ok"]'; hk run -b "$b" dev-null2 2>&1)
like "$out" "null-ok" "devices: the standard devices stay usable under a deny-all"
if [ $V = 1 ]; then
        cfg "$b" '.linux.resources.devices = [{"allow":false,"access":"rwm"},{"allow":true,"type":"c","access":"rwm"},{"allow":false,"type":"c","major":1,"minor":11,"access":"w"}]'
        out=$(hk run -b "$b" dev-hole 2>&1); rc=$?
        isnt "$rc" 0 "devices v1: a deny inside a wider allow is refused (the kernel would ignore it)"
        like "$out" "c 1:11 w.*cgroup v1" "devices v1: the error names the rule and the driver"
        cfg "$b" '.linux.resources.devices = [{"allow":false,"access":"rwm"},{"allow":true,"type":"c","access":"r"}] | .process.args = ["/bin/sh","-c","(: > /dev/kmsg) 2>/dev/null && echo w-ok || echo w-denied; cat /dev/null && echo r-ok"]'
        is "$(hk run -b "$b" dev-partial-a 2>&1)" "w-denied
r-ok" "devices v1: an allow rule for all char devices with fewer letters is not allow-all"
        cfg "$b" '.linux.resources.devices = [{"allow":false,"access":"rwm"},{"allow":true,"access":"r"}]'
        out=$(hk run -b "$b" dev-partial-a2 2>&1)
        is "$out" "w-denied
r-ok" "devices v1: a typeless allow rule with fewer letters is not allow-all"
fi

done_testing
