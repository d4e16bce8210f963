#!/usr/bin/env bash
# Reading that can be trusted (CONTRACT.md 3 and 5) against a real mount: transient answers on
# the download redirect are retried, a version deleted elsewhere is ENOENT.
. "$(dirname "$0")/lib.sh"

emu_start --files 8 --versions 2 --size 300000
vrcfs_login >/dev/null || die "login failed"
emu_ctl GET /state >"$T/state.json"
py() { python3 -c "import json; s=json.load(open('$T/state.json')); $1"; }
ids=($(py "print(' '.join(f['id'] for f in s['files'] if not f['tags']))"))
newest() { py "print([v['version'] for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['version'] > 0 and not v['deleted']][-1])"; }
vrcfs_mount
ls -l "$MNT/files" >/dev/null

# --- the download redirect: 429 and 503 are retried like any other request ------------------
A=${ids[0]}
AV=$(newest "$A")
stat "$MNT/files/$A/$AV/file" >/dev/null
emu_fault "api:429:count=1,match=^/api/1/file/[^/]+/[0-9]+/file\$,retry_after=1"
emu_fault "api:503:count=1,match=^/api/1/file/[^/]+/[0-9]+/file\$"
log_mark
check "a read through a 429 and a 503 on the redirect is byte-identical" \
    cmp "$MNT/files/$A/$AV/file" "$(blob_path "$A" "$AV")"
check_eq "the redirect was asked three times" 3 "$(count_requests api GET "^/api/1/file/$A/$AV/file\$")"
emu_faults_clear

# --- a version deleted elsewhere is ENOENT ---------------------------------------------------
B=${ids[1]}
BV=$(newest "$B")
stat "$MNT/files/$B/$BV/file" >/dev/null # the File is now cached with that version
api_as_user DELETE "/file/$B/$BV" >/dev/null
check_errno "a version deleted on the server reads as ENOENT" "No such file" \
    cat "$MNT/files/$B/$BV/file"
check "and the log says why" grep -q "/files/$B/$BV/file: the version is gone from the server" "$T/vrcfs.log"

vrcfs_unmount
finish
