#!/bin/sh
# Hostile layer tarballs: each is refused with an error naming the archive, the entry and the
# reason, or contained in the layer; nothing lands outside the store and a refused load leaves
# nothing behind.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum
S="$T/store"
MKTAR="$HUSK_HELPERS/husk-mktar"
if "$HUSK" image --help >/dev/null 2>&1; then IMG="$HUSK image"; else IMG="$HUSK_HELPERS/husk-image"; fi
img() { $IMG --store "$S" "$@"; }
OUT="$T/outside"     # a host folder the hostile entries aim at
mkdir -p "$OUT"
echo original > "$OUT/victim"
host_sum() { (cd "$OUT" && find . -printf '%p %y %m %s\n' | sort; cat victim) | sha256sum; }
before=$(host_sum)
n=0
# mkimg SPEC... -> an OCI folder with one layer made of the given entries; prints its path.
# Callers bump n first (mkimg runs in a command substitution, a subshell).
mkimg() {
        "$MKTAR" "$T/l$n.tar" "$@" || return 1
        sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/img$n" "hostile:$n" amd64 '{}' "$T/l$n.tar" >/dev/null
        echo "$T/img$n"
}
store_empty() { [ -z "$(ls "$S/layers" "$S/images" "$S/tmp" 2>/dev/null | grep -v ':$' | grep .)" ]; }
# refused DESCRIPTION REGEX SPEC...
refused() {
        _d=$1 _re=$2; shift 2
        n=$((n + 1)); _i=$(mkimg "$@")
        _o=$(img load "$_i" 2>&1); _rc=$?
        isnt "$_rc" 0 "$_d: refused"
        like "$_o" "$_i: layer blobs/sha256/[0-9a-f]{64}: entry '[^']*': .*$_re" "$_d: error names archive, entry and reason"
        store_empty; ok $? "$_d: nothing left in the store"
        is "$(host_sum)" "$before" "$_d: host folder unchanged"
}

refused "'..' entry" "path contains '\.\.'" "file:../../../../../../..$OUT/victim:pwned"
refused "'..' in the middle" "path contains '\.\.'" "dir:a" "file:a/../../x:pwned"
refused "absolute path" "absolute path" "file:$OUT/victim:pwned"
refused "symlinked parent (absolute target)" "symlink or not a directory" "symlink:evil:$OUT" "file:evil/victim:pwned"
refused "symlinked parent (relative escape)" "symlink or not a directory" "symlink:up:../../../../../../../.." "file:up${OUT}/new:pwned"
refused "symlinked parent (inside target)" "symlink or not a directory" "dir:real" "symlink:ln:real" "file:ln/f:x"
refused "hardlink to an absolute path" "absolute path" "hardlink:hl:$OUT/victim"
refused "hardlink out with '..'" "'\.\.'" "hardlink:hl:../../../../../../..$OUT/victim"
refused "hardlink through a symlinked dir" "symlink or not a directory" "symlink:evil:$OUT" "hardlink:hl:evil/victim"
refused "hardlink to a missing target" "not in the layer" "hardlink:hl:nothere"
n=$((n + 1)); i=$(mkimg "big:huge:2000000")
o=$(img load --max-entry-size 1000000 "$i" 2>&1); isnt $? 0 "--max-entry-size: a larger entry is refused"
like "$o" "entry 'huge': size 2000000 exceeds the entry limit 1000000" "the error gives size and limit"
store_empty; ok $? "nothing left after the size refusal"

# Contained: devices skipped, setuid kept, symlinks stored as text.
n=$((n + 1)); i=$(mkimg "dir:dev" "chr:dev/sda:8:0" "blk:dev/loop0:7:0" "chr:dev/zero00:0:0" "fifo:run.fifo" \
        "suid:bin/tool:#!/bin/sh" "symlink:etc-link:/etc" "file:etc-link2:x" "symlink:escape:../../../../$OUT/victim")
o=$(img load "$i" 2>&1); ok $? "a layer with devices, setuid, and escaping symlinks loads"
like "$o" "3 device nodes in the layers were not created" "device nodes are skipped with a warning"
d=$(img inspect hostile:$n | jq -r '.layer_dirs[0]')
is "$(find "$d" -type b -o -type c | wc -l)" 0 "no device node was created (not even a raw char 0:0)"
is "$(stat -c %a "$d/bin/tool")" 4755 "the setuid bit is kept"
is "$(stat -c %F "$d/run.fifo")" "fifo" "fifo created"
is "$(readlink "$d/escape")" "../../../../$OUT/victim" "a symlink is stored as text, not followed"
is "$(host_sum)" "$before" "host folder unchanged"
# An entry replacing an earlier symlink replaces the link, never writes through it.
n=$((n + 1)); i=$(mkimg "symlink:x:$OUT/victim" "file:x:pwned")
o=$(img load "$i" 2>&1); ok $? "a file entry after a symlink of the same name loads"
d=$(img inspect hostile:$n | jq -r '.layer_dirs[0]')
is "$(stat -c %F "$d/x"):$(cat "$d/x")" "regular file:pwned" "it replaced the symlink in the layer"
is "$(host_sum)" "$before" "the symlink target on the host is unchanged"
# trusted.overlay xattrs and whiteouts cannot be smuggled as file names outside their folder.
n=$((n + 1)); i=$(mkimg "file:.wh..:x")
o=$(img load "$i" 2>&1); isnt $? 0 "a whiteout of '..' is refused"
like "$o" "whiteout without a valid target name" "with the reason"
# Not a tar at all / truncated.
head -c 3000 "$T/l1.tar" > "$T/trunc.tar"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/trunc" trunc amd64 '{}' "$T/trunc.tar" >/dev/null
o=$(img load "$T/trunc" 2>&1); isnt $? 0 "a truncated layer is refused"
store_empty_but_hostile() { [ -z "$(ls "$S/tmp")" ] && ! img inspect trunc >/dev/null 2>&1; }
store_empty_but_hostile; ok $? "and leaves no image or work folder"
# Cut inside the last entry's data (the config's diff_id matches the cut stream): refused. Cut
# right after the data, before the padding and end blocks (what umoci 0.4 insert writes): the
# entry is complete and the layer loads.
"$MKTAR" "$T/z.tar" "dir:d" "big:d/z:700" || bail "husk-mktar"
head -c $((512 + 512 + 600)) "$T/z.tar" > "$T/zcut.tar"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/zcut" zcut:1 amd64 '{}' "$T/zcut.tar" >/dev/null
o=$(img load "$T/zcut" 2>&1); isnt $? 0 "a layer cut inside its last file's data is refused"
like "$o" "entry 'd/z': read: " "the error names the entry"
! img inspect zcut:1 >/dev/null 2>&1 && [ -z "$(ls "$S/tmp")" ]; ok $? "and leaves no image or work folder"
head -c $((512 + 512 + 700)) "$T/z.tar" > "$T/zend.tar"
sh "$HUSK_SRCDIR/images/mkoci.sh" "$T/zend" zend:1 amd64 '{}' "$T/zend.tar" >/dev/null
o=$(img load "$T/zend" 2>&1); ok $? "a layer that ends right after its last file's data loads"
is "$(stat -c %s "$(img inspect zend:1 | jq -r '.layer_dirs[0]')/d/z")" 700 "with the whole file"
done_testing
