#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The rootfs module end to end without the CLI: tests/helpers/rootfs_harness builds lib.sh's default
# config in memory, unshares mount/pid/ipc/uts namespaces, runs rootfs_mounts -> rootfs_mask ->
# rootfs_pivot -> rootfs_finalize and execs a busybox command in the new root.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
H=$HUSK_HELPERS/rootfs_harness
# In a sanitizer build: LeakSanitizer needs the host's /proc, which is gone after the pivot.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0; export ASAN_OPTIONS
[ -x "$H" ] || skip_all "missing $H"
[ -d "$HUSK_IMAGE/bin" ] || skip_all "missing image $HUSK_IMAGE"

new_root() { _r=$(mktemp -d "$T/root.XXXXXX"); rmdir "$_r"; cp -a "$HUSK_IMAGE" "$_r"; echo "$_r"; }
# mnt MOUNTINFO_TEXT MOUNTPOINT: "options fstype superoptions" of the mount at MOUNTPOINT (last one)
mnt() { printf '%s\n' "$1" | awk -v m="$2" '$5 == m { for (i = 7; $i != "-"; i++); o = $6 " " $(i+1) " " $(i+3) } END { print o }'; }

# ---- default mounts: type and flags as seen from inside ----
R=$(new_root)
mi=$("$H" "$R" -- cat /proc/self/mountinfo); ok $? "default config runs"
like "$(mnt "$mi" /proc)" '^rw,.* proc ' "/proc is procfs"
like "$(mnt "$mi" /dev)" '^rw,nosuid[, ].*tmpfs .*mode=755' "/dev is a nosuid tmpfs, mode 755"
unlike "$(mnt "$mi" /dev)" 'relatime' "/dev is strictatime"
like "$(mnt "$mi" /dev)" 'size=65536k' "/dev tmpfs size"
like "$(mnt "$mi" /dev/pts)" '^rw,nosuid,noexec.* devpts .*mode=620,ptmxmode=666' "devpts newinstance options"
like "$(mnt "$mi" /dev/shm)" '^rw,nosuid,nodev,noexec.* tmpfs .*size=65536k' "/dev/shm flags and size"
like "$(mnt "$mi" /dev/mqueue)" '^rw,nosuid,nodev,noexec.* mqueue ' "/dev/mqueue is mqueue"
like "$(mnt "$mi" /sys)" '^ro,nosuid,nodev,noexec.* sysfs ' "/sys is a read-only sysfs"
like "$(mnt "$mi" /tmp)" '^rw,nosuid,nodev.* tmpfs ' "/tmp tmpfs"
like "$(mnt "$mi" /proc/sys)" '^ro,' "readonlyPaths /proc/sys is read-only"
like "$(mnt "$mi" /proc/acpi)" '^ro,.* tmpfs ' "maskedPaths dir /proc/acpi is a read-only tmpfs"
like "$(mnt "$mi" /sys/firmware)" '^ro,.* tmpfs ' "maskedPaths dir /sys/firmware is a read-only tmpfs"
is "$(printf '%s\n' "$mi" | awk '$5 == "/" { print $4 }')" "$R" "the root is the rootfs self-bind"
unlike "$(printf '%s\n' "$mi" | awk '$5 == "/"')" ' shared:[0-9]+ ' "the root is not shared with the host (rslave)"
out=$("$H" "$R" -- sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid' 2>&1); like "$out" "Read-only file system" "write to /proc/sys fails with EROFS"
if [ -e /proc/sysrq-trigger ]; then
        out=$("$H" "$R" -- sh -c 'echo x > /proc/sysrq-trigger' 2>&1); like "$out" "Read-only file system" "write to /proc/sysrq-trigger fails (readonly file)"
else skip "no /proc/sysrq-trigger on this kernel"; fi
out=$("$H" "$R" -- sh -c 'wc -c < /proc/timer_list; ls /proc/acpi | wc -l'); is "$(echo $out)" "0 0" "masked file reads empty, masked dir is empty"

# ---- /dev ----
out=$("$H" "$R" -- ls /dev); is "$(echo $out)" "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" "/dev holds exactly the default entries"
out=$("$H" "$R" -- sh -c 'for d in null zero full random urandom tty; do stat -c "%n %A %t:%T %u:%g" /dev/$d; done')
is "$out" "/dev/null crw-rw-rw- 1:3 0:0
/dev/zero crw-rw-rw- 1:5 0:0
/dev/full crw-rw-rw- 1:7 0:0
/dev/random crw-rw-rw- 1:8 0:0
/dev/urandom crw-rw-rw- 1:9 0:0
/dev/tty crw-rw-rw- 5:0 0:0" "default devices: types, numbers, modes, owners"
out=$("$H" "$R" -- sh -c 'for l in fd stdin stdout stderr ptmx; do printf "%s>%s " $l $(readlink /dev/$l); done; [ -e /dev/core ] && echo core')
is "$out" "fd>/proc/self/fd stdin>/proc/self/fd/0 stdout>/proc/self/fd/1 stderr>/proc/self/fd/2 ptmx>pts/ptmx " "/dev symlinks (and no /dev/core)"
out=$("$H" "$R" -- sh -c 'head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok')
is "$(echo $out)" "4 null-ok" "/dev/zero and /dev/null work"
out=$("$H" -d c:/dev/mydev:1:5:0640:12:34 -d c:/dev/sub/fuse:10:229:0600:0:0 -d p:/dev/fifo:0:0:0644:0:0 -d c:/dev/null:1:3:0600:5:5 "$R" -- \
        sh -c 'stat -c "%n %A %t:%T %u:%g" /dev/mydev /dev/sub/fuse /dev/null; stat -c "%n %F" /dev/fifo')
is "$out" "/dev/mydev crw-r----- 1:5 12:34
/dev/sub/fuse crw------- a:e5 0:0
/dev/null crw------- 1:3 5:5
/dev/fifo fifo" "linux.devices: mode, owner, numbers, subdirectory, fifo, override of a default"

# ---- bind mounts ----
src=$T/src; mkdir -p "$src/sub"; echo data > "$src/file"; echo bfile > "$T/single"
out=$("$H" -m "/mnt/ro|bind|$src|rbind,ro" -m "/mnt/rw|bind|$src|bind,rw,nosuid,nodev,noexec" "$R" -- sh -c '
        cat /mnt/ro/file; touch /mnt/ro/new 2>&1; touch /mnt/rw/new && echo rw-ok; grep -E " /mnt/r[ow] " /proc/self/mountinfo')
like "$out" "^data" "ro bind shows the source"
like "$out" "Read-only file system" "write into a ro bind fails"
like "$out" "rw-ok" "write into a rw bind works"
[ -f "$src/new" ]; ok $? "the rw bind wrote to the host source"
like "$(mnt "$out" /mnt/ro)" "^ro," "ro bind flag in mountinfo"
like "$(mnt "$out" /mnt/rw)" "^rw,nosuid,nodev,noexec" "rw bind with nosuid,nodev,noexec"
rm -f "$src/new"
B=$(mktemp -d "$T/bundle.XXXXXX"); mkdir -p "$B/data"; echo relative > "$B/data/f"
out=$("$H" -b "$B" -m "/rel|bind|data|bind" -m "/etc/single|bind|$T/single|bind,ro" "$R" -- sh -c 'cat /rel/f /etc/single')
is "$(echo $out)" "relative bfile" "relative bind source resolves against the bundle; file bind creates a file"
[ -f "$R/etc/single" ] && [ ! -s "$R/etc/single" ]; ok $? "file mount point is an empty regular file in the rootfs"
out=$("$H" -m "/mnt/p|bind|$src|rbind,rprivate" -m "/mnt/s|bind|$src|rbind,rshared" "$R" -- cat /proc/self/mountinfo)
unlike "$(printf '%s\n' "$out" | awk '$5 == "/mnt/p"')" "shared:|master:" "rprivate bind has no propagation peers"
like "$(printf '%s\n' "$out" | awk '$5 == "/mnt/s"')" "shared:[0-9]+" "rshared bind is shared"
out=$("$H" -m "/x|tmpfs|tmpfs|idmap" "$R" -- true 2>&1); rc=$?
is "$rc" 125 "idmap is rejected"; like "$out" 'mounts\[7\] \(/x\): mount option "idmap" is not supported' "clear error for idmap"
mkdir -p "$R/cu/sub"; echo one > "$R/cu/sub/f"; ln -s sub/f "$R/cu/l"; chmod 0750 "$R/cu"; chown 12:34 "$R/cu/sub/f"
out=$("$H" -m "/cu|tmpfs|tmpfs|tmpcopyup,nodev" -m "/cu2|tmpfs|tmpfs|tmpcopyup" "$R" -- sh -c 'cat /cu/l; stat -c "%a %u:%g" /cu /cu/sub/f; echo two > /cu/sub/f; cat /cu/sub/f; ls -A /cu2 | wc -l; grep -c " /cu tmpfs " /proc/self/mountinfo; grep " /cu " /proc/self/mountinfo | grep -c tmpfs')
is "$out" "one
750 0:0
644 12:34
two
0
0
1" "tmpcopyup: content, link, owner and mode copied into the tmpfs; writes stay in the tmpfs"
is "$(cat "$R/cu/sub/f")" "one" "tmpcopyup: the image file is unchanged"

# ---- tmpfs size and mode ----
out=$("$H" -m "/data|tmpfs|tmpfs|size=64k,mode=700,nodev" "$R" -- sh -c 'stat -c %a /data; df -k /data | tail -1; grep " /data " /proc/self/mountinfo')
like "$out" "^700" "tmpfs mode=700"
like "$out" "tmpfs +64 " "tmpfs size=64k"
like "$out" "rw,nodev" "tmpfs nodev"

# ---- masked and readonly paths in the image ----
mkdir -p "$R/etc/mdir"; echo secret > "$R/etc/mdir/x"; echo secret > "$R/etc/mfile"
out=$("$H" -M /etc/mfile -M /etc/mdir -M /does/not/exist -R /etc "$R" -- sh -c 'wc -c < /etc/mfile; ls /etc/mdir | wc -l; touch /etc/new 2>&1; stat -c %t:%T /etc/mfile')
is "$out" "0
0
touch: /etc/new: Read-only file system
1:3" "masked file empty (1:3), masked dir empty, missing path skipped, readonly path EROFS"

# ---- root.readonly ----
out=$("$H" -o "$R" -- sh -c 'touch /x 2>&1; touch /tmp/y && echo tmp-ok; awk "\$5 == \"/\" { print \$6 }" /proc/self/mountinfo')
is "$out" "touch: /x: Read-only file system
tmp-ok
ro,relatime" "root.readonly: / is ro, /tmp still writable"

# ---- rootfsPropagation ----
out=$("$H" -P rprivate "$R" -- awk '$5 == "/"' /proc/self/mountinfo)
unlike "$out" "shared:|master:" "rootfsPropagation rprivate: no peer, no master"
out=$("$H" -P rshared "$R" -- awk '$5 == "/"' /proc/self/mountinfo)
like "$out" "shared:[0-9]+" "rootfsPropagation rshared: / is shared"

# ---- cgroup mount (v1/hybrid host: tmpfs + one ro bind per hierarchy) ----
out=$("$H" -m "/sys/fs/cgroup|cgroup|cgroup|ro,nosuid,nodev,noexec" "$R" -- sh -c 'ls /sys/fs/cgroup; grep " /sys/fs/cgroup" /proc/self/mountinfo; mkdir /sys/fs/cgroup/memory/x 2>&1')
for h in $(awk -F: '{ n = $2; sub(/^name=/, "", n); if (n == "") n = "unified"; print n }' /proc/self/cgroup); do
        [ -d "/sys/fs/cgroup/$h" ] || continue
        printf '%s\n' "$out" | grep -qx "$h"; ok $? "cgroup hierarchy $h is visible"
done
like "$(mnt "$out" /sys/fs/cgroup)" "^ro,nosuid,nodev,noexec.* tmpfs" "cgroup tmpfs is read-only"
like "$(mnt "$out" /sys/fs/cgroup/memory)" "^ro,nosuid,nodev,noexec.* cgroup .*memory" "memory hierarchy is a read-only cgroup bind"
like "$out" "Read-only file system" "cannot create a cgroup inside"
out=$("$H" -C -m "/sys/fs/cgroup|cgroup|cgroup|ro" "$R" -- sh -c 'grep " /sys/fs/cgroup/memory " /proc/self/mountinfo')
like "$out" "^[0-9]+ [0-9]+ [0-9:]+ / /sys/fs/cgroup/memory ro," "with a cgroup namespace the hierarchy root is the namespace root"

# ---- escapes ----
# Host dirs outside /tmp (the container's /tmp is a tmpfs, so the same path must exist in the image).
HOSTD=$(mktemp -d /var/tmp/husk-rootfs-test.XXXXXX); trap 'rm -rf "$HOSTD"; _cleanup' EXIT
HD=$HOSTD/hostdir; mkdir -p "$HD" "$R$HD"
ln -s "$HD" "$R/evil"
"$H" -m "/evil/m|tmpfs|tmpfs|" -m "/evil/b|bind|$src|bind" "$R" -- true; ok $? "mount through an image symlink to a host path runs"
[ -z "$(ls -A "$HD")" ]; ok $? "host dir untouched by mounts through the symlink"
[ -d "$R$HD/m" ] && [ -d "$R$HD/b" ]; ok $? "mount points created inside the rootfs"
"$H" -F -m "/evil/f|tmpfs|tmpfs|" "$R" -- true; [ -z "$(ls -A "$HD")" ] && [ -d "$R$HD/f" ]; ok $? "same with the fallback resolver"
ln -s ../../../../../../../../ "$R/up"
"$H" -m "/up$HD/u|tmpfs|tmpfs|" "$R" -- true; [ -z "$(ls -A "$HD")" ] && [ -d "$R$HD/u" ]; ok $? "a ../../.. symlink stays in the root"
ln -s /nonexistent-husk-dir "$R/dangle"
out=$("$H" -m "/dangle/x|tmpfs|tmpfs|" "$R" -- grep -c " /nonexistent-husk-dir/x " /proc/self/mountinfo 2>&1)
is "$out" 1 "a dangling symlink in a destination: the mount lands on its target, created inside the root"
[ -d "$R/nonexistent-husk-dir/x" ]; ok $? "the dangling target was created in the rootfs"
[ ! -e /nonexistent-husk-dir ]; ok $? "nothing created on the host for the dangling symlink"

R2=$(new_root); HD2=$HOSTD/hostdev; mkdir -p "$HD2" "$R2$HD2"; rmdir "$R2/dev"; ln -s "$HD2" "$R2/dev"
out=$("$H" "$R2" -- sh -c 'stat -c %t:%T /dev/null; ls /dev | wc -l'); ok $? "/dev as a symlink to a host path: the container starts"
is "$(echo $out)" "1:3 14" "/dev built inside the rootfs"
[ -z "$(ls -A "$HD2")" ]; ok $? "host dir behind the /dev symlink untouched"

R3=$(new_root); rmdir "$R3/proc"; ln -s "$HD" "$R3/proc"
out=$("$H" "$R3" -- true 2>&1); rc=$?
is "$rc" 125 "/proc as a symlink: refused"; like "$out" "/proc is a symlink in the rootfs: it must be a real directory" "/proc symlink error is clear"
R4=$(new_root); rmdir "$R4/sys"; ln -s /tmp "$R4/sys"
out=$("$H" "$R4" -- true 2>&1); like "$out" "/sys is a symlink" "/sys as a symlink: refused"

echo secret > "$HOSTD/hostfile"; ln -s "$HOSTD/hostfile" "$R/etc/tohost"
echo inroot > "$R$HOSTD/hostfile"
out=$("$H" -M /etc/tohost "$R" -- sh -c "wc -c < /etc/tohost; wc -c < $HOSTD/hostfile")
is "$(echo $out)" "0 0" "masked symlink: its in-root target is masked"
is "$(cat "$HOSTD/hostfile")" "secret" "host file untouched"
grep -q " $HOSTD/hostfile " /proc/self/mountinfo; ok $(( ! $? )) "nothing mounted on the host file"
R5=$(new_root); rm -f "$R5/dev/null" 2>/dev/null
# a /dev/null in the image that is a symlink to a host file must not become the mask source
rmdir "$R5/dev"; mkdir "$R5/dev"; ln -s "$T/hostfile" "$R5/dev/null"; echo imgfile > "$R5/etc/m"
out=$("$H" -n -M /etc/m "$R5" -- /bin/cat /etc/m); rc=$?
is "$rc:$out" "0:" "masking uses the verified host /dev/null, not the image's /dev/null symlink"

# ---- user namespace: mknod is refused, the host nodes are bound onto empty files ----
out=$("$H" -U -d c:/dev/fuse:10:229:0600:0:0 "$R" -- sh -c 'stat -c "%n %t:%T" /dev/null /dev/zero /dev/fuse; grep -c " /dev/\(null\|zero\|full\|random\|urandom\|tty\|fuse\) .* devtmpfs " /proc/self/mountinfo; head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo ok' 2>&1)
if [ -e /dev/fuse ]; then
        is "$out" "/dev/null 1:3
/dev/zero 1:5
/dev/fuse a:e5
7
3
ok" "user namespace: default and config devices are bind mounts of the host nodes and work"
else skip "no /dev/fuse on the host"; fi

# ---- /dev/console ----
out=$("$H" -T "$R" -- sh -c 'stat -c "%F %t" /dev/console; grep -c " /dev/console .* devpts " /proc/self/mountinfo')
is "$(echo $out)" "character special file 88 1" "/dev/console is the pty slave bound from the container's devpts"
R6=$(new_root); echo hostcons > "$HOSTD/console"; ln -s "$HOSTD/console" "$R6/dev/console"; ln -s pts/ptmx "$R6/dev/ptmx"
out=$("$H" -n -T -m "/proc|proc|proc|" -m "/dev/pts|devpts|devpts|newinstance,ptmxmode=0666" "$R6" -- stat -c "%F" /dev/console)
is "$out" "character special file" "an image /dev/console symlink is replaced, the pty bound on a file"
is "$(cat "$HOSTD/console")" "hostcons" "host file behind the /dev/console symlink untouched"

# ---- no-pivot ----
out=$("$H" -p "$R" -- sh -c 'ls / | tr "\n" " "; awk "\$5 == \"/\"" /proc/self/mountinfo | wc -l; wc -l < /proc/self/mountinfo')
like "$out" "^bin .*dev etc .*linuxrc" "no-pivot: / is the rootfs"
is "$(echo "$out" | tail -1)" "$(echo "$mi" | wc -l)" "no-pivot: only the container's mounts are visible"
out=$("$H" -p "$R" -- sh -c 'awk "\$5 == \"/proc\"" /proc/self/mountinfo | wc -l; stat -f -c %T /proc/1/root/proc; readlink /proc/1/exe')
is "$(echo $out)" "1 proc /bin/busybox" "no-pivot: one /proc, the container's own (pid 1 is the container's)"

# (lib.sh checks for mounts under the test dir and the image at exit; the host dirs here too)
is "$(awk -v h="$HOSTD" 'index($5, h) == 1 || index($5, "/nonexistent-husk-dir") == 1 { print $5 }' /proc/self/mountinfo)" "" "no mount on the host side of the symlinks"
done_testing
