#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# linux.seccomp through the CLI: errno/ENOSYS/kill actions, argument filters, the default
# profile, a notify listener (tests/helpers/seccomp-listener), and the compiled-filter cache.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

export HUSK_SECCOMP_CACHE="$T/seccomp-cache"
deny_mkdir() { # deny_mkdir ACTION [ERRNO]
        if [ $# -gt 1 ]; then
                jq -n --arg a "$1" --argjson e "$2" '{defaultAction:"SCMP_ACT_ALLOW",
                  syscalls:[{names:["mkdir","mkdirat"],action:$a,errnoRet:$e}]}'
        else
                jq -n --arg a "$1" '{defaultAction:"SCMP_ACT_ALLOW",syscalls:[{names:["mkdir","mkdirat"],action:$a}]}'
        fi
}

b=$(new_bundle)
cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_ERRNO 1)" '.linux.seccomp = $s'
out=$(run_in "$b" c-errno /bin/sh -c 'mkdir /tmp/x 2>&1; echo rc=$?; grep ^Seccomp: /proc/self/status')
like "$out" "Operation not permitted" "errnoRet 1: mkdir fails with EPERM"
like "$out" "rc=1" "errnoRet 1: mkdir exits 1"
like "$out" "Seccomp:[[:space:]]+2" "the container process runs in seccomp filter mode"

cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_ERRNO 38)" '.linux.seccomp = $s'
out=$(run_in "$b" c-enosys /bin/sh -c 'mkdir /tmp/x 2>&1; echo rc=$?')
like "$out" "Function not implemented" "errnoRet 38: mkdir fails with ENOSYS"

cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_ERRNO 1)" '.linux.seccomp = $s | .linux.seccomp.syscalls[0].names = ["rmdir"]'
out=$(run_in "$b" c-other /bin/sh -c 'mkdir /tmp/x && echo made')
is "$out" "made" "a profile that does not name mkdir leaves it alone"

cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_KILL_PROCESS)" '.linux.seccomp = $s'
run_in "$b" c-kill /bin/mkdir /tmp/x >/dev/null 2>&1
is "$?" "159" "SCMP_ACT_KILL_PROCESS: mkdir dies of SIGSYS (128+31)"

# Argument filter: kill(pid, SIGUSR1) denied, kill(pid, 0) allowed.
cfg "$b" '.linux.seccomp = {defaultAction:"SCMP_ACT_ALLOW", syscalls:[{names:["kill"],
  action:"SCMP_ACT_ERRNO", errnoRet:1, args:[{index:1, value:10, op:"SCMP_CMP_EQ"}]}]}'
out=$(run_in "$b" c-args /bin/sh -c 'trap "" USR1; kill -USR1 $$ 2>&1; echo rc=$?; kill -0 $$ && echo zero-ok')
like "$out" "rc=1" "args: kill with SIGUSR1 is denied"
like "$out" "zero-ok" "args: kill with signal 0 is allowed"

# The default profile (the one `husk spec` writes).
prof=$("$HUSK_BUILDDIR/tools/seccomp-bench" --print-default)
cfg "$b" --argjson s "$prof" '.linux.seccomp = $s'
out=$(run_in "$b" c-default /bin/sh -c 'ls / >/dev/null && cat /etc/passwd >/dev/null && echo basics-ok;
  unshare -U true 2>&1; echo unshare-rc=$?; mount -t tmpfs t /mnt 2>&1; echo mount-rc=$?')
like "$out" "basics-ok" "default profile: sh, ls, cat work"
like "$out" "unshare-rc=[1-9]" "default profile: unshare is refused"
like "$out" "Operation not permitted" "default profile: refused with EPERM"
like "$out" "mount-rc=[1-9]" "default profile: mount is refused"
spec_dir=$(mktemp -d "$T/spec.XXXXXX")
hk spec -b "$spec_dir" >/dev/null
is "$?" "0" "husk spec succeeds"
is "$(jq -c .linux.seccomp "$spec_dir/config.json" 2>/dev/null)" "$(printf '%s' "$prof" | jq -c .)" "husk spec writes the default profile"

# Notify: an agent on linux.seccomp.listenerPath answers mkdir with EXDEV.
sock="$T/agent.sock"
"$HUSK_HELPERS/seccomp-listener" "$sock" "$T/agent-state.json" 18 &
agent=$!
i=0; while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_NOTIFY)" --arg p "$sock" \
  '.linux.seccomp = $s | .linux.seccomp.listenerPath = $p | .linux.seccomp.listenerMetadata = "hello"'
out=$(run_in "$b" c-notify /bin/sh -c 'mkdir /tmp/x 2>&1; echo rc=$?' 2>"$T/notify.err")
if grep -q "SCMP_ACT_NOTIFY is not supported" "$T/notify.err"; then
        # The process module does not pass the listener fd out yet: a known gap, not a pass.
        kill "$agent"; wait "$agent"
        _tap_n=$((_tap_n + 1))
        echo "not ok $_tap_n - notify: the agent answers the container's mkdir # TODO process module: SCMP_ACT_NOTIFY not wired yet"
else
        like "$out" "Invalid cross-device link" "notify: the agent's answer (EXDEV) reaches mkdir"
        # The agent exits once the container is gone; do not hang if it never got a connection.
        i=0; while kill -0 "$agent" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        if kill -0 "$agent" 2>/dev/null; then
                kill "$agent"; wait "$agent"
                fail "notify: the agent saw the container go away" "the agent is still waiting"
        else
                wait "$agent"
                is "$?" "0" "notify: the agent saw the container go away"
        fi
        st=$(cat "$T/agent-state.json" 2>/dev/null)
        is "$(printf '%s' "$st" | jq -r '.fds[0] + " " + .metadata + " " + .state.id')" "seccompFd hello c-notify" "notify: containerProcessState with fds, metadata and state"
        like "$(printf '%s' "$st" | jq -r .pid)" "^[1-9][0-9]*$" "notify: the message carries the pid"
        like "$(cat "$T/agent-state.json.log" 2>/dev/null)" "nr=(83|258)" "notify: the agent received mkdir/mkdirat"
fi

# Cache: the first start stored the compiled program; a repeated start reuses it.
n=$(ls "$HUSK_SECCOMP_CACHE"/*.bpf 2>/dev/null | wc -l)
ok $([ "$n" -ge 1 ]; echo $?) "compiled filters are cached ($n files)"
cfg "$b" --argjson s "$(deny_mkdir SCMP_ACT_ERRNO 1)" '.linux.seccomp = $s'
before=$(ls -l --time-style=+%s.%N "$HUSK_SECCOMP_CACHE" | md5sum)
out=$(run_in "$b" c-cached /bin/sh -c 'mkdir /tmp/x 2>&1')
like "$out" "Operation not permitted" "a cached filter is applied"
is "$(ls -l --time-style=+%s.%N "$HUSK_SECCOMP_CACHE" | md5sum)" "$before" "a repeated start does not rewrite the cache"
done_testing
