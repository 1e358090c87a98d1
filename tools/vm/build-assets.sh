#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# build-assets.sh VMDIR: prepare (once, cached) what tools/vm/vm-run.sh boots:
#   VMDIR/kpkg           the Debian linux-image package unpacked with dpkg -x (nothing installed)
#   VMDIR/vmlinux        the uncompressed kernel taken out of vmlinuz (QEMU boots it through PVH)
#   VMDIR/initramfs.cpio busybox-static, the 9p/overlay modules with their dependencies, our init
#   VMDIR/kver           the kernel release
# The .deb must already be in VMDIR (tools/vm/setup.sh fetches it with apt-get download).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VMDIR=$1
mkdir -p "$VMDIR"
exec 8>"$VMDIR/.lock"
flock 8
deb=$(ls "$VMDIR"/linux-image-*.deb 2>/dev/null | sort | tail -n1)
[ -n "$deb" ] || { echo "build-assets: no linux-image .deb in $VMDIR" >&2; exit 1; }
if [ ! -d "$VMDIR/kpkg/boot" ] || [ "$deb" -nt "$VMDIR/kpkg/boot" ]; then
        rm -rf "$VMDIR/kpkg"
        dpkg -x "$deb" "$VMDIR/kpkg"
        touch "$VMDIR/kpkg/boot"
fi
vmlinuz=$(ls "$VMDIR"/kpkg/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$VMDIR/kpkg/lib/modules/$kver
[ -s "$moddir/modules.dep" ] || /bin/busybox depmod -b "$VMDIR/kpkg" "$kver"
if [ ! -s "$VMDIR/vmlinux" ] || [ "$vmlinuz" -nt "$VMDIR/vmlinux" ]; then
        # bzImage = setup code + compressed payload; find the xz stream and unpack it
        python3 - "$vmlinuz" "$VMDIR/vmlinux.new" <<'PY' && mv "$VMDIR/vmlinux.new" "$VMDIR/vmlinux" || rm -f "$VMDIR/vmlinux.new"
import lzma, sys
blob = open(sys.argv[1], "rb").read()
start = blob.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit(1)
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob[start:])
if elf[:4] != b"\x7fELF":
    sys.exit(1)
open(sys.argv[2], "wb").write(elf)
PY
fi
irfs=$VMDIR/initramfs.cpio
if [ ! -s "$irfs" ] || [ "$HERE/guest-init.sh" -nt "$irfs" ] || [ "$vmlinuz" -nt "$irfs" ]; then
        tmp=$(mktemp -d "$VMDIR/irfs.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        mkdir -p "$tmp/bin" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/mods" "$tmp/newroot"
        cp /bin/busybox "$tmp/bin/busybox"
        for a in sh mount umount mkdir insmod switch_root poweroff cat sleep echo; do
                ln -s busybox "$tmp/bin/$a"
        done
        cp "$HERE/guest-init.sh" "$tmp/init"
        chmod 755 "$tmp/init"
        # modules in load order: dependencies first (modules.dep lists "path: dep dep ...")
        order=""
        add() {
                local line path d
                line=$(grep -E "(^|/)$1\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -n1)
                [ -n "$line" ] || return 0 # built in
                path=${line%%:*}
                case " $order " in *" $path "*) return 0 ;; esac
                for d in ${line#*:}; do add "$(basename "${d%.ko*}")"; done
                order="$order $path"
        }
        for m in virtio_pci 9pnet_virtio 9p overlay; do add "$m"; done
        for p in $order; do
                f=$moddir/$p
                case "$f" in
                *.xz) xz -dc "$f" > "$tmp/mods/$(basename "${p%.xz}")" ;;
                *.zst) zstd -qdc "$f" > "$tmp/mods/$(basename "${p%.zst}")" ;;
                *) cp "$f" "$tmp/mods/" ;;
                esac
                basename "${p%.xz}" | sed 's/\.zst$//' >> "$tmp/mods/order"
        done
        (cd "$tmp" && find . | sort | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) > "$irfs.new"
        mv "$irfs.new" "$irfs"
fi
echo "$kver" > "$VMDIR/kver"
