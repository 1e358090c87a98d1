# SPDX-License-Identifier: Apache-2.0
# Shared helpers for husk's integration tests (sourced by tests/integration/*.sh).
# Output is TAP for automake's tap-driver. Each test script:
#   . "$HUSK_SRCDIR/tests/integration/lib.sh"
#   require_root
#   b=$(new_bundle) ; cfg "$b" '.process.args = ["/bin/sh","-c","echo hi"]'
#   out=$(hk run -b "$b" c1) ; is "$out" "hi" "echo works"
#   done_testing
# Every test gets its own state root (--root) and temp dir; at exit every container left in that root
# is force-deleted and leak checks run (mounts under the temp dir, state dirs, processes).

set -u
: "${HUSK:?HUSK must point at the husk binary (make check sets it)}"
: "${HUSK_SRCDIR:?}" "${HUSK_BUILDDIR:?}"
HUSK_IMAGE=${HUSK_IMAGE:-$HUSK_BUILDDIR/images/out/busybox}
HUSK_HELPERS=${HUSK_HELPERS:-$HUSK_BUILDDIR/tests/helpers}

_tap_n=0
_tap_failed=0
T=$(mktemp -d /tmp/husk-test.XXXXXX)
chmod 0755 "$T"
HUSK_TEST_ROOT="$T/state"
mkdir -p "$HUSK_TEST_ROOT"

# husk with this test's state root.
hk() { "$HUSK" --root "$HUSK_TEST_ROOT" "$@"; }

ok() { # ok CONDITION_EXIT_STATUS DESCRIPTION   (use: ok $? "desc" or cond; ok $? ...)
        _tap_n=$((_tap_n + 1))
        # A failing check marked "# TODO reason" is TAP's expected failure: shown, not counted.
        if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"; else echo "not ok $_tap_n - $2"
                case $2 in *"# TODO "*) ;; *) _tap_failed=$((_tap_failed + 1)) ;; esac; fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; [ $# -gt 1 ] && diag "$2"; return 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
is() { # is GOT EXPECTED DESCRIPTION
        if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got:      '$1'" "expected: '$2'"; fi
}
isnt() { if [ "$1" != "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got '$1', expected anything else"; fi; }
like() { # like GOT EXTENDED_REGEX DESCRIPTION
        if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else ok 1 "$3"; diag "got:      '$1'" "expected to match: '$2'"; fi
}
unlike() { if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; diag "got '$1', must not match '$2'"; else ok 0 "$3"; fi; }
skip_all() { echo "1..0 # SKIP $*"; _tap_skipped=1; exit 0; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; }

require_root() { [ "$(id -u)" = 0 ] || skip_all "integration tests need root"; }
require_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"; done; }

# A bundle whose root is the shared busybox image, read-only (cheap: nothing is copied).
new_bundle() {
        _b=$(mktemp -d "$T/bundle.XXXXXX")
        [ -d "$HUSK_IMAGE/bin" ] || { echo "missing image $HUSK_IMAGE (images/busybox.sh)" >&2; return 1; }
        base_config "$HUSK_IMAGE" true > "$_b/config.json"
        echo "$_b"
}
# A bundle with its own writable copy of the busybox rootfs at BUNDLE/rootfs (root.path relative).
new_bundle_rw() {
        _b=$(mktemp -d "$T/bundle.XXXXXX")
        cp -a "$HUSK_IMAGE" "$_b/rootfs"
        base_config rootfs false > "$_b/config.json"
        echo "$_b"
}
# cfg BUNDLE JQ_FILTER [jq args...]: edit BUNDLE/config.json in place.
cfg() {
        _cb=$1; shift
        jq "$@" < "$_cb/config.json" > "$_cb/config.json.new" && mv "$_cb/config.json.new" "$_cb/config.json"
}

base_config() { # base_config ROOTPATH READONLY
        cat <<JSON
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/true" ],
    "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "$1", "readonly": $2 },
  "hostname": "husk",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "nodev", "mode=1777" ] }
  ],
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
    "maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
    "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
JSON
}

# Run BUNDLE's config with the given command in the foreground: prints stdout, returns its status.
# usage: run_in BUNDLE ID CMD [ARGS...]
run_in() {
        _rb=$1 _rid=$2; shift 2
        _args=$(jq -cn '$ARGS.positional' --args -- "$@")
        cfg "$_rb" --argjson a "$_args" '.process.args = $a'
        hk run -b "$_rb" "$_rid"
}

# Leak checks, called from the exit trap and usable mid-test.
leaked_mounts() { awk -v t="$T" -v i="$HUSK_IMAGE" 'index($5, t) == 1 || index($5, i) == 1 { print $5 }' /proc/self/mountinfo; }
# Processes whose root is inside this test's bundles or the shared image (stray container processes).
leaked_procs() {
        for p in /proc/[0-9]*; do
                r=$(readlink "$p/root" 2>/dev/null) || continue
                case "$r" in "$T"/*|"$HUSK_IMAGE"|"$HUSK_IMAGE"/*) echo "${p#/proc/} $r";; esac
        done
}
leaked_state() { find "$HUSK_TEST_ROOT" -mindepth 1 -maxdepth 1 2>/dev/null; }

# The shared image (new_bundle) must stay as images/busybox.sh made it: a test whose mount
# destinations are missing there uses new_bundle_rw (husk creates mount points in the root), or
# the next image built from it (image_run.sh's reproducibility check) differs.
_image_top() { ls -A "$HUSK_IMAGE" 2>/dev/null | tr '\n' ' '; }
_image_before=$(_image_top)
_cleanup() {
        if [ -z "${_tap_skipped:-}" ]; then
                for d in "$HUSK_TEST_ROOT"/*/; do
                        [ -d "$d" ] || continue
                        hk delete --force "$(basename "$d")" >/dev/null 2>&1
                done
                _m=$(leaked_mounts)
                if [ -n "$_m" ]; then fail "no leftover mounts" "$_m"; else pass "no leftover mounts"; fi
                _p=$(leaked_procs)
                if [ -n "$_p" ]; then fail "no stray container processes" "$_p"; else pass "no stray container processes"; fi
                _s=$(leaked_state)
                if [ -n "$_s" ]; then fail "no leftover state" "$_s"; else pass "no leftover state"; fi
                _i=$(_image_top)
                if [ "$_i" != "$_image_before" ]; then fail "the shared image is unchanged" "top level before: $_image_before; after: $_i"; else pass "the shared image is unchanged"; fi
                echo "1..$_tap_n"
        fi
        for p in $(leaked_procs | cut -d' ' -f1); do kill -9 "$p" 2>/dev/null; done
        for m in $(leaked_mounts | sort -r); do umount -l "$m" 2>/dev/null; done
        rm -rf "$T"
        # The verdict is the TAP results: a script's last command may well be a false test.
        # A script that must stop early calls bail, which prints TAP's "Bail out!".
        [ "$_tap_failed" -gt 0 ] && exit 1
        exit 0
}
trap _cleanup EXIT
done_testing() { exit 0; }
bail() { echo "Bail out! $*"; _tap_failed=$((_tap_failed + 1)); exit 1; }
