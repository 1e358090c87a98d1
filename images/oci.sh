#!/bin/sh
# Packages the busybox rootfs folder (images/busybox.sh) as the image archives husk loads and tests
# with, from files only (tar, gzip, zstd, sha256sum, jq; no network, no docker or skopeo):
#   OUT/busybox-oci/          OCI image layout folder (one gzip layer), busybox:latest
#   OUT/busybox-oci.tar       the same as an oci-archive
#   OUT/busybox-docker.tar    docker save, newer layout (blobs/sha256, manifest.json)
#   OUT/busybox-docker-old.tar docker save, older layout (ID/layer.tar, HEX.json)
#   OUT/busybox-rootfs.tar.gz plain rootfs tarball (docker export style)
#   OUT/multi-oci/            three layers (gzip, zstd, uncompressed) with whiteouts and an opaque
#                             dir, multi:latest
#   OUT/shared-oci/           another image on the busybox layer plus one of its own, shared:latest
#   OUT/multiarch-oci/        an index with linux/amd64 and linux/arm64 manifests, multiarch:latest
#   OUT/layers/               the layer files
# usage: images/oci.sh OUT BUSYBOX_ROOTFS_DIR
set -eu
# Reproducible: the same modes whatever the caller's umask.
umask 022
out=${1:?usage: images/oci.sh OUT BUSYBOX_DIR}
bb=${2:?usage: images/oci.sh OUT BUSYBOX_DIR}
here=$(cd "$(dirname "$0")" && pwd)
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
case "$bb" in /*) ;; *) bb="$(pwd)/$bb" ;; esac
for c in jq sha256sum gzip zstd tar; do
        command -v $c >/dev/null || { echo "images/oci.sh: needs $c" >&2; exit 1; }
done
rm -rf "$out.tmp"
mkdir -p "$out.tmp/layers"
o="$out.tmp"
mktar() { # mktar DIR -> reproducible tar on stdout
        tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu --exclude=./.built -C "$1" -cf - .
}
mkoci() { sh "$here/mkoci.sh" "$@"; }
cfg_bb='{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'

mktar "$bb" > "$o/layers/base.tar"
gzip -n -c "$o/layers/base.tar" > "$o/layers/base.tar.gz"

# Layer 2 (zstd): adds files; layer 3 (plain tar): whiteouts and an opaque dir over layer 2.
s=$(mktemp -d)
mkdir -p "$s/l2/data/keep" "$s/l2/opt/app" "$s/l2/etc"
echo a > "$s/l2/data/a"; echo b > "$s/l2/data/b"; echo k > "$s/l2/data/keep/k"
echo x > "$s/l2/opt/app/x"; echo y > "$s/l2/opt/app/y"
echo "welcome to multi" > "$s/l2/etc/motd"
ln -s ../opt/app/y "$s/l2/data/link"
ln "$s/l2/opt/app/x" "$s/l2/opt/app/x-hard"
cp "$bb/bin/busybox" "$s/l2/opt/app/suid-tool"; chmod 4755 "$s/l2/opt/app/suid-tool"
mktar "$s/l2" | zstd -q -19 -o "$o/layers/l2.tar.zst"
mkdir -p "$s/l3/data" "$s/l3/etc" "$s/l3/opt/app"
: > "$s/l3/data/.wh..wh..opq"; echo c > "$s/l3/data/c"
: > "$s/l3/etc/.wh.motd"
: > "$s/l3/opt/app/.wh.x"
mktar "$s/l3" > "$o/layers/l3.tar"
mkoci "$o/multi-oci" multi:latest amd64 \
        '{"Entrypoint":["/bin/sh","-c"],"Cmd":["ls /data"],"Env":["PATH=/bin:/usr/bin","MULTI=1"],"User":"0:0","WorkingDir":"/data","StopSignal":"SIGQUIT"}' \
        "$o/layers/base.tar.gz" "$o/layers/l2.tar.zst" "$o/layers/l3.tar"

# Shared: the busybox layer plus one small layer.
mkdir -p "$s/sh/etc"; echo shared > "$s/sh/etc/shared"
mktar "$s/sh" | gzip -n > "$o/layers/shared.tar.gz"
mkoci "$o/shared-oci" shared:latest amd64 "$cfg_bb" "$o/layers/base.tar.gz" "$o/layers/shared.tar.gz"

# Multi-platform: one index blob with an amd64 and an arm64 manifest.
for a in amd64 arm64; do
        mkdir -p "$s/$a"; echo "$a" > "$s/$a/arch"
        mktar "$s/$a" | gzip -n > "$o/layers/arch-$a.tar.gz"
        mkoci "$o/multiarch-oci" "" "$a" "$cfg_bb" "$o/layers/base.tar.gz" "$o/layers/arch-$a.tar.gz"
done
sh "$here/mkoci.sh" --nest "$o/multiarch-oci" multiarch:latest
rm -rf "$s"

# busybox in every format.
mkoci "$o/busybox-oci" busybox:latest amd64 "$cfg_bb" "$o/layers/base.tar.gz"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$o/busybox-oci" -cf "$o/busybox-oci.tar" .
cp "$o/layers/base.tar.gz" "$o/busybox-rootfs.tar.gz"

bcfg=$(jq -r '.manifests[0].digest' "$o/busybox-oci/index.json" | cut -d: -f2)
bcfg=$(jq -r '.config.digest' "$o/busybox-oci/blobs/sha256/$bcfg" | cut -d: -f2)
# docker save, newer layout: blobs/sha256 holds the config and the uncompressed layer.
d=$(mktemp -d)
mkdir -p "$d/blobs/sha256"
cp "$o/busybox-oci/blobs/sha256/$bcfg" "$d/blobs/sha256/$bcfg"
lh=$(sha256sum "$o/layers/base.tar" | cut -d' ' -f1)
cp "$o/layers/base.tar" "$d/blobs/sha256/$lh"
jq -n --arg c "blobs/sha256/$bcfg" --arg l "blobs/sha256/$lh" \
        '[{Config:$c, RepoTags:["busybox:docker"], Layers:[$l]}]' > "$d/manifest.json"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$o/busybox-docker.tar" .
rm -rf "$d"
# docker save, older layout: ID/layer.tar, HEX.json, and a second entry whose layer.tar is a symlink.
d=$(mktemp -d)
mkdir -p "$d/$lh"
cp "$o/layers/base.tar" "$d/$lh/layer.tar"
echo 1.0 > "$d/$lh/VERSION"
cp "$o/busybox-oci/blobs/sha256/$bcfg" "$d/$bcfg.json"
jq -n --arg c "$bcfg.json" --arg l "$lh/layer.tar" \
        '[{Config:$c, RepoTags:["busybox:old","busybox:old2"], Layers:[$l]}]' > "$d/manifest.json"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$o/busybox-docker-old.tar" .
rm -rf "$d"

rm -rf "$out"
mv "$o" "$out"
