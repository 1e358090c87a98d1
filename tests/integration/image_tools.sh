#!/bin/sh
# Archives written by the real tools load and run: skopeo (docker-archive, oci, oci-archive, dir,
# zstd and uncompressed layers), umoci (unpack/repack, new/insert with a whiteout and an opaque
# dir, config) and podman (save as oci-archive, docker-archive, oci-dir and docker-dir of an image
# it loaded and of one it built). Each is loaded with `husk image load` and run with `husk run`,
# and the image config (Entrypoint, Cmd, Env, User, WorkingDir) must take effect inside.
# A missing tool skips its part only.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq sha256sum
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -f "$A/busybox-oci.tar" ] || skip_all "missing $A (images/oci.sh)"
S="$T/store"
img() { "$HUSK" image --store "$S" "$@"; }
r() { hk run --store "$S" "$@"; }
id_of() { sed -n 's/^Loaded image \(sha256:[0-9a-f]*\).*/\1/p' | head -1; }
bb_id=$(img load "$A/busybox-oci.tar" | id_of)
# loads SOURCE DESC: husk image load SOURCE, then husk run of it prints the busybox PATH.
loads_busybox() {
        _o=$(img load "$1" 2>&1); ok $? "$2: husk image load"
        _id=$(echo "$_o" | id_of)
        is "$_id" "$bb_id" "$2: the same image id as the original archive"
        _o=$(r "$1" sh -c 'echo $PATH; head -1 /etc/passwd' 2>&1)
        is "$(echo $_o)" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin root:x:0:0:root:/root:/bin/sh" "$2: husk run (Env from the image)"
}
sk() { skopeo copy -q "$@" >/dev/null 2>"$T/sk.err" || { diag "$(cat "$T/sk.err")"; return 1; }; }

# ---- skopeo ----
if command -v skopeo >/dev/null; then
        sk "oci-archive:$A/busybox-oci.tar" "docker-archive:$T/sk-docker.tar:busybox:skopeo"; ok $? "skopeo copy to docker-archive"
        loads_busybox "$T/sk-docker.tar" "skopeo docker-archive"
        is "$(img ls --format json | jq -r --arg i "$bb_id" '.[] | select(.id == $i) | .names[]' | grep skopeo)" "docker.io/library/busybox:skopeo" "skopeo docker-archive: its RepoTag is the name"
        is "$(img inspect busybox:skopeo | jq -r .id)" "$bb_id" "the short name busybox:skopeo finds docker.io/library/busybox:skopeo"
        sk "oci-archive:$A/busybox-oci.tar" "oci:$T/sk-oci:busybox:sk-oci"; ok $? "skopeo copy to oci: (layout folder)"
        loads_busybox "$T/sk-oci" "skopeo oci:"
        sk "oci-archive:$A/busybox-oci.tar" "oci-archive:$T/sk-oci.tar:busybox:sk-archive"; ok $? "skopeo copy to oci-archive"
        loads_busybox "$T/sk-oci.tar" "skopeo oci-archive"
        # docker-archive back to an OCI layout: the Docker media types become OCI ones.
        # (skopeo rewrites the config for OCI: another image id, the same content.)
        sk "docker-archive:$T/sk-docker.tar" "oci:$T/sk-oci2:back"; ok $? "skopeo copy docker-archive to oci:"
        out=$(img load "$T/sk-oci2" 2>&1); ok $? "skopeo docker-archive -> oci:: husk image load"
        out=$(r "$T/sk-oci2" sh -c 'echo $PATH; head -1 /etc/passwd' 2>&1)
        is "$(echo $out)" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin root:x:0:0:root:/root:/bin/sh" "skopeo docker-archive -> oci:: husk run"
        # Layers recompressed by skopeo: zstd, and no compression at all.
        sk --dest-compress-format zstd "oci-archive:$A/busybox-oci.tar" "oci:$T/sk-zstd:z"; ok $? "skopeo copy --dest-compress-format zstd"
        mt=$(jq -r '.layers[0].mediaType' "$T/sk-zstd/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/sk-zstd/index.json" | cut -d: -f2)")
        is "$mt" "application/vnd.oci.image.layer.v1.tar+zstd" "skopeo wrote a zstd layer"
        out=$(img load "$T/sk-zstd" 2>&1); ok $? "skopeo zstd layer: husk image load"
        out=$(r "$T/sk-zstd" head -1 /etc/passwd 2>&1); is "$out" "root:x:0:0:root:/root:/bin/sh" "skopeo zstd layer: husk run"
        sk --dest-decompress "oci-archive:$A/busybox-oci.tar" "oci:$T/sk-plain:p"; ok $? "skopeo copy --dest-decompress"
        out=$(r "$T/sk-plain" head -1 /etc/passwd 2>&1); is "$out" "root:x:0:0:root:/root:/bin/sh" "skopeo uncompressed layer: husk run"
        # dir: (containers/image's own folder: manifest.json is the image manifest, blobs by hex).
        sk "oci-archive:$A/busybox-oci.tar" "dir:$T/sk-dir"; ok $? "skopeo copy to dir:"
        loads_busybox "$T/sk-dir" "skopeo dir:"
else
        skip "skopeo is not installed"
fi

# ---- umoci ----
if command -v umoci >/dev/null && command -v skopeo >/dev/null; then
        U="$T/um"
        um() { umoci "$@" >/dev/null 2>"$T/um.err" || { diag "$(cat "$T/um.err")"; return 1; }; }
        sk "oci-archive:$A/busybox-oci.tar" "oci:$U:base"
        # unpack, change the rootfs (a new file, a deleted one), repack: umoci writes a whiteout.
        um unpack --image "$U:base" "$T/umb"; ok $? "umoci unpack"
        echo "added by umoci" > "$T/umb/rootfs/etc/umoci-added"
        rm "$T/umb/rootfs/etc/group"
        um repack --image "$U:repacked" "$T/umb"; ok $? "umoci repack"
        um config --image "$U:repacked" --tag cfg --config.entrypoint /bin/sh --config.entrypoint -c \
                --config.cmd 'echo $FOO $(id -u):$(id -g) $(pwd); cat /etc/umoci-added; ls /etc/group' \
                --config.env FOO=umoci-bar --config.user 65534:65534 --config.workingdir /etc
        ok $? "umoci config: Entrypoint, Cmd, Env, User, WorkingDir"
        # new + insert: an image from nothing, a second layer, a whiteout, an opaque replacement.
        # (umoci 0.4 insert writes layers that end right after the last file's data, without the
        # tar padding and end blocks: they must load, as they do in umoci and podman.)
        mkdir -p "$T/ins/opt" "$T/ins/var"; echo inserted > "$T/ins/opt/f"; echo only > "$T/ins/var/only"
        um new --image "$U:new" && um insert --image "$U:new" "$HUSK_IMAGE" / &&
                um insert --image "$U:new" "$T/ins/opt" /opt &&
                um insert --image "$U:new" --whiteout /etc/passwd &&
                um insert --image "$U:new" --opaque "$T/ins/var" /var &&
                um config --image "$U:new" --config.user nobody --config.cmd /bin/sh --config.cmd -c \
                        --config.cmd 'id -u; cat /opt/f; ls /etc/passwd; ls /var'
        ok $? "umoci new, insert (a tree, a file, --whiteout, --opaque), config"
        out=$(img load "$U" 2>&1); ok $? "umoci layout with 4 tags: husk image load"
        is "$(printf '%s\n' "$out" | grep -c '^Loaded image')" 4 "four images loaded"
        is "$(img ls --format json | jq -r '[.[].names[]] | map(select(. == "base" or . == "repacked" or . == "cfg" or . == "new")) | sort | join(" ")')" "base cfg new repacked" "named by their tags"
        out=$(r cfg 2>&1)
        is "$out" "umoci-bar 65534:65534 /etc
added by umoci
ls: /etc/group: No such file or directory" "umoci config took effect (Entrypoint, Cmd, Env, User, WorkingDir) and the repack whiteout hides /etc/group"
        out=$(r repacked cat /etc/umoci-added); is "$out" "added by umoci" "umoci repack: the new layer is there"
        # User "nobody" is resolved through the image's own /etc/passwd... which the top layer
        # deleted: the run must refuse it rather than guess.
        out=$(r new 2>&1); isnt $? 0 "umoci new: user nobody with /etc/passwd whited out is refused"
        like "$out" "nobody" "the error names the user"
        out=$(r -u 65534 new 2>&1)
        is "$out" "65534
inserted
ls: /etc/passwd: No such file or directory
only" "umoci insert: tree, file, whiteout and opaque dir as inserted"
        # The same layout as an archive.
        tar -C "$U" -cf "$T/um.tar" .
        out=$(img load "$T/um.tar" 2>&1); ok $? "umoci layout tarred (oci-archive): husk image load"
        is "$(printf '%s\n' "$out" | grep -c '^Loaded image')" 4 "four images loaded again from the archive"
else
        skip "umoci or skopeo is not installed"
fi

# ---- podman ----
if command -v podman >/dev/null; then
        P="$T/pod"
        pod() { podman --root "$P/root" --runroot "$P/run" --storage-driver vfs "$@"; }
        pod load -q -i "$A/busybox-oci.tar" >/dev/null 2>"$T/pod.err"; ok $? "podman load of the busybox oci-archive"
        # A multi-layer image built by podman (no RUN step: nothing runs), with its own config.
        mkdir -p "$T/ctx/app"; echo "hi from podman" > "$T/ctx/app/msg"
        cp "$A/busybox-rootfs.tar.gz" "$T/ctx/rootfs.tar.gz"
        cat > "$T/ctx/Containerfile" <<'EOF'
FROM scratch
ADD rootfs.tar.gz /
COPY app /srv/app
ENV FOO=podbar GREETING="hello world"
USER nobody
WORKDIR /srv/app
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo $FOO $(id -un):$(id -g) $(pwd); cat msg; echo $GREETING"]
EOF
        pod build -q --pull=never -t localhost/tools:latest "$T/ctx" >/dev/null 2>"$T/pod.err"
        ok $? "podman build (FROM scratch, ADD, COPY, ENV, USER, WORKDIR, ENTRYPOINT, CMD)" || diag "$(cat "$T/pod.err")"
        for f in oci-archive docker-archive oci-dir docker-dir; do
                case $f in *dir) o="$T/p-$f" ;; *) o="$T/p-$f.tar" ;; esac
                pod save -q --format $f -o "$o" localhost/busybox:latest 2>"$T/pod.err"; ok $? "podman save --format $f (loaded image)"
                out=$(img load "$o" 2>&1); ok $? "podman $f of the loaded image: husk image load"
                out=$(r "$o" head -1 /etc/passwd 2>&1); is "$out" "root:x:0:0:root:/root:/bin/sh" "podman $f of the loaded image: husk run"
                o2="$o.tools"
                pod save -q --format $f -o "$o2" localhost/tools:latest 2>"$T/pod.err"; ok $? "podman save --format $f (built image)"
                out=$(img load "$o2" 2>&1); ok $? "podman $f of the built image: husk image load"
                out=$(r "$o2" 2>&1)
                is "$out" "podbar nobody:65534 /srv/app
hi from podman
hello world" "podman $f: Entrypoint, Cmd, Env, User (by name), WorkingDir took effect"
        done
        out=$(r tools 2>&1); like "$out" "^podbar nobody" "the short name tools runs localhost/tools:latest"
        pod rmi -a -f >/dev/null 2>&1 # best effort: the test folder goes anyway
else
        skip "podman is not installed"
fi
done_testing
