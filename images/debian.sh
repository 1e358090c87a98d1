#!/bin/sh
# Builds a larger multi-layer image from Debian packages, for benchmarks and the image-run tests:
# a debootstrap minbase root (bookworm) split into four layers, one of which deletes files so the
# whiteouts (plain and opaque) are exercised. Needs debootstrap and the Debian mirror, jq,
# sha256sum, gzip, zstd, tar.
#   OUT/debian-oci/      OCI image layout, debian:bookworm-minbase
#   OUT/debian-oci.tar   the same as an oci-archive
#   OUT/layers/          the four layer files
# Layers: 1 (gzip) the root without /usr/share; 2 (zstd) /usr/share; 3 (plain tar) removes the
# docs and man pages (whiteouts), makes /var/log opaque (one new file), adds /etc/motd; 4 (gzip)
# an app: a user "app" (uid 1000) in /etc/passwd and /etc/group, /srv/app/hello.sh.
# usage: images/debian.sh OUT [MIRROR]   (DEBIAN_ROOT=DIR reuses an existing debootstrap root)
set -eu
# Reproducible: the same modes whatever the caller's umask.
umask 022
out=${1:?usage: images/debian.sh OUT [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
for c in jq sha256sum gzip zstd tar; do
        command -v $c >/dev/null || { echo "images/debian.sh: needs $c" >&2; exit 1; }
done
o="$out.tmp"
rm -rf "$o"
mkdir -p "$o/layers"
root=${DEBIAN_ROOT:-$o/root}
if [ -z "${DEBIAN_ROOT:-}" ]; then
        command -v debootstrap >/dev/null || { echo "images/debian.sh: needs debootstrap" >&2; exit 1; }
        debootstrap --variant=minbase bookworm "$root" "$mirror" >"$o/debootstrap.log" 2>&1 || {
                echo "images/debian.sh: debootstrap failed (see $o/debootstrap.log)" >&2
                exit 1
        }
        rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/debootstrap"
fi
# Reproducible tars: sorted, one mtime, numeric owners as they are in the root.
mktar() { tar --sort=name --mtime=@0 --numeric-owner --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$@" -cf -; }

mktar "$root" --exclude=./usr/share . | gzip -n > "$o/layers/l1-base.tar.gz"
mktar "$root" ./usr/share | zstd -q -T0 -3 > "$o/layers/l2-share.tar.zst"

s=$(mktemp -d)
mkdir -p "$s/l3/usr/share" "$s/l3/var/log" "$s/l3/etc"
: > "$s/l3/usr/share/.wh.doc"
: > "$s/l3/usr/share/.wh.man"
: > "$s/l3/var/log/.wh..wh..opq"
echo "fresh log dir" > "$s/l3/var/log/README"
echo "husk debian image" > "$s/l3/etc/motd"
mktar "$s/l3" . > "$o/layers/l3-cleanup.tar"

mkdir -p "$s/l4/etc" "$s/l4/srv/app" "$s/l4/home/app"
cp "$root/etc/passwd" "$root/etc/group" "$s/l4/etc/"
echo "app:x:1000:1000:app:/home/app:/bin/bash" >> "$s/l4/etc/passwd"
echo "app:x:1000:" >> "$s/l4/etc/group"
sed -i 's/^\(users:x:100:\)$/\1app/' "$s/l4/etc/group"
printf '#!/bin/sh\necho "hello from $(id -un) in $(pwd)"\n' > "$s/l4/srv/app/hello.sh"
chmod 0755 "$s/l4/srv/app/hello.sh"
chown -R 1000:1000 "$s/l4/home/app"
mktar "$s/l4" . | gzip -n > "$o/layers/l4-app.tar.gz"
rm -rf "$s"

sh "$here/mkoci.sh" "$o/debian-oci" debian:bookworm-minbase amd64 \
        '{"Cmd":["/srv/app/hello.sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"WorkingDir":"/srv/app","Labels":{"org.opencontainers.image.title":"husk debian minbase"}}' \
        "$o/layers/l1-base.tar.gz" "$o/layers/l2-share.tar.zst" "$o/layers/l3-cleanup.tar" "$o/layers/l4-app.tar.gz"
chmod -R go-w "$o/debian-oci"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=go-w -C "$o/debian-oci" \
        -cf "$o/debian-oci.tar" .
[ -n "${DEBIAN_ROOT:-}" ] || rm -rf "$root"
rm -f "$o/debootstrap.log"
rm -rf "$out"
mv "$o" "$out"
