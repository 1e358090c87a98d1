#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Lifecycle through the CLI: created -> running -> stopped, state JSON, list, kill, delete, and
# concurrent commands on one id.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# A long-running container: `sleep` as init, stdio detached so $(...) never waits on it.
mk_sleeper() { # mk_sleeper ID [ARGS...] -> creates (not starts) the container
        _id=$1; shift
        _b=$(new_bundle)
        cfg "$_b" '.process.args = ["/bin/sleep","1000"]'
        hk create -b "$_b" --pid-file "$T/$_id.pid" "$_id" </dev/null >/dev/null 2>"$T/$_id.err"
}

# gone PID: the process has exited (a zombie waiting for its reaper counts), within 5 s.
gone() {
        for _i in $(seq 1 50); do
                _s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
                [ -z "$_s" ] || [ "$_s" = Z ] && return 0
                sleep 0.1
        done
        return 1
}

# ---- created -> running -> stopped
mk_sleeper c1; ok $? "create c1"
is "$(cat "$T/c1.err")" "" "create prints nothing on stderr"
st=$(hk state c1); ok $? "state c1"
is "$(printf '%s' "$st" | jq -r .status)" created "status created after create"
is "$(printf '%s' "$st" | jq -r .id)" c1 "state: id"
is "$(printf '%s' "$st" | jq -r .pid)" "$(cat "$T/c1.pid")" "state: pid = pid file"
like "$(printf '%s' "$st" | jq -r .ociVersion)" '^1\.[0-9]+\.[0-9]+' "state: ociVersion"
like "$(printf '%s' "$st" | jq -r .bundle)" "^$T/bundle\." "state: bundle is absolute"
like "$(printf '%s' "$st" | jq -r .created)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$' "state: created is RFC 3339"
is "$(printf '%s' "$st" | jq -r .owner)" "" "state: owner"
is "$(printf '%s' "$st" | tail -c1 | od -An -c | tr -d ' ')" "}" "state: no trailing newline (like runc)"
is "$(printf '%s' "$st" | head -n1)" "{" "state: pretty-printed"
pid=$(cat "$T/c1.pid")
is "$(printf '%s' "$(cat "$T/c1.pid")" | wc -l | tr -d ' ')" 0 "pid file: digits, no newline"

errout=$(hk start c1 2>&1); ok $? "start c1"
is "$errout" "" "start prints nothing"
is "$(hk state c1 | jq -r .status)" running "status running after start"
hk start c1 >/dev/null 2>&1; isnt $? 0 "start twice fails"

# list: table, json, -q
tbl=$(hk list)
is "$(printf '%s\n' "$tbl" | head -n1 | tr -s ' ')" "ID PID STATUS BUNDLE CREATED OWNER" "list: table header"
like "$(printf '%s\n' "$tbl" | grep '^c1 ')" "^c1 +$pid +running +$T/bundle\.[^ ]+ +[0-9T:.Z-]+ +root$" "list: table row"
js=$(hk list --format json)
is "$(printf '%s' "$js" | jq -r '.[0].id + " " + .[0].status + " " + (.[0].pid|tostring)')" "c1 running $pid" "list --format json"
is "$(printf '%s' "$js" | jq -r '.[0].owner')" root "list json: owner"
is "$(hk list -f json | jq length)" 1 "list -f json: one container"
is "$(hk list -q)" c1 "list -q: ids only"

# kill by name: SIGKILL as "KILL"
errout=$(hk kill c1 KILL 2>&1); ok $? "kill c1 KILL"
is "$errout" "" "kill prints nothing"
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(hk state c1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
is "$(hk state c1 | jq -r .status)" stopped "status stopped after SIGKILL"
is "$(hk state c1 | jq -r .pid)" 0 "stopped: pid 0"
gone "$pid"; ok $? "init is gone"
err=$(hk kill c1 2>&1); rc=$?
is "$rc" 1 "kill of a stopped container: rc 1"
is "$err" "husk: container not running" "kill of a stopped container: message"
err=$(hk kill c1 9 2>&1); is "$err" "husk: container not running" "kill 9 of a stopped container"
hk kill --all c1 9 >/dev/null 2>&1; ok $? "kill --all of a stopped container succeeds (runc)"
errout=$(hk delete c1 2>&1); ok $? "delete a stopped container"
is "$errout" "" "delete prints nothing"
hk state c1 >/dev/null 2>&1; is $? 1 "state after delete: rc 1"
is "$(hk list -q)" "" "list empty after delete"

# kill by number and by SIGNAME; default SIGTERM. init traps TERM (a namespace's pid 1 ignores
# signals it has no handler for), so "stopped" proves that TERM arrived.
bt=$(new_bundle)
cfg "$bt" '.process.args = ["/bin/sh","-c","trap \"exit 3\" TERM; while :; do sleep 0.1; done"]'
for sig in 15 SIGTERM TERM sigterm ""; do
        hk create -b "$bt" k1 </dev/null >/dev/null 2>&1 && hk start k1
        # Until the shell has installed its trap, TERM is ignored: repeat it (harmless).
        krc=0
        for i in $(seq 1 50); do
                if [ -n "$sig" ]; then hk kill k1 "$sig"; else hk kill k1; fi
                krc=$?
                # (it may have stopped just before this kill: "not running" is then right)
                [ $krc -ne 0 ] && [ "$(hk state k1 | jq -r .status)" = stopped ] && krc=0 && break
                sleep 0.1
                [ "$(hk state k1 | jq -r .status)" = stopped ] && break
        done
        ok $krc "kill k1 '$sig'"
        is "$(hk state k1 | jq -r .status)" stopped "kill k1 '$sig': TERM reached init"
        hk delete k1; ok $? "delete k1"
done
# SIGUSR2 is not trapped: the shell ignores it as a namespace init, so it keeps running.
hk create -b "$bt" k2 </dev/null >/dev/null 2>&1 && hk start k2
hk kill k2 USR2; ok $? "kill k2 USR2"
sleep 0.3
is "$(hk state k2 | jq -r .status)" running "untrapped USR2 leaves a namespace init running"
hk kill k2 9; ok $? "kill k2 9"
hk delete --force k2

# signals reach init: a shell trap proves which signal arrived
b=$(new_bundle_rw)
cfg "$b" '.process.args = ["/bin/sh","-c","trap \"echo got-usr1 > /tmp/sig; exit 0\" USR1; echo ready > /tmp/ready; while :; do sleep 0.1; done"]'
cfg "$b" '.mounts |= map(select(.destination != "/tmp"))'
hk run -d -b "$b" s1 </dev/null >/dev/null 2>&1; ok $? "run -d s1"
for i in $(seq 1 50); do [ -f "$b/rootfs/tmp/ready" ] && break; sleep 0.1; done
hk kill s1 USR1; ok $? "kill s1 USR1"
for i in $(seq 1 50); do [ -f "$b/rootfs/tmp/sig" ] && break; sleep 0.1; done
is "$(cat "$b/rootfs/tmp/sig" 2>/dev/null)" got-usr1 "init got SIGUSR1"
hk delete --force s1

# delete of a running container
mk_sleeper d1; hk start d1
dpid=$(cat "$T/d1.pid")
err=$(hk delete d1 2>&1); rc=$?
is "$rc" 1 "delete running without force: rc 1"
is "$err" "husk: cannot delete container d1 that is not stopped: running" "delete running: message"
is "$(hk state d1 | jq -r .status)" running "still running after the refused delete"
errout=$(hk delete --force d1 2>&1); ok $? "delete --force a running container"
is "$errout" "" "delete --force prints nothing"
gone "$dpid"; ok $? "delete --force killed init"
hk state d1 >/dev/null 2>&1; isnt $? 0 "d1 is gone"

# delete of a created (never started) container kills its waiting init
mk_sleeper d2
d2pid=$(cat "$T/d2.pid")
hk delete d2; ok $? "delete a created container"
gone "$d2pid"; ok $? "its init is gone"

# pause / resume / ps / update, and delete --force of a paused container
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sh","-c","sleep 1000 & sleep 1000"]'
hk run -d -b "$b" pz </dev/null >/dev/null 2>&1; ok $? "run -d pz"
# the shell forks its background sleep right after start: give it a moment
for i in $(seq 1 30); do [ "$(hk ps --format json pz | jq length)" = 2 ] && break; sleep 0.1; done
pids=$(hk ps --format json pz); ok $? "ps --format json"
is "$(printf '%s' "$pids" | jq length)" 2 "ps: two processes"
is "$(printf '%s' "$pids" | jq '.[0]')" "$(hk state pz | jq .pid)" "ps: init listed first"
like "$(hk ps pz | sed -n 2p)" "sleep 1000" "ps table: command line"
hk pause pz; ok $? "pause"
is "$(hk state pz | jq -r .status)" paused "status paused"
like "$(hk list | grep '^pz ')" " paused " "list shows paused"
err=$(hk pause pz 2>&1); is "$?" 1 "pause twice: rc 1"
hk resume pz; ok $? "resume"
is "$(hk state pz | jq -r .status)" running "status running after resume"
err=$(hk resume pz 2>&1); is "$?" 1 "resume of a running container: rc 1"
echo '{"pids":{"limit":64}}' | hk update --resources - pz; ok $? "update --resources - (stdin)"
echo '{"pids":{"limit":65}}' >"$T/res.json"
hk update --resources="$T/res.json" pz; ok $? "update --resources=FILE"
err=$(hk update pz 2>&1); is "$?" 1 "update without --resources: rc 1"
hk pause pz
pzpid=$(hk state pz | jq .pid)
hk delete --force pz; ok $? "delete --force of a paused container"
gone "$pzpid"; ok $? "paused init killed"
is "$(hk ps -f json pz 2>&1)" "husk: container does not exist" "ps after delete"

# host pid namespace: kill --all reaches every process, not only init
b=$(new_bundle)
cfg "$b" '.linux.namespaces |= map(select(.type != "pid")) | .process.args = ["/bin/sh","-c","sleep 1001 & sleep 1002 & wait"]'
hk run -d -b "$b" hp </dev/null >/dev/null 2>&1; ok $? "run -d hp (host pid namespace)"
for i in $(seq 1 30); do [ "$(hk ps -f json hp | jq length)" = 3 ] && break; sleep 0.1; done
hpids=$(hk ps -f json hp | jq -r '.[]')
is "$(printf '%s\n' "$hpids" | wc -l | tr -d ' ')" 3 "hp: three processes in its cgroup"
hk kill --all hp KILL; ok $? "kill --all hp KILL"
allgone=0; for p in $hpids; do gone "$p" || allgone=1; done
ok $allgone "kill --all: every process is gone"
hk delete hp; ok $? "delete hp"
# delete --force of a running host-pid-ns container kills the orphans too
hk run -d -b "$b" hp2 </dev/null >/dev/null 2>&1
for i in $(seq 1 30); do [ "$(hk ps -f json hp2 | jq length)" = 3 ] && break; sleep 0.1; done
hpids=$(hk ps -f json hp2 | jq -r '.[]')
hk delete --force hp2; ok $? "delete --force hp2"
allgone=0; for p in $hpids; do gone "$p" || allgone=1; done
ok $allgone "delete --force in the host pid namespace: every process is gone"

# unknown ids
err=$(hk state nope 2>&1); rc=$?
is "$rc" 1 "state unknown: rc 1"; is "$err" "husk: container does not exist" "state unknown: message"
err=$(hk kill nope 9 2>&1); rc=$?
is "$rc" 1 "kill unknown: rc 1"; is "$err" "husk: container does not exist" "kill unknown: message"
err=$(hk delete nope 2>&1); rc=$?
is "$rc" 1 "delete unknown: rc 1"; is "$err" "husk: container does not exist" "delete unknown: message"
err=$(hk start nope 2>&1); rc=$?
is "$rc" 1 "start unknown: rc 1"; like "$err" "does not exist" "start unknown: message"
out=$(hk delete --force nope 2>&1); rc=$?
is "$rc" 0 "delete --force unknown: rc 0"; is "$out" "" "delete --force unknown: silent"
out=$(hk delete -f nope 2>&1); is "$?" 0 "delete -f unknown: rc 0"

# duplicate id
mk_sleeper dup
b=$(new_bundle)
err=$(hk create -b "$b" dup </dev/null 2>&1); rc=$?
is "$rc" 1 "duplicate create: rc 1"
like "$err" "already exists" "duplicate create: message"
is "$(hk state dup | jq -r .status)" created "the first dup is untouched"
hk delete --force dup

# concurrency: 5 parallel delete --force and kills on one running id
mk_sleeper p1; hk start p1
ppid1=$(cat "$T/p1.pid")
for i in 1 2 3 4 5; do
        (hk delete --force p1 >"$T/del$i.out" 2>&1; echo $? >"$T/del$i.rc") &
        (hk kill p1 KILL >/dev/null 2>&1) &
done
wait
allok=0; for i in 1 2 3 4 5; do [ "$(cat "$T/del$i.rc")" = 0 ] || allok=1; done
ok $allok "5 parallel delete --force: all rc 0"
is "$(cat "$T"/del*.out)" "" "parallel deletes print nothing"
gone "$ppid1"; ok $? "init gone after parallel deletes"
is "$(hk list -q)" "" "nothing left after parallel deletes"

# parallel creates of one id: exactly one wins
b=$(new_bundle); cfg "$b" '.process.args = ["/bin/sleep","1000"]'
for i in 1 2 3 4; do (hk create -b "$b" race </dev/null >/dev/null 2>&1; echo $? >"$T/cr$i.rc") & done
wait
wins=$(cat "$T"/cr*.rc | grep -c '^0$')
is "$wins" 1 "4 parallel creates of one id: exactly one succeeds"
is "$(hk state race | jq -r .status)" created "the winner is created"
hk delete --force race

# run: exit status is the container's
b=$(new_bundle)
run_in "$b" r1 sh -c 'exit 7' >/dev/null 2>&1; is $? 7 "run: exit status 7"
out=$(run_in "$b" r2 echo hello 2>"$T/r2.err"); is "$out" hello "run: output"
is "$(cat "$T/r2.err")" "" "run: nothing on stderr"
hk state r2 >/dev/null 2>&1; isnt $? 0 "run deletes the container"

done_testing
