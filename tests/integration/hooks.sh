#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OCI hooks through the CLI: each kind runs with the state JSON on stdin, exactly its env, in the
# right namespaces; failures and timeouts stop the container with a clear error.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# hook KIND FILE: a host-side hook that saves its stdin, env and mount namespace into FILE.*
hook() {
        jq -n --arg f "$2" '{path:"/bin/sh", args:["sh","-c","cat > \($f).json; env > \($f).env; readlink /proc/self/ns/mnt > \($f).mnt"], env:["HOOKVAR=one two"]}'
}

b=$(new_bundle_rw)
for k in createRuntime prestart poststart poststop createContainer; do
        cfg "$b" --arg k "$k" --argjson h "$(hook "$k" "$T/$k")" '.hooks[$k] = [$h]'
done
cfg "$b" '.hooks.startContainer = [{path:"/bin/sh", args:["sh","-c","cat > /started.json"]}]'
out=$(run_in "$b" c1 /bin/sh -c 'echo ran')
is "$out" "ran" "a container with every hook kind runs"
host_mnt=$(readlink /proc/self/ns/mnt)
for k in createRuntime prestart poststart poststop createContainer; do
        st=$(cat "$T/$k.json" 2>/dev/null)
        is "$(printf '%s' "$st" | jq -r .id 2>/dev/null)" "c1" "$k: state JSON on stdin with the id"
        # poststop: the container process is gone, the pid may be absent (runc omits it).
        [ "$k" = poststop ] || like "$(printf '%s' "$st" | jq -r .pid 2>/dev/null)" "^[1-9][0-9]*$" "$k: state has the pid"
        like "$(cat "$T/$k.env" 2>/dev/null)" "^HOOKVAR=one two" "$k: gets exactly its env"
done
unlike "$(cat "$T/createRuntime.env")" "PATH=|HOME=" "hooks do not inherit husk's environment"
is "$(cat "$T/createRuntime.mnt")" "$host_mnt" "createRuntime runs in the runtime's mount namespace"
isnt "$(cat "$T/createContainer.mnt")" "$host_mnt" "createContainer runs in the container's mount namespace"
is "$(jq -r .status "$T/poststop.json" 2>/dev/null)" "stopped" "poststop sees status stopped"
is "$(jq -r .id "$b/rootfs/started.json" 2>/dev/null)" "c1" "startContainer runs inside the container with the state"

# A failing hook stops the container and names the hook, with its stderr.
b2=$(new_bundle)
cfg "$b2" '.hooks.createRuntime = [{path:"/bin/sh", args:["sh","-c","echo boom-from-hook >&2; exit 3"]}]'
err=$(run_in "$b2" c2 /bin/true 2>&1 >/dev/null)
rc=$?
isnt "$rc" "0" "a failing createRuntime hook fails the run"
like "$err" "createRuntime" "the error names the hook kind"
like "$err" "status 3" "the error gives the exit status"
like "$err" "boom-from-hook" "the error carries the hook's stderr"

# A hook past its timeout is killed.
b3=$(new_bundle)
cfg "$b3" '.hooks.prestart = [{path:"/bin/sleep", args:["sleep","37.25"], timeout:1}]'
t0=$(date +%s)
err=$(run_in "$b3" c3 /bin/true 2>&1 >/dev/null)
rc=$?
t1=$(date +%s)
isnt "$rc" "0" "a hook past its timeout fails the run"
like "$err" "timed out after 1 s" "the error says the hook timed out"
ok $([ $((t1 - t0)) -lt 10 ]; echo $?) "the timeout is enforced ($((t1 - t0)) s)"
ok $(pgrep -f '^sleep 37.25$' >/dev/null; [ $? -ne 0 ]; echo $?) "the timed-out hook is gone"
# poststop: a failing hook is a warning, and the hooks after it still run (runtime-spec; crun; the
# runtime-tools program poststop_fail). husk stopped at the first failure.
b5=$(new_bundle)
cfg "$b5" --arg m "$T/ps-second" '.hooks.poststop = [{path:"/bin/false"}, {path:"/bin/sh", args:["sh","-c","touch \($m)"]}]'
err=$(run_in "$b5" c5 /bin/true 2>&1 >/dev/null)
ok $? "a failing poststop hook does not fail the run"
like "$err" "warning: .*poststop\[0\]" "it is reported as a warning naming the hook"
[ -e "$T/ps-second" ]; ok $? "the next poststop hook still ran"
done_testing
