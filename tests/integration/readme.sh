#!/bin/sh
# The README runs as written (issue 19). Every fenced block of README.md whose language is sh,
# console, bash or shell is either run here or marked, on the line right before it, with
#   <!-- readme-test: skip REASON -->
# A block with neither fails. <!-- readme-test: file NAME --> before a block (a config snippet)
# hands it to the engine checks at the end (podman, containerd, a RuntimeClass), which use it as
# written, with only /usr/local/bin/husk replaced by the husk under test. Blocks run in README order, in one private setting that stands for
# "a clone after sh tools/quickstart": the current folder holds build/ (this build folder, where
# quickstart leaves the images), `husk` on PATH is this build's husk with this test's --root, and
# HUSK_STORE is a private store.
#   ```sh       the block runs as one script (sh -e); it must exit 0.
#   ```console  a transcript: "$ COMMAND" lines (a line ending in \ goes on in the next), each
#               followed by the output it prints (stdout and stderr). The output must match: both
#               sides are normalised first (UUIDs, hex ids of 12+ digits, ages such as "2 seconds
#               ago", numbers, runs of blanks), and "..." in the README stands for any text (a line
#               holding only "..." for any number of lines). A command shown without output must
#               exit 0.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq curl awk timeout
README=$HUSK_SRCDIR/README.md
[ -d "$HUSK_BUILDDIR/images/out/archives/busybox-oci" ] || skip_all "missing the image archives (make images/out/archives/.built)"
[ -f "$HUSK_BUILDDIR/images/out/fn/fn-oci.tar" ] || skip_all "missing the fn image (make images/out/fn/.built)"

W=$T/clone
mkdir -p "$W" "$T/bin" "$T/blocks"
ln -s "$HUSK_BUILDDIR" "$W/build"
cat > "$T/bin/husk" <<EOF
#!/bin/sh
exec "$HUSK" --root "$HUSK_TEST_ROOT" "\$@"
EOF
chmod 0755 "$T/bin/husk"
HUSK_STORE=$T/store
export HUSK_STORE
PATH=$T/bin:$PATH
export PATH

# Split README.md: T/blocks/N.LANG (the block) and T/blocks/list (N LANG LINE MARKER).
awk -v dir="$T/blocks" '
        /^```/ && !inblock {
                lang = substr($0, 4); sub(/[ \t].*/, "", lang)
                inblock = 1; n++; start = NR
                mark = (prev ~ /^<!-- readme-test: /) ? prev : ""
                sub(/^<!-- readme-test: /, "", mark); sub(/ *-->$/, "", mark)
                file = dir "/" n "." (lang == "" ? "text" : lang)
                printf "%d\t%s\t%d\t%s\n", n, (lang == "" ? "text" : lang), start, mark > (dir "/list")
                printf "" > file
                next
        }
        /^```/ && inblock { inblock = 0; close(file); prev = $0; next }
        inblock { print > file; next }
        { if ($0 != "") prev = $0 }
' "$README"

# Normalise output for the comparison (see the header).
norm() {
        sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
                -e 's/[0-9a-f]{12,}/HEX/g' \
                -e 's/(Less than a second|About a minute|About an hour|[0-9]+ (seconds?|minutes?|hours?))/AGE/g' \
                -e 's/[0-9]+/N/g' -e 's/[[:space:]]+/ /g' -e 's/^ //; s/ $//' | grep -v '^$'
}

# match EXPECTED_FILE GOT_FILE: exit 0 when the normalised lines match ("..." wildcards).
match() {
        norm < "$1" > "$1.n"
        norm < "$2" > "$2.n"
        awk '
                function re(s,   out, i, c) {
                        out = ""
                        for (i = 1; i <= length(s); i++) {
                                if (substr(s, i, 3) == "...") { out = out ".*"; i += 2; continue }
                                c = substr(s, i, 1)
                                if (index("\\^$.[]|()*+?{}/", c)) out = out "\\" c; else out = out c
                        }
                        return "^" out "$"
                }
                NR == FNR { want[++ne] = $0; next }
                { got[++ng] = $0 }
                END {
                        i = 1; j = 1
                        while (i <= ne) {
                                if (want[i] == "...") {
                                        if (i == ne) exit 0
                                        while (j <= ng && got[j] !~ re(want[i + 1])) j++
                                        if (j > ng) exit 1
                                        i++; continue
                                }
                                if (j > ng || got[j] !~ re(want[i])) exit 1
                                i++; j++
                        }
                        exit (j <= ng)
                }' "$1.n" "$2.n"
}

# run_console BLOCK_FILE LINE: one script with a marker before each command, then per command the
# output is compared with the README's.
run_console() {
        _b=$1
        _d=$_b.d
        mkdir -p "$_d"
        awk -v d="$_d" '
                BEGIN { n = 0; cont = 0 }
                cont { print > (d "/cmd" n); cont = /\\$/; next }
                /^\$ / { n++; print substr($0, 3) > (d "/cmd" n); printf "" > (d "/exp" n); cont = /\\$/; next }
                n > 0 { print > (d "/exp" n) }
                END { print n > (d "/count") }
        ' "$_b"
        _n=$(cat "$_d/count")
        {
                echo 'exec 2>&1'
                _k=1
                while [ "$_k" -le "$_n" ]; do
                        printf "printf '\\\\n@@readme-cmd %d\\\\n'\n" "$_k"
                        cat "$_d/cmd$_k"
                        printf "printf '\\\\n@@readme-rc %%d\\\\n' \$?\n"
                        _k=$((_k + 1))
                done
        } > "$_d/script"
        (cd "$W" && timeout 300 sh "$_d/script") > "$_d/out" 2>&1 </dev/null
        _k=1
        while [ "$_k" -le "$_n" ]; do
                awk -v k="$_k" '$0 == "@@readme-cmd " k { on = 1; next } /^@@readme-/ { on = 0 } on' \
                        "$_d/out" > "$_d/got$_k"
                _rc=$(awk -v k="$_k" '$0 == "@@readme-cmd " k { on = 1; next } on && /^@@readme-rc / { print $2; exit }' "$_d/out")
                _what="README line $2, \$ $(head -n 1 "$_d/cmd$_k" | tr -d "\\\\" | cut -c1-100)"
                if [ ! -s "$_d/exp$_k" ] || ! grep -q . "$_d/exp$_k"; then
                        if [ "${_rc:-x}" = 0 ] && ! grep -q . "$_d/got$_k"; then
                                pass "$_what"
                        else
                                fail "$_what (exit ${_rc:-none}; the README shows no output)" "$(cat "$_d/got$_k")"
                        fi
                elif match "$_d/exp$_k" "$_d/got$_k"; then
                        pass "$_what"
                else
                        fail "$_what: output differs" "$(printf 'README:\n%s\ngot (exit %s):\n%s' "$(cat "$_d/exp$_k")" "${_rc:-none}" "$(cat "$_d/got$_k")")"
                fi
                _k=$((_k + 1))
        done
}

# Leave nothing of the README's services, networks and functions behind.
cleanup_readme() {
        for s in $(husk ps -a -q 2>/dev/null); do husk rm -f "$s" >/dev/null 2>&1; done
        for f in $(husk fn ls 2>/dev/null | awk 'NR > 1 { print $1 }'); do husk fn rm "$f" >/dev/null 2>&1; done
        for nw in $(husk network ls 2>/dev/null | awk 'NR > 1 && $1 != "husk" { print $1 }'); do
                husk network rm -f "$nw" >/dev/null 2>&1
        done
}

nblocks=0
mkdir -p "$T/files"
while IFS='	' read -r n lang line mark; do
        case "$mark" in
        file\ *) cp "$T/blocks/$n.$lang" "$T/files/${mark#file }" ;;
        esac
        case "$lang" in
        sh | console | bash | shell) ;;
        *) continue ;;
        esac
        nblocks=$((nblocks + 1))
        case "$mark" in
        skip\ *)
                skip "README line $line ($lang block): ${mark#skip }"
                continue
                ;;
        esac
        case "$lang" in
        sh)
                out=$(cd "$W" && timeout 300 sh -e "$T/blocks/$n.sh" 2>&1 </dev/null)
                rc=$?
                ok "$rc" "README line $line: the sh block runs as written"
                [ "$rc" = 0 ] || diag "$out"
                ;;
        console) run_console "$T/blocks/$n.console" "$line" ;;
        *) fail "README line $line: a $lang block is neither run (sh, console) nor marked <!-- readme-test: skip REASON -->" ;;
        esac
done < "$T/blocks/list"
[ "$nblocks" -gt 3 ]; ok $? "README has shell blocks ($nblocks found)"
cleanup_readme

# ---- Beyond one machine: the engines' snippets, as written ----
for f in containers.conf containerd.toml runtimeclass.yaml; do
        [ -s "$T/files/$f" ]; ok $? "README has the $f snippet (<!-- readme-test: file $f -->)"
done
U="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096" # this host lacks CAP_SYS_RESOURCE
if command -v podman >/dev/null 2>&1 && command -v conmon >/dev/null 2>&1 && [ -s "$T/files/containers.conf" ]; then
        E=$T/podman
        mkdir -p "$E"
        sed "s|/usr/local/bin/husk|$HUSK|" "$T/files/containers.conf" > "$E/containers.conf"
        P="podman --root $E/storage --runroot $E/run --tmpdir $E/tmp --cgroup-manager cgroupfs --events-backend file --log-level error"
        CONTAINERS_CONF=$E/containers.conf $P load -q -i "$HUSK_BUILDDIR/images/out/archives/busybox-docker.tar" >/dev/null 2>&1
        out=$(CONTAINERS_CONF=$E/containers.conf timeout 60 $P --runtime husk run --rm --pull never --net none $U \
                localhost/busybox:docker echo hello 2>&1)
        is "$?:$out" "0:hello" "podman --runtime husk through the README's containers.conf"
        id=$(CONTAINERS_CONF=$E/containers.conf timeout 60 $P --runtime husk run -d --pull never --net none $U \
                localhost/busybox:docker sleep 60 2>&1)
        "$HUSK" list -q | grep -qx "$id"; ok $? "the podman container is husk's (husk list in /run/husk shows it)"
        CONTAINERS_CONF=$E/containers.conf timeout 60 $P rm -f -t 0 "$id" >/dev/null 2>&1
        CONTAINERS_CONF=$E/containers.conf $P rmi -af >/dev/null 2>&1
else
        skip "needs podman and conmon"; skip "podman"
fi
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 && [ -s "$T/files/containerd.toml" ]; then
        E=$T/ctrd
        mkdir -p "$E"
        # containerd's default config with private paths, and the README's handler appended.
        containerd config default | sed -e "s|^root = .*|root = \"$E/root\"|" -e "s|^state = .*|state = \"$E/state\"|" \
                -e "s|^  address = \"/run/containerd/containerd.sock\"|  address = \"$E/ctrd.sock\"|" > "$E/config.toml"
        { echo; sed "s|/usr/local/bin/husk|$HUSK|" "$T/files/containerd.toml"; } >> "$E/config.toml"
        setsid containerd --config "$E/config.toml" > "$E/containerd.log" 2>&1 &
        CPID=$!
        A="ctr -a $E/ctrd.sock"
        n=0
        until $A version >/dev/null 2>&1 || [ $n -gt 100 ]; do sleep 0.1; n=$((n + 1)); done
        is "$($A plugins ls 2>/dev/null | awk '$2 == "cri" { print $4 }')" ok "containerd loads the README's CRI handler (cri plugin ok)"
        unlike "$(cat "$E/containerd.log")" "failed to load plugin io.containerd.grpc.v1.cri" "no CRI config error in containerd's log"
        like "$(containerd --config "$E/config.toml" config dump 2>/dev/null)" "BinaryName = \"$HUSK\"" "the handler's BinaryName is in containerd's config"
        $A images import "$HUSK_BUILDDIR/images/out/archives/busybox-oci.tar" >/dev/null 2>&1
        IMG=$($A images ls -q | head -n 1)
        out=$(timeout 60 $A run --rm --runtime io.containerd.runc.v2 --runc-binary "$HUSK" --runc-root "$E/husk" \
                --fifo-dir "$E/fifo" "$IMG" readme-ctr echo hello 2>&1)
        is "$?:$out" "0:hello" "ctr run --runtime io.containerd.runc.v2 --runc-binary husk"
        kill "$CPID" 2>/dev/null
        n=0
        while kill -0 "$CPID" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        kill -9 "$CPID" 2>/dev/null
else
        skip "needs containerd and ctr"; skip "containerd"; skip "containerd"; skip "containerd"
fi
key=$(sed -n 's/.*containerd\.runtimes\.\([a-z0-9-]*\)\]$/\1/p' "$T/files/containerd.toml" | head -n 1)
handler=$(sed -n 's/^handler: *//p' "$T/files/runtimeclass.yaml")
is "$handler" "$key" "the RuntimeClass handler names the containerd runtime (runtimes.$key)"
done_testing
