#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runtime, rootfs and config behaviour that runc and crun share (issue 16): bundles they run, husk
# runs too, with the same effect seen from inside the container (and, for propagation, from the
# host). Each block names the difference it guards against.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# ---- runc spec's capabilities: ambient CAP_KILL... without an inheritable set. runc and crun skip
# an ambient capability that is not also permitted and inheritable (CapAmb 0); husk failed with
# "raise ambient CAP_CAP_KILL".
b=$(new_bundle)
cfg "$b" '.process.capabilities.ambient = .process.capabilities.bounding'
cfg "$b" '.process.args = ["/bin/sh", "-c", "grep -E \"^Cap(Inh|Amb)\" /proc/self/status | tr -s \"\\t\" \" \""]'
out=$(hk --log "$T/amb.log" run -b "$b" a1 2>&1)
is "$out" "CapInh: 0000000000000000
CapAmb: 0000000000000000" "ambient caps outside inheritable are skipped (runc spec's bundle runs)"
like "$(cat "$T/amb.log" 2>/dev/null)" 'warning.*ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE not raised' \
        "the skipped ambient caps are named in a --log warning"
unlike "$out $(cat "$T/amb.log" 2>/dev/null)" 'CAP_CAP_' "capability names carry one CAP_ prefix"

# ---- process.scheduler and process.ioPriority are applied (sched_setattr, ioprio_set), for the
# container's process and for exec --process; husk refused both.
b=$(new_bundle)
cfg "$b" '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}
        | .process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
out=$(run_in "$b" s1 /bin/sh -c 'cut -d" " -f19,41 /proc/self/stat; ionice' 2>&1)
is "$out" "7 3
best-effort: prio 6" "scheduler (SCHED_BATCH, nice 7) and ioPriority (best-effort 6) applied"
cfg "$b" '.process.args = ["/bin/sleep", "30"]'
hk run -d -b "$b" s2 >/dev/null 2>&1
jq '.process | .args = ["/bin/sh", "-c", "cut -d\" \" -f19,41 /proc/self/stat; ionice"]
        | .scheduler = {"policy": "SCHED_IDLE"} | .ioPriority = {"class": "IOPRIO_CLASS_IDLE"}' \
        "$b/config.json" > "$T/proc.json"
out=$(hk exec --process "$T/proc.json" s2 2>&1)
is "$out" "0 5
idle" "exec --process: scheduler (SCHED_IDLE) and ioPriority (idle) applied"
hk delete -f s2 >/dev/null 2>&1
cfg "$b" '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 0, "period": 0}
        | .process.args = ["/bin/true"]'
out=$(hk run -b "$b" s3 2>&1); rc=$?
isnt "$rc" 0 "a scheduler the kernel refuses fails the create"
like "$out" "process.scheduler: sched_setattr" "... with the call named"

# ---- accepted with a warning, since skipping grants nothing more (docs/config.md): a namespace
# listed twice without a path (crun), device access letters beyond rwm (runc keeps the known ones:
# "rx" allows read only), Windows' commandLine, linux.mountLabel on a host without SELinux (crun).
b=$(new_bundle)
cfg "$b" '.linux.namespaces += [{"type": "ipc"}] | .process.commandLine = "cmd.exe"
        | .process.execCPUAffinity = {"initial": "0"}
        | .linux.mountLabel = "system_u:object_r:container_file_t:s0"
        | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 438}]
        | .linux.resources.devices = [{"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "wx"}]
        | .process.args = ["/bin/sh", "-c", "echo hi > /dev/kmsg && echo wrote; readlink /proc/self/ns/ipc"]'
if [ -d /sys/fs/selinux ]; then skip "SELinux is enabled on this host"; else
out=$(hk --log "$T/w.log" run -b "$b" w1 2>&1)
ipc=$(readlink /proc/self/ns/ipc)
is "$(printf '%s\n' "$out" | head -1)" "wrote" "device access \"wx\" is accepted as \"w\" (the unit test checks nothing more is granted)"
isnt "$(printf '%s\n' "$out" | tail -1)" "$ipc" "the ipc namespace listed twice is one new namespace"
w=$(cat "$T/w.log" 2>/dev/null)
like "$w" 'namespaces\[5\].type: namespace \\"ipc\\" listed twice' "warning: namespace listed twice"
like "$w" 'devices\[2\].access: letters other than r, w and m' "warning: access letters ignored"
like "$w" 'commandLine: ignored' "warning: commandLine ignored"
like "$w" 'mountLabel: ignored \(SELinux is not enabled' "warning: mountLabel ignored without SELinux"
fi

# ---- rootfsPropagation rshared: "/" gets it before the binds (husk made it rslave first and
# rshared only after the pivot, too late to stay in the host's peer group), so a mount made inside
# a volume bound from a shared host mount reaches the host (Kubernetes Bidirectional).
mkdir -p "$T/vol"
mount --bind "$T/vol" "$T/vol" && mount --make-shared "$T/vol"
b=$(new_bundle_rw) # a new mount point: never in the shared image
cfg "$b" --arg v "$T/vol" '.linux.rootfsPropagation = "rshared"
        | .mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": ["rbind", "rshared"]}]
        | .process.args = ["/bin/sh", "-c", "mkdir -p /vol/sub && mount -t tmpfs -o size=1m tmpfs /vol/sub && echo in > /vol/sub/f && echo mounted"]
        | .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
        | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
out=$(hk run -b "$b" p1 2>&1)
is "$out" "mounted" "rshared: the container mounts a tmpfs in the bidirectional volume"
is "$(cat "$T/vol/sub/f" 2>&1)" "in" "rshared: the container's mount is seen on the host"
umount "$T/vol/sub" 2>/dev/null
# Default (rslave): the same mount stays inside.
cfg "$b" 'del(.linux.rootfsPropagation) | .mounts[-1].options = ["rbind"]'
out=$(hk run -b "$b" p2 2>&1)
is "$out" "mounted" "rslave: the container mounts a tmpfs in the volume"
[ -e "$T/vol/sub/f" ]; ok $((!$?)) "rslave: the container's mount does not reach the host"
umount "$T/vol/sub" 2>/dev/null
umount "$T/vol"

# ---- a new network namespace has lo up (runc and crun bring it up; husk left it down).
b=$(new_bundle)
out=$(run_in "$b" l1 /bin/sh -c 'cat /sys/class/net/lo/flags' 2>&1)
is "$out" "0x9" "new network namespace: lo is up (IFF_UP|IFF_LOOPBACK)"

# ---- HOME from the container's /etc/passwd when the env has none ("/" without an entry), for the
# container and for exec (runc and crun; husk left HOME unset).
b=$(new_bundle_rw)
echo 'app:x:1000:1000:App:/home/app:/bin/sh' >> "$b/rootfs/etc/passwd"
cfg "$b" '.process.env = ["PATH=/bin"]'
is "$(run_in "$b" h1 /bin/sh -c 'echo "$HOME"' 2>&1)" "/root" "uid 0 without HOME: HOME=/root"
cfg "$b" '.process.user = {"uid": 1000, "gid": 1000}'
is "$(run_in "$b" h2 /bin/sh -c 'echo "$HOME"' 2>&1)" "/home/app" "uid 1000 without HOME: its passwd home"
cfg "$b" '.process.user = {"uid": 4242, "gid": 4242}'
is "$(run_in "$b" h3 /bin/sh -c 'echo "$HOME"' 2>&1)" "/" "uid without a passwd entry: HOME=/"
cfg "$b" '.process.user = {"uid": 1000, "gid": 1000} | .process.env = ["PATH=/bin", "HOME=/mine"]'
is "$(run_in "$b" h4 /bin/sh -c 'echo "$HOME"' 2>&1)" "/mine" "a configured HOME is kept"
cfg "$b" '.process.env = ["PATH=/bin"] | .process.args = ["/bin/sleep", "30"]'
hk run -d -b "$b" h5 >/dev/null 2>&1
is "$(hk exec -u 1000 h5 /bin/sh -c 'echo "$HOME"' 2>&1)" "/home/app" "exec without HOME: the passwd home of its user"
hk delete -f h5 >/dev/null 2>&1
# /etc/passwd as a magic link (/proc/self/fd/N) is not followed: the setup still holds host fds.
printf 'root:x:0:0::/LEAKED:/bin/sh\n' > "$T/fakepw"
rm -f "$b/rootfs/etc/passwd"; ln -s /proc/self/fd/0 "$b/rootfs/etc/passwd"
cfg "$b" '.process.user = {"uid": 0, "gid": 0}'
is "$(run_in "$b" h6 /bin/sh -c 'echo "$HOME"' 2>&1 < "$T/fakepw")" "/" "an /etc/passwd magic link is not followed for HOME"

# ---- a process.cwd that does not exist is created (0755, root-owned, reachable by the user), as
# runc and crun do; husk failed the chdir. An image symlink on the way stays inside the root.
b=$(new_bundle_rw)
cfg "$b" '.process.cwd = "/work/deep" | .process.user = {"uid": 1000, "gid": 1000}'
out=$(run_in "$b" c1 /bin/sh -c 'pwd; stat -c "%a %u" /work/deep' 2>&1)
is "$out" "/work/deep
755 0" "missing cwd created 0755 and entered by uid 1000"
mkdir -p "$T/hostside"
ln -s "$T/hostside" "$b/rootfs/esc"
cfg "$b" '.process.cwd = "/esc/new" | del(.mounts[] | select(.destination == "/tmp"))'
out=$(run_in "$b" c2 /bin/pwd 2>&1)
is "$out" "$T/hostside/new" "cwd through an absolute image symlink is created"
[ ! -e "$T/hostside/new" ] && [ -d "$b/rootfs$T/hostside/new" ]
ok $? "... inside the root, not on the host"

# ---- idmapped mounts (mounts[].uidMappings/gidMappings: mount_setattr MOUNT_ATTR_IDMAP), and bind
# sources opened on the host side: a source under a 0700 root-only directory works in a user
# namespace (husk refused the first and failed the second with EACCES).
mkdir -p "$T/secret/data"
chmod 0700 "$T/secret"
echo hello > "$T/secret/data/f"
chown 0:0 "$T/secret/data/f"
b=$(new_bundle_rw) # a new mount point: never in the shared image
cfg "$b" --arg s "$T/secret/data" '.mounts += [{"destination": "/idm", "type": "bind", "source": $s,
            "options": ["rbind"], "uidMappings": [{"containerID": 0, "hostID": 1234, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 4321, "size": 1}]}]'
out=$(run_in "$b" i1 /bin/sh -c 'stat -c "%u %g" /idm/f; cat /idm/f' 2>&1)
is "$out" "1234 4321
hello" "idmapped bind mount: the root-owned file shows as 1234:4321"
[ "$(stat -c '%u %g' "$T/secret/data/f")" = "0 0" ]; ok $? "... and stays 0:0 on the host"
b=$(new_bundle)
cfg "$b" --arg s "$T/secret/data" '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .mounts += [{"destination": "/home", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]'
out=$(run_in "$b" i2 /bin/sh -c 'ls /home' 2>&1)
is "$out" "f" "user namespace: a bind source only the host's root can reach is mounted"
cfg "$b" --arg s "$T/secret/data" '.mounts[-1] += {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}'
out=$(run_in "$b" i3 /bin/sh -c 'stat -c "%u %g" /home/f; id -u' 2>&1)
is "$out" "0 0
0" "user namespace + idmapped mount: host root's file is owned by the container's root"
cfg "$b" '.mounts[-1].type = "tmpfs" | .mounts[-1].options = []'
out=$(hk run -b "$b" i4 2>&1)
like "$out" "uidMappings/gidMappings need a bind mount" "idmapped non-bind mount: a clear error"

# ---- /dev as a read-only tmpfs: the mount points under it (/dev/pts, /dev/shm), the devices and
# /dev/console are made first, then /dev becomes read-only (as runc does; husk failed with EROFS).
b=$(new_bundle_rw) # a new mount point: never in the shared image
cfg "$b" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)
        | .mounts += [{"destination": "/ro", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=711"]}]'
out=$(run_in "$b" d1 /bin/sh -c 'touch /dev/x 2>/dev/null || echo dev-ro; touch /ro/x 2>/dev/null || echo ro-ro
        echo ok > /dev/null && echo null-ok; touch /dev/shm/y && echo shm-rw; stat -c %a /ro
        grep -E " /dev (tmpfs|ro)" /proc/self/mounts | cut -d" " -f4 | cut -d, -f1' 2>&1)
is "$out" "dev-ro
ro-ro
null-ok
shm-rw
711
ro" "read-only /dev tmpfs: mounts and devices under it made, then read-only"

# ---- no mount namespace in .linux.namespaces: runc runs it with chroot; husk refused it. Nothing
# is mounted (it would land on the host: the leak checks below look), the process shares the
# host's mount namespace inside the root; what cannot be skipped is refused.
b=$(new_bundle)
cfg "$b" '.linux.namespaces |= map(select(.type != "mount")) | del(.linux.maskedPaths)
        | del(.linux.readonlyPaths) | .root.readonly = false
        | .process.args = ["/bin/sh", "-c", "ls /bin/busybox; ls /proc | wc -l; sleep 30"]'
hk run -d -b "$b" --pid-file "$T/nm.pid" m1 >"$T/nm.out" 2>&1
ok $? "no mount namespace: the container starts"
pid=$(cat "$T/nm.pid" 2>/dev/null)
is "$(readlink /proc/${pid:-0}/ns/mnt 2>&1)" "$(readlink /proc/self/ns/mnt)" "... in the host's mount namespace"
is "$(readlink /proc/${pid:-0}/root 2>&1)" "$HUSK_IMAGE" "... chrooted into the rootfs"
hk delete -f m1 >/dev/null 2>&1
cfg "$b" '.root.readonly = true'
out=$(hk run -b "$b" m2 2>&1)
like "$out" 'root.readonly needs a mount namespace' "no mount namespace: root.readonly is refused"
cfg "$b" '.root.readonly = false | .linux.maskedPaths = ["/proc/kcore"]'
out=$(hk run -b "$b" m3 2>&1)
like "$out" 'maskedPaths needs a mount namespace' "no mount namespace: maskedPaths are refused (runc too)"

# ---- --no-pivot in a user namespace: the host's procfs cannot be detached there (locked, EINVAL)
# and was left fully visible, so after unshare -mr the container could mount a fresh proc. runc
# covers it; husk now does too (the test runc has for this: "mount: permission denied").
b=$(new_bundle)
cfg "$b" '.process.capabilities.bounding += ["CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_SETFCAP"]
        | .process.capabilities.effective = .process.capabilities.bounding
        | .process.capabilities.permitted = .process.capabilities.bounding
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .process.args = ["/bin/sh", "-c", "unshare -mrpf sh -c \"mount -t proc none /proc && echo MOUNTED\""]'
out=$(hk run --no-pivot -b "$b" n1 2>&1)
like "$out" "permission denied" "--no-pivot, user namespace: a fresh /proc cannot be mounted"
unlike "$out" "MOUNTED" "... and is not"
out=$(hk run -b "$b" n2 2>&1)
like "$out" "permission denied" "pivot, user namespace: the same is denied"

# ---- tmpfs mode= is the mode of the mount's root, plain, read-only, with tmpcopyup, and in a user
# namespace (a regression guard: the issue's case was not reproduced on this host).
b=$(new_bundle) # mount points the image has: nothing is created in the shared image
cfg "$b" '.mounts += [{"destination": "/home", "type": "tmpfs", "source": "tmpfs", "options": ["mode=700"]},
          {"destination": "/root", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=0711"]},
          {"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["mode=750", "tmpcopyup"]},
          {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=1k"]}]'
out=$(run_in "$b" t1 /bin/sh -c 'stat -c %a /home /root /etc /tmp' 2>&1)
is "$(echo $out)" "700 711 750 755" "tmpfs mode= applied to the mount's root"
cfg "$b" '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .mounts |= map(select(.destination != "/home" and .destination != "/root"))'
out=$(run_in "$b" t2 /bin/sh -c 'stat -c %a /etc /tmp' 2>&1)
is "$(echo $out)" "750 755" "tmpfs mode= applied in a user namespace"

# ---- copy-symlink (crun's bind option; runc ignores it): a bind source that is a symlink becomes
# the same symlink in the container, any other source is bound as usual (husk refused the option).
mkdir -p "$T/cs/dir"; echo in-dir > "$T/cs/dir/f"; ln -s /etc/hostname "$T/cs/link"
b=$(new_bundle_rw)
cfg "$b" --arg d "$T/cs/dir" --arg l "$T/cs/link" '.mounts += [
        {"destination": "/csdir", "type": "bind", "source": $d, "options": ["rbind", "copy-symlink"]},
        {"destination": "/cslink", "type": "bind", "source": $l, "options": ["bind", "copy-symlink"]}]'
out=$(run_in "$b" y1 /bin/sh -c 'cat /csdir/f; readlink /cslink' 2>&1)
is "$out" "in-dir
/etc/hostname" "copy-symlink: a directory is bound, a symlink is copied"

# ---- process.execCPUAffinity: exec pins the process (final; initial while it joins), the init
# process is not affected (runtime-spec); husk refused the field.
if [ "$(grep -c ^processor /proc/cpuinfo)" -lt 2 ]; then skip "needs 2 CPUs"; skip "needs 2 CPUs"; else
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sleep", "30"] | .process.execCPUAffinity = {"final": "1"}'
hk run -d -b "$b" a2 >/dev/null 2>&1
jq '.process | .args = ["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status | tr -s \"\\t\" \" \""]' "$b/config.json" > "$T/aff.json"
out=$(hk exec --process "$T/aff.json" a2 2>&1)
is "$out" "Cpus_allowed_list: 1" "exec --process: execCPUAffinity.final pins the process to CPU 1"
out=$(hk exec a2 /bin/sh -c 'grep Cpus_allowed_list /proc/1/status | tr -s "\t" " "' 2>&1)
isnt "$out" "Cpus_allowed_list: 1" "the init process is not pinned"
hk delete -f a2 >/dev/null 2>&1
fi

# ---- an unknown capability name is skipped with a warning, as runc ("ignoring unknown or
# unavailable capabilities") and crun run it (runtime-tools process_capabilities_fail); husk
# refused the config. Skipping only grants less.
b=$(new_bundle)
cfg "$b" '.process.capabilities.bounding += ["CAP_TEST"] | .process.capabilities.permitted += ["CAP_TEST"]'
cfg "$b" '.process.args = ["/bin/sh", "-c", "grep CapBnd /proc/self/status | tr -s \"\\t\" \" \""]'
out=$(hk --log "$T/capt.log" run -b "$b" ct1 2>&1)
is "$out" "CapBnd: 0000000020000420" "an unknown capability is skipped: the container runs with the three others"
like "$(cat "$T/capt.log" 2>/dev/null)" 'unknown capability \\?"CAP_TEST\\?" ignored' "the skip is a warning in --log"

# ---- runtime-tools' linux_rootfs_propagation and mounts programs (regressions of this work):
# an unbindable rootfsPropagation cannot be set on "/" before the rootfs self-bind (EINVAL) and is
# set on the new root; bind mounts keep the listed order in the container's mountinfo.
b=$(new_bundle)
cfg "$b" '.linux.rootfsPropagation = "unbindable"'
out=$(run_in "$b" pu1 /bin/sh -c 'awk "\$5 == \"/\" && /unbindable/" /proc/self/mountinfo | wc -l' 2>&1)
is "$out" "1" "rootfsPropagation unbindable: the container runs and its / is unbindable"
b=$(new_bundle)
cfg "$b" '.mounts += [{"destination": "/home", "type": "tmpfs", "source": "tmpfs"},
                      {"destination": "/root", "type": "bind", "source": "/etc", "options": ["bind", "ro"]}]'
out=$(run_in "$b" mo1 /bin/sh -c 'awk "{print \$5}" /proc/self/mountinfo | grep -nx -e /home -e /root | cut -d: -f2 | tr "\n" " "' 2>&1)
is "$out" "/home /root " "bind mounts come in the listed order in mountinfo"

done_testing
