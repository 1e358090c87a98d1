#!/bin/sh
# Parallel layer unpack (store/load.c): a many-layer image (gzip, zstd and plain layers, a layer
# repeated) loads the same with one thread as with several; progress is reported in layer order;
# a failure in one layer (wrong digest, hostile entry, corrupt gzip) gives that layer's error,
# stops the other threads and leaves no partial layer, no work folder and no image.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum gzip zstd
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -f "$A/layers/base.tar.gz" ] || skip_all "missing $A (images/oci.sh)"
MKTAR="$HUSK_HELPERS/husk-mktar"
S="$T/store"
img() { "$HUSK" image --store "$S" "$@"; }
nlayers() { find "$S/layers" -mindepth 1 -maxdepth 1 | wc -l; }
id_of() { sed -n 's/^Loaded image \(sha256:[0-9a-f]*\).*/\1/p' | head -1; }
# Every stored layer is complete: a diff folder and its size file, nothing else.
layers_complete() {
        for d in "$S"/layers/*; do
                [ -e "$d" ] || continue
                [ -d "$d/diff" ] && [ -f "$d/size" ] && [ "$(ls "$d" | tr '\n' ' ')" = "diff size " ] || return 1
        done
}
nothing_left() { [ -z "$(ls "$S/tmp")" ] && [ -z "$(ls "$S/images")" ] && layers_complete; }

# ---- a 15-layer image: busybox, 12 layers, a repeated one, a whiteout ----
L="$T/layers"
mkdir -p "$L"
mklayer() { # mklayer I SUFFIX: layer I writes /order, /l/I and 256 KiB of data
        _d="$T/src$1"
        mkdir -p "$_d/l" "$_d/data"
        echo "$1" > "$_d/order"; echo "layer $1" > "$_d/l/$1"
        head -c 262144 /dev/urandom > "$_d/data/blob$1"
        case $2 in
        tar.gz) tar -C "$_d" -cf - . | gzip -n > "$L/l$1.tar.gz" ;;
        tar.zst) tar -C "$_d" -cf - . | zstd -q > "$L/l$1.tar.zst" ;;
        tar) tar -C "$_d" -cf "$L/l$1.tar" . ;;
        esac
        echo "$L/l$1.$2"
}
layers="$A/layers/base.tar.gz"
for i in $(seq 1 12); do
        case $((i % 3)) in 0) s=tar.gz ;; 1) s=tar.zst ;; 2) s=tar ;; esac
        layers="$layers $(mklayer "$i" $s)"
done
# l2 again (same blob, same diff_id: index 13), then l14 deletes /l/1 (a whiteout).
mkdir -p "$T/src14/l"; : > "$T/src14/l/.wh.1"; echo 14 > "$T/src14/order"
tar -C "$T/src14" -cf - . | gzip -n > "$L/l14.tar.gz"
layers="$layers $L/l2.tar $L/l14.tar.gz"
# shellcheck disable=SC2086 # paths without spaces
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/many" many:latest amd64 '{"Cmd":["/bin/cat","/order"]}' $layers >/dev/null
tar -C "$T/many" -cf "$T/many.tar" .

out=$(HUSK_UNPACK_THREADS=1 img load "$T/many.tar" 2>&1); ok $? "one thread: 15-layer image loads"
id1=$(echo "$out" | id_of)
snap() { # the content of every layer of many:latest, in order
        for d in $(img inspect many:latest | jq -r '.layer_dirs[]'); do
                (cd "$d" && find . -printf '%p %y %m %s %U\n' | sort && find . -type f -exec cat {} + | sha256sum)
        done | sha256sum
}
s1=$(snap)
is "$(nlayers)" 14 "14 layers stored (the repeated one once)"
img rm many:latest >/dev/null && img prune >/dev/null
is "$(nlayers)" 0 "store emptied"
out=$(HUSK_UNPACK_THREADS=4 img load "$T/many.tar" 2>&1); ok $? "four threads: the same image loads"
is "$(echo "$out" | id_of)" "$id1" "the same image id"
is "$(snap)" "$s1" "the same layer contents, in the same order"
is "$(nlayers)" 14 "14 layers stored"
is "$(img inspect many:latest | jq -r '.layer_dirs | length')" 15 "the image lists 15 layers"
d14=$(img inspect many:latest | jq -r '.layer_dirs[13]'); d3=$(img inspect many:latest | jq -r '.layer_dirs[2]')
is "$d14" "$d3" "layer 14 is layer 3's folder"
is "$(stat -c '%F %t:%T' "$(img inspect many:latest | jq -r '.layer_dirs[14]')/l/1")" "character special file 0:0" "the whiteout of the top layer is stored"
out=$(hk run --store "$S" many:latest 2>"$T/run.err"); is "$out" "14" "run: the top layer's /order wins"
is "$(cat "$T/run.err")" "" "run: the repeated layer does not stop the overlay (no private-copy fallback)"
out=$(hk run --store "$S" many:latest ls /l); is "$(echo $out)" "10 11 12 2 3 4 5 6 7 8 9" "run: every layer's file, /l/1 whited out"
out=$(hk run --store "$S" many:latest cat /l/2 /data/blob2 | sha256sum | cut -c1-64)
is "$out" "$(cat "$T/src2/l/2" "$T/src2/data/blob2" | sha256sum | cut -c1-64)" "run: the repeated layer's files"
out=$(img load "$T/many.tar" 2>&1); ok $? "a second load (all stored) works"

# ---- progress: in layer order, each layer once (husk run shows it on a terminal) ----
if command -v script >/dev/null; then
        img rm many:latest >/dev/null && img prune >/dev/null
        script -qec "$HUSK --root $HUSK_TEST_ROOT run --store $S $T/many.tar /bin/true" /dev/null > "$T/prog" 2>&1
        seqs=$(tr '\r' '\n' < "$T/prog" | sed -n 's/.*layer \([0-9]*\)\/15 .*/\1/p' | tr '\n' ' ')
        is "$seqs" "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 " "progress reported for layers 1..15 in order"
        is "$(tr '\r' '\n' < "$T/prog" | grep -c 'layer 14/15 stored')" 1 "the repeated layer is reported as stored"
else
        skip "no script(1) for a terminal"
fi

# ---- a failure in one layer ----
fresh() { rm -rf "$S"; mkdir -p "$S"; img ls >/dev/null; }
# mkbad NAME: a copy of the many layout; then the caller changes it.
mkbad() { rm -rf "$T/$1"; cp -a "$T/many" "$T/$1"; echo "$T/$1"; }
man_of() { jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2; }
blob_of() { jq -r ".layers[$2].digest" "$1/blobs/sha256/$(man_of "$1")" | cut -d: -f2; }

# l8 (index 8, an uncompressed layer): the bytes of l5 (another uncompressed one) under its digest.
fresh
b=$(mkbad bad-digest); h=$(blob_of "$b" 8); h5=$(blob_of "$b" 5)
cp "$b/blobs/sha256/$h5" "$b/blobs/sha256/$h"
out=$(HUSK_UNPACK_THREADS=4 img load "$b" 2>&1); isnt $? 0 "wrong digest in layer 9 of 15: refused"
like "$out" "$b: layer blobs/sha256/$h: blob digest mismatch \(expected sha256:$h" "the error names that layer's blob and the digest"
nothing_left; ok $? "no work folder, no image, only complete layers"
[ ! -e "$S/layers/$(sha256sum < "$L/l8.tar" | cut -c1-64)" ]; ok $? "that layer is not stored"

# l5 (index 5): a layer with a hostile entry.
fresh
"$MKTAR" "$T/evil.tar" "file:ok:x" "file:../../../../escape:pwned" || bail "husk-mktar"
evil_layers=$(echo $layers | awk -v e="$T/evil.tar" '{ $6 = e; print }')
# shellcheck disable=SC2086
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/evil" evil:latest amd64 '{}' $evil_layers >/dev/null
out=$(img load "$T/evil" 2>&1); isnt $? 0 "a '..' entry in layer 6 of 15: refused"
like "$out" "$T/evil: layer blobs/sha256/[0-9a-f]{64}: entry '\.\./\.\./\.\./\.\./escape': path contains '\.\.'" "the error names the layer and the entry"
nothing_left; ok $? "no work folder, no image, only complete layers"
[ ! -e "$S/../escape" ] && [ ! -e "$T/escape" ]; ok $? "nothing written outside"

# A corrupt gzip stream in the last gzip layer (l12, index 12).
fresh
b=$(mkbad bad-gzip); h=$(blob_of "$b" 12)
head -c 2000 "$L/l12.tar.gz" > "$T/trunc"; head -c 3000 /dev/urandom >> "$T/trunc"
cp "$T/trunc" "$b/blobs/sha256/$h"
out=$(img load "$b" 2>&1); isnt $? 0 "corrupt gzip in layer 13 of 15: refused"
like "$out" "$b: layer blobs/sha256/$h: " "the error names that layer"
nothing_left; ok $? "no work folder, no image, only complete layers"

# The other threads stop: a layer that fails at once next to a large one. The load of the large
# layer alone is the yardstick; the failing load must not unpack it (nor publish it).
fresh
"$MKTAR" /dev/stdout "big:zeros:600000000" | gzip -1 -n > "$T/huge.tar.gz" || bail "husk-mktar"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/huge" huge:latest amd64 '{}' "$T/huge.tar.gz" >/dev/null
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/stop" stop:latest amd64 '{}' "$T/evil.tar" "$T/huge.tar.gz" >/dev/null
t0=$(date +%s%N); out=$(HUSK_UNPACK_THREADS=2 img load "$T/stop" 2>&1); rc=$?; t1=$(date +%s%N)
isnt $rc 0 "a failing layer next to a 600 MB one: refused"
like "$out" "entry '\.\./\.\./\.\./\.\./escape'" "with the failing layer's error"
nothing_left && [ "$(nlayers)" = 0 ]; ok $? "the large layer is not stored, nothing left"
t2=$(date +%s%N); img load "$T/huge" >/dev/null 2>&1; ok $? "the large layer alone loads"; t3=$(date +%s%N)
fail_ms=$(( (t1 - t0) / 1000000 )); big_ms=$(( (t3 - t2) / 1000000 ))
diag "failing load $fail_ms ms, the large layer alone $big_ms ms"
[ $((fail_ms * 3)) -lt "$big_ms" ]; ok $? "the failing load stops the large layer early (< 1/3 of its time)"
img rm huge:latest >/dev/null; img prune >/dev/null

# An oci-archive cut in the middle (its layers are read in place from an uncompressed archive).
fresh
head -c $(( $(stat -c %s "$T/many.tar") / 2 )) "$T/many.tar" > "$T/cut.tar"
out=$(img load "$T/cut.tar" 2>&1); isnt $? 0 "an oci-archive cut in half: refused"
like "$out" "$T/cut.tar: " "the error names the archive"
nothing_left && [ "$(nlayers)" = 0 ]; ok $? "no work folder, no image, no layer"

# ---- the good image still loads after the failures ----
out=$(img load "$T/many.tar" 2>&1); ok $? "the intact image loads into the same store"
is "$(echo "$out" | id_of)" "$id1" "with the same id"
done_testing
