#!/bin/sh
# Detached services (`husk run -d`): the monitor keeps the output in logs (--tail, --since, -f),
# restarts per --restart with a back-off, records exits; stop (StopSignal, then SIGKILL), restart,
# rm, ps, inspect; --rm; a killed monitor; log rotation. Containers use --network none.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -d "$A/busybox-oci" ] || skip_all "missing $A (images/oci.sh)"
HUSK_STORE="$T/store"
export HUSK_STORE
S=$HUSK_STORE
r() { hk run --network none "$@"; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
        _n=$(($1 * 10)); shift
        while [ "$_n" -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
        return 1
}
field() { hk inspect "$1" | jq -r ".[0].$2"; }
st() { field "$1" State.Status; }
is_status() { [ "$(st "$1")" = "$2" ]; }
logs_has() { hk logs "$1" 2>&1 | grep -qx "$2"; }
monitor_ended() { [ "$(field "$1" State.MonitorAlive)" = false ]; }
file_has() { grep -qx "$2" "$1" 2>/dev/null; }
# A process that exists and is not a zombie (a reparented zombie waits for its new parent).
alive() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
gone() { [ ! -e "$S/containers/$1" ] && [ ! -e "$HUSK_TEST_ROOT/$1" ]; }
# A counter in the container's upper layer: it survives restarts, so each run has its number.
COUNT='n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo run $n'

hk image load "$A/busybox-oci.tar" >/dev/null || bail "load busybox"

# ---- output kept in logs: --tail, --since, -t, -f ----
id=$(r -d --name svc-log busybox sh -c 'echo err >&2; sleep 0.3; echo one; echo two; echo three
        while [ ! -e /go ]; do sleep 0.1; done; echo four
        while [ ! -e /go2 ]; do sleep 0.1; done; echo five; sleep 300')
is "$?:$id" "0:svc-log" "run -d --name prints the name once it started"
wait_for 10 logs_has svc-log three; ok $? "logs shows the output"
is "$(hk logs svc-log 2>/dev/null | tr '\n' ' ')" "one two three " "stdout lines on stdout"
is "$(hk logs svc-log 2>&1 >/dev/null)" "err" "stderr lines on stderr"
is "$(hk logs --tail 2 svc-log 2>&1 | tr '\n' ' ')" "two three " "--tail 2: the last two lines"
like "$(hk logs -t --tail 1 svc-log)" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z three$" "-t: RFC 3339 timestamps"
t0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
touch "$S/containers/svc-log/merged/go"
wait_for 10 logs_has svc-log four; ok $? "a new line arrives"
is "$(hk logs --since "$t0" svc-log 2>&1)" "four" "--since RFC 3339: only the newer line"
is "$(hk logs --since 1h svc-log 2>&1 | wc -l)" "5" "--since 1h: every line"
hk logs --since nonsense svc-log >/dev/null 2>&1; is $? 1 "a bad --since is refused"
hk logs -f svc-log > "$T/follow.out" 2>&1 &
fpid=$!
wait_for 10 file_has "$T/follow.out" four; ok $? "-f prints what is there"
touch "$S/containers/svc-log/merged/go2"
wait_for 10 file_has "$T/follow.out" five; ok $? "-f sees a new line"

# ---- ps / inspect of a running one; runc's ps ID stays ----
out=$(hk ps)
like "$(echo "$out" | head -1)" "^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$" "ps: podman's columns"
like "$(echo "$out" | grep svc-log)" "svc-log +busybox +sh -c echo err >&\.\.\. +.* ago +Up .* +svc-log$" "ps: a running row"
is "$(field svc-log State.Running),$(field svc-log State.Pid | grep -c '^[1-9]')" "true,1" "inspect: running, with its pid"
is "$(field svc-log HostConfig.RestartPolicy.Name)" "" "inspect: no restart policy"
is "$(field svc-log LogPath)" "$S/containers/svc-log/ctr.log" "inspect: LogPath"
is "$(field svc-log 'Config.Cmd[0]')" "sh" "inspect: Config.Cmd"
pids=$(hk ps --format json svc-log)
like "$pids" '^\[[0-9]+(,[0-9]+)*\]$' "ps --format json ID: runc's pid list"

# network.json (written by the network code when the container has a network) feeds PORTS and
# NetworkSettings; here a hand-made one on the --network none container.
echo '{"network":"husk","netns":"/x","interface":"eth0","ips":["10.89.0.5/16"],"gateway":"10.89.0.1","mac":"02:00:00:00:00:01","ports":[{"hostIP":"127.0.0.1","hostPort":8080,"containerPort":80,"protocol":"tcp"}]}' \
        > "$S/containers/svc-log/network.json"
like "$(hk ps | grep svc-log)" " 127\.0\.0\.1:8080->80/tcp +svc-log$" "ps: PORTS from network.json"
is "$(hk inspect svc-log | jq -c '.[0].NetworkSettings | [.IPAddress, .Gateway, .Ports["80/tcp"][0].HostPort]')" '["10.89.0.5","10.89.0.1","8080"]' "inspect: NetworkSettings from network.json"
rm "$S/containers/svc-log/network.json"

# ---- stop: SIGTERM ignored (sh as pid 1), SIGKILL after -t; no restart follows ----
id=$(r -d --name svc-stop --restart always busybox sh -c 'trap "" TERM; echo up; while :; do sleep 0.1; done')
wait_for 10 logs_has svc-stop up; ok $? "a container that ignores SIGTERM"
t=$(date +%s%N)
out=$(hk stop -t 1 svc-stop); rc=$?
ms=$((($(date +%s%N) - t) / 1000000))
is "$rc:$out" "0:svc-stop" "stop prints the name"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 6000 ]; ok $? "stop -t 1 waited the timeout, then SIGKILL ($ms ms)"
is "$(st svc-stop),$(field svc-stop State.ExitCode),$(field svc-stop State.Signal)" "exited,137,9" "exited by SIGKILL"
is "$(field svc-stop State.MonitorAlive),$(field svc-stop State.Restarts)" "false,0" "--restart always: no restart after stop (monitor ended)"
is "$(hk logs svc-stop)" "up" "the log stays after stop"
hk stop svc-stop >/dev/null; ok $? "stop of a stopped one is fine"

# ---- logs -f ends when the container stops ----
hk stop -t 0 svc-log >/dev/null
wait_for 10 sh -c "! kill -0 $fpid 2>/dev/null"; ok $? "logs -f ends with the container"

# ---- StopSignal of the image ----
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/sig-oci" sig:latest amd64 \
        '{"Cmd":["sh","-c","trap \"echo got-usr1; exit 0\" USR1; echo up; while :; do sleep 0.1; done"],"StopSignal":"SIGUSR1"}' \
        "$A/layers/base.tar.gz" >/dev/null
r -d --name svc-sig "$T/sig-oci" >/dev/null
wait_for 10 logs_has svc-sig up; ok $? "an image with StopSignal SIGUSR1"
is "$(field svc-sig Config.StopSignal)" "SIGUSR1" "inspect: Config.StopSignal"
is "$(field svc-sig ImageName)" "sig:latest" "run -d of an image folder: ImageName is the image's name"
t=$(date +%s%N)
hk stop -t 20 svc-sig >/dev/null
ms=$((($(date +%s%N) - t) / 1000000))
is "$(st svc-sig),$(field svc-sig State.ExitCode)" "exited,0" "stop sent the image's StopSignal (exit 0 from its trap)"
[ "$ms" -lt 5000 ]; ok $? "without waiting for the timeout ($ms ms)"
is "$(hk logs svc-sig | tail -1)" "got-usr1" "the trap ran"

# ---- kill -9 of the workload with --restart on-failure ----
r -d --name svc-rs --restart on-failure busybox sh -c "$COUNT; sleep 300" >/dev/null
wait_for 10 logs_has svc-rs "run 1"; ok $? "on-failure: first run"
p1=$(field svc-rs State.Pid)
kill -9 "$p1"
wait_for 10 logs_has svc-rs "run 2"; ok $? "kill -9 of the workload: restarted, logs show both runs"
wait_for 10 is_status svc-rs running
p2=$(field svc-rs State.Pid)
is "$(field svc-rs State.Restarts),$(field svc-rs State.Running)" "1,true" "inspect: 1 restart, running"
isnt "$p2" "$p1" "a new process"
like "$(hk ps | grep svc-rs)" "Up " "ps: up again"
hk rm svc-rs >/dev/null 2>&1; is $? 1 "rm refuses a running container"
like "$(hk rm svc-rs 2>&1)" "running" "and says why"
is "$(hk rm -f svc-rs)" "svc-rs" "rm -f removes it"
gone svc-rs; ok $? "no folder, no state"
alive "$p2"; is $? 1 "no process"

# ---- on-failure:2 stops after 2 restarts ----
r -d --name svc-rs2 --restart on-failure:2 busybox sh -c "$COUNT; exit 3" >/dev/null
wait_for 30 monitor_ended svc-rs2
ok $? "on-failure:2: the monitor ends"
is "$(hk logs svc-rs2 | tr '\n' ' ')" "run 1 run 2 run 3 " "three runs (two restarts), no fourth"
is "$(st svc-rs2),$(field svc-rs2 State.ExitCode),$(field svc-rs2 State.Restarts)" "exited,3,2" "inspect: exited (3), 2 restarts"
is "$(field svc-rs2 HostConfig.RestartPolicy.Name):$(field svc-rs2 HostConfig.RestartPolicy.MaximumRetryCount)" "on-failure:2" "inspect: RestartPolicy"
unlike "$(hk ps)" "svc-rs2" "ps without -a: not listed"
like "$(hk ps -a | grep svc-rs2)" "Exited \(3\) .* ago" "ps -a: Exited (3) ... ago"
is "$(hk ps -a --format json | jq -r '.[] | select(.Id == "svc-rs2") | "\(.State) \(.ExitCode) \(.Restarts)"')" "exited 3 2" "ps --format json"

# ---- always restarts after exit 0 (with the back-off) ----
r -d --name svc-al --restart always busybox sh -c "$COUNT; [ \$n -ge 3 ] && sleep 300; exit 0" >/dev/null
wait_for 20 logs_has svc-al "run 3"; ok $? "always: restarted after exit 0, twice"
wait_for 10 is_status svc-al running
is "$(field svc-al State.Restarts)" "2" "inspect: 2 restarts"
is "$(hk restart -t 1 svc-al)" "svc-al" "restart"
wait_for 10 logs_has svc-al "run 4"; ok $? "restart: a new run"
is "$(st svc-al)" "running" "running after restart"
hk rm -f svc-al >/dev/null; gone svc-al; ok $? "rm -f after restart"

# ---- --rm -d leaves nothing ----
id=$(r -d --rm busybox sh -c 'echo bye')
like "$id" "^[0-9a-f]{16}$" "-d without --name: a generated id"
wait_for 10 gone "$id"; ok $? "--rm -d: folder, logs and state gone when it exits"

r -d --rm --name svc-rr busybox sh -c 'echo x; sleep 300' >/dev/null
wait_for 10 logs_has svc-rr x
hk restart -t 0 svc-rr >/dev/null; ok $? "restart of a --rm service"
wait_for 10 sh -c "[ \"\$(HUSK_STORE=$S $HUSK --root $HUSK_TEST_ROOT logs svc-rr | wc -l)\" = 2 ]"; ok $? "keeps it (its log shows both runs)"
hk stop -t 0 svc-rr >/dev/null; gone svc-rr; ok $? "stop of a --rm service removes it"

# ---- a unique prefix of a generated id ----
id=$(r -d busybox sh -c 'echo pre; sleep 300')
pre=$(echo "$id" | cut -c1-5)
wait_for 10 logs_has "$pre" pre; ok $? "a 5-character prefix of a generated id works"
hk stop "$pre" >/dev/null 2>&1; is "$(st "$id")" "exited" "stop by prefix"
hk rm "$pre" >/dev/null; gone "$id"; ok $? "rm (exited, no -f needed) by prefix"

# ---- kill -9 of the monitor itself: rm -f still cleans up ----
r -d --name svc-mon busybox sh -c 'echo up; sleep 300' >/dev/null
wait_for 10 logs_has svc-mon up
mpid=$(jq -r .pid "$S/containers/svc-mon/monitor.json")
cpid=$(field svc-mon State.Pid)
kill -9 "$mpid"
wait_for 10 sh -c "! kill -0 $mpid 2>/dev/null"
is "$(st svc-mon),$(field svc-mon State.MonitorAlive)" "running,false" "monitor killed: the workload still runs"
hk rm -f svc-mon >/dev/null; ok $? "rm -f"
gone svc-mon; ok $? "no folder, no state"
alive "$cpid"; is $? 1 "no process"
is "$(awk -v s="$S/containers/svc-mon" 'index($5, s) == 1' /proc/self/mountinfo | wc -l)" 0 "no mount"

# ---- kill -9 of the monitor, then restart: a new monitor takes over ----
r -d --name svc-mon2 --restart on-failure busybox sh -c "$COUNT; sleep 300" >/dev/null
wait_for 10 logs_has svc-mon2 "run 1"
kill -9 "$(jq -r .pid "$S/containers/svc-mon2/monitor.json")"
wait_for 10 monitor_ended svc-mon2
is "$(hk restart -t 0 svc-mon2)" "svc-mon2" "restart after the monitor was killed"
wait_for 10 logs_has svc-mon2 "run 2"; ok $? "the workload runs again, under a new monitor"
is "$(st svc-mon2),$(field svc-mon2 State.MonitorAlive)" "running,true" "inspect: running, monitored"
kill -9 "$(field svc-mon2 State.Pid)"
wait_for 10 logs_has svc-mon2 "run 3"; ok $? "and the new monitor applies the restart policy"
hk rm -f svc-mon2 >/dev/null; gone svc-mon2; ok $? "rm -f"

# ---- log rotation bounds the size ----
r -d --name svc-rot --log-max-size 8k busybox sh -c 'i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; sleep 300' >/dev/null
wait_for 20 logs_has svc-rot "line 1999"; ok $? "2000 lines written"
s0=$(stat -c %s "$S/containers/svc-rot/ctr.log") s1=$(stat -c %s "$S/containers/svc-rot/ctr.log.1")
[ "$s0" -le 8192 ] && [ "$s1" -le 8192 ] && [ ! -e "$S/containers/svc-rot/ctr.log.2" ]; ok $? "ctr.log ($s0) and ctr.log.1 ($s1) stay under 8k, one old file"
is "$(hk logs --tail 1 svc-rot)" "line 1999" "logs reads across the rotation"
n=$(hk logs svc-rot | wc -l)
[ "$n" -gt 100 ] && [ "$n" -lt 2000 ]; ok $? "older lines were dropped ($n kept)"
hk rm -f svc-rot >/dev/null

# ---- an OOM kill inside the container is recorded ----
r -d --name svc-oom --memory 16m busybox sh -c 'head -c 200m /dev/zero | tail; exit 1' >/dev/null
wait_for 30 monitor_ended svc-oom; ok $? "a container over its memory limit ends"
# The kernel picks the victim: tail (then sh exits 1) or sh itself (137).
like "$(field svc-oom State.OOMKilled),$(field svc-oom State.ExitCode)" "^true,(1|137)$" "inspect: OOMKilled, with the exit code"
like "$(field svc-oom State.StartedAt) $(field svc-oom State.FinishedAt)" "^2[0-9-]+T.* 2[0-9-]+T" "inspect: StartedAt and FinishedAt after the end"
hk rm svc-oom >/dev/null

# ---- a failing first start: exit 125, nothing left ----
out=$(r -d --name svc-bad busybox /nonexistent 2>&1); rc=$?
is "$rc" 125 "a start error: exit 125"
like "$out" "nonexistent" "with the error"
gone svc-bad; ok $? "and nothing left behind"
r --restart always busybox true 2>/dev/null; is $? 125 "--restart without -d is refused"
r -d --rm --restart always busybox true 2>/dev/null; is $? 125 "--rm with --restart always is refused"
r -d --restart sometimes busybox true 2>/dev/null; is $? 125 "a bad --restart is refused"
hk logs svc-nope >/dev/null 2>&1; is $? 1 "logs of an unknown name fails"

for c in svc-log svc-stop svc-sig svc-rs2; do hk rm -f "$c" >/dev/null; done
is "$(ls "$S/containers" | wc -l)" 0 "every container folder removed"
left=$(for p in $(pgrep -x husk-monitor); do grep -qF "$HUSK_TEST_ROOT" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)
is "$left" "" "no monitor left"
done_testing
