# SPDX-License-Identifier: Apache-2.0
# Sourced by the *_v2.sh tests (after `set -u`). guest_run runs one integration script on a pure
# cgroup v2 kernel: a QEMU guest (tools/vm/vm-run.sh) that boots Debian's kernel with only the
# unified hierarchy and sees this build tree at the same path. Its TAP lines are passed through
# with a "v2:" prefix. Skipped (with the reason) when qemu, busybox-static or the kernel package
# are missing (tools/vm/setup.sh installs them), or when the host itself is pure cgroup v2.
#   guest_run SCRIPT WHY [ENV]
# SCRIPT: a file of tests/integration; WHY: why a pure v2 host needs no guest ("SCRIPT covers
# it"); ENV: VAR=value words (quoted for the guest's sh) put before the usual HUSK* ones.
# It does not return: the test exits with the guest's status.
: "${HUSK:?}" "${HUSK_SRCDIR:?}" "${HUSK_BUILDDIR:?}"
HUSK_HELPERS=${HUSK_HELPERS:-$HUSK_BUILDDIR/tests/helpers}

guest_skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# One word for the guest's sh: $1 in single quotes.
guest_q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

guest_run()
{
        [ "$(id -u)" = 0 ] || guest_skip_all "needs root"
        [ -f /sys/fs/cgroup/cgroup.controllers ] && guest_skip_all "the host is pure cgroup v2: $2"
        command -v qemu-system-x86_64 >/dev/null 2>&1 ||
                guest_skip_all "qemu-system-x86_64 missing (tools/vm/setup.sh)"
        ls "${HUSK_VM_DIR:-/var/tmp/husk-vm-kit}"/linux-image-*.deb >/dev/null 2>&1 ||
                guest_skip_all "no guest kernel package in ${HUSK_VM_DIR:-/var/tmp/husk-vm-kit} (tools/vm/setup.sh)"
        guest_out=$(mktemp)
        trap 'rm -f "$guest_out"' EXIT
        "$HUSK_SRCDIR/tools/vm/vm-run.sh" -C "$HUSK_BUILDDIR" \
                "${3:+$3 }HUSK=$(guest_q "$HUSK") HUSK_SRCDIR=$(guest_q "$HUSK_SRCDIR") HUSK_BUILDDIR=$(guest_q "$HUSK_BUILDDIR") HUSK_HELPERS=$(guest_q "$HUSK_HELPERS") sh $(guest_q "$HUSK_SRCDIR/tests/integration/$1")" \
                > "$guest_out" 2>&1
        guest_rc=$?
        [ $guest_rc = 77 ] && guest_skip_all "$(tail -n1 "$guest_out")"
        sed -e 's/^\(not \)\{0,1\}ok \([0-9]*\) - /\1ok \2 - v2: /' -e 's/^\(ok [0-9]*\) # SKIP /\1 # SKIP v2: /' -e '/^\(not \)\{0,1\}ok\|^1\.\.\|^#/!s/^/# /' "$guest_out"
        if ! grep -q '^1\.\.' "$guest_out"; then
                echo "not ok 1 - $1 inside the v2 VM (exit $guest_rc)"
                echo "1..1"
                exit 1
        fi
        exit $guest_rc
}
