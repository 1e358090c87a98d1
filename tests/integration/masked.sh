#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# linux.maskedPaths and linux.readonlyPaths in real containers run through the CLI.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

mnt() { printf '%s\n' "$1" | awk -v m="$2" '$5 == m { for (i = 7; $i != "-"; i++); o = $6 " " $(i+1) } END { print o }'; }

# lib.sh's default masked/readonly lists (podman's)
b=$(new_bundle)
out=$(run_in "$b" m1 sh -c 'for f in /proc/timer_list /proc/keys /proc/kcore /proc/sched_debug; do [ -e $f ] && printf "%s %s %s\n" $f $(wc -c < $f) $(stat -c %t:%T $f); done; cat /proc/self/mountinfo')
for f in /proc/timer_list /proc/keys /proc/kcore /proc/sched_debug; do
        if [ -e "$f" ]; then printf '%s\n' "$out" | grep -qx "$f 0 1:3"; ok $? "$f is masked by /dev/null (reads empty)"
        else skip "no $f on this kernel"; fi
done
for d in /proc/acpi /sys/firmware; do
        if [ -d "$d" ]; then like "$(mnt "$out" $d)" '^ro,.* tmpfs' "$d is masked by a read-only tmpfs"; else skip "no $d"; fi
done
for p in /proc/sys /proc/bus /proc/fs /proc/irq; do
        [ -e "$p" ] && like "$(mnt "$out" $p)" '^ro,' "$p is read-only"
done
out=$(run_in "$b" m2 sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid' 2>&1); like "$out" "Read-only file system" "write under /proc/sys fails with EROFS"

# paths in the image
b=$(new_bundle_rw)
mkdir -p "$b/rootfs/etc/mdir/sub"; echo secret > "$b/rootfs/etc/mdir/x"; echo secret > "$b/rootfs/etc/mfile"
echo ro > "$b/rootfs/etc/rofile"
cfg "$b" '.root.readonly = false | .linux.maskedPaths += ["/etc/mfile", "/etc/mdir", "/no/such/path"]
        | .linux.readonlyPaths += ["/etc/rofile", "/var", "/no/such/ro"]'
out=$(run_in "$b" m3 sh -c 'cat /etc/mfile; ls -A /etc/mdir | wc -l; touch /etc/mdir/n 2>&1; echo x > /etc/mfile && echo w-ok; stat -c %t:%T /etc/mfile;
        (echo x > /etc/rofile) 2>&1; touch /var/n 2>&1; touch /etc/other && echo etc-ok')
is "$out" "0
touch: /etc/mdir/n: Read-only file system
w-ok
1:3
sh: can't create /etc/rofile: Read-only file system
touch: /var/n: Read-only file system
etc-ok" "masked file empty (1:3, writes vanish), masked dir empty and ro, readonly file and dir EROFS, missing paths skipped"
is "$(cat "$b/rootfs/etc/mfile")" "secret" "the masked file in the image is unchanged"
is "$(cat "$b/rootfs/etc/rofile")" "ro" "the read-only file in the image is unchanged"
done_testing
