#!/usr/bin/env bash
# Packaging (docs/SEMANTICS.md, Test-facing interfaces): `meson install` lays down the binary, the
# manual vrcfs(1), the example systemd user unit and bash completion; the manual renders with no
# warning, the unit passes systemd-analyze, and --help points to the manual. No mount.
. "$(dirname "$0")/lib.sh"

BUILD=$(dirname "$VRCFS")
[ -f "$BUILD/build.ninja" ] || die "VRCFS is not in a meson build directory: $VRCFS"
DEST=$T/dest
meson install -C "$BUILD" --destdir "$DEST" >"$T/install.out" 2>&1 || die "meson install failed: $(tail -5 "$T/install.out")"
PREFIX=$(meson introspect --buildoptions "$BUILD" | python3 -c "
import json, sys
print([o['value'] for o in json.load(sys.stdin) if o['name'] == 'prefix'][0])")
ROOTED=$DEST$PREFIX

check "the binary is installed" test -x "$ROOTED/bin/vrcfs"
MAN=$ROOTED/share/man/man1/vrcfs.1
check "the manual is installed" test -f "$MAN"
MANWIDTH=80 man --warnings -l "$MAN" >"$T/man.txt" 2>"$T/man.err"
check "it renders" test -s "$T/man.txt"
check_eq "with no warning" "" "$(cat "$T/man.err")"
for section in COMMANDS OPTIONS "THE TREE" WRITING DELETING ERRORS FILES EXAMPLES; do
    check "it has $section" grep -qx "$section" "$T/man.txt"
done
# Every -o option that vrcfs --help names is in the manual.
for opt in $("$VRCFS" --help | grep -oE '^ +[a-z_]+=' | tr -d ' ='); do
    check "the manual explains $opt" grep -q "$opt=" "$T/man.txt"
done
check "--help points to the manual" bash -c "'$VRCFS' --help | grep -q 'man vrcfs'"

UNIT=$ROOTED/lib/systemd/user/vrcfs@.service
check "the user unit is installed" test -f "$UNIT"
check "it is Type=notify" grep -qx "Type=notify" "$UNIT"
check "it starts the installed binary in the foreground" grep -q "^ExecStart=$PREFIX/bin/vrcfs -f " "$UNIT"
if command -v systemd-analyze >/dev/null; then
    # verify wants the binary and the manual it names to exist: the staged ones. (--user
    # needs a user manager; the system one checks the same things.)
    sed "s|$PREFIX/bin/vrcfs|$ROOTED/bin/vrcfs|" "$UNIT" >"$T/vrcfs@.service"
    check "systemd-analyze verify accepts it" \
        env MANPATH="$ROOTED/share/man" systemd-analyze verify "$T/vrcfs@test.service"
fi

COMP=$ROOTED/share/bash-completion/completions/vrcfs
check "bash completion is installed" test -f "$COMP"
complete_line() { # LINE WORDS CWORD: what the completion offers
    bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}; read -ra COMP_WORDS <<<"$3"; COMP_CWORD=$4
        _vrcfs; echo "${COMPREPLY[*]}"' _ "$COMP" "$1" "$2" "$3"
}
check_eq "it completes commands" "login logout" "$(complete_line "vrcfs lo" "vrcfs lo" 1)"
check_eq "and -o option names" "cache_size=" "$(complete_line "vrcfs -o cache_s" "vrcfs -o cache_s" 2)"
check_eq "after a comma too" "5,service=" "$(complete_line "vrcfs -o rate=5,ser" "vrcfs -o rate = 5,ser" 4)"

finish
