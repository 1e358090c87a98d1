#!/bin/sh
# CVE-2019-5736 (STYLE.md §6): a hostile image must not be able to rewrite the host's husk or
# husk-fn binary. The image holds /bin/evil -> /proc/self/exe, a fake ELF interpreter at the path
# of husk's PT_INTERP (tests/helpers/fake-interp: keeps an O_PATH handle to /proc/self/exe as fd 3)
# and /bin/exe-writer (tests/helpers/exe-writer: reopens that handle for writing for 5 s and
# writes a marker). When the container's process still runs husk code and execs /bin/evil, the
# kernel starts the host binary inside the container; the writer then succeeds as soon as no husk
# process executes the binary any more. husk_exe_seal makes that binary a read-only overlayfs view
# (or a sealed memfd copy), so the write fails and the host binary keeps its SHA-256.
# Each case runs a private copy of husk/husk-fn (so that the attack, on a husk without the
# defence, damages only the copy) and checks its SHA-256 afterwards.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum readelf tar
case $(uname -m) in x86_64 | aarch64) ;; *) skip_all "fake-interp is written for x86_64 and aarch64" ;; esac
A=$HUSK_BUILDDIR/images/out/archives
[ -f "$A/layers/base.tar.gz" ] || skip_all "missing $A (images/oci.sh)"
FN=$(dirname "$HUSK")/husk-fn
[ -x "$FN" ] || skip_all "missing husk-fn next to $HUSK"
interp=$(readelf -l "$HUSK" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] || skip_all "$HUSK has no ELF interpreter (a static build cannot be started this way)"

# The attack's files, as a folder (bundles) and as a layer (images, functions).
E="$T/evil"
mkdir -p "$E/bin" "$E/tmp" "$E$(dirname "$interp")"
cp "$HUSK_HELPERS/fake-interp" "$E$interp"
cp "$HUSK_HELPERS/exe-writer" "$E/bin/exe-writer"
ln -s /proc/self/exe "$E/bin/evil"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$E" -cf "$T/evil.tar" .
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/evil-oci" evil:latest amd64 \
        '{"Entrypoint":["/bin/evil"],"User":"root"}' "$A/layers/base.tar.gz" "$T/evil.tar" >/dev/null

# A fresh copy of the binaries for each case: H is the "host's husk" of that case.
fresh() {
        rm -rf "$T/hb"; mkdir -p "$T/hb"
        cp "$HUSK" "$T/hb/husk"; cp "$FN" "$T/hb/husk-fn"
        SUM=$(sha256sum "$T/hb/husk" "$T/hb/husk-fn")
        H="$T/hb/husk"
}
# result PID: wait (up to 12 s) for the writer's verdict in its root, print the file.
result() {
        _i=0
        while [ $_i -lt 120 ]; do
                for _f in "/proc/$1/root/exe-writer.result" "/proc/$1/root/tmp/exe-writer.result"; do
                        if grep -qE '^(WROTE|FAILED)' "$_f" 2>/dev/null; then cat "$_f"; return 0; fi
                done
                sleep 0.1; _i=$((_i + 1))
        done
        echo "no verdict from pid $1"
}
# verdict NAME OUTPUT: the writer ran, reached a handle to husk's image, and could not write it;
# the host binaries are intact.
verdict() {
        like "$2" "^target " "$1: the attack ran (exe-writer holds a handle to the binary the kernel ran)"
        unlike "$2" "target $T/hb/" "$1: that handle is not the host's binary"
        like "$2" "FAILED (open|write)" "$1: reopening it for writing fails"
        sleep 0.3 # the writer is past its last attempt; make sure no late write is missed
        is "$(sha256sum "$T/hb/husk" "$T/hb/husk-fn")" "$SUM" "$1: the host's husk and husk-fn are unchanged"
}
rw_bundle() {
        _b=$(new_bundle_rw)
        cp -a "$E/." "$_b/rootfs/"
        cfg "$_b" '.process.args = ["/bin/evil"]'
        echo "$_b"
}

# 1. run -d of a bundle (the default protection, overlayfs where the kernel has it).
fresh
b=$(rw_bundle)
"$H" --root "$HUSK_TEST_ROOT" run -d -b "$b" se1 </dev/null >/dev/null 2>&1
pid=$(hk state se1 2>/dev/null | jq -r .pid)
verdict "run -d" "$(result "$pid")"
hk delete -f se1 >/dev/null 2>&1

# 2. the same with both fallbacks forced: a sealed memfd copy, and a second execve from it (the
#    path taken where the kernel refuses to switch the exe in place).
fresh
rm -f "$b/rootfs/exe-writer.result"
HUSK_EXE_SEAL=memfd HUSK_EXE_SEAL_REEXEC=1 "$H" --root "$HUSK_TEST_ROOT" run -d -b "$b" se2 </dev/null >/dev/null 2>&1
pid=$(hk state se2 2>/dev/null | jq -r .pid)
out=$(result "$pid")
verdict "run -d (memfd)" "$out"
like "$out" "target /memfd:husk" "run -d (memfd): the container saw the memfd copy"
hk delete -f se2 >/dev/null 2>&1

# 3. exec -d into a running container.
fresh
rm -f "$b/rootfs/exe-writer.result"
cfg "$b" '.process.args = ["/bin/sleep", "60"]'
hk run -d -b "$b" se3 </dev/null >/dev/null 2>&1
"$H" --root "$HUSK_TEST_ROOT" exec -d --pid-file "$T/exec.pid" se3 /bin/evil </dev/null >/dev/null 2>&1
verdict "exec -d" "$(result "$(cat "$T/exec.pid" 2>/dev/null)")"
hk delete -f se3 >/dev/null 2>&1

# 4. husk run -d IMAGE, then its monitor killed (ETXTBSY no longer protects the binary).
fresh
S="$T/store"
export HUSK_STORE="$S"
"$H" image load "$T/evil-oci" >/dev/null 2>&1
"$H" --root "$HUSK_TEST_ROOT" run -d --network none --name se4 evil:latest </dev/null >/dev/null 2>&1
pid=$("$H" --root "$HUSK_TEST_ROOT" inspect se4 2>/dev/null | jq -r '.[0].State.Pid')
mon=$(pgrep -f -- "--name se4 evil:latest" | grep -vx "$pid" | head -n 1)
[ -n "$mon" ] && kill -9 "$mon" 2>/dev/null
verdict "run -d IMAGE, monitor killed" "$(result "$pid")"
"$HUSK" --root "$HUSK_TEST_ROOT" rm -f se4 >/dev/null 2>&1
unset HUSK_STORE

# 5. a function worker: husk-fn's zygote clones the workers; server and zygote killed.
fresh
for _i in $(seq 100); do pgrep -x exe-writer >/dev/null || break; sleep 0.1; done # cases 1-4 ended
FS="$T/fnstore"
"$H" fn --store "$FS" create se5 --image "$T/evil-oci" --timeout 20s >/dev/null 2>&1
"$H" fn --store "$FS" serve --no-auth --listen 127.0.0.1:0 --init-timeout 20s >"$T/serve.log" 2>&1 &
for _i in $(seq 100); do [ -s "$FS/fn/serve.addr" ] && break; sleep 0.05; done
curl -s -o /dev/null -H 'X-Amz-Invocation-Type: Event' -d '{}' \
        "http://$(cat "$FS/fn/serve.addr")/2015-03-31/functions/se5/invocations"
wpid=
for _i in $(seq 200); do
        wpid=$(pgrep -x exe-writer | head -n 1)
        [ -n "$wpid" ] && break
        sleep 0.05
done
# Kill every husk-fn of this store (server and zygote) so that nothing executes the binary.
pkill -9 -f -- "--store $FS" 2>/dev/null
if [ -n "$wpid" ]; then
        out=$(result "$wpid")
        verdict "function worker, server killed" "$out"
        case $out in no\ verdict*) diag "$(ps -o pid,ppid,stat,comm -p "$wpid")" "$(cat "$T/serve.log")" ;; esac
else
        fail "function worker: the attack did not start" "$(cat "$T/serve.log")"
fi
# The orphaned worker: a restarted server removes it.
"$FN" --store "$FS" serve --listen 127.0.0.1:0 >/dev/null 2>&1 &
sp=$!
for _i in $(seq 100); do [ -s "$FS/fn/serve.addr" ] && break; sleep 0.05; done
[ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null
for _i in $(seq 50); do grep -q "$FS/containers" /proc/self/mountinfo || break; sleep 0.1; done
kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null

# 7. Rootless: a user's own husk (owned by the user, so that its containers' root, the user, could
#    write it) runs -d a rootless bundle as that user. The overlay needs privileges a user lacks:
#    the sealed memfd copy must protect it.
if command -v setpriv >/dev/null 2>&1; then
        fresh
        chown 65534:65534 "$T/hb/husk" "$T/hb/husk-fn"
        b=$(rw_bundle)
        chown -R 65534:65534 "$b"
        cfg "$b" '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 65534, "size": 1}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 65534, "size": 1}]'
        X="$T/xdg"
        mkdir -p "$X" && chown 65534:65534 "$X" && chmod 0700 "$X"
        nb() { setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_RUNTIME_DIR="$X" "$@"; }
        nb "$H" run -d -b "$b" se7 </dev/null >"$T/se7.out" 2>&1
        pid=$(nb "$H" state se7 2>/dev/null | jq -r .pid)
        out=$(result "$pid")
        verdict "rootless run -d" "$out"
        like "$out" "target /memfd:husk" "rootless run -d: the container saw the memfd copy"
        case $out in no\ verdict*) diag "$(cat "$T/se7.out")" ;; esac
        nb "$H" delete -f se7 >/dev/null 2>&1
        is "$(ls -A "$X/husk" 2>/dev/null | grep -v seccomp-cache)" "" "rootless run -d: delete -f left no state"
else
        skip "rootless case needs setpriv"
fi

# 6. The protection cannot be switched off, and a bad value is refused before anything runs.
out=$(HUSK_EXE_SEAL=off "$HUSK" --root "$HUSK_TEST_ROOT" run -b "$b" se6 2>&1)
is "$?" 1 "HUSK_EXE_SEAL=off is refused"
like "$out" "HUSK_EXE_SEAL=off: use overlay or memfd" "with a clear error"
[ -d "$HUSK_TEST_ROOT/se6" ]; ok $((!$?)) "and nothing is left behind"
done_testing
