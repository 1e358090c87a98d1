#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hostile images: symlinks in the rootfs must never redirect mounts, /dev, masks or /dev/null to the
# host (CVE-2021-30465, CVE-2025-31133); /proc and /sys must be real directories. Real containers
# run through the CLI; afterwards the host is checked to be unchanged.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# Host targets outside /tmp (the container's /tmp is a tmpfs); the same paths exist in the image.
HOSTD=$(mktemp -d /var/tmp/husk-escape.XXXXXX); trap 'rm -rf "$HOSTD"; _cleanup' EXIT
mkdir "$HOSTD/dir"; echo hostsecret > "$HOSTD/file"; echo hostcons > "$HOSTD/null"
src=$T/src; mkdir -p "$src"; echo data > "$src/f"
host_before=$(cd "$HOSTD" && find . -exec stat -c '%n %s %Y' {} +)

# 1. mount destinations through a symlink to a host dir
b=$(new_bundle_rw); mkdir -p "$b/rootfs$HOSTD/dir"
ln -s "$HOSTD/dir" "$b/rootfs/evil"
ln -s ../../../../../../../.. "$b/rootfs/up"
cfg "$b" --arg s "$src" --arg u "/up$HOSTD/dir/u" '.mounts += [
        {"destination": "/evil/t", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/evil/b", "type": "bind", "source": $s, "options": ["bind"]},
        {"destination": $u, "type": "tmpfs", "source": "tmpfs"}]'
out=$(run_in "$b" e1 sh -c "grep -c ' $HOSTD/dir/[tbu] ' /proc/self/mountinfo; cat $HOSTD/dir/b/f"); ok $? "mounts through image symlinks run"
is "$(echo $out)" "3 data" "the mounts landed inside the container at the resolved paths"
[ -d "$b/rootfs$HOSTD/dir/t" ] && [ -d "$b/rootfs$HOSTD/dir/b" ] && [ -d "$b/rootfs$HOSTD/dir/u" ]; ok $? "mount points were created inside the rootfs"
[ -z "$(ls -A "$HOSTD/dir")" ]; ok $? "the host dir behind the symlinks is untouched"

# 2. a file bind whose destination is a symlink to a host file
b=$(new_bundle_rw)
mkdir -p "$b/rootfs$HOSTD"; echo imagefile > "$b/rootfs$HOSTD/file"
ln -s "$HOSTD/file" "$b/rootfs/etc/evilfile"
cfg "$b" --arg s "$src/f" '.mounts += [{"destination": "/etc/evilfile", "type": "bind", "source": $s, "options": ["bind", "ro"]}]'
out=$(run_in "$b" e2 cat "$HOSTD/file"); is "$out" "data" "a file bind through a symlink lands on the in-root target"
is "$(cat "$HOSTD/file")" "hostsecret" "the host file is untouched"

# 2b. podman's /etc/resolv.conf bind on an image whose resolv.conf is a dangling relative symlink
b=$(new_bundle_rw); rm -f "$b/rootfs/etc/resolv.conf"; ln -s ../run/systemd/resolve/stub-resolv.conf "$b/rootfs/etc/resolv.conf"
echo "nameserver 192.0.2.1" > "$T/resolv"
cfg "$b" --arg s "$T/resolv" '.mounts += [{"destination": "/etc/resolv.conf", "type": "bind", "source": $s, "options": ["bind", "rprivate"]}]'
out=$(run_in "$b" e2b cat /etc/resolv.conf); is "$out" "nameserver 192.0.2.1" "a bind onto a dangling symlink creates its target inside the root"
[ -f "$b/rootfs/run/systemd/resolve/stub-resolv.conf" ]; ok $? "the target file was created in the rootfs"

# 3. /dev as a symlink to a host dir
b=$(new_bundle_rw); mkdir -p "$b/rootfs$HOSTD/dir"; rm -rf "$b/rootfs/dev"; ln -s "$HOSTD/dir" "$b/rootfs/dev"
out=$(run_in "$b" e3 sh -c 'stat -c %t:%T /dev/null; echo x > /dev/null && echo ok'); is "$(echo $out)" "1:3 ok" "/dev as a symlink: /dev is built inside the rootfs"
[ -z "$(ls -A "$HOSTD/dir")" ]; ok $? "no device node or mount on the host dir"

# 4. /proc and /sys as symlinks: clear errors, nothing left behind
for d in proc sys; do
        b=$(new_bundle_rw); rmdir "$b/rootfs/$d"; ln -s "$HOSTD/dir" "$b/rootfs/$d"
        out=$(run_in "$b" "e4$d" true 2>&1); rc=$?
        isnt "$rc" 0 "/$d as a symlink: the container does not start"
        like "$out" "/$d is a symlink in the rootfs: it must be a real directory" "/$d as a symlink: the error says why"
done

# 5. a masked path that is a symlink to a host file
b=$(new_bundle_rw); mkdir -p "$b/rootfs$HOSTD"; echo imagefile > "$b/rootfs$HOSTD/file"
ln -s "$HOSTD/file" "$b/rootfs/etc/maskme"
ln -s "$HOSTD/nothere" "$b/rootfs/etc/maskdangling"
cfg "$b" '.linux.maskedPaths += ["/etc/maskme", "/etc/maskdangling"] | .linux.readonlyPaths += ["/etc/maskme"]'
out=$(run_in "$b" e5 sh -c "wc -c < $HOSTD/file"); is "$out" "0" "a masked symlink masks its in-root target"
is "$(cat "$HOSTD/file")" "hostsecret" "the host file behind the masked symlink is untouched"

# 6. the image's /dev/null is a symlink to a host file (no /dev tmpfs): masks still use the real
#    1:3 device, never the image's /dev/null (CVE-2025-31133)
b=$(new_bundle_rw); ln -s "$HOSTD/null" "$b/rootfs/dev/null"; echo imagefile > "$b/rootfs/etc/m"
cfg "$b" '.mounts = [.mounts[] | select(.destination != "/dev" and (.destination | startswith("/dev/") | not))]
        | .linux.maskedPaths = ["/etc/m"] | .linux.readonlyPaths = []'
out=$(run_in "$b" e6 sh -c 'stat -c %t:%T /etc/m; wc -c < /etc/m'); is "$(echo $out)" "1:3 0" "the mask is the verified 1:3 device"
is "$(cat "$HOSTD/null")" "hostcons" "the host file behind the image's /dev/null is untouched"

host_after=$(cd "$HOSTD" && find . -exec stat -c '%n %s %Y' {} +)
is "$host_after" "$host_before" "nothing changed in the host dir"
# (lib.sh checks for mounts under the test dir and the image at exit; the host dirs here too)
is "$(awk -v h="$HOSTD" 'index($5, h) == 1  { print $5 }' /proc/self/mountinfo)" "" "no mount on the host side of the symlinks"
done_testing
