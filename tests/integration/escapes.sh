#!/bin/sh
# Escape regressions that cross modules (STYLE.md §6): a container sharing the caller's terminal must
# not inject input into it (TIOCSTI, CVE-2017-5226): husk puts the workload in a new session with
# no controlling terminal, and it holds no CAP_SYS_ADMIN.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq script

b=$(new_bundle_rw)
cp "$HUSK_HELPERS/tiocsti" "$b/rootfs/bin/tiocsti"
cfg "$b" '.process.args = ["/bin/tiocsti"]'

# script(1) gives husk a pty as its stdin/stdout: the "host terminal" of this test.
out=$(script -qec "'$HUSK' --root '$HUSK_TEST_ROOT' run -b '$b' tty1" /dev/null </dev/null 2>&1 | tr -d '\r')
like "$out" "TIOCSTI failed: (Operation not permitted|Input/output error)" \
        "TIOCSTI into the shared host terminal is refused"
unlike "$out" "INJECTED" "nothing was injected into the host terminal"

# Even with CAP_SYS_ADMIN (which bypasses the controlling-terminal rule), the new session must keep
# the workload away from the caller's terminal: with the capability the ioctl may succeed, so this
# only checks that the workload's session differs from the caller's.
cfg "$b" '.process.args = ["/bin/sh", "-c", "cat /proc/self/stat"]'
stat=$(hk run -b "$b" tty2 </dev/null)
sid=$(echo "$stat" | sed 's/.*) //' | awk '{print $4}')
is "$sid" "1" "the workload leads its own session (setsid: sid is its pid 1)"
done_testing
