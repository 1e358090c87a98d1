#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hostile or broken input: invalid ids, bad signals and flags. Every one fails with a clear
# message and rc 1, and creates nothing (not in the state root, not outside it).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
long=$(printf '%02000d' 0)
marker="$T/outside"
mkdir -p "$HUSK_TEST_ROOT"

check_id() { # check_id ID LABEL REGEX
        _id=$1 _l=$2 _re=$3
        for c in create run; do
                err=$(hk $c -b "$b" -- "$_id" 2>&1 </dev/null); rc=$?
                is "$rc" 1 "$c $_l: rc 1"
                like "$err" "^husk: invalid container id .*$_re" "$c $_l: message"
        done
        for c in state start delete; do
                err=$(hk $c -- "$_id" 2>&1); rc=$?
                is "$rc" 1 "$c $_l: rc 1"
                like "$err" "invalid container id" "$c $_l: message"
        done
        err=$(hk delete --force -- "$_id" 2>&1); is "$?" 1 "delete --force $_l: rc 1"
        err=$(hk kill -- "$_id" KILL 2>&1); is "$?" 1 "kill $_l: rc 1"
        is "$(ls -A "$HUSK_TEST_ROOT")" "" "$_l: nothing in the state root"
}

check_id "../x" "../x" "must not contain '/'"
check_id "a/b" "a/b" "must not contain '/'"
check_id "../../../../$marker" "absolute escape" "must not contain '/'"
check_id "." "." "are not allowed"
check_id ".." ".." "are not allowed"
check_id "$(printf 'a\nb')" "newline" "control characters"
check_id "$(printf 'esc\033[2J')" "escape sequence" "control characters"
check_id "$long" "2000 chars" "longer than 1024"
err=$(hk create -b "$b" "" 2>&1 </dev/null); is "$?" 1 "empty id: rc 1"
like "$err" "must not be empty" "empty id: message"
# the escape character never reaches the terminal
err=$(hk state "$(printf 'x\033]0;pwned\007')" 2>&1)
case "$err" in *"$(printf '\033')"*) fail "control characters are escaped in messages";; *) pass "control characters are escaped in messages";; esac
[ ! -e "$marker" ] && [ ! -e "$T/x" ] && [ ! -e "$(dirname "$HUSK_TEST_ROOT")/x" ]; ok $? "nothing created outside the root"
is "$(find "$T" -newer "$b/config.json" -path "$T/state/*" | head -n1)" "" "no state created by any of these"

# a 1024-character id is valid
id1024=$(printf '%01024d' 7)
hk create -b "$b" "$id1024" </dev/null >/dev/null 2>&1; ok $? "1024-character id accepted"
is "$(hk list -q)" "$id1024" "listed"
hk delete --force "$id1024"; ok $? "deleted"

# bad signals and numbers
hk create -b "$b" s1 </dev/null >/dev/null 2>&1
for s in FOO 65 -1 9x SIGKILLX ""; do
        err=$(hk kill s1 "$s" 2>&1); rc=$?
        is "$rc" 1 "kill signal '$s': rc 1"
        like "$err" "invalid signal|unknown option" "kill signal '$s': message"
done
is "$(hk state s1 | jq -r .status)" created "bad kills left s1 alone"
err=$(hk create -b "$b" --preserve-fds -3 p1 2>&1 </dev/null); is "$?" 1 "--preserve-fds -3: rc 1"
err=$(hk create -b "$b" --preserve-fds=x p1 2>&1 </dev/null); is "$?" 1 "--preserve-fds=x: rc 1"
like "$err" "non-negative integer" "--preserve-fds=x: message"
err=$(hk create -b "$T/missing" p2 2>&1 </dev/null); is "$?" 1 "missing bundle: rc 1"
hk state p2 >/dev/null 2>&1; isnt "$?" 0 "missing bundle: no state left"
err=$(hk create --bundle 2>&1 </dev/null); is "$?" 1 "--bundle without value: rc 1"
like "$err" "needs a value" "--bundle without value: message"

# a corrupt state.json: clear error, and delete --force still cleans up
hk create -b "$b" bad1 </dev/null >/dev/null 2>&1
bpid=$(hk state bad1 | jq -r .pid)
hk kill bad1 KILL
printf '{"id": 12' >"$HUSK_TEST_ROOT/bad1/state.json"
err=$(hk state bad1 2>&1); is "$?" 1 "corrupt state.json: rc 1"
like "$err" "state.json" "corrupt state.json: message names the file"
hk delete --force bad1; ok $? "delete --force of a corrupt state"
[ ! -e "$HUSK_TEST_ROOT/bad1" ]; ok $? "corrupt state removed"
left=$(find /sys/fs/cgroup -maxdepth 3 -path '*/husk/bad1' 2>/dev/null)
is "$left" "" "delete --force of a corrupt state removes the container's cgroup too"
hk delete --force s1

done_testing
