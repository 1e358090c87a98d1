#!/bin/sh
# Small inputs cannot exhaust the host through `husk image load` (issue 12): a compressed archive
# is never copied beyond what its images use and every copy is bounded; layers are bounded in
# bytes, entries and free space, with errors naming the limit and its option; image names and
# descriptor sizes are checked; a load is all or nothing. Nothing is left after a refusal.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum gzip tar prlimit
S="$T/store"
MKTAR="$HUSK_HELPERS/husk-mktar"
img() { "$HUSK" image --store "$S" "$@"; }
nothing_left() { [ -z "$(ls "$1/tmp" "$1/images" 2>/dev/null | grep -v ':$' | grep .)" ]; }
layers_of() { ls "$1/layers" 2>/dev/null | sort | tr '\n' ' '; }
# A load whose every written file may hold at most $1 KiB: a bigger write fails with EFBIG
# (SIGXFSZ ignored) instead of landing in the store's tmp/.
capped() { _kb=$1; shift; (trap '' XFSZ; exec prlimit --fsize=$((_kb * 1024)) -- "$@"); }
# oci DIR NAME SPEC...: an OCI layout with one image whose one layer holds SPEC (husk-mktar).
oci() {
        _d=$1 _n=$2; shift 2
        "$MKTAR" "$_d.layer.tar" "$@" || return 1
        sh "$HUSK_SRCDIR/images/mkoci.sh" "$_d" "$_n" amd64 '{}' "$_d.layer.tar" >/dev/null
}

# ---- 1. an unreferenced 40 MiB file in a compressed archive is never written ----
oci "$T/o1" limits:1 "file:hello:hi"
head -c 41943040 /dev/zero > "$T/o1/junk"
tar -C "$T/o1" -czf "$T/junk.tar.gz" .
junk="junk.tar.gz"
if command -v bzip2 >/dev/null; then
        tar -C "$T/o1" -cf - . | bzip2 > "$T/junk.tar.bz2"
        junk="$junk junk.tar.bz2"
        diag "junk.tar.gz: $(stat -c %s "$T/junk.tar.gz") bytes, junk.tar.bz2: $(stat -c %s "$T/junk.tar.bz2") bytes"
else
        skip "bzip2 is not installed (tools/deps)"
        skip "bzip2 is not installed (tools/deps)"
fi
for f in $junk; do
        o=$(capped 2048 "$HUSK" image --store "$S" load --max-entry-size 1000000 "$T/$f" 2>&1)
        ok $? "$f: loads with every written file under 2 MiB (the 40 MiB unreferenced file is not staged)"
        diag "$o"
        is "$(ls "$S/tmp")" "" "$f: no work folder left"
        img rm limits:1 >/dev/null 2>&1; img prune >/dev/null 2>&1
done

# A file no image could use (larger than a layer blob may be) refuses the archive from its tar
# header: its data is never decompressed (a few KB of bzip2 can hold a terabyte of zeros).
o=$(img load --max-layer-size 1M "$T/junk.tar.gz" 2>&1)
isnt $? 0 "an archive holding a file over --max-layer-size is refused"
like "$o" "entry '(\./)?junk' holds 41943040 bytes, more than the layer limit 1.0 MiB \(--max-layer-size\)" "the error names the entry, the limit and its option"
nothing_left "$S"; ok $? "nothing left"

# The formats still load from every compressed form, with only the used layer copied (the layer
# blob is about 2 MiB: no written file reaches 3 MiB).
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
if [ -f "$A/busybox-docker-old.tar" ] && command -v bzip2 >/dev/null && command -v xz >/dev/null &&
        command -v zstd >/dev/null; then
        for f in busybox-oci.tar busybox-docker.tar busybox-docker-old.tar; do
                ids=""
                for c in gzip bzip2 xz zstd; do
                        "$c" -c "$A/$f" > "$T/$f.$c"
                        o=$(capped 3072 "$HUSK" image --store "$S" load "$T/$f.$c" 2>&1) || diag "$o"
                        ids="$ids $(printf '%s' "$o" | sed -n 's/^Loaded image sha256:\([0-9a-f]*\).*/\1/p' | cut -c1-12)"
                done
                is "$ids" " 886e74976db2 886e74976db2 886e74976db2 886e74976db2" "$f compressed with gzip, bzip2, xz, zstd: loads, the same image"
        done
        for i in $(img ls --format json | jq -r '.[].id'); do img rm "$i" >/dev/null; done
        img prune >/dev/null
else
        for f in 1 2 3; do skip "no $A/busybox-docker-old.tar (make images/out/archives/.built), bzip2, xz or zstd"; done
fi

# A referenced layer blob of 40 MiB (an uncompressed tar) in a compressed archive: its tar header
# already says it is over the layer limit, so no byte of it is copied.
"$MKTAR" "$T/big.tar" "big:zeros:41943040"
mkdir -p "$T/o2"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/o2" limits:2 amd64 '{}' "$T/big.tar" >/dev/null
tar -C "$T/o2" -czf "$T/big.tar.gz" .
o=$(capped 2048 "$HUSK" image --store "$S" load --max-layer-size 1M "$T/big.tar.gz" 2>&1)
isnt $? 0 "a 40 MiB layer blob over --max-layer-size 1M is refused"
like "$o" "layer limit 1.0 MiB \(--max-layer-size\)" "the error names the limit and its option"
unlike "$o" "File too large" "it is refused before anything is copied (no write hit the 2 MiB file cap)"
nothing_left "$S"; ok $? "nothing left after the refusal"
is "$(layers_of "$S")" "" "no layer stored"

# ---- 2. default limits, entry count, free space ----
h=$("$HUSK" image load --help 2>&1)
like "$h" "--max-entry-size SIZE .*default 4G" "load --help gives the entry size default"
like "$h" "--max-layer-size SIZE" "load --help lists --max-layer-size"
like "$h" "--max-entries N .*of one layer" "load --help lists --max-entries"
like "$h" "the archive \\(default 1000000\\)" "load --help gives the entry count default"
like "$h" "--min-free-space SIZE" "load --help lists --min-free-space"
set -- "dir:d"
i=0; while [ $i -lt 40 ]; do set -- "$@" "file:d/f$i:x"; i=$((i + 1)); done
oci "$T/o3" limits:3 "$@"
o=$(img load --max-entries 30 "$T/o3" 2>&1)
isnt $? 0 "a layer of 41 entries is refused with --max-entries 30"
like "$o" "more than 30 entries in the layer \(--max-entries\)" "the error names the limit and its option"
nothing_left "$S"; ok $? "nothing left after the entry-count refusal"
is "$(layers_of "$S")" "" "no partial layer stored"
o=$(img load --max-entries 41 "$T/o3" 2>&1); ok $? "the same layer loads with --max-entries 41"
img rm limits:3 >/dev/null 2>&1; img prune >/dev/null 2>&1
# The outer archive's entries count too: a gzip archive of the small image and 40 more files.
mkdir -p "$T/o3x"
cp -a "$T/o1/." "$T/o3x/" && rm -f "$T/o3x/junk"
i=0; while [ $i -lt 40 ]; do : > "$T/o3x/extra$i"; i=$((i + 1)); done
tar -C "$T/o3x" -czf "$T/o3x.tar.gz" .
o=$(img load --max-entries 30 "$T/o3x.tar.gz" 2>&1)
isnt $? 0 "an archive of more than --max-entries 30 entries is refused"
like "$o" "more than 30 entries in the archive \(--max-entries\)" "the error names the limit and its option"
nothing_left "$S"; ok $? "nothing left"
o=$(img load --max-entries 0 "$T/o3" 2>&1); is $? 2 "--max-entries 0 is a usage error"
o=$(img load --min-free-space 12Q "$T/o3" 2>&1); is $? 2 "--min-free-space 12Q is a usage error"

# Free space: a store on a 48 MiB tmpfs; a layer whose gzip blob is tiny but holds a 40 MiB file.
SMALL="$T/small"
mkdir -p "$SMALL"
mount -t tmpfs -o size=48m husk-limits "$SMALL" || bail "cannot mount a tmpfs"
mkdir -p "$T/zsrc"
yes husk | head -c 41943040 > "$T/zsrc/f"   # compresses to a few KB, and is not sparse
tar -C "$T/zsrc" -cf - . | gzip -n > "$T/z.tar.gz"
mkdir -p "$T/o4"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/o4" limits:4 amd64 '{}' "$T/z.tar.gz" >/dev/null
used0=$(df -k --output=used "$SMALL" | tail -1)
o=$("$HUSK" image --store "$SMALL/s" load --min-free-space 16M "$T/o4" 2>&1)
isnt $? 0 "a 40 MiB layer that would leave less than --min-free-space 16M is refused (it would fit)"
like "$o" "less than the reserve of 16.0 MiB \(--min-free-space\)" "the error names the reserve and its option"
nothing_left "$SMALL/s"; ok $? "nothing left in tmp/ or images/"
is "$(layers_of "$SMALL/s")" "" "no partial layer stored"
used1=$(df -k --output=used "$SMALL" | tail -1)
[ $((used1 - used0)) -lt 1024 ]; ok $? "the filesystem's use is back where it was (${used0} KiB -> ${used1} KiB)"
# A layer that does not fit: the default reserve (5% of a small filesystem) stops it with an
# error that says why, not a failed write.
yes husk | head -c 62914560 > "$T/zsrc/f"
tar -C "$T/zsrc" -cf - . | gzip -n > "$T/z60.tar.gz"
mkdir -p "$T/o5"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/o5" limits:5 amd64 '{}' "$T/z60.tar.gz" >/dev/null
o=$("$HUSK" image --store "$SMALL/s" load "$T/o5" 2>&1)
isnt $? 0 "a 60 MiB layer on a 48 MiB filesystem fails with the default reserve"
like "$o" "\(--min-free-space\)" "the error names --min-free-space, not a failed write"
nothing_left "$SMALL/s"; ok $? "nothing left"
is "$(layers_of "$SMALL/s")" "" "no partial layer stored"
umount "$SMALL"

# ---- 3. image names and descriptor sizes ----
# bad_name DESC KEY NAME: an OCI layout whose index annotation KEY is NAME is refused.
n=0
bad_name() {
        n=$((n + 1))
        oci "$T/n$n" "" "file:f:x"
        jq --arg k "$2" --arg v "$3" '.manifests[0].annotations = {($k): $v}' "$T/n$n/index.json" > "$T/n$n/i" &&
                mv "$T/n$n/i" "$T/n$n/index.json"
        o=$(img load "$T/n$n" 2>&1); rc=$?
        if [ "${4:-}" = ok ]; then
                is "$rc" 0 "$1: loads"
                img rm "$3" >/dev/null 2>&1; img prune >/dev/null 2>&1
                return
        fi
        isnt "$rc" 0 "$1: refused"
        like "$o" "annotation $2 .* is not a valid image name" "$1: the error says which name is bad"
        is "$(printf '%s\n' "$o" | wc -l)" 1 "$1: the error is one line (the name is escaped)"
        nothing_left "$S"; ok $? "$1: nothing stored"
}
nl='
'
bad_name "ref.name with a newline and ../" org.opencontainers.image.ref.name "au-evil${nl}name:../../../x"
bad_name "ref.name ../../x" org.opencontainers.image.ref.name "../../x"
bad_name "ref.name with a space" org.opencontainers.image.ref.name "a b"
bad_name "containerd name with upper case path" io.containerd.image.name "docker.io/Library/x:1"
bad_name "containerd name with an escape" io.containerd.image.name "x:1$(printf '\033')[2J"
bad_name "ref.name v1.0" org.opencontainers.image.ref.name "v1.0" ok
bad_name "ref.name limits:5" org.opencontainers.image.ref.name "limits:5" ok
bad_name "containerd name with a registry port" io.containerd.image.name "localhost:5000/team/app:v1.2" ok
# docker save's RepoTags.
mkdir -p "$T/ds"
"$MKTAR" "$T/ds/layer.tar" "file:f:x"
cfgj='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:'$(sha256sum "$T/ds/layer.tar" | cut -d' ' -f1)'"]}}'
printf '%s' "$cfgj" > "$T/ds/c.json"
printf '[{"Config":"c.json","RepoTags":["ok:1","evil\\nname:x"],"Layers":["layer.tar"]}]' > "$T/ds/manifest.json"
o=$(img load "$T/ds" 2>&1); isnt $? 0 "docker save: a RepoTag with a newline is refused"
like "$o" 'RepoTags "evil\\nname:x" is not a valid image reference' "the error shows the tag escaped"
nothing_left "$S"; ok $? "nothing stored"

# Descriptor sizes: rewrite the layer descriptor's size in the manifest (and the index).
resize() { # resize DIR JQ_EXPR
        _m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
        jq "$2" "$1/blobs/sha256/$_m" > "$T/m.json"
        _h=$(sha256sum "$T/m.json" | cut -d' ' -f1)
        cp "$T/m.json" "$1/blobs/sha256/$_h"
        jq --arg d "sha256:$_h" --argjson s "$(stat -c %s "$T/m.json")" \
                '.manifests[0].digest = $d | .manifests[0].size = $s' "$1/index.json" > "$T/i.json"
        mv "$T/i.json" "$1/index.json"
}
oci "$T/d1" limits:d1 "file:f:x"
resize "$T/d1" '.layers[0].size = 1000000000000000'
o=$(img load "$T/d1" 2>&1); isnt $? 0 "a layer descriptor of 10^15 bytes is refused"
like "$o" "the manifest gives 1000000000000000 bytes, the archive holds [0-9]+" "the error gives both sizes"
oci "$T/d2" limits:d2 "big:z:3000000"
resize "$T/d2" '.'
o=$(img load --max-layer-size 2M "$T/d2" 2>&1); isnt $? 0 "a layer blob over --max-layer-size is refused before reading"
like "$o" "[0-9]+ bytes, more than the layer limit 2.0 MiB \(--max-layer-size\)" "the error names the limit and its option"
oci "$T/d3" limits:d3 "file:f:x"
resize "$T/d3" '.config.size = 100000000000'
o=$(img load "$T/d3" 2>&1); isnt $? 0 "a config descriptor of 100 GB is refused"
like "$o" "more than the 8 MiB a config may have" "with the reason"
oci "$T/d4" limits:d4 "file:f:x"
resize "$T/d4" '.layers[0].size = -5'
o=$(img load "$T/d4" 2>&1); isnt $? 0 "a negative descriptor size is refused"
like "$o" "size is not a non-negative integer" "with the reason"
nothing_left "$S"; ok $? "nothing stored after the descriptor refusals"
is "$(layers_of "$S")" "" "no layer stored"

# ---- 4. a load is all or nothing ----
"$MKTAR" "$T/base.tar" "file:base:1"
"$MKTAR" "$T/good.tar" "file:good:1"
"$MKTAR" "$T/bad.tar" "file:../escape:1"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/pre" limits:pre amd64 '{}' "$T/base.tar" >/dev/null
img load "$T/pre" >/dev/null 2>&1; ok $? "an image with the shared base layer is loaded first"
before=$(layers_of "$S")
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/two" limits:first amd64 '{}' "$T/base.tar" "$T/good.tar" >/dev/null
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/two" limits:second amd64 '{}' "$T/base.tar" "$T/bad.tar" >/dev/null
tar -C "$T/two" -cf "$T/two.tar" .
for src in "$T/two" "$T/two.tar"; do
        o=$(img load "$src" 2>&1); isnt $? 0 "$(basename "$src"): an archive whose second image is bad is refused"
        img inspect limits:first >/dev/null 2>&1; isnt $? 0 "$(basename "$src"): the first image is not kept"
        is "$(layers_of "$S")" "$before" "$(basename "$src"): no new layer left, the base layer stays"
        is "$(ls "$S/tmp")" "" "$(basename "$src"): no work folder left"
done
img inspect limits:pre >/dev/null 2>&1; ok $? "the image loaded before is intact"
# Killed (kill -9) while unpacking the second image: the first image's layer is already under
# layers/ but in no record; the next load takes it out.
"$MKTAR" "$T/first.tar" "file:first:only-here"
mkdir -p "$T/bigsrc" && truncate -s 256M "$T/bigsrc/big"
tar -C "$T/bigsrc" -cf - . | gzip -1 > "$T/big256.tar.gz"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/kill" limits:k1 amd64 '{}' "$T/first.tar" >/dev/null
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/kill" limits:k2 amd64 '{}' "$T/big256.tar.gz" >/dev/null
first=$(sha256sum "$T/first.tar" | cut -d' ' -f1)
"$HUSK" image --store "$S" load "$T/kill" >/dev/null 2>&1 &
pid=$!   # husk itself (a shell function in the background would be a subshell)
for _ in $(seq 1000); do ls "$S"/tmp/load-*/L*/diff/big >/dev/null 2>&1 && break; sleep 0.01; done
ls "$S"/tmp/load-*/L*/diff/big >/dev/null 2>&1; ok $? "the load was caught unpacking the second image"
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
img inspect limits:k1 >/dev/null 2>&1; isnt $? 0 "the killed load recorded no image"
[ -d "$S/layers/$first" ]; ok $? "the first image's layer was stored before the kill"
img load "$T/pre" >/dev/null 2>&1; ok $? "the next load works"
[ ! -e "$S/layers/$first" ]; ok $? "and took out the layer the killed load stored but did not record"
is "$(layers_of "$S")" "$before" "only the layers that were there before remain"
is "$(ls "$S/tmp")" "" "no work folder left"
done_testing
