#!/usr/bin/env bash
# Saving like an editor (docs/SEMANTICS.md, Writing): any name created in /files/<fileId>/ other
# than the File's own is scratch of this mount (written, read, renamed, removed, never uploaded,
# gone at unmount); renaming it onto the File's name uploads exactly one new version. gimp, Qt, vim
# and sed -i each save through such a name.
. "$(dirname "$0")/lib.sh"

emu_mounted --files 2 --versions 1 --size 3000

newest() { state && py "print(max([v['version'] for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['status']=='complete' and not v['deleted']] or [0]))"; }
file_count() { state && py "print(len(s['files']))"; }
FID=$(ls "$MNT/files" | grep '^file_' | head -1)
ALIAS=$(ls "$MNT/files/$FID" | grep -v -e '^file.json$' -e '^latest$' -e '^[0-9]*$')
D="$MNT/files/$FID"
[ -n "$ALIAS" ] || die "no alias in $D"
FILES=$(file_count)

# One save: the commands in "$@" run in $D; afterwards the File has exactly one new version,
# holding the bytes of $T/want, and no other File or name appeared on the server.
saves_once() {
    local desc=$1
    shift
    local before
    before=$(newest "$FID")
    log_mark
    check "$desc: the save succeeds" sh -c "cd '$D' && $*"
    check_eq "$desc: one new version" 1 "$(count_requests api POST "^/api/1/file/$FID\$")"
    check_eq "$desc: which is the newest" $((before + 1)) "$(newest "$FID")"
    check "$desc: with the saved bytes" cmp "$T/want" "$(blob_path "$FID" $((before + 1)))"
    check_eq "$desc: no new File" "$FILES" "$(file_count)"
    check_eq "$desc: only the File's own name, its views and older scratch are left" \
        "$(printf '%s\n' file.json "$ALIAS" latest left-at-unmount.txt | LC_ALL=C sort | paste -sd'|')" \
        "$(ls -A "$D" | grep -v '^[0-9]*$' | LC_ALL=C sort | paste -sd'|')"
}

# --- scratch is local ---------------------------------------------------------------------------
log_mark
check "a scratch name can be written" sh -c "echo notes > '$D/notes.txt'"
check_eq "and read" notes "$(cat "$D/notes.txt")"
check "and listed" sh -c "ls '$D' | grep -qx notes.txt"
check "and renamed" mv "$D/notes.txt" "$D/notes2.txt"
check_eq "and read under its new name" notes "$(cat "$D/notes2.txt")"
check "and removed" rm "$D/notes2.txt"
check "it is gone" test ! -e "$D/notes2.txt"
check_eq "nothing went to the server" 0 "$(count_requests api '*' "^/api/1/file")"
check "a scratch name can be made with O_EXCL (mkstemp)" sh -c "rm \$(mktemp '$D/tmp.XXXXXX')"
echo left >"$D/left-at-unmount.txt"

# --- editors' saves -----------------------------------------------------------------------------
head -c 5000 /dev/urandom >"$T/want"
saves_once "gimp" "cp '$T/want' '.$ALIAS.tmp-8841' && mv '.$ALIAS.tmp-8841' '$ALIAS'"
head -c 4000 /dev/urandom >"$T/want"
saves_once "Qt" "cp '$T/want' '$ALIAS.Ab12Cd' && mv '$ALIAS.Ab12Cd' '$ALIAS'"
head -c 3000 /dev/urandom >"$T/want"
saves_once "tmp.png" "cp '$T/want' tmp.png && mv tmp.png '$ALIAS'"
head -c 2000 /dev/urandom >"$T/want"
# vim: probes with "4913" (create, write, unlink), then writes a temp and renames it.
saves_once "vim" "echo > 4913 && rm 4913 && cp '$T/want' '$ALIAS.vimtmp' && mv '$ALIAS.vimtmp' '$ALIAS'"
printf 'hello old world\n' >"$T/old"
cp "$T/old" "$D/$ALIAS" || die "cannot write the text version"
printf 'hello new world\n' >"$T/want"
saves_once "sed -i" "sed -i 's/old/new/' '$ALIAS'"
check "renaming the File's own name is refused" sh -c "! mv '$D/$ALIAS' '$D/$ALIAS~' 2>/dev/null"
check "with a log line" grep -q "/files/$FID/$ALIAS: EPERM: a File's name cannot be changed" "$T/vrcfs.log"

# --- a created File is its link when close() returns; by-tag/<tag>/ gives it the tag ------------
head -c 1500 /dev/urandom >"$T/new.png"
check "cp to /files, then [ -L ] at once" sh -c "cp '$T/new.png' '$MNT/files/new.png' && [ -L '$MNT/files/new.png' ]"
check "and cat at once gives its bytes" sh -c "cp '$T/new.png' '$MNT/files/new2.png' && cmp '$T/new.png' '$MNT/files/new2.png'"
log_mark
check "cp to by-tag/sticker/, then [ -L ] at once" \
    sh -c "cp '$T/new.png' '$MNT/files/by-tag/sticker/st.png' && [ -L '$MNT/files/by-tag/sticker/st.png' ]"
SID=$(readlink "$MNT/files/by-tag/sticker/st.png" | cut -d/ -f3)
check_eq "the link leads to the new File" "../../$SID/st.png" "$(readlink "$MNT/files/by-tag/sticker/st.png")"
check "which reads back the bytes" cmp "$T/new.png" "$MNT/files/by-tag/sticker/st.png"
check_eq "the File carries the tag" "['sticker']" "$(state && py "print([f['tags'] for f in s['files'] if f['id']=='$SID'][0])")"
check_eq "one POST /file made it" 1 "$(count_requests api POST '^/api/1/file$')"
check "by-tag/sticker lists the File" sh -c "ls '$MNT/files/by-tag/sticker' | grep -qx '$SID'"
check "and the name it was made under" sh -c "ls '$MNT/files/by-tag/sticker' | grep -qx st.png"

# --- scratch is gone at unmount and never uploaded ----------------------------------------------
check "the scratch file is there before the unmount" test -f "$D/left-at-unmount.txt"
log_mark
vrcfs_unmount || say "vrcfs exited with an error at unmount"
vrcfs_mount
check "scratch is gone after a remount" test ! -e "$D/left-at-unmount.txt"
check_eq "and was never uploaded" 0 "$(count_requests api POST "^/api/1/file")"
finish
