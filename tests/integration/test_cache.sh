#!/usr/bin/env bash
# Reading that can be trusted (docs/SEMANTICS.md, Reading and Errors) against a real mount:
# transient answers on the download redirect are retried, a version deleted elsewhere is ENOENT,
# corrupted data is EIO however it is read (dd, cat, mmap, two readers at once) and reads right once
# mended, the content cache serves a second read, the alias and a read after a remount with no
# request at all, stays within cache_size, and survives a kill -9 in the middle of a download.
. "$(dirname "$0")/lib.sh"

# 8 Files of 2 versions of 300000 bytes, one of 4 MiB (fetched whole and checked before it is
# served) and one of 40 MiB (served as it streams).
emu_start --files 8 --versions 2 --size 300000 --add-file "Small.bin:4M" --add-file "Big.bin:40M"
vrcfs_login >/dev/null || die "login failed"
emu_ctl GET /state >"$T/state.json"
ids=($(py "print(' '.join(f['id'] for f in s['files'] if not f['tags'] and f['name'] not in ('Small', 'Big')))"))
SMALL=$(py "print([f['id'] for f in s['files'] if f['name']=='Small'][0])")
BIG=$(py "print([f['id'] for f in s['files'] if f['name']=='Big'][0])")
newest() { py "print([v['version'] for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['version'] > 0 and not v['deleted']][-1])"; }
stats() { python3 -c "import json; s=json.load(open('$MNT/.vrcfs/stats.json')); print($1)"; }
corrupt() { emu_ctl POST /corrupt "{\"fileId\":\"$1\",\"version\":1,\"type\":\"file\",\"offset\":$2}" >/dev/null; }
# Files stay fresh for the whole test: what is measured is the data, not the listings.
MOUNT_OPTS=cache_ttl=3600
vrcfs_mount -o $MOUNT_OPTS
ls -l "$MNT/files" >/dev/null

# --- file.json of a File whose listing leaves an md5 out (spec#349) ----------------------------
# Listed, but its file.json not read yet: ls -l of its directory costs nothing. Its data is
# checked against the md5 the listing left out: a cat of file.json and a read of its corrupted
# data at once, with the API slowed down so that both are under way while the GET /file runs,
# cost that one request, and the read fails.
HID=$(py "print([f['id'] for f in s['files'] if f['md5_hidden_in_list']][0])")
log_mark
ls -l "$MNT/files/$HID" >"$T/hid.ls"
check_eq "ls -l of its directory: no GET /file" 0 "$(count_requests api GET "^/api/1/file/$HID\$")"
corrupt "$HID" 0
emu_ctl POST /config '{"latency_ms": 400}' >/dev/null
cat "$MNT/files/$HID/file.json" >"$T/hid.json" &
p1=$!
cat "$MNT/files/$HID/1/file" >/dev/null 2>"$T/hid.err" &
p2=$!
wait $p1
wait $p2 && hid_rc=0 || hid_rc=$?
emu_ctl POST /config '{"latency_ms": 0}' >/dev/null
check_eq "a cat of its file.json and a read of its data at once: one GET /file" 1 \
    "$(count_requests api GET "^/api/1/file/$HID\$")"
check "the corrupted data fails the md5 the listing left out (EIO)" \
    test "$hid_rc" -ne 0 -a -n "$(grep 'Input/output error' "$T/hid.err")"
corrupt "$HID" 0 # mended
check "and reads right once mended" cmp "$MNT/files/$HID/1/file" "$(blob_path "$HID" 1)"
check_eq "file.json is the size ls -l showed before the md5 was known" \
    "$(awk '$NF == "file.json" {print $5}' "$T/hid.ls")" "$(wc -c <"$T/hid.json")"
check "file.json has the md5 the listing left out" python3 -c "
import json, sys
got = json.load(open('$T/hid.json'))
want = [f for f in json.load(open('$T/state.json'))['files'] if f['id'] == '$HID'][0]
sys.exit(not all(v['file']['md5'] == w['data']['file']['md5'] for v in got['versions'] for w in want['versions'] if v['version'] == w['version'] and 'file' in v))"

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
stat "$MNT/files/$B/$BV/file" >/dev/null # the File is cached with that version
api_as_user DELETE "/file/$B/$BV" >/dev/null
check_errno "a version deleted on the server reads as ENOENT" "No such file" \
    cat "$MNT/files/$B/$BV/file"
check "and the log says why" grep -q "/files/$B/$BV/file: the version is gone from the server" "$T/vrcfs.log"

# --- a version is downloaded once: a second read and the alias cost nothing -------------------
C=${ids[2]}
CV=$(newest "$C")
alias_name=$(py "f=[f for f in s['files'] if f['id']=='$C'][0]; print(f['name'] + f['extension'])")
stat "$MNT/files/$C/$alias_name" >/dev/null
cat "$MNT/files/$C/$CV/file" >/dev/null
log_mark
check "the alias of a version read as N/file is byte-identical" cmp "$MNT/files/$C/$alias_name" "$(blob_path "$C" "$CV")"
check "and so is a second read of N/file" cmp "$MNT/files/$C/$CV/file" "$(blob_path "$C" "$CV")"
check_eq "neither sent a request" 0 "$(count_requests '*' '*' .)"

# --- corrupted data is EIO however it is read, and reads right once mended ----------------------
read_mmap() { # FILE: the whole file through mmap (4 KiB page faults), its sha256 on success
    python3 -c "
import hashlib, mmap, sys
with open(sys.argv[1], 'rb') as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
    print(hashlib.sha256(m[:]).hexdigest())" "$1"
}
for target in "$SMALL:4194304" "$BIG:41943040"; do
    id=${target%%:*}
    size=${target##*:}
    name="$((size / 1048576)) MiB"
    f=$MNT/files/$id/1/file
    corrupt "$id" $((size / 3))
    stat "$f" >/dev/null
    check_errno "$name: a corrupted version fails dd with EIO" "Input/output error" \
        dd if="$f" of=/dev/null bs=1M status=none
    check_errno "$name: cat after it is EIO too (no bad bytes from the page cache)" \
        "Input/output error" sh -c "cat '$f' >/dev/null"
    check "$name: a whole-file mmap read does not succeed" sh -c "! python3 -c '
import mmap, sys
with open(sys.argv[1], \"rb\") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
    m[:]' '$f' 2>/dev/null"
    if [ "$size" -le 16777216 ]; then
        # Fetched whole and checked before any byte is served: each half fails on its own.
        half=$((size / 2 / 65536))
        dd if="$f" of=/dev/null bs=64k count="$half" status=none 2>/dev/null &
        p1=$!
        dd if="$f" of=/dev/null bs=64k skip="$half" status=none 2>/dev/null &
        p2=$!
        wait $p1
        r1=$?
        wait $p2
        r2=$?
        check_eq "$name: two dd readers of one half each, at once, both fail" "1 1" "$((r1 != 0)) $((r2 != 0))"
    fi
    check "$name: the mismatch is logged" grep -q "$id/1/file: the data does not match its md5" "$T/vrcfs.log"
    corrupt "$id" $((size / 3)) # flips it back
    check_eq "$name: once mended, an mmap read is right" "$(sha256sum <"$(blob_path "$id" 1)" | cut -d' ' -f1)" "$(read_mmap "$f")"
    check "$name: and so is cat" cmp "$f" "$(blob_path "$id" 1)"
done
check_eq "stats.json counts the mismatches" 1 "$(stats "int(s['content_cache']['mismatches'] >= 4)")"

# --- two readers of halves of a good version, at once: both right ------------------------------
D=${ids[3]}
DV=$(newest "$D")
dd if="$MNT/files/$D/$DV/file" of="$T/d1" bs=150000 count=1 status=none &
p1=$!
dd if="$MNT/files/$D/$DV/file" of="$T/d2" bs=150000 skip=1 status=none &
p2=$!
wait $p1 $p2
cat "$T/d1" "$T/d2" >"$T/d"
check "two dd readers of halves of a good version read it right" cmp "$T/d" "$(blob_path "$D" "$DV")"

# --- after a remount: what was read is served with no request at all -------------------------
# Straight to the paths, no listing first: the Files, fetched within cache_ttl, were kept under
# cache_dir at unmount, and the data is in the content cache.
vrcfs_unmount
USER_ID=$(python3 -c "import json; print(json.load(open('$XDG_CONFIG_HOME/vrcfs/session.json'))['user_id'])")
KEPT=$T/staging/meta/$USER_ID.json
check_eq "the Files are kept in a file only its owner may read" 600 "$(stat -c %a "$KEPT")"
check_eq "in a directory only its owner may enter" 700 "$(stat -c %a "$T/staging/meta")"
cp "$KEPT" "$T/kept.json"
vrcfs_mount -o $MOUNT_OPTS
log_mark
check "file.json of the File whose listing leaves an md5 out is the same after a remount" \
    cmp "$MNT/files/$HID/file.json" "$T/hid.json"
check_eq "with no GET /file: the md5 was kept under cache_dir" 0 \
    "$(count_requests api GET "^/api/1/file/$HID\$")"
check "after a remount, a version read before is byte-identical" cmp "$MNT/files/$C/$CV/file" "$(blob_path "$C" "$CV")"
check "and so is the 40 MiB one" cmp "$MNT/files/$BIG/1/file" "$(blob_path "$BIG" 1)"
check "and the alias" cmp "$MNT/files/$C/$alias_name" "$(blob_path "$C" "$CV")"
check_eq "with 0 blob requests" 0 "$(count_requests blob '*' .)"
check_eq "and 0 API requests" 0 "$(count_requests api '*' .)"
vrcfs_unmount

# --- another account mounting with the same cache_dir does not get them ------------------------
# demo-totp logs in with its own session; its mount must look the File up itself, and leave
# demo's kept Files as they were.
code=$(emu_ctl GET '/totp?user=demo-totp' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
XDG_CONFIG_HOME=$T/config-other VRCFS_2FA_CODE=$code vrcfs_login demo-totp >/dev/null ||
    die "login as demo-totp failed"
XDG_CONFIG_HOME=$T/config-other vrcfs_mount -o $MOUNT_OPTS
log_mark
check "another account reads the version" cmp "$MNT/files/$C/$CV/file" "$(blob_path "$C" "$CV")"
check_eq "looking its File up with GET /file: demo's kept Files are not its" 1 \
    "$(count_requests api GET "^/api/1/file/$C\$")"
vrcfs_unmount
# demo's file found under the other's name (copied, or a user id reused): it names its account.
OTHER_ID=$(python3 -c "import json; print(json.load(open('$T/config-other/vrcfs/session.json'))['user_id'])")
cp "$T/kept.json" "$T/staging/meta/$OTHER_ID.json"
XDG_CONFIG_HOME=$T/config-other vrcfs_mount -o $MOUNT_OPTS
log_mark
check "another account's record found under its own name" cmp "$MNT/files/$C/$CV/file" \
    "$(blob_path "$C" "$CV")"
check_eq "is not used: GET /file again" 1 "$(count_requests api GET "^/api/1/file/$C\$")"
check "and the log says why" grep -q "$OTHER_ID.json: kept for another account, not used" "$T/vrcfs.log"
vrcfs_unmount
vrcfs_mount -o $MOUNT_OPTS
log_mark
check "demo's own kept Files are still there after the other's mounts" cmp \
    "$MNT/files/$C/$CV/file" "$(blob_path "$C" "$CV")"
check_eq "with 0 API requests" 0 "$(count_requests api '*' .)"
vrcfs_unmount

# --- once cache_ttl has passed, a kept File is looked up again; its data still is not fetched ---
vrcfs_mount -o cache_ttl=5
stat "$MNT/files/$C/$CV/file" >/dev/null
vrcfs_unmount
check "the File was kept at unmount" python3 -c "
import json, sys
sys.exit(not any(e['file']['id'] == '$C' for e in json.load(open('$KEPT'))['files']))"
sleep 5.5
vrcfs_mount -o cache_ttl=5
log_mark
check "after cache_ttl, the version reads right" cmp "$MNT/files/$C/$CV/file" "$(blob_path "$C" "$CV")"
check_eq "paying one API request" 1 "$(count_requests api '*' .)"
check_eq "the File's lookup" 1 "$(count_requests api GET "^/api/1/file/$C\$")"
check_eq "and 0 blob requests" 0 "$(count_requests blob '*' .)"

# --- kill -9 in the middle of a download; what is on disk is only what was recorded ------------
# Each blob request waits 5 s, so the partial record lasts through the last request (the
# streamer fetches 32 MiB at a time) however slowly this test polls.
emu_ctl POST /config '{"blob_latency_ms": 5000}' >/dev/null
E=$BIG
vrcfs_unmount
rm -rf "$T/staging/content" # start cold
vrcfs_mount -o $MOUNT_OPTS
dd if="$MNT/files/$E/1/file" of=/dev/null bs=1M status=none 2>/dev/null &
DD=$!
recorded() { # the sidecar names part of the data, not all of it
    jq -e '(.ranges | length) > 0 and (.verified | not)' "$T/staging/content/$E.1.file.json" \
        >/dev/null 2>&1
}
seen=0
for _ in $(seq 600); do
    if recorded; then
        seen=1
        break
    fi
    sleep 0.05
done
kill -9 "$VRCFS_PID"
check_eq "a record of part of the data is made while it downloads" 1 "$seen"
wait "$VRCFS_PID" 2>/dev/null
wait "$DD" 2>/dev/null
VRCFS_PID=
fusermount3 -u -z "$MNT" 2>/dev/null
emu_ctl POST /config '{"blob_latency_ms": 0}' >/dev/null
check "kill -9 left it as it was" recorded
vrcfs_mount -o $MOUNT_OPTS
log_mark
check "after kill -9 and a remount, the version reads right" cmp "$MNT/files/$E/1/file" "$(blob_path "$E" 1)"
check "fetching only what was not recorded" python3 -c "
import json, sys
s = json.load(open('$MNT/.vrcfs/stats.json'))
sys.exit(not (0 < s['content_cache']['bytes_fetched'] < 41943040))"
vrcfs_unmount
# A data file cut short (a disk that filled up, a hand that truncated it) is not trusted.
truncate -s 1000000 "$T/staging/content/$E.1.file"
vrcfs_mount -o $MOUNT_OPTS
check "a cache file cut short is fetched again, and reads right" cmp "$MNT/files/$E/1/file" "$(blob_path "$E" 1)"
vrcfs_unmount

# --- cache_size smaller than the data: evicted, still right ------------------------------------
vrcfs_mount -o $MOUNT_OPTS,cache_size=5M
ok=1
for round in 1 2; do
    for id in "${ids[@]:4}"; do
        n=$(newest "$id")
        cmp -s "$MNT/files/$id/$n/file" "$(blob_path "$id" "$n")" || ok=0
    done
    [ $round = 1 ] && { cmp -s "$MNT/files/$SMALL/1/file" "$(blob_path "$SMALL" 1)" || ok=0; }
done
check_eq "with cache_size=5M, reading more than that is byte-identical" 1 "$ok"
check "the cache stays within cache_size" python3 -c "
import json, sys
c = json.load(open('$MNT/.vrcfs/stats.json'))['content_cache']
sys.exit(not (c['bytes_used'] <= 5 * 1048576 and c['evictions'] > 0))"
check "and so does the disk" test "$(du -sk "$T/staging/content" | cut -f1)" -le 5200
vrcfs_unmount

# --- a File several callers miss at once is fetched once ---------------------------------------
# cache_ttl=1: once it has passed, three stats in the File revalidate its directory at once (the
# kernel does not serialise that), each missing the File while the API answers slowly.
vrcfs_mount -o cache_ttl=1
stat "$MNT/files/$C/$CV/file" >/dev/null
emu_ctl POST /config '{"latency_ms": 1000}' >/dev/null
sleep 2.5
log_mark
stat "$MNT/files/$C/$CV/file" >/dev/null &
p1=$!
stat "$MNT/files/$C/$CV/signature" >/dev/null &
p2=$!
stat "$MNT/files/$C/latest" >/dev/null &
p3=$!
wait $p1 $p2 $p3
emu_ctl POST /config '{"latency_ms": 0}' >/dev/null
check_eq "three stats in a File that expired, at once: one GET /file" 1 \
    "$(count_requests api GET "^/api/1/file/$C\$")"
vrcfs_unmount

# --- Files that expired during a walk are refreshed by their listing page, not one by one -------
# The paths are made first: five stats in a row take far less than cache_ttl=5.
paths=()
for id in "${ids[@]:2:5}"; do paths+=("$MNT/files/$id/$(newest "$id")/file"); done
vrcfs_mount -o cache_ttl=5
ls "$MNT/files" >/dev/null
sleep 5.5
log_mark
stat "${paths[@]}" >/dev/null
check_eq "stats in five Files after cache_ttl: one GET /files (their page)" 1 \
    "$(count_requests api GET '^/api/1/files$')"
check_eq "and no GET /file" 0 "$(count_requests api GET '^/api/1/file/[^/]+$')"
vrcfs_unmount
finish
