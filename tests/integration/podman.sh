#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# podman 4.3 + conmon drive husk as their OCI runtime (ENGINES.md section 2). The same scenarios run
# with runc in the same test, so a failure that only husk shows is husk's. podman's storage, run
# dir and the runtime's state root live under this test's temp dir; the host's podman is untouched.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd podman conmon jq script timeout
ARCHIVE=$HUSK_BUILDDIR/images/out/archives/busybox-docker.tar
[ -f "$ARCHIVE" ] || skip_all "missing $ARCHIVE (make images/out/archives/.built)"
IMG=localhost/busybox:docker
# This host lacks CAP_SYS_RESOURCE: podman's default NOFILE 1048576 fails in every runtime (ENGINES.md 6).
U="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096"
# --net none: no CNI/netavark state on the host; the container still gets its own netns.
RUNOPTS="--pull never $U --net none"

# scenarios RT_NAME RT_BINARY RT_DEFAULT_STATE_ROOT
scenarios() {
        name=$1
        E=$T/podman-$name
        mkdir -p "$E/bin"
        # podman passes no --root (ENGINES.md 1): the runtime uses its default state root. (A
        # --runtime-flag root=DIR does not reach the exit command's cleanup, so it cannot be used.)
        rtroot=$3
        before=$(ls "$rtroot" 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort)
        # The basename must be "runc": podman passes --log-format=json only to runtimes it knows.
        ln -s "$2" "$E/bin/runc"
        P="podman --root $E/storage --runroot $E/run --tmpdir $E/tmp --runtime $E/bin/runc \
--cgroup-manager cgroupfs --events-backend file --log-level error"
        ids=""

        $P load -q -i "$ARCHIVE" >/dev/null 2>"$E/load.err"
        ok $? "$name: podman load the busybox archive" || diag "$(cat "$E/load.err")"

        # run --rm: output and exit status pass through.
        out=$(timeout 60 $P run --rm $RUNOPTS $IMG sh -c 'echo hello-$((6*7)); exit 3' 2>"$E/err")
        rc=$?
        is "$out" "hello-42" "$name: podman run --rm prints the workload's output"
        is "$rc" 3 "$name: podman run --rm passes the exit status through"

        # run -d, exec, exec -t, exec of a missing executable, kill -s, pause/unpause, update, stop, rm.
        id=$(timeout 60 $P run -d --name "c-$name" $RUNOPTS $IMG sh -c \
                'trap "echo got-usr1" USR1; trap "exit 0" TERM; while :; do sleep 0.1; done' 2>"$E/err")
        ok $? "$name: podman run -d" || diag "$(cat "$E/err")"
        ids="$ids $id"
        out=$(timeout 30 $P exec "c-$name" sh -c 'echo exec-ok; exit 4' 2>"$E/err")
        rc=$?
        is "$out" "exec-ok" "$name: podman exec output"
        is "$rc" 4 "$name: podman exec exit status"
        out=$(timeout 30 $P exec -t "c-$name" sh -c 'tty; [ -t 0 ] && echo stdin-tty' 2>"$E/err" | tr -d '\r')
        is "$out" "/dev/pts/0
stdin-tty" "$name: podman exec -t gets a pty of the container's devpts"
        out=$(timeout 30 $P exec "c-$name" /no/such/binary 2>&1)
        rc=$?
        is "$rc" 127 "$name: podman exec of a missing executable exits 127"
        like "$out" "no such file or directory" "$name: podman shows the runtime's exec error"
        echo fd3-data > "$E/fd3"
        out=$(timeout 30 $P exec --preserve-fds 1 "c-$name" sh -c 'cat <&3' 3<"$E/fd3" 2>&1)
        is "$out" "fd3-data" "$name: podman exec --preserve-fds reads the caller's fd 3"

        timeout 30 $P kill -s USR1 "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman kill -s USR1" || diag "$(cat "$E/err")"
        n=0
        while [ $n -lt 50 ] && ! $P logs "c-$name" 2>/dev/null | grep -q got-usr1; do sleep 0.1; n=$((n + 1)); done
        like "$($P logs "c-$name" 2>&1)" "got-usr1" "$name: the workload's USR1 trap ran"

        timeout 30 $P pause "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman pause" || diag "$(cat "$E/err")"
        is "$($P inspect -f '{{.State.Status}}' "c-$name")" "paused" "$name: podman shows paused"
        timeout 30 $P unpause "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman unpause" || diag "$(cat "$E/err")"
        is "$($P inspect -f '{{.State.Status}}' "c-$name")" "running" "$name: podman shows running again"

        timeout 30 $P update --memory 256m "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman update --memory 256m" || diag "$(cat "$E/err")"
        out=$(timeout 30 $P exec "c-$name" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')
        is "$out" 268435456 "$name: the new memory limit is visible inside"

        timeout 60 $P stop -t 5 "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman stop" || diag "$(cat "$E/err")"
        is "$($P inspect -f '{{.State.Status}} {{.State.ExitCode}}' "c-$name")" "exited 0" \
                "$name: the workload exited through its TERM trap"
        timeout 30 $P rm "c-$name" >/dev/null 2>"$E/err"
        ok $? "$name: podman rm" || diag "$(cat "$E/err")"

        # run -it through a pty (script gives podman a terminal).
        out=$(timeout 60 script -eqc "$P run --rm -it $RUNOPTS $IMG sh -c 'sleep 0.2; tty; exit 5'" /dev/null 2>&1 | tr -d '\r\000')
        rc=$?
        like "$out" "/dev/pts/0" "$name: podman run -it: the workload's stdin is a pty"
        cid=$(timeout 60 script -eqc "$P run --rm -it $RUNOPTS $IMG sh -c 'exit 5'" /dev/null >/dev/null 2>&1; echo $?)
        is "$cid" 5 "$name: podman run -it passes the exit status through"

        # run --preserve-fds
        out=$(timeout 60 $P run --rm --preserve-fds 2 $RUNOPTS $IMG sh -c 'cat <&3; cat <&4' 3<"$E/fd3" 4<"$E/fd3" 2>&1)
        is "$out" "fd3-data
fd3-data" "$name: podman run --preserve-fds 2 passes fds 3 and 4"

        # A missing executable: exit 127 and the runtime's message.
        out=$(timeout 60 $P run --rm $RUNOPTS $IMG /no/such/binary 2>&1)
        rc=$?
        is "$rc" 127 "$name: podman run of a missing executable exits 127"
        like "$out" '/no/such/binary.*no such file or directory' "$name: podman shows the runtime's message"

        # Nothing left behind: containers, runtime state, cgroups, conmon processes.
        is "$($P ps -aq | wc -l)" 0 "$name: no podman container left"
        after=$(ls "$rtroot" 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort)
        left=$(echo "$after" | grep -vxF "$before" 2>/dev/null)
        [ -z "$before" ] && left=$after
        is "$left" "" "$name: no runtime state folder left"
        left=""
        for i in $ids; do
                left="$left$(find /sys/fs/cgroup/*/libpod_parent -maxdepth 1 -name "*$i*" 2>/dev/null)"
        done
        is "$left" "" "$name: no cgroup of the containers left"
        left=$(ps -eo pid=,args= | grep "conmon" | grep -F "$E/" | grep -v grep)
        is "$left" "" "$name: no conmon left"

        $P rmi -a -f >/dev/null 2>&1
        $P system reset -f >/dev/null 2>&1
        left=$(awk -v e="$E" 'index($5, e) == 1 { print $5 }' /proc/self/mountinfo)
        is "$left" "" "$name: no mount left under podman's storage"
}

scenarios husk "$HUSK" /run/husk
if command -v runc >/dev/null 2>&1; then
        scenarios runc "$(command -v runc)" /run/runc
else
        skip "runc is not installed: no reference run"
fi
