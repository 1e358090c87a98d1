#!/bin/sh
# Builds the function image of husk's function tests (issue 8): the busybox rootfs plus a
# Runtime API bootstrap at /var/runtime/bootstrap, as an oci-archive, from files only
# (reproducible like images/oci.sh: sorted tar, fixed mtimes and owners, gzip -n).
#   OUT/fn-oci.tar   oci-archive, fn-test:latest; Entrypoint /var/runtime/bootstrap,
#                    WorkingDir /var/task, LAMBDA_TASK_ROOT=/var/task
# usage: images/fn.sh OUT BUSYBOX_ROOTFS_DIR BOOTSTRAP_BINARY
set -eu
umask 022
out=${1:?usage: images/fn.sh OUT BUSYBOX_DIR BOOTSTRAP}
bb=${2:?usage: images/fn.sh OUT BUSYBOX_DIR BOOTSTRAP}
boot=${3:?usage: images/fn.sh OUT BUSYBOX_DIR BOOTSTRAP}
here=$(cd "$(dirname "$0")" && pwd)
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
case "$bb" in /*) ;; *) bb="$(pwd)/$bb" ;; esac
case "$boot" in /*) ;; *) boot="$(pwd)/$boot" ;; esac
for c in jq sha256sum gzip tar; do
        command -v $c >/dev/null || { echo "images/fn.sh: needs $c" >&2; exit 1; }
done
rm -rf "$out.tmp"
mkdir -p "$out.tmp/layers"
o="$out.tmp"
mktar() {
        tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu --exclude=./.built -C "$1" -cf - .
}
mktar "$bb" | gzip -n > "$o/layers/base.tar.gz"
s=$(mktemp -d)
mkdir -p "$s/var/runtime" "$s/var/task"
cp "$boot" "$s/var/runtime/bootstrap"
chmod 0755 "$s/var/runtime/bootstrap"
mktar "$s" | gzip -n > "$o/layers/runtime.tar.gz"
rm -rf "$s"
cfg='{"Entrypoint":["/var/runtime/bootstrap"],"WorkingDir":"/var/task","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LAMBDA_TASK_ROOT=/var/task","LAMBDA_RUNTIME_DIR=/var/runtime"]}'
sh "$here/mkoci.sh" "$o/fn-oci" fn-test:latest amd64 "$cfg" "$o/layers/base.tar.gz" "$o/layers/runtime.tar.gz"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$o/fn-oci" -cf "$o/fn-oci.tar" .
rm -rf "$out"
mv "$o" "$out"
