#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Mounts and /dev of real containers run through the CLI, observed from inside: mountinfo flags of
# every mount type, binds (ro/rw/nosuid, relative source, file), tmpfs size/mode, cgroup mount,
# /dev contents and modes, linux.devices, root.readonly, rootfsPropagation, --no-pivot.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# mnt MOUNTINFO MOUNTPOINT: "per-mount-options fstype super-options" of the last mount there
mnt() { printf '%s\n' "$1" | awk -v m="$2" '$5 == m { for (i = 7; $i != "-"; i++); o = $6 " " $(i+1) " " $(i+3) } END { print o }'; }

b=$(new_bundle)
mi=$(run_in "$b" m1 cat /proc/self/mountinfo); ok $? "default bundle runs"
like "$(mnt "$mi" /)" '^ro,' "root.readonly (lib.sh bundles): / is read-only"
like "$(mnt "$mi" /proc)" '^rw,.* proc ' "/proc: procfs"
like "$(mnt "$mi" /dev)" '^rw,nosuid .*tmpfs .*size=65536k,mode=755' "/dev: nosuid strictatime tmpfs, size and mode"
like "$(mnt "$mi" /dev/pts)" '^rw,nosuid,noexec,.* devpts .*mode=620,ptmxmode=666' "/dev/pts: devpts newinstance"
like "$(mnt "$mi" /dev/shm)" '^rw,nosuid,nodev,noexec,.* tmpfs .*size=65536k' "/dev/shm"
like "$(mnt "$mi" /dev/mqueue)" '^rw,nosuid,nodev,noexec,.* mqueue ' "/dev/mqueue"
like "$(mnt "$mi" /sys)" '^ro,nosuid,nodev,noexec,.* sysfs ' "/sys: read-only sysfs"
like "$(mnt "$mi" /tmp)" '^rw,nosuid,nodev,.* tmpfs ' "/tmp tmpfs"
unlike "$(printf '%s\n' "$mi" | awk '$5 == "/"')" 'shared:' "/ is not shared with the host"

out=$(run_in "$b" m2 sh -c 'touch /x 2>&1; touch /tmp/y && echo tmp-ok')
is "$out" "touch: /x: Read-only file system
tmp-ok" "root.readonly: / EROFS, /tmp writable"

# /dev
out=$(run_in "$b" d1 ls /dev)
is "$(echo $out)" "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" "/dev holds exactly the default entries"
out=$(run_in "$b" d2 sh -c 'for d in null zero full random urandom tty; do stat -c "%n %A %t:%T %u:%g" /dev/$d; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done')
is "$out" "/dev/null crw-rw-rw- 1:3 0:0
/dev/zero crw-rw-rw- 1:5 0:0
/dev/full crw-rw-rw- 1:7 0:0
/dev/random crw-rw-rw- 1:8 0:0
/dev/urandom crw-rw-rw- 1:9 0:0
/dev/tty crw-rw-rw- 5:0 0:0
pts/ptmx
/proc/self/fd
/proc/self/fd/0
/proc/self/fd/1
/proc/self/fd/2" "default devices (type, numbers, mode, owner) and symlinks"
b=$(new_bundle)
cfg "$b" '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 416, "uid": 0, "gid": 34},
        {"path": "/dev/sub/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 384}]
        | .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
out=$(run_in "$b" d3 sh -c 'stat -c "%n %A %t:%T %u:%g" /dev/mydev /dev/sub/fuse; head -c 2 /dev/mydev | wc -c')
is "$out" "/dev/mydev crw-r----- 1:5 0:34
/dev/sub/fuse crw------- a:e5 0:0
2" "linux.devices: numbers, fileMode, uid/gid, subdirectory; the node works"

# binds
src=$T/src; mkdir -p "$src"; echo data > "$src/file"; echo single > "$T/single"
b=$(new_bundle_rw); mkdir -p "$b/rel"; echo relative > "$b/rel/f"
cfg "$b" --arg s "$src" --arg f "$T/single" '.mounts += [
        {"destination": "/mnt/ro", "type": "bind", "source": $s, "options": ["rbind", "ro"]},
        {"destination": "/mnt/rw", "type": "bind", "source": $s, "options": ["bind", "rw", "nosuid", "nodev", "noexec"]},
        {"destination": "/mnt/rel", "type": "bind", "source": "rel", "options": ["bind"]},
        {"destination": "/etc/single", "type": "bind", "source": $f, "options": ["bind", "ro"]},
        {"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k", "mode=700", "nodev"]}]'
out=$(run_in "$b" b1 sh -c 'cat /mnt/ro/file /mnt/rel/f /etc/single; touch /mnt/ro/n 2>&1; touch /mnt/rw/n && echo rw-ok; stat -c %a /data; df -k /data | tail -1 | tr -s " " | cut -d" " -f2; cat /proc/self/mountinfo')
like "$out" "^data
relative
single
touch: /mnt/ro/n: Read-only file system
rw-ok
700
64
" "binds: ro (EROFS), rw, relative source, file; tmpfs mode=700 size=64k"
like "$(mnt "$out" /mnt/ro)" '^ro,' "ro bind flags"
like "$(mnt "$out" /mnt/rw)" '^rw,nosuid,nodev,noexec' "rw,nosuid,nodev,noexec bind flags"
like "$(mnt "$out" /data)" '^rw,nodev.* tmpfs .*size=64k,mode=700' "tmpfs options"
[ -f "$src/n" ]; ok $? "rw bind writes through to the host"
[ -f "$b/rootfs/etc/single" ] && [ ! -s "$b/rootfs/etc/single" ]; ok $? "file mount point created as an empty file"

# podman --tmpfs: tmpcopyup
mkdir -p "$b/rootfs/srv/cu"; echo seed > "$b/rootfs/srv/cu/f"
cfg "$b" '.mounts += [{"destination": "/srv/cu", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]}]'
out=$(run_in "$b" b2 sh -c 'cat /srv/cu/f; echo new > /srv/cu/f; cat /srv/cu/f; grep " /srv/cu " /proc/self/mountinfo | grep -c " tmpfs "')
is "$out" "seed
new
1" "tmpcopyup: the tmpfs starts with the image's content"
is "$(cat "$b/rootfs/srv/cu/f")" "seed" "tmpcopyup: the image is unchanged"
cfg "$b" '.mounts += [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}]'
out=$(run_in "$b" b3 true 2>&1); isnt "$?" 0 "idmap mounts are rejected"
like "$out" 'mount option "idmap" is not supported' "the error names the option"

# cgroup mount as podman sends it
b=$(new_bundle)
cfg "$b" '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]}]'
out=$(run_in "$b" c1 sh -c 'ls /sys/fs/cgroup; cat /proc/self/mountinfo; cat /proc/self/cgroup; ls /sys/fs/cgroup/memory/ | grep -c "^memory.limit_in_bytes$"; mkdir /sys/fs/cgroup/memory/x 2>&1')
like "$(mnt "$out" /sys/fs/cgroup)" '^ro,nosuid,nodev,noexec.* tmpfs ' "cgroup: read-only tmpfs at /sys/fs/cgroup"
if [ -d /sys/fs/cgroup/memory ]; then
        like "$(mnt "$out" /sys/fs/cgroup/memory)" '^ro,nosuid,nodev,noexec.* cgroup .*memory' "cgroup: memory hierarchy bound read-only"
        mpath=$(printf '%s\n' "$out" | awk -F: '$2 == "memory" { print $3 }')
        like "$(printf '%s\n' "$out" | awk '$5 == "/sys/fs/cgroup/memory" { print $4 }')" "^$mpath\$" "cgroup: the container's own cgroup dir is bound"
        like "$out" "Read-only file system" "cgroup: cannot create cgroups inside"
else skip "no v1 memory hierarchy"; skip "no v1 memory hierarchy"; skip "no v1 memory hierarchy"; fi

# rootfsPropagation and a shared bind
b=$(new_bundle_rw)
cfg "$b" --arg s "$src" '.linux.rootfsPropagation = "rshared" | .mounts += [{"destination": "/mnt/s", "type": "bind", "source": $s, "options": ["rbind", "rshared"]}]'
out=$(run_in "$b" p1 cat /proc/self/mountinfo)
like "$(printf '%s\n' "$out" | awk '$5 == "/"')" 'shared:[0-9]+' "rootfsPropagation rshared"
like "$(printf '%s\n' "$out" | awk '$5 == "/mnt/s"')" 'shared:[0-9]+' "an rshared bind stays shared after the pivot"

# --no-pivot: only the container's mounts, its own /proc
b=$(new_bundle)
cfg "$b" '.process.args = ["/bin/sh", "-c", "wc -l < /proc/self/mountinfo; ls / | head -1; awk \"\\$5 == \\\"/proc\\\"\" /proc/self/mountinfo | wc -l; readlink /proc/1/exe"]'
out=$(hk run --no-pivot -b "$b" np1); ok $? "--no-pivot runs"
is "$(echo $out)" "$(echo "$mi" | wc -l) bin 1 /bin/busybox" "--no-pivot: same mount table as with pivot_root, the container's /proc"
done_testing
