#!/usr/bin/env bash
# Deleting through the mount as on any filesystem (docs/SEMANTICS.md "Deleting"):
# rmdir of a File's or version's directory is ENOTEMPTY; rm -r, find -delete and rsync --delete
# delete what they report and nothing else; older versions are refused with EBUSY; an rm -r
# killed half-way leaves the server as it reported.
. "$(dirname "$0")/lib.sh"

emu_mounted --files 6 --versions 3 --size 3000

files_on_server() { state && py "print(' '.join(sorted(f['id'] for f in s['files'])))"; }
versions_of() { state && py "print(' '.join(str(v['version']) for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['version'] > 0 and not v['deleted']))"; }
has_file() { state && py "import sys; sys.exit(0 if any(f['id']=='$1' for f in s['files']) else 1)"; }
untagged() { ls "$MNT/files" | grep '^file_' | sort; }
mapfile -t IDS < <(untagged)
[ "${#IDS[@]}" -ge 4 ] || die "want at least 4 untagged Files, have ${#IDS[@]}"

# --- rmdir never deletes ----------------------------------------------------------------------
before=$(files_on_server)
log_mark
check "rmdir files/* fails" sh -c "! rmdir '$MNT'/files/* 2>'$T/rmdir.err'"
check "with ENOTEMPTY for every File" grep -q "Directory not empty" "$T/rmdir.err"
check_eq "and deletes nothing" "$before" "$(files_on_server)"
check_eq "without a DELETE" 0 "$(count_requests api DELETE .)"
check_errno "rmdir of a version is ENOTEMPTY" "Directory not empty" rmdir "$MNT/files/${IDS[0]}/1"
check_eq "and deletes no version" "1 2 3" "$(versions_of "${IDS[0]}")"
check "the refusal is in the log" grep -q "/files/${IDS[0]}/1: ENOTEMPTY" "$T/vrcfs.log"

# --- a File's directory lists file.json first, then the alias, latest, versions newest first ---
check_eq "listing order" "file.json latest 3 2 1" \
    "$(python3 -c "import os,sys; print(' '.join(e.name for e in os.scandir(sys.argv[1]) if e.name != next(n for n in os.listdir(sys.argv[1]) if n.endswith(('.png','.jpg')))))" "$MNT/files/${IDS[0]}")"

# --- views are refused with a log line, the File stays ----------------------------------------
F=${IDS[0]}
check_errno "rm of latest is refused" "Operation not permitted" rm "$MNT/files/$F/latest"
check "saying what to remove instead" grep -q "/files/$F/latest: EPERM: .*file.json" "$T/vrcfs.log"
check_eq "the File keeps its versions" "1 2 3" "$(versions_of "$F")"

# --- rm -r of an older version: EBUSY, one log line, nothing deleted ---------------------------
log_mark
check_errno "rm -r of an older version is EBUSY" "Device or resource busy" rm -r "$MNT/files/$F/1"
check_eq "it keeps every version" "1 2 3" "$(versions_of "$F")"
check_eq "without a DELETE" 0 "$(count_requests api DELETE .)"
check "the log says only the newest can be deleted" grep -q "/files/$F/1/file: EBUSY: VRChat deletes only the newest version" "$T/vrcfs.log"
check "version 1 is still there" test -f "$MNT/files/$F/1/file"

# --- rm -r of the newest version -----------------------------------------------------------------
log_mark
check "rm -r of the newest version succeeds" rm -r "$MNT/files/$F/3"
check_eq "the server has the others" "1 2" "$(versions_of "$F")"
check_eq "with one DELETE" 1 "$(count_requests api DELETE "^/api/1/file/$F/3\$")"
check "the version's directory is gone" test ! -e "$MNT/files/$F/3"
check_eq "latest follows" 2 "$(readlink "$MNT/files/$F/latest")"
check "rm -r of what is now the newest succeeds too" rm -r "$MNT/files/$F/2"
check_eq "the server has version 1" "1" "$(versions_of "$F")"

# --- rm -r of a File ----------------------------------------------------------------------------
F=${IDS[1]}
log_mark
check "rm -r of a File succeeds" rm -r "$MNT/files/$F"
check "the File is gone from the server" sh -c "! has_file '$F'"
check_eq "with one DELETE of the File and none of a version" "1 0" \
    "$(count_requests api DELETE "^/api/1/file/$F\$") $(count_requests api DELETE "^/api/1/file/$F/")"
check "and from the mount" test ! -e "$MNT/files/$F"
check "and from the listing" sh -c "! ls '$MNT/files' | grep -qx '$F'"

# --- find -delete -------------------------------------------------------------------------------
F=${IDS[2]}
check "find FILE -delete succeeds" find "$MNT/files/$F" -delete
check "the File is gone from the server" sh -c "! has_file '$F'"
check "and from the mount" test ! -e "$MNT/files/$F"

# --- after a remount, what was deleted through the mount stays deleted --------------------------
# The Files this mount holds are kept for the next one (docs/SEMANTICS.md, Consistency): the one
# whose newest versions went is kept as it is now, the deleted ones not at all.
vrcfs_unmount
vrcfs_mount
log_mark
check_eq "after a remount, the File whose newest versions were deleted has version 1" "1" \
    "$(cd "$MNT/files/${IDS[0]}" && ls -d [0-9]*)"
check_eq "from the File kept at unmount: no GET /file" 0 \
    "$(count_requests api GET "^/api/1/file/${IDS[0]}\$")"
check "a File rm -r deleted is still gone" test ! -e "$MNT/files/${IDS[1]}"
check "and so is the one find -delete removed" test ! -e "$MNT/files/${IDS[2]}"

# --- rm -r killed half-way: the server holds what rm reported -----------------------------------
# The first DELETE goes through; the others fail slowly (latency, then 503s retried), so rm is
# killed while it waits for one: whatever it did not report must still be on the server.
mapfile -t IDS < <(untagged)
declare -A HAD
for f in "${IDS[@]}"; do HAD[$f]=$(versions_of "$f"); done
emu_ctl POST /config '{"latency_ms": 200}' >/dev/null
emu_fault "api:503:method=DELETE,after=1"
stdbuf -oL rm -rv "${IDS[@]/#/$MNT/files/}" >"$T/rm.out" 2>&1 &
RM=$!
for _ in $(seq 300); do grep -q "file.json" "$T/rm.out" && break; sleep 0.05; done
kill -9 "$RM"
wait "$RM" 2>/dev/null
emu_faults_clear
emu_ctl POST /config '{"latency_ms": 0}' >/dev/null
reported=$(grep -o "file_[0-9a-f-]*/file.json" "$T/rm.out" | cut -d/ -f1 | sort | tr '\n' ' ')
gone=$(for f in "${IDS[@]}"; do has_file "$f" || echo "$f"; done | sort | tr '\n' ' ')
check "rm was killed after deleting something" test -n "$reported"
check_eq "the server lost exactly the Files rm reported" "$reported" "$gone"
for f in "${IDS[@]}"; do
    case "$reported" in *"$f"*) continue ;; esac
    check_eq "$f keeps its versions" "${HAD[$f]}" "$(versions_of "$f")"
done

# --- rsync --delete ------------------------------------------------------------------------------
# rsync removes a directory's names in reverse order, subdirectories first: each version (newest
# first, its signature before its file), then file.json, which deletes the File.
mapfile -t IDS < <(untagged)
if command -v rsync >/dev/null; then
    F=${IDS[0]}
    mkdir -p "$T/empty"
    check "rsync --delete empties a File's directory" rsync -r --delete "$T/empty/" "$MNT/files/$F/"
    check "which deleted the File" sh -c "! has_file '$F'"
else
    say "rsync is not installed: rsync --delete not tested"
fi
finish
