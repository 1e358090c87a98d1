#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# PID 1 of the initramfs: load the 9p and overlay drivers, build the root (host / read-only over
# 9p, a tmpfs on top), move the control share into it and switch to stage 2 (from the share).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/mods/$m" 2>/dev/null; done < /mods/order
opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /ctl /lower /rw
mount -t 9p -o "$opts,cache=none" vmctl /ctl || { echo "vm-init: no control share" >&2; poweroff -f; }
fail() { echo "vm-init: $*" >> /ctl/out; echo 125 > /ctl/rc; poweroff -f; }
mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower || fail "cannot mount the host root"
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
        || fail "cannot build the overlay root"
mkdir -p /newroot/.vmctl
mount --move /ctl /newroot/.vmctl
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /bin/busybox sh /.vmctl/stage2
