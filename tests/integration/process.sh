#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The start sequence seen from inside real containers: pid 1, hostname, capabilities, rlimits,
# umask, cwd, env, groups, no_new_privs, sysctls, time namespace, exit status and signals,
# create/start split under a subreaper, error texts engines match on, /proc/PID/exe (CVE-2019-5736).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
out=$(run_in "$b" p1 /bin/sh -c 'echo $$; hostname')
is "$out" "1
husk" "pid 1 in a new pid namespace, hostname set"

# Capabilities exactly as configured (root: the permitted set after exec is the bounding set).
out=$(run_in "$b" p2 /bin/sh -c 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status | tr -s "\t" " "')
is "$out" "CapInh: 0000000000000000
CapPrm: 0000000020000420
CapEff: 0000000020000420
CapBnd: 0000000020000420
CapAmb: 0000000000000000" "root: capability sets match the config, inheritable empty"

# Non-root with inheritable + ambient: CAP_KILL (5) survives exec through the ambient set only.
cfg "$b" '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 63}
        | .process.capabilities.inheritable = ["CAP_KILL"] | .process.capabilities.ambient = ["CAP_KILL"]
        | .process.capabilities.permitted = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
        | .process.capabilities.effective = ["CAP_KILL"]'
out=$(run_in "$b" p3 /bin/sh -c 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|Groups|Uid|Gid)" /proc/self/status | tr -s "\t" " "')
is "$out" "Uid: 1000 1000 1000 1000
Gid: 1000 1000 1000 1000
Groups: 10 20 
CapInh: 0000000000000020
CapPrm: 0000000000000020
CapEff: 0000000000000020
CapBnd: 0000000020000420
CapAmb: 0000000000000020" "uid/gid/additionalGids, inheritable+ambient exactly as configured" 
out=$(run_in "$b" p4 /bin/sh -c 'umask; grep NoNewPrivs /proc/self/status | tr -s "\t" " "')
is "$out" "0077
NoNewPrivs: 1" "umask and no_new_privs"

b=$(new_bundle)
cfg "$b" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000}]
        | .process.cwd = "/etc" | .process.env += ["FOO=bar baz"]'
out=$(run_in "$b" p5 /bin/sh -c 'ulimit -n; ulimit -Hn; pwd; echo "$FOO"')
is "$out" "512
1000
/etc
bar baz" "rlimits, cwd and env"

# oom_score_adj (host side), personality, seccomp loaded with and without no_new_privs.
b=$(new_bundle)
cfg "$b" '.process.oomScoreAdj = 432 | .linux.personality = {"domain": "LINUX32"}'
out=$(run_in "$b" o1 /bin/sh -c 'cat /proc/self/oom_score_adj; uname -m')
is "$out" "432
i686" "oomScoreAdj and LINUX32 personality applied"
cfg "$b" 'del(.linux.personality) | del(.process.oomScoreAdj)
        | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
out=$(run_in "$b" s1 /bin/sh -c 'mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status | tr -s "\t" " "')
like "$out" "Operation not permitted" "seccomp filter applied (no_new_privs)"
like "$out" "Seccomp: 2" "seccomp mode 2"
cfg "$b" '.process.noNewPrivileges = false'
out=$(run_in "$b" s2 /bin/sh -c 'mkdir /tmp/x 2>&1; grep -E "Seccomp:|NoNewPrivs" /proc/self/status | tr -s "\t" " "')
like "$out" "Operation not permitted" "seccomp filter applied without no_new_privs"
like "$out" "NoNewPrivs: 0" "no_new_privs stays off when not asked"

# run --detach returns while the container runs.
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sleep", "30"]'
hk run -d -b "$b" r1
ok $? "run --detach returns"
is "$(hk state r1 | jq -r .status)" running "the detached container is running"
hk delete --force r1

# An rlimit the kernel refuses (above fs.nr_open even with CAP_SYS_RESOURCE) fails the create.
b=$(new_bundle)
over=$(( $(cat /proc/sys/fs/nr_open) + 1 ))
cfg "$b" --argjson n "$over" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": $n, "hard": $n}]'
err=$(hk create -b "$b" l1 2>&1)
isnt $? 0 "impossible RLIMIT_NOFILE fails create"
like "$err" "setrlimit RLIMIT_NOFILE: operation not permitted" "rlimit error text (lower case, as engines match)"

# Exit status and signals.
b=$(new_bundle)
run_in "$b" p6 /bin/sh -c 'exit 7' >/dev/null 2>&1
is "$?" 7 "run returns the container's exit code"
cfg "$b" '.process.args = ["/bin/sh", "-c", "trap \"exit 42\" TERM; echo up; while :; do sleep 0.1; done"]'
"$HUSK" --root "$HUSK_TEST_ROOT" run -b "$b" p7 > "$T/p7.out" 2>&1 &
hp=$!
for i in $(seq 50); do [ -s "$T/p7.out" ] && break; sleep 0.1; done
kill -TERM $hp
wait $hp
is "$?" 42 "run forwards SIGTERM to the container"
# Without a pid namespace the shell is not an init and SIGKILL to itself works.
cfg "$b" '.process.args = ["/bin/sh", "-c", "kill -9 $$"]'
cfg "$b" '.linux.namespaces |= map(select(.type != "pid"))'
hk run -b "$b" p8 >/dev/null 2>&1
is "$?" 137 "a signal death is 128+signal"

# Namespaced sysctl through the container's own network namespace; non-namespaced refused.
b=$(new_bundle)
cfg "$b" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 2147483647"}'
out=$(run_in "$b" p9 /bin/sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ping_group_range' | tr -s '\t' ' ')
is "$out" "1
0 2147483647" "namespaced sysctls written"
cfg "$b" '.linux.sysctl = {"kernel.panic": "5"}'
err=$(hk create -b "$b" p10 2>&1)
isnt "$?" 0 "non-namespaced sysctl refused"
like "$err" 'kernel.panic.*not (a namespaced|allowed)' "sysctl error text"

# Time namespace with an offset (second fork).
b=$(new_bundle)
cfg "$b" '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}}'
out=$(run_in "$b" p11 /bin/sh -c 'echo $$; cut -d. -f1 /proc/uptime')
first=$(echo "$out" | head -1); up=$(echo "$out" | tail -1)
is "$first" 1 "time namespace: still pid 1 after the second fork"
[ "${up:-0}" -ge 864000 ]; ok $? "time namespace: boottime offset applied (uptime $up)"

# cgroup namespace: unshared once in the final cgroup, so every hierarchy shows "/".
b=$(new_bundle)
cfg "$b" '.linux.namespaces += [{"type": "cgroup"}]'
out=$(run_in "$b" cg1 /bin/cat /proc/self/cgroup)
notroot=$(printf '%s\n' "$out" | grep -v ':/$')
is "$notroot" "" "cgroup namespace: the container's cgroups are its roots"
[ -n "$out" ]; ok $? "cgroup namespace: /proc/self/cgroup readable"
# hostname needs a private UTS namespace.
cfg "$b" '.linux.namespaces |= map(select(.type != "uts" and .type != "cgroup"))'
err=$(hk create -b "$b" h1 2>&1)
isnt $? 0 "hostname without a UTS namespace fails"
like "$err" "(UTS|uts) namespace" "error names the UTS namespace"

# create/start split, the container process reparented to the caller's subreaper (conmon-like).
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sh", "-c", "exit 3"]'
"$HUSK_HELPERS/subreaper" "$T/p12.pid" 10 "$HUSK" --root "$HUSK_TEST_ROOT" create -b "$b" --pid-file "$T/p12.pid" p12 > "$T/sr.out" 2>&1 &
srp=$!
for i in $(seq 50); do grep -q ppid "$T/sr.out" 2>/dev/null && break; sleep 0.1; done
is "$(head -1 "$T/sr.out")" "ppid-ok" "container process is a child of the caller's subreaper"
like "$(cat "$T/p12.pid")" '^[0-9]+$' "pid file holds digits only"
is "$(hk state p12 | jq -r .status)" created "state: created before start"
pid=$(cat "$T/p12.pid")
is "$(hk state p12 | jq -r .pid)" "$pid" "state: pid matches the pid file"
hk start p12
ok $? "start"
wait $srp
is "$(tail -1 "$T/sr.out")" "exit=3" "the subreaper reaps the container's exit status"
is "$(hk state p12 | jq -r .status)" stopped "state: stopped after exit"
err=$(hk start p12 2>&1)
isnt $? 0 "start of a stopped container fails"
like "$err" "not created" "start error names the status"
hk delete p12

# Error texts podman/containerd match on; nothing left behind after a failed create.
b=$(new_bundle)
cfg "$b" '.process.args = ["/nonexistent"]'
err=$(hk create -b "$b" e1 2>&1)
isnt $? 0 "missing executable fails create"
like "$err" 'exec: "/nonexistent": stat /nonexistent: no such file or directory' "missing executable error text"
hk state e1 >/dev/null 2>&1; isnt $? 0 "no state after a failed create"
cfg "$b" '.process.args = ["/etc/passwd"]'
err=$(hk create -b "$b" e2 2>&1)
like "$err" 'exec: "/etc/passwd": permission denied' "not executable error text"
cfg "$b" '.process.args = ["nosuchtool"]'
err=$(hk create -b "$b" e3 2>&1)
like "$err" 'exec: "nosuchtool": executable file not found in \$PATH' "not in PATH error text"
cfg "$b" '.root.path = "/nonexistent-rootfs" | .process.args = ["/bin/true"]'
err=$(hk create -b "$b" e4 2>&1)
isnt $? 0 "missing rootfs fails create"
like "$err" 'rootfs.*/nonexistent-rootfs.*(no such file|No such file)' "missing rootfs error text"
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sleep", "10"]'
hk create -b "$b" d1
ok $? "create d1"
err=$(hk create -b "$b" d1 2>&1)
isnt $? 0 "duplicate id fails"
like "$err" "already exists" "duplicate id error text"
is "$(hk state d1 | jq -r .status)" created "the first d1 is untouched"

# CVE-2019-5736: from a second container in d1's pid namespace, d1's init (still running husk
# code, waiting for start) is not reachable through /proc/1/exe: it is non-dumpable.
d1pid=$(hk state d1 | jq -r .pid)
b2=$(new_bundle)
cfg "$b2" --arg p "/proc/$d1pid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)'
out=$(run_in "$b2" x1 /bin/sh -c 'readlink /proc/1/exe >/dev/null 2>&1 && echo readable; cat /proc/1/exe >/dev/null 2>&1 && echo opened; { echo >> /proc/1/exe; } 2>/dev/null && echo written; readlink /proc/self/exe')
is "$out" "/bin/busybox" "created init: /proc/1/exe neither readable nor writable from the container"
hk start d1
out=$(hk state d1 | jq -r .status)
is "$out" running "d1 running after start"
hk delete --force d1
b=$(new_bundle)
out=$(run_in "$b" x2 /bin/sh -c 'readlink /proc/1/exe; { echo x >> /proc/1/exe; } 2>/dev/null && echo written')
is "$out" "/bin/busybox" "running init: /proc/1/exe is the workload and not writable"

done_testing
