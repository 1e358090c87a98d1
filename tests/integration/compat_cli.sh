#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# runc's command-line surface (issue 16): exec's cgroups, exec --cgroup and --additional-gids,
# run --keep, update's runc flags, ps with ps(1) options, events (stream, OOM), list --format json,
# kill of a stopped container, --log-format json for --debug lines; and the help of every command
# and subcommand (issue 19). Where runc is installed, its answers are compared directly.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq ps

RUNC=$(command -v runc 2>/dev/null || true)
runc_root="$T/runc-state"
rc_() { "$RUNC" --root "$runc_root" "$@"; }

# The cgroup path of a process in every hierarchy, one "HIERARCHY:CONTROLLERS:PATH" per line.
cg_of() { sort "/proc/$1/cgroup"; }
# The mount points of every cgroup hierarchy (v1 controllers, the hybrid unified one, or v2's).
cg_mounts() { grep -E ' - cgroup2? ' /proc/self/mountinfo | awk '{ print $5 }'; }

# ---- 3. help: every command and subcommand that husk --help lists (issue 19)
# The words of a help text's "Commands:" section ("  NAME ..." lines; "a | b NAME" lists two).
commands_of() { awk '/^Commands:/ { f = 1; next } f && /^$/ { f = 0 }
        f && /^  [a-z]/ { n = split($0, parts, / \| /); for (i = 1; i <= n; i++) { split(parts[i], w, " "); print w[1] } }'; }
check_help() { # check_help WORDS...: -h and --help print that command's usage on stdout, exit 0
        for h in --help -h; do
                out=$("$HUSK" "$@" $h 2>"$T/help.err"); rc=$?
                first=$(printf '%s\n' "$out" | head -1)
                if [ "$rc" = 0 ] && [ ! -s "$T/help.err" ] &&
                   printf '%s' "$first" | grep -Eq "^Usage: husk (\[global options\] )?$*( |$)"; then
                        pass "husk $* $h: its own usage on stdout, exit 0"
                else
                        fail "husk $* $h: its own usage on stdout, exit 0" "rc $rc, first line '$first', stderr '$(head -1 "$T/help.err")'"
                fi
        done
}
top=$("$HUSK" --help | commands_of)
[ "$(echo "$top" | wc -l)" -ge 20 ]; ok $? "husk --help lists the commands ($(echo $top | wc -w))"
groups=""
for cmd in $top; do
        check_help "$cmd"
        subs=$("$HUSK" "$cmd" --help 2>/dev/null | commands_of)
        [ -n "$subs" ] && groups="$groups $cmd"
        for sub in $subs; do check_help "$cmd" "$sub"; done
done
is "$(echo $groups)" "fn queue api image network" "the commands with subcommands"
# The cases issue 19 saw, by name (whatever the help texts list).
check_help image load; check_help image ls; check_help fn invoke; check_help network ls
for w in "" image network fn; do
        err=$("$HUSK" $w lss 2>&1 >/dev/null); rc=$?
        is "$rc" 2 "husk $w lss: exit 2"
        like "$err" "unknown command 'lss'" "husk $w lss: the unknown word is named"
        # with --help too: an unknown word's help is not the general one (husk fn printed it, 0)
        out=$("$HUSK" $w lss --help 2>"$T/lsshelp.err"); rc=$?
        is "$rc" 2 "husk $w lss --help: exit 2"
        like "$(cat "$T/lsshelp.err")" "unknown command 'lss'" "husk $w lss --help: the word is named"
done
# husk-fn's general usage names options; each belongs to a command's own help.
for o in $("$HUSK" fn --help | grep -Eo -- '--[a-z][a-z-]+' | sort -u); do
        found=""
        for sub in $("$HUSK" fn --help | commands_of); do
                "$HUSK" fn "$sub" --help | grep -q -- "$o " && found=1 && break
        done
        [ -n "$found" ]; ok $? "fn: $o is in a command's own help"
done

cgp="husk-compat-$$"
b=$(new_bundle)
cfg "$b" --arg p "/$cgp/c1" '.linux.cgroupsPath = $p | .process.args = ["/bin/sh","-c","sleep 1000 & exec sleep 1001"]'
hk run -d -b "$b" c1 </dev/null; ok $? "run -d c1"
init=$(hk state c1 | jq -r .pid)

# ---- 1. exec: every hierarchy, from a caller in other cgroups too
hk exec -d --pid-file "$T/e1.pid" c1 sleep 100; ok $? "exec -d"
is "$(cg_of "$(cat "$T/e1.pid")")" "$(cg_of "$init")" "exec: /proc/PID/cgroup equals init's in every hierarchy"
caller="husk-compat-caller-$$"
for m in $(cg_mounts); do mkdir -p "$m/$caller" 2>/dev/null; done
# A caller in another cgroup of each hierarchy it can enter (cpuset needs cpus/mems first).
sh -c 'for m in '"$(cg_mounts | tr '\n' ' ')"'; do echo $$ > "$m/'"$caller"'/cgroup.procs" 2>/dev/null; done
        exec "$0" "$@"' "$HUSK" --root "$HUSK_TEST_ROOT" exec -d --pid-file "$T/e2.pid" c1 sleep 100
ok $? "exec -d from a caller in other cgroups"
is "$(cg_of "$(cat "$T/e2.pid")")" "$(cg_of "$init")" "exec from another cgroup: every line equals init's"
for m in $(cg_mounts); do rmdir "$m/$caller" 2>/dev/null; done

# ---- 1. exec --cgroup SUB, --additional-gids
for m in $(cg_mounts); do mkdir -p "$m/$cgp/c1/sub"; done
cs=$(ls -d /sys/fs/cgroup/cpuset/"$cgp"/c1 2>/dev/null)
if [ -n "$cs" ]; then
        cat "$cs/cpuset.cpus" > "$cs/sub/cpuset.cpus"
        cat "$cs/cpuset.mems" > "$cs/sub/cpuset.mems"
fi
hk exec -d --pid-file "$T/e3.pid" --cgroup sub c1 sleep 100; ok $? "exec --cgroup sub"
want=$(cg_of "$init" | sed 's|$|/sub|')
is "$(cg_of "$(cat "$T/e3.pid")")" "$want" "exec --cgroup sub: the sub-cgroup in every hierarchy"
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; then
        hk exec -d --pid-file "$T/e4.pid" --cgroup memory,pids:/sub c1 sleep 100
        ok $? "exec --cgroup memory,pids:/sub"
        got=$(awk -F: '{ print $2 ":" $3 }' "/proc/$(cat "$T/e4.pid")/cgroup" | sort | tr '\n' ' ')
        exp=$(awk -F: -v s="/$cgp/c1" '{ p = s; if ($2 == "memory" || $2 == "pids") p = s "/sub"; print $2 ":" p }' \
                "/proc/$init/cgroup" | sort | tr '\n' ' ')
        is "$got" "$exp" "exec --cgroup CTRL,CTRL:PATH: only those hierarchies use the sub-cgroup"
else
        skip "no v1 memory and pids hierarchies"
        skip "no v1 memory and pids hierarchies"
fi
err=$(hk exec --cgroup nosuch c1 true 2>&1); rc=$?
is "$rc" 255 "exec --cgroup missing: exit 255"
like "$err" "sub-cgroup .*nosuch does not exist" "exec --cgroup missing: named"
err=$(hk exec --cgroup ../c1 c1 true 2>&1)
like "$err" '"\.\." is not allowed' "exec --cgroup ..: refused"
err=$(hk exec --cgroup nosuchctrl:/sub c1 true 2>&1)
like "$err" 'no cgroup hierarchy has the controller "nosuchctrl"' "exec --cgroup unknown controller: named"
is "$(hk exec -g 10 --additional-gids 20 --additional-gids=30 -u 1000:1000 c1 id -G)" "1000 10 20 30" \
        "exec --additional-gids/-g: supplementary groups"
err=$(hk exec -g abc c1 id 2>&1); rc=$?
isnt "$rc" 0 "exec -g abc: refused"
like "$err" 'invalid --additional-gids "abc"' "exec -g abc: named"

# ---- 2. ps ID [ps options]
out=$(hk ps c1)
is "$(echo "$out" | head -1 | awk '{ print $1, $2, $3 }')" "UID PID PPID" "ps: ps -ef header by default"
echo "$out" | awk 'NR > 1 { print $2 }' | sort -n > "$T/ps-table"
hk ps --format json c1 | jq '.[]' | sort -n > "$T/ps-json"
is "$(cat "$T/ps-table")" "$(cat "$T/ps-json")" "ps: the rows are the container's processes"
out=$(hk ps c1 -o pid,comm)
is "$(echo "$out" | head -1 | awk '{ print $1, $2 }')" "PID COMMAND" "ps ID -o pid,comm: ps(1)'s header"
like "$(echo "$out" | awk -v p="$init" '$1 == p { print $2 }')" "^sleep$" "ps ID -o pid,comm: init's row"
is "$(echo "$out" | awk 'NR > 1 { print $1 }' | sort -n)" "$(cat "$T/ps-json")" "ps ID -o: only the container's rows"
err=$(hk ps c1 -o comm 2>&1); rc=$?
is "$rc" 1 "ps without a PID column: rc 1"
like "$err" "couldn't find PID field in ps output" "ps without a PID column: runc's message"

# ---- 2. update: runc's flags
cgmem=/sys/fs/cgroup/memory/$cgp/c1
hk update --cpu-share 333 --cpu-period 100000 --cpu-quota 50000 --memory 64m --memory-reservation 32m \
        --memory-swap 128m --pids-limit 77 c1
ok $? "update with runc's flags (--cpu-share ...)"
if [ -d "$cgmem" ]; then
        is "$(cat /sys/fs/cgroup/cpu/$cgp/c1/cpu.shares)" 333 "update --cpu-share"
        is "$(cat /sys/fs/cgroup/cpu/$cgp/c1/cpu.cfs_quota_us)" 50000 "update --cpu-quota"
        is "$(cat "$cgmem/memory.limit_in_bytes")" 67108864 "update --memory 64m"
        is "$(cat "$cgmem/memory.soft_limit_in_bytes")" 33554432 "update --memory-reservation"
        is "$(cat /sys/fs/cgroup/pids/$cgp/c1/pids.max)" 77 "update --pids-limit"
        echo '{"pids":{"limit":55}}' > "$T/res.json"
        hk update -r "$T/res.json" c1; ok $? "update -r FILE"
        is "$(cat /sys/fs/cgroup/pids/$cgp/c1/pids.max)" 55 "update -r FILE applied"
        echo '{"pids":{"limit":56}}' > "$T/res.json"
        err=$(hk update -r "$T/res.json" --pids-limit 99 c1 2>&1); ok $? "update -r FILE with flags: accepted (runc ignores the flags)"
        is "$(cat /sys/fs/cgroup/pids/$cgp/c1/pids.max)" 56 "update -r FILE with flags: the document wins"
        like "$err" "flags are ignored" "update -r FILE with flags: a warning says so"
else
        for _ in 1 2 3 4 5 6 7 8 9 10; do skip "cgroup v1 files"; done
fi

# ---- 2. list --format json: rootfs and the other fields runc prints
l=$(hk list --format json | jq -c '.[] | select(.id == "c1")')
is "$(echo "$l" | jq -r .rootfs)" "$(hk state c1 | jq -r .rootfs)" "list --format json: rootfs"
is "$(echo "$l" | jq -r 'keys | sort | join(",")')" "bundle,created,id,ociVersion,owner,pid,rootfs,status" \
        "list --format json: runc's fields"

# ---- 2. --log-format json: --debug lines too, on stderr without --log
hk --debug --log-format json state c1 >/dev/null 2>"$T/dbg"
is "$(wc -l < "$T/dbg" | tr -d ' ')" "$(jq -c . < "$T/dbg" 2>/dev/null | wc -l | tr -d ' ')" "--debug --log-format json: every stderr line is JSON"
jq -se 'length >= 1 and all(.[]; .level == "debug" and (.msg | type) == "string" and (.time | type) == "string")' "$T/dbg" >/dev/null
ok $? "--debug --log-format json: debug objects {level,msg,time}"
hk --log-format json kill nope 2>"$T/err"
is "$(jq -r '.level + " " + .msg' < "$T/err" 2>/dev/null)" "error container does not exist" "--log-format json without --log: the error as JSON on stderr"

# ---- 2. events: a stream until the container stops, OOM notifications
b2=$(new_bundle)
cfg "$b2" '.process.args = ["/bin/sleep","2"]'
hk run -d -b "$b2" ev1 </dev/null; ok $? "run -d ev1 (sleep 2)"
start=$(date +%s)
timeout 20 "$HUSK" --root "$HUSK_TEST_ROOT" events --interval 500ms ev1 > "$T/ev1"; rc=$?
took=$(( $(date +%s) - start ))
is "$rc" 0 "events: ends with rc 0 when the container stops"
[ "$took" -le 5 ]; ok $? "events: ends as the container stops (took ${took}s)"
n=$(jq -s 'map(select(.type == "stats" and .id == "ev1" and (.data.cpu.usage.total | type) == "number")) | length' < "$T/ev1")
[ "$n" -ge 2 ]; ok $? "events --interval 500ms: a stats object per interval ($n)"
hk delete ev1
b3=$(new_bundle)
cfg "$b3" '.process.args = ["/bin/sh","-c","sleep 1; tail /dev/zero; sleep 100"] | .linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
hk run -d -b "$b3" oom1 </dev/null 2>/dev/null; ok $? "run -d oom1 (16 MiB, then tail /dev/zero)"
timeout 15 "$HUSK" --root "$HUSK_TEST_ROOT" events --interval 10s oom1 > "$T/oom" &
evpid=$!
for _ in $(seq 100); do grep -q '"oom"' "$T/oom" 2>/dev/null && break; sleep 0.1; done
is "$(grep '"oom"' "$T/oom" | head -1)" '{"type":"oom","id":"oom1"}' "events: an OOM is reported as runc prints it"
hk delete -f oom1
wait $evpid; is "$?" 0 "events: ends when the container is deleted"
err=$(hk events --stats nope 2>&1); is "$?" 1 "events on an unknown id: rc 1"
for iv in 0 0s 100000h x; do
        err=$(timeout 5 "$HUSK" --root "$HUSK_TEST_ROOT" events --interval "$iv" c1 2>&1 >/dev/null); rc=$?
        is "$rc" 1 "events --interval $iv: refused (rc $rc)"
        like "$err" "invalid --interval \"$iv\"" "events --interval $iv: named"
done

# ---- 2. run --keep
b4=$(new_bundle)
cfg "$b4" '.process.args = ["/bin/sh","-c","exit 3"]'
hk run --keep -b "$b4" k1 </dev/null; is "$?" 3 "run --keep: the process's exit status"
is "$(hk state k1 2>/dev/null | jq -r .status)" stopped "run --keep: the container stays, stopped"
hk delete k1; ok $? "run --keep: delete afterwards"
(cd "$b4" && hk run --keep k3 </dev/null); is "$?" 3 "run --keep ID in the bundle folder: the bundle mode"
is "$(hk state k3 2>/dev/null | jq -r .status)" stopped "run --keep ID in the bundle folder: kept"
hk delete k3
hk run -b "$b4" k2 </dev/null
err=$(hk state k2 2>&1); is "$err" "husk: container does not exist" "run without --keep: deleted"

# ---- 2. kill of a stopped container: runc's message and exit code
b5=$(new_bundle)
cfg "$b5" '.process.args = ["/bin/true"]'
hk run -d -b "$b5" ks </dev/null
for _ in $(seq 50); do [ "$(hk state ks | jq -r .status)" = stopped ] && break; sleep 0.1; done
err=$(hk kill ks 9 2>&1); rc=$?
is "$rc" 1 "kill of a stopped container: rc 1"
is "$err" "husk: container not running" "kill of a stopped container: container not running"
hk kill --all ks 9; is "$?" 0 "kill --all of a stopped container: rc 0 (runc)"
if [ -n "$RUNC" ]; then
        cfg "$b5" '.ociVersion = "1.0.2"'
        rc_ run -d -b "$b5" rks </dev/null >/dev/null 2>&1
        for _ in $(seq 50); do [ "$(rc_ state rks 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.1; done
        rerr=$(rc_ kill rks 9 2>&1); rrc=$?
        is "$rc" "$rrc" "kill of a stopped container: the same exit code as runc"
        like "$rerr" "msg=\"container not running\"" "kill of a stopped container: runc says the same"
        rc_ kill --all rks 9 >/dev/null 2>&1; is "$?" 0 "runc kill --all of a stopped container: rc 0 too"
        rc_ delete -f rks >/dev/null 2>&1
else
        skip "runc not installed"; skip "runc not installed"; skip "runc not installed"
fi
hk delete ks

hk delete -f c1
for m in $(cg_mounts); do rmdir "$m/$cgp" 2>/dev/null; done
done_testing
