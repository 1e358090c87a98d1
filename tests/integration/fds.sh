#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fds reaching the container: stdio inherited, --preserve-fds, leaked fds closed, and a cwd through
# a leaked fd (CVE-2024-21626) refused.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
echo in-data > "$T/in"
out=$(run_in "$b" f1 /bin/sh -c 'cat; echo err >&2' < "$T/in" 2>"$T/err")
is "$out" "in-data" "stdin and stdout are the caller's"
is "$(cat "$T/err")" "err" "stderr is the caller's"

echo three > "$T/three"
echo four > "$T/four"
cfg "$b" '.process.args = ["/bin/sh", "-c", "cat <&3; for f in 4 5 6; do [ -e /proc/$$/fd/$f ] && echo fd$f-open; done; echo done"]'
out=$(hk run -b "$b" --preserve-fds 1 f2 3<"$T/three" 4<"$T/four" 5<"$T/four" 6<"$T/four")
is "$out" "three
done" "--preserve-fds 1: fd 3 readable, fds 4-6 (leaked by the caller) closed"

# Builtins only: a pipeline would show the shell's own pipe fds.
cfg "$b" '.process.args = ["/bin/sh", "-c", "for f in 0 1 2 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && echo -n \"$f \"; done; echo"]'
out=$(hk run -b "$b" f3 7<"$T/four" 9<"$T/four")
is "$out" "0 1 2 " "only stdio reaches the container without --preserve-fds (leaked 7 and 9 closed)"

# systemd socket activation: LISTEN_FDS meant for husk (LISTEN_PID = husk's pid) passes fds 3..
# to the container, before --preserve-fds ones, with LISTEN_FDS=N and LISTEN_PID=1 in its env.
cfg "$b" '.process.env += ["LISTEN_FDS=9"] | .process.args = ["/bin/sh", "-c", "cat <&3; cat <&4; [ -e /proc/$$/fd/5 ] && echo fd5-open; echo $LISTEN_FDS $LISTEN_PID"]'
out=$(sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' sh "$HUSK" --root "$HUSK_TEST_ROOT" run -b "$b" --preserve-fds 1 f5 \
        3<"$T/three" 4<"$T/four" 5<"$T/four")
is "$out" "three
four
1 1" "LISTEN_FDS=1: fd 3 (activation) and fd 4 (--preserve-fds 1) passed, fd 5 closed, env set"
out=$(sh -c 'LISTEN_PID=1 LISTEN_FDS=1 exec "$@"' sh "$HUSK" --root "$HUSK_TEST_ROOT" run -b "$b" f6 3<"$T/three" 2>&1)
unlike "$out" "^three" "LISTEN_FDS meant for another pid is ignored (fd 3 not passed)"

# cwd through a leaked host directory fd must not be usable.
mkdir -p "$T/hostdir"; echo secret > "$T/hostdir/secret"
cfg "$b" '.process.cwd = "/proc/self/fd/7" | .process.args = ["/bin/cat", "secret"]'
out=$(hk create -b "$b" f4 7<"$T/hostdir" 2>&1)
rc=$?
isnt "$rc" 0 "cwd=/proc/self/fd/7 (a leaked host dir) fails the create"
unlike "$out" "^secret" "the host file was not read"
like "$out" "outside the container root|cwd" "error names the cwd"
done_testing
