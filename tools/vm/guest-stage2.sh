# SPDX-License-Identifier: Apache-2.0
# Stage 2 (PID 1 in the overlay root): mount the API filesystems like a systemd host with the
# unified hierarchy only, enable every controller in the root, run the command, report its status.
BB=/bin/busybox
CTL=/.vmctl
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C
$BB mount -t proc -o nosuid,nodev,noexec proc /proc
$BB mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
$BB mount -t devtmpfs -o nosuid,mode=755 devtmpfs /dev
$BB mkdir -p /dev/pts /dev/shm /dev/mqueue
$BB mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$BB mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
$BB mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
$BB ln -sf /proc/self/fd /dev/fd
$BB mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
$BB mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
c=""; for x in $($BB cat /sys/fs/cgroup/cgroup.controllers); do c="$c +$x"; done
echo "$c" > /sys/fs/cgroup/cgroup.subtree_control
$BB mount -t bpf bpf /sys/fs/bpf 2>/dev/null
moddir=$($BB cat $CTL/moddir)
$BB mkdir -p "/lib/modules/$($BB uname -r)"
$BB mount --bind "$moddir" "/lib/modules/$($BB uname -r)" 2>/dev/null
$BB ln -sf /bin/busybox /run/modprobe && echo /run/modprobe > /proc/sys/kernel/modprobe
$BB hostname husk-vm
$BB ip link set lo up 2>/dev/null
cd "$($BB cat $CTL/cwd)" || cd /
sh -c "$($BB cat $CTL/cmd)" < /dev/null > $CTL/out 2>&1
echo $? > $CTL/rc
$BB sync
$BB poweroff -f
