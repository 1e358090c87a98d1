#!/bin/sh
# Builds husk's default image: a busybox rootfs folder from Debian's busybox-static package.
# Usage: images/busybox.sh DEST   (DEST is replaced; the result is the same for the same package)
set -eu
# Reproducible: the same modes whatever the caller's umask.
umask 022
dest=${1:?usage: images/busybox.sh DEST}
case "$dest" in /*) ;; *) dest="$(pwd)/$dest" ;; esac
mkdir -p "$(dirname "$dest")"
bb=/bin/busybox
if ! dpkg -s busybox-static >/dev/null 2>&1 || [ ! -x "$bb" ]; then
        echo "images/busybox.sh: needs Debian's busybox-static (apt-get install -y busybox-static)" >&2
        exit 1
fi
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin etc root tmp proc sys dev home var/tmp run
chmod 1777 tmp var/tmp
chmod 0700 root
cp "$bb" bin/busybox
chmod 0755 bin/busybox
# Applet links at the paths busybox itself lists (bin/sh, usr/bin/env, ...).
for p in $("$bb" --list-full); do
        [ "$p" = bin/busybox ] && continue
        d=$(dirname "$p")
        mkdir -p "$d"
        rel=$(echo "$d" | sed -e 's|[^/][^/]*|..|g')
        ln -sf "$rel/bin/busybox" "$p"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
nobody:x:65534:
G
printf 'husk\n' > etc/hostname
: > etc/hosts
: > etc/resolv.conf
# Reproducible: every path gets the same mtime.
find . -exec touch -h -d @0 {} +
cd /
rm -rf "$dest"
mv "$tmp" "$dest"
