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
        [ -n "${TUN_MODE:-}" ] && chmod "$TUN_MODE" /dev/net/tun
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

# ---- 3. images from the user's own store, with the image's owners
A=$HUSK_BUILDDIR/images/out/archives
if [ -f "$A/layers/base.tar.gz" ]; then
        # a layer whose files belong to several owners, over multi's layers (whiteouts, opaque dir)
        mkdir -p "$T/own/etc/o"
        echo r > "$T/own/etc/o/root"; echo u > "$T/own/etc/o/u1000"; echo n > "$T/own/etc/o/nobody"
        echo b > "$T/own/etc/o/big"
        chown 1000:1000 "$T/own/etc/o/u1000"; chown 65534:65534 "$T/own/etc/o/nobody"
        chown 200000:200000 "$T/own/etc/o/big"; chmod 4755 "$T/own/etc/o/u1000"
        tar --numeric-owner -C "$T/own" -cf "$T/own.tar" .
        sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/owners-oci" owners:latest amd64 \
                '{"Cmd":["/bin/sh"],"Env":["PATH=/bin:/usr/bin"]}' "$A/layers/base.tar.gz" \
                "$A/layers/l2.tar.zst" "$A/layers/l3.tar" "$T/own.tar" >/dev/null
        chmod -R a+rX "$T/owners-oci"
        out=$(uhk image load "$T/owners-oci" 2>&1)
        ok $? "image load as the user"
        S="$T/home/.local/share/husk"
        [ -d "$S/layers" ]; ok $? "into the user's store (~/.local/share/husk)"
        out=$(uhk run --network none owners:latest sh -c 'ls -ln /etc/o | awk "NR > 1 { print \$3, \$4, \$1, \$9 }"; ls /data; cat /etc/motd 2>&1; awk "\$5 == \"/\" && / - overlay / { n++ } END { print n + 0 }" /proc/self/mountinfo' 2>"$T/err")
        ok $? "husk run IMAGE as the user"
        like "$out" "0 0 -rw-r--r-- root" "a file of uid 0 shows uid 0"
        like "$out" "1000 1000 -rwsr-xr-x u1000" "a setuid file of uid 1000 keeps its owner and mode"
        like "$out" "65534 65534 -rw-r--r-- nobody" "a file of uid 65534 keeps its owner"
        like "$out" "0 0 -rw-r--r-- big" "an id beyond the user's range is squashed to the user (0 inside)"
        is "$(echo "$out" | sed -n 5p)" c "the opaque dir of layer 3 hides layer 2's files"
        like "$out" "can't open|No such file" "a whiteout hides /etc/motd"
        is "$(echo "$out" | tail -n 1)" 1 "the root is an overlay mounted in the user's namespace"
        f=$(ls -d "$S"/layers/*/diff/etc/o 2>/dev/null | head -n 1)
        is "$(stat -c %u "$f/u1000") $(stat -c %u "$f/nobody") $(stat -c %u "$f/root")" \
                "$((SUBUID + 999)) $((SUBUID + 65533)) $RUID" "on the host, the layer's files belong to the user's subordinate ids"
        out=$(asuser env HUSK_IMAGE_COPY=1 "$HUSK" run --network none owners:latest sh -c 'ls -ln /etc/o | awk "NR > 1 { print \$3, \$9 }" | tr "\n" " "; ls /data' 2>/dev/null)
        is "$out" "0 big 65534 nobody 0 root 1000 u1000 c" "the copy fallback gives the same root"
        # an image's own user.overlay.opaque would hide a lower layer under the user's overlay
        # (mounted with userxattr): husk sets overlay xattrs, images never do
        mkdir -p "$T/xa/a/hx" "$T/xa/b/hx"
        echo k > "$T/xa/a/hx/keep"; echo n > "$T/xa/b/hx/new"
        if python3 -c "import os; os.setxattr('$T/xa/b/hx', 'user.overlay.opaque', b'y')" 2>/dev/null; then
                tar --numeric-owner -C "$T/xa/a" -cf "$T/xa/a.tar" .
                tar --xattrs --xattrs-include='user.*' --numeric-owner -C "$T/xa/b" -cf "$T/xa/b.tar" .
                sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/xattr-oci" xattr:latest amd64 \
                        '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}' "$A/layers/base.tar.gz" \
                        "$T/xa/a.tar" "$T/xa/b.tar" >/dev/null
                chmod -R a+rX "$T/xattr-oci"
                uhk image load "$T/xattr-oci" >/dev/null 2>&1
                is "$(uhk run --network none xattr:latest ls /hx 2>/dev/null | tr '\n' ' ')" "keep new " \
                        "an image's user.overlay.opaque xattr is not applied (the lower layer stays visible)"
        else
                skip "no user xattrs on $T"
        fi
        # a layer with device nodes (a char and a block device, a hard link to one) and a fifo: a
        # user cannot mknod; husk never makes device nodes from an image (the runtime builds
        # /dev), for a user as for root: the load goes on and says how many it skipped
        mkdir -p "$T/devl/dev" "$T/devl/etc"
        if mknod "$T/devl/dev/null2" c 1 3 && mknod "$T/devl/dev/sda9" b 8 9; then
                ln "$T/devl/dev/null2" "$T/devl/dev/null3"
                mkfifo "$T/devl/etc/fifo"; echo kept > "$T/devl/etc/devfile"
                tar --numeric-owner -C "$T/devl" -cf "$T/devl.tar" .
                sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/dev-oci" devs:latest amd64 \
                        '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}' "$A/layers/base.tar.gz" "$T/devl.tar" >/dev/null
                chmod -R a+rX "$T/dev-oci"
                out=$(uhk image load "$T/dev-oci" 2>&1)
                ok $? "image load as the user of a layer with device nodes" || diag "$out"
                like "$out" ": 3 device nodes in the layers were not created" "one line counts the device nodes skipped"
                out=$(uhk run --network none devs:latest sh -c 'cat /etc/devfile; ls /dev/null2 /dev/null3 /dev/sda9 2>&1 | grep -c "No such"; [ -p /etc/fifo ] && echo fifo' 2>/dev/null)
                is "$(echo "$out" | tr '\n' ' ')" "kept 3 fifo " "the layer's files and fifo are there, its device nodes are not"
                uhk image rm devs:latest >/dev/null 2>&1
        else
                skip "mknod failed in $T"
        fi
        out=$(uhk run --network none --memory 64m owners:latest true 2>&1)
        ok $((! $?)) "run --memory as a user without a cgroup is refused"
        like "$out" "memory: husk cannot apply this limit without a cgroup" "with an error naming the limit"

        # ---- 4. networks
        out=$(uhk run --network bridge owners:latest true 2>&1)
        ok $((! $?)) "--network bridge is refused for a user"
        like "$out" "bridge and CNI networks need root.*--network pasta" "with an error that names the rootless choices"
        is "$(uhk run --network none owners:latest sh -c 'ls /sys/class/net | tr "\n" " "' 2>/dev/null)" "lo " "--network none: only lo"
        out=$(uhk run --network host owners:latest sh -c 'ls /sys/class/net' 2>&1)
        like "$out" "$(ls /sys/class/net | grep -v '^lo$' | head -n 1)" "--network host: the host's interfaces"
        if [ -x /usr/bin/pasta ]; then
                # pasta opens /dev/net/tun inside the user's namespace, where only the device's
                # mode lets the user in (0666 on ordinary hosts, udev's; 0600 on some): without
                # it, the error names the device and the fix. Restored at exit.
                TUN_MODE=$(stat -c %a /dev/net/tun 2>/dev/null)
                if [ -n "$TUN_MODE" ] && chmod 0600 /dev/net/tun; then
                        out=$(uhk run -p "$((20000 + $$ % 20000)):80" owners:latest true 2>&1)
                        ok $((! $?)) "pasta without access to /dev/net/tun: run -p fails"
                        like "$out" "pasta needs /dev/net/tun open for reading and writing by the user: as root, chmod 0666 /dev/net/tun" \
                                "with an error that names /dev/net/tun and the fix"
                        unlike "$out" "syslog" "and without pasta's syslog noise"
                        is "$(ls -A "$S/containers" 2>/dev/null)" "" "and leaves no container folder"
                fi
                [ -n "$TUN_MODE" ] && chmod 0666 /dev/net/tun
                port=$((20000 + $$ % 20000))
                id=$(uhk run -d --name web -p "$port:80" owners:latest sh -c 'echo hello > /tmp/i.html; httpd -f -p 80 -h /tmp' 2>"$T/err")
                is "$id" web "run -d -p as the user (pasta)"
                for _i in $(seq 50); do curl -s -m 2 "http://127.0.0.1:$port/i.html" >/dev/null && break; sleep 0.1; done
                is "$(curl -s -m 3 "http://127.0.0.1:$port/i.html")" hello "the published port answers on 127.0.0.1"
                like "$(uhk ps)" "127.0.0.1:$port->80/tcp +web" "ps shows the service and its port"
                uhk stop web >/dev/null 2>&1; ok $? "stop as the user"
                curl -s -m 2 "http://127.0.0.1:$port/i.html" >/dev/null; ok $((! $?)) "a stopped service publishes nothing"
                uhk restart web >/dev/null 2>&1; ok $? "restart as the user"
                for _i in $(seq 50); do curl -s -m 2 "http://127.0.0.1:$port/i.html" >/dev/null && break; sleep 0.1; done
                is "$(curl -s -m 3 "http://127.0.0.1:$port/i.html")" hello "after restart, the port answers again"
                # outbound: pasta maps the gateway's address to the host's loopback
                python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(b"from-host\n"); c.close()' $((port + 1)) &
                sleep 0.3
                out=$(uhk run owners:latest sh -c 'nc "$(ip route | awk "/^default/ { print \$3 }")" "$1" </dev/null > /tmp/o & sleep 2; cat /tmp/o' sh $((port + 1)) 2>/dev/null)
                # (once a CI rehearsal's nc printed the line many times: the first one is the check)
                is "$(printf '%s\n' "$out" | head -n 1)" from-host "outbound through pasta reaches a host service"
                wait
                uhk logs web >/dev/null 2>&1; ok $? "logs as the user"
                uhk rm -f web >/dev/null 2>&1; ok $? "rm -f as the user"
                curl -s -m 2 "http://127.0.0.1:$port/i.html" >/dev/null; ok $((! $?)) "rm -f stopped publishing"
                for _i in $(seq 50); do pgrep -u "$RUID" '^pas' >/dev/null || break; sleep 0.1; done
                ! pgrep -u "$RUID" '^pas' >/dev/null; ok $? "its pasta is gone"
        else
                skip "pasta (passt) not installed"
        fi
        is "$(ls -A "$S/containers" 2>/dev/null)" "" "no container folder left in the user's store"
        for _i in $(seq 50); do pgrep -u "$RUID" -x husk-pause >/dev/null || break; sleep 0.1; done
        ! pgrep -u "$RUID" -x husk-pause >/dev/null; ok $? "the user's pause process ended with its last container"
else
        skip "missing $A (images/oci.sh)"
fi

# ---- 6. functions as the user: `husk serve` with the store under the user's, a function invoked
# through the front door with the AWS CLI signed with the user's keys, answered by a worker in the
# user's namespace. Without a cgroup (cgroup v1 here) the workers' memory and pids limits cannot
# apply: one warning at start says so, and the workers run without them.
FA=$HUSK_BUILDDIR/images/out/fn/fn-oci.tar
AWS=/usr/bin/aws
if [ -f "$FA" ] && [ -x "$(dirname "$HUSK")/husk-fn" ] && [ -x "$AWS" ] && [ -d "$T/home/.local/share/husk" ]; then
        chmod a+r "$FA"
        FS="$T/home/.local/share/husk"
        out=$(uhk fn create greet --image "$FA" --handler echo 2>&1)
        is "$?:$out" "0:greet" "fn create as the user"
        [ -f "$FS/fn/fn.db" ]; ok $? "functions live in the user's store"
        asuser sh -c 'echo $$ > "$1"; exec "$2" serve --listen 127.0.0.1:0' sh "$T/home/fn.pid" "$HUSK" >"$T/fn.log" 2>&1 &
        for _i in $(seq 100); do [ -s "$FS/fn/serve.addr" ] && break; sleep 0.1; done
        fpid=$(cat "$T/home/fn.pid")
        faddr=$(cat "$FS/fn/serve.addr" 2>/dev/null)
        isnt "$faddr" "" "husk serve as the user" || diag "$(cat "$T/fn.log")"
        is "$(stat -c %U "/proc/$fpid")" "$RU" "the server runs as the user"
        creds=$(uhk serve credentials --format env 2>&1)
        like "$creds" "AWS_SECRET_ACCESS_KEY=" "serve credentials as the user: the keys of the user's store"
        out=$(case "$creds" in export\ *) eval "$creds" ;; esac; AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= AWS_CONFIG_FILE=/dev/null \
                AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 timeout 60 "$AWS" \
                --endpoint-url "http://$faddr" --output json lambda invoke --function-name greet \
                --cli-binary-format raw-in-base64-out --payload '{"from":"rootless"}' "$T/fnout" 2>&1)
        ok $? "aws lambda invoke (signed with the user's keys) answers" || diag "$out"
        is "$(cat "$T/fnout" 2>/dev/null)" '{"from":"rootless"}' "the function's answer: the event echoed by the worker" ||
                diag "$(cat "$T/fn.log")"
        # the warm worker: its bootstrap is the user on the host, in the user's namespace
        wpid=$(pgrep -u "$RUID" -x bootstrap | head -n 1)
        isnt "$wpid" "" "the worker's process is the user's"
        like "$(cat "/proc/$wpid/uid_map" 2>/dev/null)" "^ +0 +$RUID +1" "the worker runs in the user's namespace (uid_map: 0 is the user)"
        isnt "$(readlink "/proc/$wpid/ns/user")" "$(readlink /proc/1/ns/user)" "not in the host's user namespace"
        if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
                skip "cgroup v2: the workers' limits depend on a delegated subtree (rootless_cg.sh in the guest)"
        else
                is "$(grep -c 'warning' "$T/fn.log")" 1 "no cgroup: exactly one warning at start" || diag "$(cat "$T/fn.log")"
                like "$(cat "$T/fn.log")" "warning: rootless: the workers' memory and pids limits are not enforced: there is no cgroup this user may write \(.*cgroup v1.*\); run husk fn serve in a delegated cgroup v2 subtree" \
                        "the warning names the limits, why, and how to get them"
                wcg=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$wpid/cgroup" 2>/dev/null)
                is "${wcg:-none}" "$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$fpid/cgroup")" \
                        "the worker stays in the server's memory cgroup (it has none of its own)"
        fi
        # another husk command of the user ends while the server runs: the pause process stays
        uhk image ls >/dev/null 2>&1
        ppid=$(cat "$RUN/husk/pause.pid" 2>/dev/null)
        [ -n "$ppid" ] && ! gone "$ppid"; ok $? "the user's pause process stays while husk serve uses it"
        kill "$fpid" 2>/dev/null
        for _i in $(seq 100); do gone "$fpid" && break; sleep 0.1; done
        gone "$fpid"; ok $? "husk serve stops on SIGTERM"
        for _i in $(seq 50); do gone "$wpid" && break; sleep 0.1; done
        gone "$wpid"; ok $? "its worker is gone"
        # the server was the user's last husk process: it ends the pause process
        gone "$ppid"; ok $? "husk serve, the last husk process of the user, ended the pause process"
        uhk fn rm greet >/dev/null 2>&1; ok $? "fn rm as the user"
        is "$(ls -A "$FS/containers" 2>/dev/null)" "" "no worker folder left"
        # the user's last husk command ends its pause process: nothing needs it any more
        for _i in $(seq 50); do pgrep -u "$RUID" -x husk-pause >/dev/null || break; sleep 0.1; done
        ! pgrep -u "$RUID" -x husk-pause >/dev/null; ok $? "no husk-pause of the user is left after its last husk command"
        is "$(pgrep -u "$RUID" | tr '\n' ' ')" "" "nothing of the user's runs once its husk commands ended"
else
        skip "functions as the user: needs $FA (make images/out/fn/.built), husk-fn and $AWS"
fi

# ---- 5. rootless podman with husk as its runtime (husk is root in podman's user namespace)
PA=$HUSK_BUILDDIR/images/out/archives/busybox-docker.tar
if command -v podman >/dev/null 2>&1 && command -v conmon >/dev/null 2>&1 && [ -f "$PA" ]; then
        E="$T/home/podman"
        asuser mkdir -p "$E/bin"
        # The basename must be "runc": podman passes --log-format=json only to runtimes it knows.
        asuser ln -s "$HUSK" "$E/bin/runc"
        P="podman --root $E/storage --runroot $RUN/podman --tmpdir $E/tmp --runtime $E/bin/runc \
--cgroup-manager cgroupfs --events-backend file --log-level error"
        PU="--pull never --ulimit nofile=4096:4096 --ulimit nproc=4096:4096"
        asuser $P load -q -i "$PA" >/dev/null 2>"$T/perr"
        ok $? "rootless podman loads the busybox archive" || diag "$(cat "$T/perr")"
        out=$(asuser timeout 60 $P run --rm $PU --net none localhost/busybox:docker sh -c 'cat /proc/self/uid_map; exit 3' 2>"$T/perr")
        is "$?" 3 "rootless podman run --rm with husk: the exit status passes through" || diag "$(cat "$T/perr")"
        like "$out" "0 +$RUID +1" "the container is in podman's user namespace (the user is 0)"
        like "$out" "1 +$SUBUID +65536" "with the user's subordinate range"
        asuser timeout 60 $P run -d --name pc $PU localhost/busybox:docker sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null 2>"$T/perr"
        ok $? "rootless podman run -d (its default network, slirp4netns)" || diag "$(cat "$T/perr")"
        out=$(asuser timeout 30 $P exec pc sh -c 'echo exec-ok; exit 4' 2>&1)
        is "$?:$out" "4:exec-ok" "rootless podman exec"
        asuser timeout 30 $P stop -t 5 pc >/dev/null 2>&1; ok $? "rootless podman stop"
        asuser timeout 30 $P rm pc >/dev/null 2>&1; ok $? "rootless podman rm"
        is "$(asuser $P ps -aq 2>/dev/null)" "" "no podman container left"
        is "$(ls -A "$RUN/husk" 2>/dev/null | grep -Ev '^(seccomp-cache|pause.lock|pause.users)$')" "" "no husk state left (husk's default root in podman's namespace: \$XDG_RUNTIME_DIR/husk)"
        # podman keeps its own pause process for its user namespace (not husk's)
        asuser podman system migrate >/dev/null 2>&1
        pkill -u "$RUID" -x "podman pause" 2>/dev/null
else
        skip "rootless podman: needs podman, conmon and $PA"
fi

done_testing
