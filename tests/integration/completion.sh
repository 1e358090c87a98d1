#!/bin/sh
# The bash completion (completions/husk): sourced in bash, its function run through compgen-style
# calls (COMP_WORDS/COMP_CWORD) for commands, options, container, image and function names.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd bash
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -d "$A/busybox-oci" ] || skip_all "missing $A (images/oci.sh)"
HUSK_STORE="$T/store"
export HUSK_STORE
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$HUSK" "$HUSK_TEST_ROOT" > "$T/bin/husk"
chmod 0755 "$T/bin/husk"
hk image load "$A/busybox-oci.tar" >/dev/null || bail "load busybox"
hk run -d --network none --name compl-svc busybox sleep 300 >/dev/null || bail "run -d"
F=$HUSK_BUILDDIR/images/out/fn/fn-oci.tar
fn=no
if [ -f "$F" ] && [ -x "$(dirname "$HUSK")/husk-fn" ]; then
        hk fn create compl-fn --image "$F" --handler echo >/dev/null 2>&1 && fn=yes
fi

# comp WORD...: what completing the last word offers (sorted, one line).
comp() {
        PATH="$T/bin:$PATH" bash -c '
                . "$0"
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
                _husk
                printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$HUSK_SRCDIR/completions/husk" "$@"
}

like "$(comp husk ru)" "^run $" "a command: husk ru<Tab> -> run"
like "$(comp husk '')" "(^| )image .*inspect .*run .*start " "all commands"
like "$(comp husk lo)" "^logs $" "husk lo<Tab> -> logs"
like "$(comp husk --ro)" "^--root $" "a global option"
like "$(comp husk run --deta)" "^--detach $" "an option of run (from its --help)"
like "$(comp husk logs --ta)" "^--tail $" "an option of logs"
like "$(comp husk stop compl)" "^compl-svc $" "a container name"
like "$(comp husk --root "$HUSK_TEST_ROOT" logs comp)" "^compl-svc $" "a container name after --root"
like "$(comp husk run busy)" "busybox:latest" "an image name for run"
like "$(comp husk image rm busy)" "^busybox:latest $" "an image name for image rm"
like "$(comp husk image l)" "^load ls $" "image sub-commands"
like "$(comp husk run --network n)" "^none $" "--network values"
like "$(comp husk fn st)" "^stats $" "husk fn st<Tab> -> stats"
like "$(comp husk fn schedule '')" "^create inspect ls rm $" "husk fn schedule sub-commands"
like "$(comp husk queue st)" "^stats $" "husk queue st<Tab> -> stats"
like "$(comp husk api '')" "^create inspect ls rm route routes stage $" "husk api sub-commands"
like "$(comp husk api route '')" "^add rm $" "husk api route sub-commands"
like "$(comp husk api stage '')" "^add ls rm $" "husk api stage sub-commands"
if [ "$fn" = yes ]; then
        like "$(comp husk fn invoke compl)" "^compl-fn $" "a function name"
        hk fn rm compl-fn >/dev/null 2>&1
else
        skip "needs husk-fn and the fn image"
fi
hk rm -f compl-svc >/dev/null
done_testing
