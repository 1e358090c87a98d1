#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# setup.sh: install what tools/vm/vm-run.sh needs: qemu-system-x86 and busybox-static (apt-get),
# and download (not install) the kernel package linux-image-amd64 depends on into the cache.
set -eu
VMDIR=${HUSK_VM_DIR:-/var/tmp/husk-vm-kit}
command -v qemu-system-x86_64 >/dev/null 2>&1 && [ -x /bin/busybox ] ||
        apt-get install -y --no-install-recommends qemu-system-x86 busybox-static
mkdir -p "$VMDIR"
if ! ls "$VMDIR"/linux-image-*.deb >/dev/null 2>&1; then
        pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
        [ -n "$pkg" ] || { echo "setup: cannot tell which kernel package linux-image-amd64 uses" >&2; exit 1; }
        (cd "$VMDIR" && apt-get download "$pkg")
fi
"$(dirname "$0")/build-assets.sh" "$VMDIR"
echo "setup: ready in $VMDIR ($(cat "$VMDIR/kver"))"
