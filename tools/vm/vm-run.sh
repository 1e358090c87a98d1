#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm-run.sh - run one shell command inside a throw-away QEMU guest that boots Debian's stock
# kernel with a pure cgroup v2 hierarchy (the host may be v1 or hybrid; its mounts are never
# touched). The guest's root is an overlay of the host's / (9p, read-only) under a tmpfs, so the
# host's binaries, the source tree and the build tree are all there at the same paths; nothing the
# guest writes comes back, except the command's output and exit status.
#
#   usage: vm-run.sh [-C DIR] COMMAND-LINE     (run with sh -c in DIR, default: the current dir)
#
# Prints the command's output (stdout+stderr, after it finished) and exits with its status, or:
#   77  what the VM needs is missing (qemu, kernel package, busybox-static): reason on stderr
#   124 timed out (HUSK_VM_TIMEOUT, default 1800 s)      125 the guest died without a status
# Knobs: HUSK_VM_DIR (cache, /var/tmp/husk-vm-kit), HUSK_VM_MEM (MiB, 1024), HUSK_VM_CPUS (2),
#        HUSK_VM_KEEP_LOG=FILE (copy the guest console log there).
# Installs nothing by itself: tools/vm/setup.sh does (apt-get).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
VMDIR=${HUSK_VM_DIR:-/var/tmp/husk-vm-kit}
MEM=${HUSK_VM_MEM:-1024}
CPUS=${HUSK_VM_CPUS:-2}
TIMEOUT=${HUSK_VM_TIMEOUT:-1800}
CWD=$PWD
if [ "${1:-}" = -C ]; then CWD=$2; shift 2; fi
[ $# -eq 1 ] || { echo "usage: $0 [-C DIR] COMMAND-LINE" >&2; exit 2; }
missing() { echo "vm-run: $*" >&2; exit 77; }

command -v qemu-system-x86_64 >/dev/null 2>&1 || missing "qemu-system-x86_64 is not installed (tools/vm/setup.sh)"
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root || missing "busybox-static is not installed (tools/vm/setup.sh)"
"$HERE/build-assets.sh" "$VMDIR" >&2 || missing "cannot prepare the guest kernel (tools/vm/setup.sh downloads it)"
KVER=$(cat "$VMDIR/kver")
KERNEL=$VMDIR/vmlinux
[ -s "$KERNEL" ] || KERNEL=$(ls "$VMDIR"/kpkg/boot/vmlinuz-* | head -n1)

CTL=$(mktemp -d "$VMDIR/run.XXXXXX") || exit 125
QPID=
trap '[ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -rf "$CTL"' EXIT
trap 'exit 130' INT TERM
printf '%s\n' "$1" > "$CTL/cmd"
printf '%s\n' "$CWD" > "$CTL/cwd"
printf '%s\n' "$VMDIR/kpkg/lib/modules/$KVER" > "$CTL/moddir"
cp "$HERE/guest-stage2.sh" "$CTL/stage2"
: > "$CTL/out"

# q35 + the uncompressed kernel's PVH entry skips firmware work and the in-guest decompression;
# TCG in one thread is the quickest on a small shared host (KVM here is a nested, slower one).
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -M q35 -accel tcg,thread=single -cpu max \
        -m "$MEM" -smp "$CPUS" -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$KERNEL" -initrd "$VMDIR/initramfs.cpio" \
        -append "console=ttyS0 panic=-1 quiet loglevel=3 cryptomgr.notests" \
        -serial "file:$CTL/console.log" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=$CTL,mount_tag=vmctl,security_model=none" \
        </dev/null >"$CTL/qemu.log" 2>&1 &
QPID=$!
wait "$QPID"; qrc=$?
QPID=
cat "$CTL/out"
[ -n "${HUSK_VM_KEEP_LOG:-}" ] && cp "$CTL/console.log" "$HUSK_VM_KEEP_LOG"
if [ -s "$CTL/rc" ]; then exit "$(cat "$CTL/rc")"; fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then echo "vm-run: timed out after ${TIMEOUT}s" >&2; exit 124; fi
echo "vm-run: the guest stopped without a status (qemu exit $qrc); console tail:" >&2
tr -d '\r' < "$CTL/console.log" | tail -n 25 >&2
cat "$CTL/qemu.log" >&2
exit 125
