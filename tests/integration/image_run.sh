#!/bin/sh
# husk run IMAGE|FILE.tar [COMMAND...]: archives in every format, the image config (Entrypoint,
# Cmd, Env, WorkingDir, User, Labels, StopSignal), the podman-style options, the overlay root and
# its removal, many layers, the private-copy fallback, and broken archives (nothing left behind).
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum gzip zstd
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -d "$A/busybox-oci" ] || skip_all "missing $A (images/oci.sh)"
S="$T/store"
# --network none where the network does not matter (the CLI's default, bridge, costs a CNI ADD
# and DEL per run; tests/integration/network.sh covers it). A later --network wins.
r() { hk run --store "$S" --network none "$@"; }
ctr_dirs() { ls "$S/containers" 2>/dev/null | wc -l; }
mounts_in_store() { awk -v s="$S" 'index($5, s) == 1' /proc/self/mountinfo | wc -l; }
clean() { [ "$(ctr_dirs)" = 0 ] && [ "$(mounts_in_store)" = 0 ] && [ -z "$(leaked_state)" ]; }

# ---- archives in every format ----
out=$(r "$A/busybox-oci.tar" echo hello); is "$?:$out" "0:hello" "oci-archive: COMMAND runs, output"
r "$A/busybox-oci.tar" sh -c 'exit 7'; is $? 7 "the exit status is the workload's"
out=$(r "$A/busybox-docker.tar" echo docker); is "$?:$out" "0:docker" "docker save archive (blobs layout)"
out=$(r "$A/busybox-docker-old.tar" echo old); is "$?:$out" "0:old" "docker save archive (layer.tar layout)"
out=$(r "$A/busybox-oci" echo dir); is "$?:$out" "0:dir" "OCI layout folder"
out=$(r busybox:latest echo byname); is "$?:$out" "0:byname" "a stored image by name"
out=$(hk --debug run --store "$S" "$A/busybox-oci.tar" true 2>&1)
like "$out" "already stored \(cache hit\)" "a second run of the same tarball is a cache hit (no load)"
r0() { hk --debug run --store "$T/store6" "$A/busybox-oci.tar" echo again 2>&1; }
r0 >/dev/null; hk image --store "$T/store6" rm busybox:latest >/dev/null
like "$(r0)" "loaded from .*busybox-oci.tar" "after image rm, the cached tarball is loaded again"
clean; ok $? "foreground runs leave no container folder, mount or state"
ls "$S/containers" >/dev/null && [ -z "$(ls "$S/tmp")" ]; ok $? "and no load work folder"

# ---- Entrypoint, Cmd, COMMAND ----
# multi: Entrypoint [/bin/sh -c], Cmd ["ls /data"], WorkingDir /data, Env MULTI=1, StopSignal.
out=$(r "$A/multi-oci"); is "$out" "c" "Entrypoint + Cmd of the image (and the opaque /data)"
out=$(r "$A/multi-oci" 'echo $MULTI; pwd'); is "$(echo $out)" "1 /data" "COMMAND replaces Cmd, keeps Entrypoint; Env and WorkingDir"
out=$(r --entrypoint /bin/echo "$A/multi-oci" x y); is "$out" "x y" "--entrypoint replaces the entrypoint"
out=$(r --entrypoint /bin/pwd "$A/multi-oci"); is "$out" "/data" "--entrypoint drops the image's Cmd"
out=$(r --entrypoint '' "$A/multi-oci" /bin/echo z); is "$out" "z" "--entrypoint '' clears it"
out=$(r busybox 2>&1); is "$?:$out" "0:" "busybox's Cmd /bin/sh with stdin at /dev/null exits 0"
out=$(echo 'echo from-stdin' | r -i busybox); is "$out" "from-stdin" "-i passes stdin"
if command -v script >/dev/null; then
        script -qec "$HUSK --root $HUSK_TEST_ROOT run -t --store $S busybox sh -c 'tty; echo \$TERM; exit 3'" /dev/null </dev/null > "$T/tty.out" 2>&1
        is "$?" 3 "-t: the exit status comes through the terminal"
        like "$(tr -d '\r' < "$T/tty.out" | tr '\n' ' ')" "/dev/pts/0 xterm" "-t: a pty of its own, TERM=xterm"
        script -qec "$HUSK --root $HUSK_TEST_ROOT run --store $T/store5 $A/busybox-oci.tar true" /dev/null </dev/null > "$T/prog.out" 2>&1
        like "$(tr '\r' '\n' < "$T/prog.out")" "loading .*busybox-oci.tar: layer 1/1 unpacked, [0-9.]+ MB, [0-9.]+ MB/s" "a load shows progress on a terminal"
else
        skip "-t needs script(1)"
        skip "progress needs script(1)"
fi
out=$(hk run --store "$T/store4" "$A/busybox-oci.tar" true 2>&1); is "$?:$out" "0:" "and stays quiet off a terminal"

# ---- whiteouts: the container sees the image's tree ----
out=$(r --entrypoint '' multi sh -c 'ls /data | tr "\n" " "; test -e /etc/motd; echo m$?; test -e /opt/app/x; echo x$?; cat /opt/app/x-hard /opt/app/y; stat -c %a /opt/app/suid-tool')
is "$(echo $out)" "c m1 x1 x y 4755" "whiteouts and opaque dir applied, hardlink and setuid kept"

# ---- environment ----
printf '# comment\nFILE1=f1\n\nMULTI=fromfile\nSPACE=a b\n' > "$T/envfile"
out=$(FROMHOST=h r --env-file "$T/envfile" -e MULTI=cli -e FROMHOST -e UNSET_XYZ multi 'echo "$FILE1|$MULTI|$SPACE|$FROMHOST|${UNSET_XYZ-unset}"')
is "$out" "f1|cli|a b|h|unset" "--env-file, -e overriding file and image, -e KEY from the caller"
out=$(r multi 'echo $PATH'); is "$out" "/bin:/usr/bin" "the image's PATH is kept"
out=$(r busybox sh -c 'echo $HOSTNAME; hostname'); is "$(echo $out | awk '{print ($1 == $2)}')" 1 "HOSTNAME is the host name"

# ---- -w, -u ----
out=$(r -w /work/dir busybox pwd); is "$out" "/work/dir" "-w sets (and creates) the working directory"
r -w rel busybox true 2>/dev/null; is $? 125 "-w with a relative path is refused (125)"
out=$(r -u nobody busybox id); is "$out" "uid=65534(nobody) gid=65534(nobody)" "-u NAME from the image's /etc/passwd"
out=$(r -u 1234:5678 busybox sh -c 'id -u; id -g'); is "$(echo $out)" "1234 5678" "-u UID:GID by number"
out=$(r -u nobody:root busybox id -g); is "$out" "0" "-u USER:GROUP with a group name from /etc/group"
out=$(r -u ghost busybox id 2>&1); is "$?" 125 "-u of an unknown name fails with 125"
like "$out" "user \"ghost\" is not in the image's /etc/passwd" "with a clear error"
out=$(r -u nobody busybox grep CapEff /proc/self/status); like "$out" "0000000000000000" "a non-root user has no effective capabilities"
# /etc/passwd as a symlink to a host file must be read inside the root, never on the host.
mkdir -p "$T/evil/etc"
ln -s /proc/1/root/etc/passwd "$T/evil/etc/passwd"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$T/evil" -cf "$T/evil.tar" .
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/evil-oci" evil:latest amd64 '{"User":"root"}' "$A/layers/base.tar.gz" "$T/evil.tar" >/dev/null
out=$(r "$T/evil-oci" id 2>&1); is "$?" 125 "a passwd symlink out of the image is not followed to the host"

# ---- mounts ----
mkdir -p "$T/vol"; echo host > "$T/vol/in"
out=$(r -v "$T/vol:/mnt/v" busybox sh -c 'cat /mnt/v/in; echo ctr > /mnt/v/out')
is "$out:$(cat "$T/vol/out")" "host:ctr" "-v HOST:CTR bind mount, read-write"
r -v "$T/vol:/mnt/v:ro" busybox sh -c 'echo x > /mnt/v/ro' 2>/dev/null; isnt $? 0 "-v ...:ro is read-only"
[ ! -e "$T/vol/ro" ]; ok $? "nothing written through the :ro bind"
r -v relative:/x busybox true 2>/dev/null; is $? 125 "a named volume is refused"
out=$(r --tmpfs /scratch:size=1m busybox sh -c 'grep " /scratch " /proc/mounts')
like "$out" "^tmpfs /scratch tmpfs .*size=1024k" "--tmpfs mounts a tmpfs with the options"
r --read-only busybox touch /newfile 2>/dev/null; isnt $? 0 "--read-only: the root is not writable"
r busybox sh -c 'touch /newfile && rm /bin/busybox.x 2>/dev/null; echo > /etc/passwd'; ok $? "default: the root is writable (overlay upper)"
out=$(r busybox grep -c ^root: /etc/passwd); is "$out" "1" "writes of one container do not reach the image"

# ---- resources, caps, network, hostname ----
out=$(r --memory 64m --pids-limit 20 --cpus 0.5 busybox sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max')
is "$(echo $out)" "67108864 20 50000" "--memory, --pids-limit, --cpus visible in the container's cgroup"
r --memory 12q busybox true 2>/dev/null; is $? 125 "a bad --memory is refused"
out=$(r --cap-drop ALL --cap-add KILL busybox grep CapEff /proc/self/status); like "$out" "0000000000000020$" "--cap-drop ALL --cap-add KILL"
out=$(r --cap-add sys_admin busybox grep CapEff /proc/self/status)
[ $(( 0x$(echo "$out" | awk '{print $2}') >> 21 & 1 )) = 1 ]; ok $? "--cap-add sys_admin"
r --cap-add NOPE busybox true 2>/dev/null; is $? 125 "an unknown capability is refused"
out=$(r busybox ls /sys/class/net); is "$out" "lo" "--network none: only lo"
# Other tests add and remove veths meanwhile (make -j check): compare the namespace itself, and
# look for the interface of the host's default route.
dev=$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1); exit}')
out=$(r --network host busybox sh -c 'readlink /proc/self/ns/net; ls /sys/class/net')
is "$(echo "$out" | head -n 1)" "$(readlink /proc/self/ns/net)" "--network host: the host's network namespace"
echo "$out" | grep -qx "${dev:-lo}"; ok $? "--network host sees the host's interfaces (${dev:-lo})"
out=$(hk run --store "$S" busybox ls /sys/class/net | tr '\n' ' '); is "$out" "eth0 lo " "the default network (bridge): eth0 and lo"
r --network no-such-net busybox true 2>/dev/null; is $? 125 "an unknown network is refused"
out=$(r --hostname web1 busybox hostname); is "$out" "web1" "--hostname"
out=$(r busybox grep -c Seccomp:.2 /proc/self/status); is "$out" "1" "the default seccomp profile is loaded"

# ---- names, detach, labels, delete ----
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/lbl-oci" lbl:latest amd64 \
        '{"Cmd":["sleep","30"],"Labels":{"org.example.role":"web"},"StopSignal":"SIGUSR1"}' "$A/layers/base.tar.gz" >/dev/null
out=$(r -d --name bg1 "$T/lbl-oci"); is "$out" "bg1" "-d --name prints the id"
is "$(hk state bg1 | jq -r .status)" "running" "the detached container runs"
is "$(hk state bg1 | jq -r '.annotations["org.example.role"]')" "web" "image Labels become annotations"
is "$(hk state bg1 | jq -r '.annotations["org.opencontainers.image.stopSignal"]')" "SIGUSR1" "StopSignal is kept as an annotation"
r --name bg1 busybox true 2>/dev/null; is $? 125 "a second container with the same name is refused"
is "$(hk state bg1 | jq -r .status)" "running" "and the first one is untouched"
[ "$(ctr_dirs)" = 1 ] && [ "$(mounts_in_store)" = 2 ]; ok $? "one container folder, its overlay and its netns mount while it runs"
hk delete --force bg1; ok $? "delete --force"
clean; ok $? "delete removed the overlay mount, the container folder and the state"
out=$(r -d --rm busybox sh -c 'echo to-log; sleep 30'); like "$out" "^[0-9a-f]{16}$" "-d without --name prints a generated id"
for _ in $(seq 100); do [ "$(hk logs --store "$S" "$out" 2>&1)" = to-log ] && break; sleep 0.1; done
is "$(hk logs --store "$S" "$out" 2>&1)" "to-log" "a detached container's output is kept (husk logs)"
hk delete --force "$out"; clean; ok $? "and it is removed at delete"
# A running container keeps its layers through `image rm -f` (rm alone refuses an image in use)
# + `image prune`.
S0=$S; S="$T/store3"
r -d --name pin1 "$A/shared-oci" sleep 30 >/dev/null; ok $? "a detached container of image shared"
hk image --store "$S" rm -f shared >/dev/null && out=$(hk image --store "$S" prune)
is "$out" "Removed 0 layers" "prune keeps the layers of a running container whose image was removed"
out=$(cat "$S/containers/pin1/merged/etc/shared")
is "$out" "shared" "its root still shows the image's files"
hk delete --force pin1
is "$(hk image --store "$S" prune)" "Removed 2 layers" "after delete, prune removes them"
S=$S0

# ---- many layers: more than fit in one mount option string ----
i=0
while [ $i -lt 64 ]; do
        mkdir -p "$T/ml/$i/layers"; echo $i > "$T/ml/$i/layers/l$i"
        tar --mtime=@0 --owner=0 --group=0 -C "$T/ml/$i" -cf "$T/ml/l$i.tar" .
        i=$((i + 1))
done
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/many-oci" many:latest amd64 '{"Cmd":["/bin/sh"]}' \
        "$A/layers/base.tar.gz" $(i=0; while [ $i -lt 64 ]; do echo "$T/ml/l$i.tar"; i=$((i + 1)); done) >/dev/null
out=$(r "$T/many-oci" sh -c 'ls /layers | wc -l; cat /layers/l63'); is "$(echo $out)" "64 63" "a 65-layer image runs on overlay"

# ---- the private copy fallback ----
out=$(HUSK_IMAGE_COPY=1 r --entrypoint '' multi sh -c 'ls /data | tr "\n" " "; test -e /etc/motd; echo m$?; test -e /opt/app/x; echo x$?; stat -c %a /opt/app/suid-tool' 2>"$T/copy.err")
is "$(echo $out)" "c m1 x1 4755" "private copy: whiteouts, opaque dir and setuid applied"
is "$(grep -c 'private copy' "$T/copy.err")" 1 "the fallback is said once"
clean; ok $? "the private copy is removed"

# ---- broken archives: a clear error, status 125, nothing left ----
bad() { # bad DESCRIPTION REGEX ARCHIVE
        _o=$(r "$3" true 2>&1); _s=$?
        is "$_s" 125 "$1: refused with 125"
        like "$_o" "$2" "$1: the error says why"
        clean && [ -z "$(ls "$S/tmp")" ]; ok $? "$1: no container, mount, state or load leftovers"
}
# Two different images in one layout: which one to run is the user's choice, not a guess.
cp -r "$A/busybox-oci" "$T/two" && cp -n "$A/shared-oci/blobs/sha256/"* "$T/two/blobs/sha256/" &&
        jq -s '.[0].manifests += .[1].manifests | .[0]' "$A/busybox-oci/index.json" "$A/shared-oci/index.json" > "$T/two.json" &&
        mv "$T/two.json" "$T/two/index.json" || bail "cannot build the two-image layout"
bad "an archive with two images" "holds 2 images \(busybox:latest, shared:latest\).*run one of them by name" "$T/two"
out=$(r shared:latest cat /etc/shared); is "$?:$out" "0:shared" "and they are loaded: one runs by name"
head -c 20000 "$A/busybox-oci.tar" > "$T/trunc-oci.tar"
bad "truncated oci-archive" "trunc|Truncated|unexpected end|EOF|missing" "$T/trunc-oci.tar"
cp -r "$A/busybox-oci" "$T/gz"
lb=$(jq -r '.layers[0].digest' "$T/gz/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/gz/index.json" | cut -d: -f2)" | cut -d: -f2)
printf '\037\213\010\000\000\000\000\000\000\003garbage-not-deflate' > "$T/corrupt.tar.gz"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/cgz" cgz amd64 '{"Cmd":["/bin/sh"]}' "$T/corrupt.tar.gz" >/dev/null 2>&1 ||
        bail "mkoci.sh cannot build the corrupt gzip image"
bad "corrupt gzip layer" "cgz|gzip|layer|digest|diff_id" "$T/cgz"
printf '\050\265\057\375garbage-not-zstd-at-all' > "$T/corrupt.tar.zst"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/czst" czst amd64 '{"Cmd":["/bin/sh"]}' "$T/corrupt.tar.zst" >/dev/null 2>&1 ||
        bail "mkoci.sh cannot build the corrupt zstd image"
bad "corrupt zstd layer" "zstd|layer|digest|diff_id" "$T/czst"
rm "$T/gz/blobs/sha256/$lb"
# In a fresh store: where the layer is already stored its blob is not needed.
S0=$S; S="$T/store2"
bad "manifest naming a missing blob" "$lb|No such file|missing" "$T/gz"
S=$S0
cp -r "$A/busybox-oci" "$T/mt"
m=$(jq -r '.manifests[0].digest' "$T/mt/index.json" | cut -d: -f2)
jq '.layers[0].mediaType = "application/x-unknown-layer"' "$T/mt/blobs/sha256/$m" > "$T/mt.json"
nm=$(sha256sum "$T/mt.json" | cut -d' ' -f1); cp "$T/mt.json" "$T/mt/blobs/sha256/$nm"
jq --arg d "sha256:$nm" --argjson s "$(stat -c %s "$T/mt.json")" '.manifests[0].digest = $d | .manifests[0].size = $s' "$T/mt/index.json" > "$T/mt/i" && mv "$T/mt/i" "$T/mt/index.json"
bad "unknown layer media type" "application/x-unknown-layer" "$T/mt"
cp -r "$A/busybox-oci" "$T/did"
c=$(jq -r '.config.digest' "$T/did/blobs/sha256/$m" | cut -d: -f2)
jq '.rootfs.diff_ids[0] = "sha256:1111111111111111111111111111111111111111111111111111111111111111"' "$T/did/blobs/sha256/$c" > "$T/did.json"
nc=$(sha256sum "$T/did.json" | cut -d' ' -f1); cp "$T/did.json" "$T/did/blobs/sha256/$nc"
jq --arg d "sha256:$nc" --argjson s "$(stat -c %s "$T/did.json")" '.config.digest = $d | .config.size = $s' "$T/did/blobs/sha256/$m" > "$T/did.m"
nm=$(sha256sum "$T/did.m" | cut -d' ' -f1); cp "$T/did.m" "$T/did/blobs/sha256/$nm"
jq --arg d "sha256:$nm" --argjson s "$(stat -c %s "$T/did.m")" '.manifests[0].digest = $d | .manifests[0].size = $s' "$T/did/index.json" > "$T/did/i" && mv "$T/did/i" "$T/did/index.json"
bad "config diff_ids disagree with the layer" "diff_id mismatch" "$T/did"
# Decompression bomb: 256 MiB of zeros in a 256 kB gzip, against a 16 MiB entry limit.
mkdir -p "$T/bomb"; dd if=/dev/zero of="$T/bomb/zero" bs=1M count=256 status=none
tar -C "$T/bomb" -cf - zero | gzip -1 > "$T/bomb.tar.gz"; rm -rf "$T/bomb"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/bomb-oci" bomb amd64 '{"Cmd":["/bin/sh"]}' "$T/bomb.tar.gz" >/dev/null
o=$(hk image --store "$S" load --max-entry-size 16777216 "$T/bomb-oci" 2>&1)
isnt $? 0 "a decompression bomb is stopped by the entry limit"
like "$o" "exceeds the entry limit 16777216" "with the limit in the error"
[ -z "$(ls "$S/tmp")" ] && ! hk image --store "$S" inspect bomb >/dev/null 2>&1; ok $? "and nothing of it stays"

# ---- the busybox archive is reproducible ----
sh "$HUSK_SRCDIR/images/oci.sh" "$T/again" "$HUSK_IMAGE" 2>/dev/null
is "$(sha256sum < "$T/again/busybox-oci.tar")" "$(sha256sum < "$A/busybox-oci.tar")" "images/oci.sh builds the same busybox-oci.tar again"
rm -rf "$T/again"

# ---- the Debian multi-layer image (make images), when built ----
D=${HUSK_DEBIAN:-$HUSK_BUILDDIR/images/out/debian}
if [ -f "$D/debian-oci.tar" ]; then
        out=$(r "$D/debian-oci.tar"); is "$out" "hello from root in /srv/app" "debian image: Cmd and WorkingDir"
        out=$(r -u app debian:bookworm-minbase sh -c './hello.sh; id -G'); is "$(echo $out)" "hello from app in /srv/app 1000 100" "debian image: -u NAME from its own passwd, supplementary groups"
        out=$(r debian:bookworm-minbase sh -c 'ls /usr/share/doc /usr/share/man 2>&1 | grep -c "No such"; ls /var/log; cat /etc/motd; test -d /usr/share/zoneinfo || test -d /usr/share/perl5 || test -d /usr/share/common-licenses; echo $?')
        is "$(echo $out)" "2 README husk debian image 0" "debian image: whiteouts remove docs and man, opaque /var/log, other /usr/share stays"
        out=$(r debian:bookworm-minbase sh -c 'apt-get --version | head -1 | cut -d" " -f1; dpkg -s bash | grep -c "^Status: install ok installed"')
        is "$(echo $out)" "apt 1" "debian image: apt and dpkg work on the overlay root"
else
        skip "debian image not built (make images)"
fi

# ---- runc form untouched ----
b=$(new_bundle)
out=$(run_in "$b" oci1 /bin/echo oci); is "$out" "oci" "husk run -b BUNDLE ID still runs a bundle"
done_testing
