#!/bin/sh
# husk for an unprivileged user (issue 15). A user made for this test (useradd, with ranges in
# /etc/subuid and /etc/subgid and its own XDG_RUNTIME_DIR) runs: a rootless bundle (husk spec
# --rootless), a full-range map through newuidmap/newgidmap, the cgroup rules of a host where a user
# cannot write cgroups (this host's v1: one warning, a limit is an error), images from its own
# store, services with published ports, and podman with husk as its runtime. The container must not
# reach what the user cannot: a root-owned host file bound in stays unwritten, and the container's
# capabilities live only in its own user namespace. Nothing is left in the user's folders or on the
# host; the user is removed at exit.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq setpriv useradd userdel newuidmap newgidmap
[ -u /usr/bin/newuidmap ] || [ "$(getcap /usr/bin/newuidmap 2>/dev/null)" ] ||
        skip_all "newuidmap is neither setuid nor has file capabilities"
[ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 1 ] ||
        skip_all "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone)"

RU=husk-rl-$$
useradd -M -d "$T/home" -s /bin/sh "$RU" || bail "useradd $RU"
RUID=$(id -u "$RU")
RGID=$(id -g "$RU")
mkdir -p "$T/home" && chown "$RU:" "$T/home"
RUN=/run/user/$RUID
mkdir -p "$RUN" && chown "$RU:" "$RUN" && chmod 0700 "$RUN"
# useradd may have given it ranges already (SUB_UID_COUNT); give it a fixed one otherwise.
grep -q "^$RU:" /etc/subuid || echo "$RU:700000:65536" >> /etc/subuid
grep -q "^$RU:" /etc/subgid || echo "$RU:700000:65536" >> /etc/subgid
SUBUID=$(grep "^$RU:" /etc/subuid | head -n 1 | cut -d: -f2)

# As the user, with a clean environment (no root leftovers such as HUSK_STORE).
asuser() {
        setpriv --reuid "$RUID" --regid "$RGID" --init-groups --reset-env \
                env HOME="$T/home" USER="$RU" XDG_RUNTIME_DIR="$RUN" \
                PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
}
# gone PID: exited (a zombie waiting for pid 1 to reap it counts), within 5 s.
gone() {
        for _i in $(seq 1 50); do
                _s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
                [ -z "$_s" ] || [ "$_s" = Z ] && return 0
                sleep 0.1
        done
        return 1
}
# husk as the user, with its default state root ($XDG_RUNTIME_DIR/husk) and store.
uhk() { asuser "$HUSK" "$@"; }

rl_cleanup() {
        for d in "$RUN"/husk/*/; do
                [ -f "$d/state.json" ] || continue
                uhk delete --force "$(basename "$d")" >/dev/null 2>&1
        done
        left=$(for p in $(pgrep -u "$RUID"); do gone "$p" || ps -o pid=,args= -p "$p"; done)
        if [ -n "$left" ]; then fail "rootless: no process of the user left" "$left"; else pass "rootless: no process of the user left"; fi
        pkill -9 -u "$RUID" 2>/dev/null
        sleep 0.2
        # what the user's processes mounted is gone with their namespaces; anything on the host
        # under the user's folders is a leak
        leaked=$(awk -v a="$T/home" -v b="$RUN" 'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo)
        if [ -n "$leaked" ]; then fail "rootless: no leftover mounts in the user's folders" "$leaked"; for m in $leaked; do umount -l "$m"; done; fi
        rm -rf "$RUN"
        userdel "$RU" 2>/dev/null
        sed -i "/^$RU:/d" /etc/subuid /etc/subgid
}
trap 'rl_cleanup; _cleanup' EXIT

# ---- 1. the rootless bundle
B="$T/home/bundle"
asuser mkdir -p "$B"
asuser sh -c "cd '$B' && '$HUSK' spec --rootless"
ok $? "husk spec --rootless as the user"
spec=$(cat "$B/config.json")
is "$(echo "$spec" | jq -c '[.linux.uidMappings, .linux.gidMappings]')" \
        "[[{\"containerID\":0,\"hostID\":$RUID,\"size\":1}],[{\"containerID\":0,\"hostID\":$RGID,\"size\":1}]]" \
        "spec --rootless maps the caller's uid and gid to 0 (as runc spec --rootless)"
is "$(echo "$spec" | jq -r '[.linux.namespaces[].type] | (index("user") != null) and (index("network") == null)')" true \
        "spec --rootless: a user namespace and no network namespace of its own"
if command -v runc >/dev/null 2>&1; then
        mkdir -p "$T/runcspec" && (cd "$T/runcspec" && runc spec --rootless)
        is "$(jq -c '[.linux.namespaces[].type] - ["cgroup"] | sort' < "$B/config.json")" \
                "$(jq -c '[.linux.namespaces[].type] - ["cgroup"] | sort' < "$T/runcspec/config.json")" \
                "the same namespaces as runc spec --rootless (husk adds a cgroup namespace)"
fi
cfg "$B" --arg r "$HUSK_IMAGE" '.root.path = $r | .process.terminal = false'
cfg "$B" '.process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map"]'
out=$(uhk run -b "$B" rl1 2>"$T/err")
ok $? "husk run of the rootless bundle as the user"
is "$(echo "$out" | head -n 1)" 0 "the process is uid 0 in the container"
is "$(echo "$out" | sed -n 2p | tr -s ' ' | sed 's/^ //')" "0 $RUID 1" "uid_map shows the user mapped to 0"
is "$(echo "$out" | sed -n 3p | tr -s ' ' | sed 's/^ //')" "0 $RGID 1" "gid_map shows the user's group mapped to 0"
is "$(grep -c 'warning' "$T/err")" 1 "cgroups out of reach: exactly one warning"
like "$(cat "$T/err")" "rootless: no cgroup for the container \(.*cgroup v1" "the warning says why (cgroup v1 here)"
[ -d "$RUN/husk" ]; ok $? "the default state root is \$XDG_RUNTIME_DIR/husk"
is "$(ls -A "$RUN/husk" | grep -v seccomp-cache)" "" "run removed its state"

# without XDG_RUNTIME_DIR: a clear error (runc falls back the same way on nothing)
out=$(setpriv --reuid "$RUID" --regid "$RGID" --init-groups --reset-env env HOME="$T/home" "$HUSK" run -b "$B" rl0 2>&1)
ok $((! $?)) "without XDG_RUNTIME_DIR: refused"
like "$out" "XDG_RUNTIME_DIR is not set.*--root" "with an error naming XDG_RUNTIME_DIR and --root"

# a limit husk cannot apply is an error naming it (runc: "cannot set pids limit")
cp "$B/config.json" "$T/saved.json"
cfg "$B" '.linux.resources = {"pids": {"limit": 100}}'
out=$(uhk run -b "$B" rl2 2>&1)
ok $((! $?)) "a pids limit without a cgroup is refused"
like "$out" "linux.resources.pids.limit: husk cannot apply this limit without a cgroup.*cgroup v1" "with an error naming the limit and why"
[ ! -e "$RUN/husk/rl2" ]; ok $? "and leaves no state"
cfg "$B" '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}]}'
uhk run -b "$B" rl3 >/dev/null 2>&1
ok $? "device rules alone are not a limit (runc ignores them rootless)"
cp "$T/saved.json" "$B/config.json"

# a full range through newuidmap/newgidmap (podman's map): 0 = the user, 1.. = its subordinates
cfg "$B" --argjson u "$RUID" --argjson g "$RGID" --argjson s "$SUBUID" \
        '.linux.uidMappings = [{"containerID":0,"hostID":$u,"size":1},{"containerID":1,"hostID":$s,"size":65536}]
         | .linux.gidMappings = [{"containerID":0,"hostID":$g,"size":1},{"containerID":1,"hostID":$s,"size":65536}]
         | .mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["mode=1777"]}]
         | .process.capabilities |= with_entries(.value += ["CAP_CHOWN"])
         | .process.args = ["sh", "-c", "cat /proc/self/uid_map; touch /tmp/f; chown 1000:1000 /tmp/f; stat -c %u:%g /tmp/f"]'
out=$(uhk run -b "$B" rl4 2>&1)
ok $? "a full-range map (newuidmap/newgidmap)"
like "$out" "1 +$SUBUID +65536" "uid_map holds the subordinate range"
like "$out" "^1000:1000$" "the container can use the ids of its range"
# a range that is not the user's is refused by the helpers, with their reason
cfg "$B" '.linux.uidMappings[1].hostID = 5000'
out=$(uhk run -b "$B" rl5 2>&1)
ok $((! $?)) "a range outside /etc/subuid is refused"
like "$out" "newuidmap failed.*/etc/subuid" "by newuidmap, with a clear error"
cp "$T/saved.json" "$B/config.json"

# ---- 2. what the user cannot do, the container cannot do
echo original > "$T/rootfile"
chmod 0644 "$T/rootfile"
cfg "$B" --arg f "$T/rootfile" '.mounts += [{"destination":"/hostfile","type":"bind","source":$f,"options":["rbind","rw"]}]
        | .root.path = "rootfs" | .root.readonly = false'
cp -a "$HUSK_IMAGE" "$B/rootfs" && touch "$B/rootfs/hostfile" && chown -R "$RU:" "$B/rootfs"
cfg "$B" '.process.args = ["sh", "-c", "echo pwned > /hostfile; echo rc=$?; chmod 666 /hostfile; echo chmod=$?; sleep 30"]'
uhk run -d -b "$B" rl6 >"$T/out6" 2>&1
ok $? "run -d of a bundle that binds a root-owned 0644 file"
pid=$(uhk state rl6 | jq -r .pid)
sleep 0.5
is "$(cat "$T/rootfile")" original "the root-owned host file is unchanged"
like "$(cat "$T/out6")" "rc=[1-9]" "writing it fails in the container"
# capabilities: full in its own user namespace, none in the host's
caps=$(awk '/^CapEff/ { print $2 }' "/proc/$pid/status")
isnt "$caps" 0000000000000000 "the container process has capabilities in its namespace"
isnt "$(readlink "/proc/$pid/ns/user")" "$(readlink /proc/1/ns/user)" "but in a user namespace of its own"
is "$(awk '/^Uid/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$RUID $RUID $RUID $RUID" \
        "and in the host's it is the user, every uid"
uhk kill rl6 KILL >/dev/null 2>&1
uhk delete -f rl6 >/dev/null 2>&1
ok $? "delete -f as the user"
gone "$pid"; ok $? "its process is gone"
is "$(ls -A "$RUN/husk" | grep -v seccomp-cache)" "" "no state left in the user's runtime dir"

done_testing
