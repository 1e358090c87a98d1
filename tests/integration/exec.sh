#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# husk exec (runc semantics, ENGINES.md 1 and 5.7), ps, events, features, checkpoint, kill --all.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sh", "-c", "echo init > /tmp/who; trap \"exit 0\" TERM; while :; do sleep 0.1; done"]'
hk run -d -b "$b" e1
ok $? "run -d the container"
init=$(hk state e1 | jq -r .pid)

# argv form: namespaces, exit status, options after the id belong to the command.
out=$(hk exec e1 sh -c 'cat /tmp/who; hostname; echo $$; exit 7')
rc=$?
is "$rc" 7 "foreground exec returns the process's exit status"
is "$(echo "$out" | head -2 | tr '\n' ' ')" "init husk " "exec sees the container's /tmp (mount ns) and hostname (uts ns)"
isnt "$(echo "$out" | tail -1)" "1" "exec'd process is not pid 1"
[ "$(echo "$out" | tail -1)" -lt 100 ] 2>/dev/null
ok $? "exec'd process has a small pid (container pid ns)"
for ns in mnt uts ipc net pid cgroup; do
        want=$(readlink /proc/$init/ns/$ns)
        got=$(hk exec e1 readlink /proc/self/ns/$ns)
        is "$got" "$want" "exec joins the $ns namespace"
done
is "$(hk exec e1 cat /proc/self/cgroup | grep -c memory:/husk/e1)" 1 "exec joins the cgroup"
is "$(hk exec e1 grep CapEff /proc/self/status | tr -d '\t')" "CapEff:0000000020000420" \
        "exec gets the container's capabilities"
is "$(hk exec e1 grep NoNewPrivs /proc/self/status | tr -d '\t')" "NoNewPrivs:1" "exec keeps noNewPrivileges"

# --env, --cwd, --user, --cap
out=$(hk exec -e FOO=bar --env TERM=dumb --cwd /tmp --user 1000:1001 e1 sh -c 'echo $FOO $TERM; pwd; id -u; id -g')
is "$(echo $out)" "bar dumb /tmp 1000 1001" "exec --env --cwd --user"
is "$(hk exec --cap CAP_SYS_ADMIN e1 grep CapEff /proc/self/status | tr -d '\t')" "CapEff:0000000020200420" \
        "exec --cap adds a capability"
err=$(hk exec --user root e1 true 2>&1)
is "$?" 255 "exec --user with a name fails (numbers only)"

# Errors: exit 255 and "exec failed: ...".
err=$(hk exec e1 /no/such/binary 2>&1)
is "$?" 255 "exec of a missing executable exits 255"
like "$err" 'exec failed: .*exec: "/no/such/binary": stat /no/such/binary: no such file or directory' \
        "and says exec failed with runc's text"
err=$(hk exec e1 nosuchcmd 2>&1)
like "$err" 'executable file not found in \$PATH' "PATH lookup error text"
err=$(hk exec nosuch true 2>&1)
is "$?" 255 "exec in an unknown container exits 255"
like "$err" "container does not exist" "and says so"

# --process FILE (the form engines use), --detach, --pid-file: digits only, process reparented to
# the caller's subreaper.
cat > "$T/p.json" <<'JSON'
{"args":["/bin/sh","-c","echo from-process-json > /tmp/pj; exec sleep 30"],"env":["PATH=/bin"],"cwd":"/",
 "user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
 "rlimits":[{"type":"RLIMIT_NOFILE","hard":512,"soft":256}],"noNewPrivileges":true}
JSON
"$HUSK_HELPERS/subreaper" "$T/x.pid" 1 "$HUSK" --root "$HUSK_TEST_ROOT" exec --process "$T/p.json" --detach \
        --pid-file "$T/x.pid" e1 > "$T/sr.out" 2>&1
is "$(head -1 "$T/sr.out")" "ppid-ok" "exec --detach: the process is a child of the caller's subreaper"
pid=$(cat "$T/x.pid")
like "$pid" '^[0-9]+$' "pid file holds digits only"
is "$(wc -l < "$T/x.pid" | tr -d ' ')" 0 "pid file has no newline"
is "$(hk exec e1 cat /tmp/pj)" "from-process-json" "process.json args ran"
is "$(grep 'Max open files' /proc/$pid/limits | awk '{print $4, $5}')" "256 512" "process.json rlimits applied"
is "$(grep CapEff /proc/$pid/status | tr -d '\t')" "CapEff:0000000000000020" "process.json capabilities applied"
pids=$(hk ps --format json e1)
echo "$pids" | jq -e --argjson p "$pid" --argjson i "$init" 'index($p) != null and index($i) != null' >/dev/null
ok $? "ps --format json lists init and the exec'd process"
like "$(hk ps e1)" "sleep 30" "ps table shows the command"
kill -9 "$pid"

# Seccomp: the container's profile applies to exec'd processes.
b2=$(new_bundle)
cfg "$b2" '.process.args = ["sleep", "30"] | .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
hk run -d -b "$b2" e2
err=$(hk exec e2 mkdir /tmp/x 2>&1)
isnt "$?" 0 "exec runs under the container's seccomp profile"
like "$err" "Operation not permitted" "mkdir fails with the profile's errno"

# SCMP_ACT_NOTIFY: the exec'd process's listener goes to linux.seccomp.listenerPath too (one
# connection per process: a second agent serves the exec).
sock="$T/agent.sock"
"$HUSK_HELPERS/seccomp-listener" "$sock" "$T/agent1.json" 18 > /dev/null 2>&1 &
a1=$!
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
b4=$(new_bundle)
cfg "$b4" --arg p "$sock" '.process.args = ["sleep", "30"] | .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","listenerPath":$p,"listenerMetadata":"m","syscalls":[{"names":["mkdirat","mkdir"],"action":"SCMP_ACT_NOTIFY"}]}'
hk run -d -b "$b4" e4
ok $? "run -d with a notify profile"
rm -f "$sock"
"$HUSK_HELPERS/seccomp-listener" "$sock" "$T/agent2.json" 18 > /dev/null 2>&1 &
a2=$!
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
out=$(timeout 10 "$HUSK" --root "$HUSK_TEST_ROOT" exec e4 sh -c 'mkdir /tmp/x 2>&1; echo rc=$?')
like "$out" "cross-device" "exec: the agent's answer (EXDEV) reaches the exec'd process's mkdir"
is "$(jq -r '.metadata + " " + .state.id' "$T/agent2.json" 2>/dev/null)" "m e4" \
        "exec: the agent got containerProcessState with metadata and id"
hk delete --force e4
for p in $a1 $a2; do
        n=0
        while kill -0 $p 2>/dev/null && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
        kill $p 2>/dev/null
done

# Terminal: --tty with --console-socket sends the master of a pty from the container's devpts.
sock="$T/tty.sock"
"$HUSK_HELPERS/recvtty" "$sock" > "$T/tty.out" 2>"$T/tty.err" &
rp=$!
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
hk exec -d -t --console-socket "$sock" e1 sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-tty'
ok $? "exec --tty --console-socket"
wait $rp
ok $? "the console socket got one message with one fd"
out=$(tr -d '\r' < "$T/tty.out")
like "$out" "^/dev/pts/[0-9]" "the exec'd process has a pty of the container's devpts"
like "$out" "stdio-tty" "its stdio is the pty"
err=$(hk exec -d -t e1 true 2>&1)
is "$?" 255 "exec --detach --tty without a console socket fails"

# --preserve-fds, and a leaked fd above the range never reaches the process (CVE-2024-21626).
echo fd3-data > "$T/fd3"
out=$(hk exec --preserve-fds 1 e1 sh -c 'cat <&3' 3<"$T/fd3")
is "$out" "fd3-data" "exec --preserve-fds 1 passes fd 3"
out=$(hk exec e1 sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "' 5<"$T/fd3")
is "$out" "0 1 2 3 " "no fd but stdio (and ls's own) reaches the process"

# exec in a paused container: refused unless --ignore-paused (runc).
hk pause e1
err=$(hk exec e1 true 2>&1)
is "$?" 255 "exec in a paused container exits 255"
like "$err" "cannot exec in a paused container" "and says so"
hk resume e1

# exec in a stopped container
hk kill e2 KILL
for _ in $(seq 100); do [ "$(hk state e2 | jq -r .status)" = stopped ] && break; sleep 0.1; done
err=$(hk exec e2 true 2>&1)
is "$?" 255 "exec in a stopped container exits 255"
like "$err" "cannot exec in a stopped container" "and says so"
hk delete e2

# events --stats: runc's shape from the cgroup files.
ev=$(hk events --stats e1)
is "$(echo "$ev" | jq -r '.type + " " + .id')" "stats e1" "events --stats: type and id"
echo "$ev" | jq -e '.data.pids.current >= 1 and .data.memory.usage.usage > 0 and .data.cpu.usage.total > 0' >/dev/null
ok $? "events --stats: pids, memory and cpu usage"
n=$(timeout 3 "$HUSK" --root "$HUSK_TEST_ROOT" events --interval 1s e1 | head -2 | wc -l)
is "$n" 2 "events --interval streams one line per interval"

# update with runc-style flags
hk update --memory 200m --memory-swap 400m --cpu-shares 512 --pids-limit 99 e1
ok $? "update --memory --memory-swap --cpu-shares --pids-limit"
cg=$(hk exec e1 cat /proc/self/cgroup | awk -F: '$2 == "memory" { print $3 }')
is "$(cat /sys/fs/cgroup/memory$cg/memory.limit_in_bytes)" 209715200 "memory limit 200m"
is "$(cat /sys/fs/cgroup/pids$cg/pids.max)" 99 "pids limit"
is "$(cat /sys/fs/cgroup/cpu$cg/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct$cg/cpu.shares)" 512 "cpu shares"
err=$(hk update --memory 12x e1 2>&1)
isnt "$?" 0 "update rejects a bad size"
like "$err" 'invalid value "12x" for --memory' "and names the flag"

# features, checkpoint
f=$(hk features)
is "$(echo "$f" | jq -r '[.linux.cgroup.v1, .linux.cgroup.v2, .linux.cgroup.systemd, .linux.apparmor.enabled] | map(tostring) | join(" ")')" \
        "true true false false" "features: cgroup v1/v2, no systemd, no AppArmor"
echo "$f" | jq -e '(.linux.namespaces | index("user")) and (.linux.seccomp.actions | index("SCMP_ACT_ERRNO")) and (.linux.capabilities | index("CAP_SYS_ADMIN")) and (.mountOptions | index("idmap") | not)' >/dev/null
ok $? "features: namespaces, seccomp actions, capabilities; no idmap mounts"
hk checkpoint --help >/dev/null
ok $? "checkpoint --help exits 0"
err=$(hk checkpoint --image-path "$T/ck" e1 2>&1)
isnt "$?" 0 "checkpoint fails"
like "$err" "not supported.*CRIU" "with a clear message"

# kill --all for a container sharing the host pid namespace.
b3=$(new_bundle)
cfg "$b3" '.process.args = ["sh", "-c", "sleep 30 & sleep 30; true"] | .linux.namespaces |= map(select(.type != "pid"))'
hk run -d -b "$b3" e3
for _ in $(seq 100); do [ "$(hk ps --format json e3 | jq length)" = 3 ] && break; sleep 0.1; done
is "$(hk ps --format json e3 | jq length)" 3 "shared pid ns: sh and two sleeps in the cgroup"
hk kill --all e3 KILL
ok $? "kill --all"
n=0
while [ $n -lt 30 ] && [ "$(hk ps --format json e3 | jq length)" != 0 ]; do sleep 0.1; n=$((n + 1)); done
is "$(hk ps --format json e3)" null "kill --all killed every process (ps json: null, as runc)"
hk delete e3

hk kill e1 TERM
n=0
while [ $n -lt 50 ] && [ "$(hk state e1 | jq -r .status)" != stopped ]; do sleep 0.1; n=$((n + 1)); done
hk delete e1
ok $? "delete"
done_testing
