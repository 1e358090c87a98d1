#!/bin/sh
# husk image: load every format images/oci.sh builds, ls/inspect/rm/prune, layers shared and
# stored once, overlay form of whiteouts, digest mismatch, concurrent loads, kill -9 mid-load,
# unpack throughput against tar -xzf.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum gzip
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -d "$A/busybox-oci" ] || skip_all "missing $A (images/oci.sh)"
S="$T/store"
# `husk image` once the CLI has it, else the test driver of src/cli/image.c.
if "$HUSK" image --help >/dev/null 2>&1; then IMG="$HUSK image"; else IMG="$HUSK_HELPERS/husk-image"; fi
img() { $IMG --store "$S" "$@"; }
id_of() { sed -n 's/^Loaded image \(sha256:[0-9a-f]*\).*/\1/p' | head -1; }
nlayers() { find "$S/layers" -mindepth 1 -maxdepth 1 | wc -l; }

# ---- every format ----
for f in busybox-oci busybox-oci.tar busybox-docker.tar busybox-docker-old.tar; do
        out=$(img load "$A/$f" 2>&1); ok $? "load $f"
        eval "id_$(echo "$f" | tr -c 'a-z\n' _)=\$(echo \"\$out\" | id_of)"
done
is "$id_busybox_oci_tar" "$id_busybox_oci" "oci-archive and OCI folder give the same image id"
is "$id_busybox_docker_tar" "$id_busybox_oci" "docker save (blobs layout) gives the same image id"
is "$id_busybox_docker_old_tar" "$id_busybox_oci" "docker save (layer.tar layout) gives the same image id"
is "$(nlayers)" 1 "four loads of one image store its layer once"
out=$(img load "$A/busybox-rootfs.tar.gz"); ok $? "load a plain rootfs tarball"
is "$(nlayers)" 1 "the rootfs tarball has the same diff_id: still one layer"
names=$(img ls --format json | jq -r '[.[].names[]] | sort | join(" ")')
is "$names" "busybox:docker busybox:latest busybox:old busybox:old2" "ls --format json lists every name"
like "$(img ls)" "busybox:latest +$(echo "$id_busybox_oci" | cut -c8-19) +1 " "ls shows name, short id, layer count"
like "$(img ls)" "^NAME +ID +LAYERS +SIZE" "ls prints a table"
is "$(img inspect busybox | jq -r '.config.config.Cmd[0]')" "/bin/sh" "inspect NAME (default tag latest) shows the config"
short=$(echo "$id_busybox_oci" | cut -c8-19)
is "$(img inspect "$short" | jq -r .id)" "$id_busybox_oci" "inspect by id prefix"
img inspect nosuch >/dev/null 2>&1; isnt $? 0 "inspect of an unknown image fails"
[ -x "$(img inspect busybox | jq -r '.layer_dirs[0]')/bin/busybox" ]; ok $? "the layer dir holds the rootfs"

# ---- multi-layer image: whiteouts in overlay form ----
out=$(img load "$A/multi-oci"); ok $? "load a 3-layer image (gzip, zstd, plain tar)"
is "$(nlayers)" 3 "its base layer is shared with busybox"
j=$(img inspect multi:latest)
is "$(echo "$j" | jq -r '.config.config.WorkingDir + " " + .config.config.StopSignal')" "/data SIGQUIT" "image config kept"
l3=$(echo "$j" | jq -r '.layer_dirs[2]')
is "$(stat -c '%F %t:%T' "$l3/etc/motd")" "character special file 0:0" ".wh.motd became a char 0:0 whiteout"
is "$(getfattr --only-values -n trusted.overlay.opaque "$l3/data" 2>/dev/null || python3 -c "import os,sys;print(os.getxattr(sys.argv[1],'trusted.overlay.opaque').decode(),end='')" "$l3/data")" "y" ".wh..wh..opq became trusted.overlay.opaque=y"
lower=$(echo "$j" | jq -r '.layer_dirs | reverse | join(":")')
mkdir -p "$T/mnt"
if mount -t overlay overlay -o "lowerdir=$lower" "$T/mnt" 2>/dev/null; then
        is "$(ls "$T/mnt/data" | tr '\n' ' ')" "c " "overlay: opaque /data shows only the top layer's file"
        [ ! -e "$T/mnt/etc/motd" ] && [ ! -e "$T/mnt/opt/app/x" ]; ok $? "overlay: whiteouts hide lower files"
        is "$(cat "$T/mnt/opt/app/x-hard")" "x" "overlay: hardlink from the lower layer stays"
        is "$(stat -c %a "$T/mnt/opt/app/suid-tool")" "4755" "overlay: setuid bit kept"
        [ -x "$T/mnt/bin/busybox" ] && [ "$(cat "$T/mnt/etc/hostname")" = husk ]; ok $? "overlay: base layer visible"
        umount "$T/mnt"
else
        skip "overlay mount not available"
fi

# ---- platforms ----
out=$(img load "$A/multiarch-oci"); ok $? "load a multi-platform index"
is "$(cat "$(img inspect multiarch | jq -r '.layer_dirs[1]')/arch")" "amd64" "the host platform (linux/amd64) was picked"
out=$(img load --platform linux/arm64 "$A/multiarch-oci"); ok $? "load --platform linux/arm64"
is "$(cat "$(img inspect multiarch | jq -r '.layer_dirs[1]')/arch")" "arm64" "the name moved to the arm64 image"
out=$(img load --platform linux/s390x "$A/multiarch-oci" 2>&1); isnt $? 0 "unknown platform refused"
like "$out" "no manifest for platform linux/s390x \(available: linux/amd64, linux/arm64\)" "the error lists the platforms"

# ---- rm, prune ----
out=$(img rm busybox:old2); is "$out" "Untagged: busybox:old2" "rm NAME of an image with several names untags"
img load "$A/shared-oci" >/dev/null; ok $? "load shared"
n=$(nlayers)
out=$(img rm multi:latest); like "$out" "^Deleted: sha256:" "rm the only name deletes the image"
out=$(img prune); is "$out" "Removed 2 layers" "prune removes the two layers only multi used"
is "$(nlayers)" "$((n - 2))" "the shared base layer stays"
[ -x "$(img inspect shared | jq -r '.layer_dirs[0]')/bin/busybox" ]; ok $? "images still resolve after prune"
for i in $(img ls --format json | jq -r '.[].id'); do img rm "$i" >/dev/null; done
img prune >/dev/null
is "$(nlayers) $(ls "$S/images" "$S/configs" "$S/tmp" | grep -c json)" "0 0" "rm all + prune empties the store"

# ---- digest mismatch: nothing left ----
bad="$T/bad-oci"
cp -a "$A/busybox-oci" "$bad"
m=$(jq -r '.manifests[0].digest' "$bad/index.json" | cut -d: -f2)
lb=$(jq -r '.layers[0].digest' "$bad/blobs/sha256/$m" | cut -d: -f2)
# The same size (a descriptor size that differs is refused before reading): the last byte of the
# gzip trailer changed, which libarchive's gzip reader does not check; the digest does.
lf="$bad/blobs/sha256/$lb"
last=$(tail -c 1 "$lf" | od -An -tu1 | tr -d ' ')
printf "\\$(printf %03o $(( (last + 1) % 256 )))" | dd of="$lf" bs=1 seek=$(( $(stat -c %s "$lf") - 1 )) conv=notrunc 2>/dev/null
out=$(img load "$bad" 2>&1); isnt $? 0 "a layer blob that does not match its digest is refused"
like "$out" "blob digest mismatch \(expected sha256:$lb" "the error names the expected digest"
is "$(nlayers) $(ls "$S/images" | wc -l) $(ls "$S/tmp" | wc -l)" "0 0 0" "nothing of the failed load is left"
# A config whose diff_id does not match the layer content.
cp -a "$A/busybox-oci" "$T/bad2"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/bad3" bad:diff amd64 '{}' "$A/layers/shared.tar.gz" >/dev/null
c=$(jq -r '.manifests[0].digest' "$T/bad3/index.json" | cut -d: -f2)
c=$(jq -r '.config.digest' "$T/bad3/blobs/sha256/$c" | cut -d: -f2)
python3 - "$T/bad3" "$c" <<'PY' || true
import json, sys, hashlib, os
d, c = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{d}/blobs/sha256/{c}"))
cfg["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
raw = json.dumps(cfg).encode(); h = hashlib.sha256(raw).hexdigest()
open(f"{d}/blobs/sha256/{h}", "wb").write(raw)
idx = json.load(open(f"{d}/index.json")); m = idx["manifests"][0]["digest"][7:]
man = json.load(open(f"{d}/blobs/sha256/{m}")); man["config"]["digest"] = "sha256:" + h; man["config"]["size"] = len(raw)
mraw = json.dumps(man).encode(); mh = hashlib.sha256(mraw).hexdigest()
open(f"{d}/blobs/sha256/{mh}", "wb").write(mraw)
idx["manifests"][0]["digest"] = "sha256:" + mh; idx["manifests"][0]["size"] = len(mraw)
json.dump(idx, open(f"{d}/index.json", "w"))
PY
out=$(img load "$T/bad3" 2>&1); isnt $? 0 "a layer whose content does not match the config's diff_id is refused"
like "$out" "diff_id mismatch \(config says sha256:0{64}" "the error says diff_id mismatch"
is "$(nlayers) $(ls "$S/images" | wc -l) $(ls "$S/tmp" | wc -l)" "0 0 0" "nothing left after the diff_id mismatch"

# ---- concurrent loads of one archive ----
for i in 1 2 3 4; do img load "$A/multi-oci" > "$T/par.$i" 2>&1 & done
wait
okc=0; for i in 1 2 3 4; do grep -q "^Loaded image" "$T/par.$i" && okc=$((okc + 1)); done
is "$okc" 4 "four concurrent loads all succeed"
is "$(cat "$T"/par.* | id_of | sort -u | wc -l)" 1 "with one image id"
is "$(nlayers)" 3 "and each layer stored once"
is "$(ls "$S/tmp" | wc -l)" 0 "no work folders left"

# ---- kill -9 during a load ----
big="$T/big"; mkdir -p "$big/r"
for i in 1 2 3 4 5 6; do head -c 100000000 /dev/zero > "$big/r/f$i"; done
tar -C "$big/r" -cf "$big/layer.tar" . && rm -rf "$big/r"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$big/oci" big:latest amd64 '{}' "$big/layer.tar" >/dev/null
rm -f "$big/layer.tar"
img load "$big/oci" >/dev/null 2>&1 &
pid=$!
# Kill it mid-unpack: once its work folder has the first file of the layer.
for _ in $(seq 200); do ls "$S"/tmp/load-*/L*/diff/f1 >/dev/null 2>&1 && break; sleep 0.01; done
ls "$S"/tmp/load-*/L*/diff/f1 >/dev/null 2>&1; ok $? "the load was caught mid-unpack"
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$(nlayers)
img inspect big:latest >/dev/null 2>&1; isnt $? 0 "a killed load leaves no image"
is "$before" 3 "a killed load leaves no layer under layers/"
out=$(img load "$big/oci"); ok $? "the next load of the same image works"
is "$(ls "$S/tmp" | wc -l)" 0 "and removed the killed load's work folder"

# ---- throughput: husk unpack vs tar -xzf of the same layers ----
img rm big:latest >/dev/null; img rm multi:latest >/dev/null; img prune >/dev/null
t0=$(date +%s%N); img load "$A/multi-oci" >/dev/null; t1=$(date +%s%N)
mkdir -p "$T/tarx"
t2=$(date +%s%N)
tar -C "$T/tarx" -xzf "$A/layers/base.tar.gz" && zstd -qdc "$A/layers/l2.tar.zst" | tar -C "$T/tarx" -xf - && tar -C "$T/tarx" -xf "$A/layers/l3.tar"
t3=$(date +%s%N)
diag "unpack multi-oci (3 layers, verified): husk $(( (t1 - t0) / 1000000 )) ms, tar -x $(( (t3 - t2) / 1000000 )) ms"
t0=$(date +%s%N); img load "$big/oci" >/dev/null; t1=$(date +%s%N)
rm -rf "$T/tarx"; mkdir -p "$T/tarx"
blob=$(ls -S "$big/oci/blobs/sha256" | head -1)
t2=$(date +%s%N); tar -C "$T/tarx" -xf "$big/oci/blobs/sha256/$blob"; t3=$(date +%s%N)
diag "unpack 600 MB layer (verified): husk $(( (t1 - t0) / 1000000 )) ms, tar -x $(( (t3 - t2) / 1000000 )) ms"
pass "throughput measured"
done_testing
