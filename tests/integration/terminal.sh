#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# process.terminal: the pty comes from the container's devpts and its master is sent over
# --console-socket (one message "/dev/ptmx" + one fd); husk create does not wait for the peer.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
cfg "$b" '.process.terminal = true | .process.args = ["/bin/sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-tty; ps -o pid,tty | tail -n +2 | head -1; echo tty-ok"]'
err=$(hk create -b "$b" t0 2>&1)
isnt $? 0 "terminal without --console-socket on create fails"
like "$err" "console socket" "error names the console socket"

sock="$T/tty.sock"
"$HUSK_HELPERS/recvtty" "$sock" > "$T/tty.out" 2>"$T/tty.err" &
rp=$!
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
hk create -b "$b" --console-socket "$sock" t1
ok $? "create with --console-socket"
hk start t1
ok $? "start"
wait $rp
ok $? "recvtty received one message with one pty master fd"
like "$(cat "$T/tty.err")" 'got "/dev/ptmx"' "message data is /dev/ptmx"
out=$(tr -d '\r' < "$T/tty.out")
like "$out" "^/dev/pts/0" "the container's tty is /dev/pts/0 of its own devpts"
like "$out" "stdio-tty" "stdin, stdout and stderr are the pty"
like "$out" "tty-ok" "output arrives through the master"
hk delete --force t1

# Foreground run without a console socket: husk proxies the pty.
out=$(hk run -b "$b" t2 < /dev/null | tr -d '\r')
like "$out" "tty-ok" "run proxies the pty to its stdout"
like "$out" "stdio-tty" "run: stdio is the pty"
done_testing
