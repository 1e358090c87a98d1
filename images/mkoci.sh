#!/bin/sh
# Adds one image to an OCI image layout folder, from layer files only (tar, tar.gz, tar.zst):
# no network, no docker or skopeo. Needs jq, sha256sum, gzip, zstd.
# usage: images/mkoci.sh OUT NAME ARCH CONFIG_JSON LAYER...
#   OUT          layout folder (created, or extended: index.json gets one more manifest)
#   NAME         ref name annotation (org.opencontainers.image.ref.name), "" for none
#   ARCH         amd64, arm64, ... (config and index platform)
#   CONFIG_JSON  the image's .config object, e.g. '{"Cmd":["/bin/sh"]}'
#   LAYER        layer files in order (lowest first); the media type follows the file suffix
# The blobs are content addressed, so an image made twice from the same files is the same.
# usage: images/mkoci.sh --nest OUT NAME   wraps every manifest of OUT/index.json into one image
#   index blob (a multi-platform image) that index.json then lists under NAME.
set -eu
# Reproducible: the same modes whatever the caller's umask.
umask 022
sha() { sha256sum "$1" | cut -d' ' -f1; }
put_blob() { # put_blob OUT FILE -> prints the hex digest
        _h=$(sha "$2")
        mkdir -p "$1/blobs/sha256"
        cp "$2" "$1/blobs/sha256/$_h"
        echo "$_h"
}
init_layout() {
        mkdir -p "$1/blobs/sha256"
        [ -f "$1/oci-layout" ] || echo '{"imageLayoutVersion":"1.0.0"}' > "$1/oci-layout"
        [ -f "$1/index.json" ] || echo '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}' > "$1/index.json"
}
add_to_index() { # add_to_index OUT DESCRIPTOR_JSON
        jq --argjson d "$2" '.manifests += [$d]' "$1/index.json" > "$1/index.json.new"
        mv "$1/index.json.new" "$1/index.json"
}

if [ "${1:-}" = --nest ]; then
        out=$2 name=$3
        tmp=$(mktemp)
        jq '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:.manifests}' "$out/index.json" > "$tmp"
        h=$(put_blob "$out" "$tmp")
        size=$(stat -c %s "$tmp")
        rm -f "$tmp"
        jq -n --arg h "sha256:$h" --argjson s "$size" --arg n "$name" \
                '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:[{mediaType:"application/vnd.oci.image.index.v1+json", digest:$h, size:$s} + (if $n == "" then {} else {annotations:{"org.opencontainers.image.ref.name":$n}} end)]}' > "$out/index.json"
        exit 0
fi

out=${1:?usage: mkoci.sh OUT NAME ARCH CONFIG_JSON LAYER...}
name=$2 arch=$3 config=$4
shift 4
init_layout "$out"
diffs='[]' layers='[]'
for l in "$@"; do
        case "$l" in
        *.tar.gz|*.tgz) mt=application/vnd.oci.image.layer.v1.tar+gzip; d=$(gzip -dc "$l" | sha256sum | cut -d' ' -f1) ;;
        *.tar.zst) mt=application/vnd.oci.image.layer.v1.tar+zstd; d=$(zstd -qdc "$l" | sha256sum | cut -d' ' -f1) ;;
        *.tar) mt=application/vnd.oci.image.layer.v1.tar; d=$(sha "$l") ;;
        *) echo "mkoci.sh: $l: unknown layer suffix" >&2; exit 1 ;;
        esac
        h=$(put_blob "$out" "$l")
        diffs=$(echo "$diffs" | jq --arg d "sha256:$d" '. + [$d]')
        layers=$(echo "$layers" | jq --arg h "sha256:$h" --arg mt "$mt" --argjson s "$(stat -c %s "$l")" '. + [{mediaType:$mt, digest:$h, size:$s}]')
done
tmp=$(mktemp)
jq -n --arg arch "$arch" --argjson c "$config" --argjson d "$diffs" \
        '{created:"1970-01-01T00:00:00Z", architecture:$arch, os:"linux", config:$c, rootfs:{type:"layers", diff_ids:$d}}' > "$tmp"
ch=$(put_blob "$out" "$tmp")
cs=$(stat -c %s "$tmp")
jq -n --arg ch "sha256:$ch" --argjson cs "$cs" --argjson l "$layers" \
        '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json", config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$ch, size:$cs}, layers:$l}' > "$tmp"
mh=$(put_blob "$out" "$tmp")
ms=$(stat -c %s "$tmp")
rm -f "$tmp"
add_to_index "$out" "$(jq -n --arg h "sha256:$mh" --argjson s "$ms" --arg arch "$arch" --arg n "$name" \
        '{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$h, size:$s, platform:{os:"linux", architecture:$arch}} + (if $n == "" then {} else {annotations:{"org.opencontainers.image.ref.name":$n}} end)')"
