#!/usr/bin/env bash
# Writing /files (docs/SEMANTICS.md, Writing and Errors) with ordinary tools against a real mount:
# new versions and new Files of 1 KiB, 6 MiB and 64 MiB compared byte for byte with the emulator's
# blobs, multipart uploads in parallel parts, temp-and-rename, edits in place, rm -r of Files and
# versions, faults that are retried, failures that return their errno from close() and keep the
# data, kill -9 during an upload, cache_size, ro, and writes where there is nothing to write.
. "$(dirname "$0")/lib.sh"

emu_start --files 3 --versions 2 --size 3000
vrcfs_login >/dev/null || die "login failed"
# Small parts so that modest files have several; fast pacing so the test takes seconds.
OPTS="rate=6000,retries=2,part_size_mib=5"
vrcfs_mount -o "$OPTS"

# The newest complete version of a File on the server, and how many are not complete.
newest() {
    state
    py "print(max([v['version'] for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['status']=='complete' and not v['deleted']] or [0]))"
}
unfinished() {
    state
    py "print(sum(1 for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['status']!='complete'))"
}
file_field() { state && py "print([f['$2'] for f in s['files'] if f['id']=='$1'][0])"; }
category() { state && py "print([v['data']['file']['category'] for f in s['files'] if f['id']=='$1' for v in f['versions'] if v['version']==$2][0])"; }
# One field of the stats.json entry of an upload whose path ends with SUFFIX.
upload_field() {
    python3 - "$MNT/.vrcfs/stats.json" "$1" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for u in s.get("uploads", []):
    if u["path"].endswith(sys.argv[2]):
        print(u.get(sys.argv[3], ""))
        break
EOF
}
# Conditions for wait_until, evaluated afresh at every poll.
newest_above() { test "$(newest "$1")" -gt "$2"; }
upload_state_is() { test "$(upload_field "$1" state)" = "$2"; }
latest_is() { test "$(readlink "$MNT/files/$1/latest")" = "$2"; }
server_has_parts() { # FILE_ID: a waiting multipart upload of it holds at least one part
    emu_ctl GET /state | python3 -c "
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if any(u['fileId'] == '$1' and u['parts'] for u in s['uploads']) else 1)"
}
# Blob PUTs in the emulator's log since log_mark: "parts" counts multipart ones, "faults" the
# injected failures, "concurrency" the most part PUTs that were in flight at once.
blob_log() {
    tail -n +"$((LOG_MARK + 1))" "$T/requests.log" | python3 -c "
import json, sys
rs = [json.loads(l) for l in sys.stdin]
puts = [r for r in rs if r['host'] == 'blob' and r['method'] == 'PUT']
parts = [r for r in puts if 'partNumber=' in (r['query'] or '')]
if '$1' == 'parts': print(len(parts))
elif '$1' == 'faults': print(sum(1 for r in puts if r.get('fault')))
else:
    iv = [(r['t'], r['t'] + r['ms'] / 1000.0) for r in parts]
    print(max([sum(1 for a, b in iv if a <= t < b) for t, _ in iv] or [0]))"
}
rsig() { rdiff -H blake2 -R rollsum -b 2048 -S 32 signature "$1" "$2"; }
config() { emu_ctl POST /config "$1" >/dev/null; }
remount() {
    vrcfs_unmount || say "vrcfs exited with an error at unmount"
    vrcfs_mount -o "${1:-$OPTS}"
}
kill_vrcfs() { # kill -9, as a crash would, and clear the dead mount
    kill -9 "$VRCFS_PID"
    wait "$VRCFS_PID" 2>/dev/null
    fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
    VRCFS_PID=
}

state
FID=$(py "print([f['id'] for f in s['files'] if not f['tags']][0])")
OTHER=$(py "print([f['id'] for f in s['files'] if not f['tags']][1])")
ALIAS=$(ls "$MNT/files/$FID" | grep -vE '^(file\.json|latest|[0-9]+)$')
[ -n "$ALIAS" ] || die "no alias in /files/$FID"
say "writing to $FID/$ALIAS"

head -c 1024 /dev/urandom >"$T/1k"
head -c $((6 << 20)) /dev/urandom >"$T/6m"
head -c $((12 << 20)) /dev/urandom >"$T/12m"
head -c $((64 << 20)) /dev/urandom >"$T/64m"

# --- new versions: cp, read back, compare with the stored blob and rdiff's signature -----------
for size in 1k 6m 64m; do
    before=$(newest "$FID")
    log_mark
    check "$size: cp onto the alias succeeds" cp "$T/$size" "$MNT/files/$FID/$ALIAS"
    n=$(newest "$FID")
    check_eq "$size: the File has a new complete version" $((before + 1)) "$n"
    check_eq "$size: and nothing left waiting" 0 "$(unfinished "$FID")"
    check "$size: the stored blob is the same bytes" cmp "$T/$size" "$(blob_path "$FID" "$n")"
    check "$size: /files/$FID/$n/file reads back the same bytes" cmp "$T/$size" "$MNT/files/$FID/$n/file"
    check "$size: the alias reads back the same bytes" cmp "$T/$size" "$MNT/files/$FID/$ALIAS"
    rsig "$T/$size" "$T/$size.sig"
    check "$size: the stored signature is rdiff's" cmp "$T/$size.sig" "$(blob_path "$FID" "$n" signature)"
    check_eq "$size: one version created" 1 "$(count_requests api POST "^/api/1/file/$FID\$")"
done
check_eq "6 MiB went up simple (server's choice)" simple "$(category "$FID" $((n - 1)))"
check_eq "64 MiB went up multipart (server's choice)" multipart "$(category "$FID" "$n")"
check_eq "latest points at the new version" "$n" "$(readlink "$MNT/files/$FID/latest")"

# --- new Files: create in /files, then the name is a link to file_<id>/<alias> ----------------
for size in 1k 6m 64m; do
    name="new-$size.png"
    check "$size: cp into /files creates a File" cp "$T/$size" "$MNT/files/$name"
    check "$size: right after it, ls -l and cmp see the bytes" \
        sh -c "ls -l '$MNT/files/$name' >/dev/null && cmp '$T/$size' '$MNT/files/$name'"
    check "$size: $name becomes a symlink" wait_until 5 test -L "$MNT/files/$name"
    target=$(readlink "$MNT/files/$name")
    id=${target%%/*}
    check_eq "$size: the link points at file_<id>/$name" "$id/$name" "$target"
    check_eq "$size: the File's name" "new-$size" "$(file_field "$id" name)"
    check_eq "$size: its extension" ".png" "$(file_field "$id" extension)"
    check_eq "$size: its MIME type comes from the extension" image/png "$(file_field "$id" mimeType)"
    check_eq "$size: the data is version 1" 1 "$(newest "$id")"
    check "$size: the stored blob is the same bytes" cmp "$T/$size" "$(blob_path "$id" 1)"
    check "$size: reading through the link gives the same bytes" cmp "$T/$size" "$MNT/files/$name"
    check "$size: /files lists the new File at once" sh -c "ls '$MNT/files' | grep -qx '$id'"
    eval "NEW_$size=$id"
done
# The kernel keeps what it last heard of a name for a second and uses it without asking: the
# name must not turn into the link under a reader's feet.
cp "$T/1k" "$MNT/files/turning.png"
bad=0
end=$((SECONDS + 3))
while [ $SECONDS -lt $end ]; do
    stat "$MNT/files/turning.png" >/dev/null 2>>"$T/turning.err" || bad=$((bad + 1))
    cmp "$T/1k" "$MNT/files/turning.png" 2>>"$T/turning.err" || bad=$((bad + 1))
    sleep 0.05
done
check_eq "stat and cmp of a created name never fail while it turns into a link" 0 "$bad"
check "left alone, it turns into the link" wait_until 5 test -L "$MNT/files/turning.png"
check "which reads the same bytes" cmp "$T/1k" "$MNT/files/turning.png"
# A reader that opened the name before it turned reads on after the kernel has taken the link.
cp "$T/64m" "$MNT/files/flip.png"
python3 -c '
import sys, time
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "rb") as want:
    while True:
        chunk = f.read(1 << 20)
        if chunk != want.read(1 << 20):
            sys.exit("different bytes at %d" % f.tell())
        if not chunk:
            break
        time.sleep(0.05)
' "$MNT/files/flip.png" "$T/64m" 2>"$T/flip.err" &
reader=$!
for _ in $(seq 30); do # the kernel looks the name up again as its entry expires
    stat "$MNT/files/flip.png" >/dev/null 2>&1
    sleep 0.1
done
wait "$reader"
check_eq "a reader of a created name reads on while it turns into its link" "0 " \
    "$? $(cat "$T/flip.err")"
check "and the name has turned" test -L "$MNT/files/flip.png"
cp "$T/1k" "$MNT/files/plain.bin"
wait_until 5 test -L "$MNT/files/plain.bin"
id=$(readlink "$MNT/files/plain.bin")
check_eq "an unknown extension is application/octet-stream" application/octet-stream \
    "$(file_field "${id%%/*}" mimeType)"
check_errno "a new File needs an extension" "Invalid argument" cp "$T/1k" "$MNT/files/noextension"
check "writing through the link adds a version to the created File" cp "$T/6m" "$MNT/files/new-1k.png"
check_eq "... as version 2" 2 "$(newest "$NEW_1k")"
check "... with those bytes" cmp "$T/6m" "$(blob_path "$NEW_1k" 2)"

# --- multipart with a low threshold: parts in parallel, in order -------------------------------
config '{"multipart_threshold": 1048576, "blob_latency_ms": 300}'
log_mark
before=$(newest "$FID")
check "12 MiB with a 1 MiB threshold uploads" cp "$T/12m" "$MNT/files/$FID/$ALIAS"
n=$(newest "$FID")
check_eq "it was multipart" multipart "$(category "$FID" "$n")"
check_eq "in 3 parts of 5 MiB" 3 "$(blob_log parts)"
check "with parts in flight at the same time" test "$(blob_log concurrency)" -ge 2
check "the blob is the same bytes" cmp "$T/12m" "$(blob_path "$FID" "$n")"
config '{"blob_latency_ms": 0}'

# --- faults during parts: each part retried on its own, same bytes ----------------------------
log_mark
emu_fault "blob:503:count=2,method=PUT,match=^/upload/"
emu_fault "blob:500:count=1,method=PUT,after=2"
emu_fault "blob:drop:count=1,method=PUT,after=3"
check "an upload through 503s, a 500 and a dropped connection succeeds" cp "$T/12m" "$MNT/files/$FID/$ALIAS"
check_eq "the four faults happened" 4 "$(blob_log faults)"
n=$(newest "$FID")
check "and the blob is the same bytes" cmp "$T/12m" "$(blob_path "$FID" "$n")"
check_eq "nothing left waiting" 0 "$(unfinished "$FID")"
emu_faults_clear

# --- temp-and-rename (rsync, editors): local until the rename, which uploads --------------------
before=$(newest "$FID")
tmp="$MNT/files/$FID/.$ALIAS.Xy12Ab"
log_mark
check "a temporary name can be written" cp "$T/6m" "$tmp"
check "it is listed" sh -c "ls -a '$MNT/files/$FID' | grep -qxF '.$ALIAS.Xy12Ab'"
check_eq "and nothing is uploaded for it" 0 "$(count_requests api POST "^/api/1/file/$FID\$")"
check "mv onto the alias succeeds" mv "$tmp" "$MNT/files/$FID/$ALIAS"
check_eq "the rename made one new version" $((before + 1)) "$(newest "$FID")"
check "with the temp file's bytes" cmp "$T/6m" "$(blob_path "$FID" $((before + 1)))"
check "the temporary name is gone" test ! -e "$tmp"
cp "$T/1k" "$MNT/files/.renamed.bin.Qw34Er"
check "mv of a temp file in /files to a new name creates a File" mv "$MNT/files/.renamed.bin.Qw34Er" "$MNT/files/renamed.bin"
check "which becomes a link" wait_until 5 test -L "$MNT/files/renamed.bin"
id=$(readlink "$MNT/files/renamed.bin")
check "with the bytes" cmp "$T/1k" "$(blob_path "${id%%/*}" 1)"
if command -v rsync >/dev/null; then
    before=$(newest "$FID")
    check "rsync onto the alias succeeds" rsync -I "$T/12m" "$MNT/files/$FID/$ALIAS"
    check_eq "rsync made one new version" $((before + 1)) "$(newest "$FID")"
    check "with rsync's bytes" cmp "$T/12m" "$(blob_path "$FID" $((before + 1)))"
else
    say "rsync is not installed: temp-and-rename tested with cp and mv only"
fi

# --- edits: without O_TRUNC the data starts from the current version ---------------------------
n=$(newest "$FID")
cp "$(blob_path "$FID" "$n")" "$T/expected"
printf 'XY' | dd of="$T/expected" bs=1 seek=100 conv=notrunc 2>/dev/null
check "dd conv=notrunc changes two bytes in place" \
    sh -c "printf 'XY' | dd of='$MNT/files/$FID/$ALIAS' bs=1 seek=100 conv=notrunc 2>/dev/null"
check "the new version is the old one with those two bytes" cmp "$T/expected" "$(blob_path "$FID" $((n + 1)))"
check "an append (>>) keeps what was there" sh -c "echo appended >> '$MNT/files/$FID/$ALIAS'"
echo appended >>"$T/expected"
check "and adds to it" cmp "$T/expected" "$(blob_path "$FID" $((n + 2)))"
log_mark
check "echo > alias replaces the content" sh -c "echo hello > '$MNT/files/$FID/$ALIAS'"
check_eq "with exactly 'hello\\n'" "hello" "$(cat "$(blob_path "$FID" $((n + 3)))")"
check_eq "and downloads nothing first" 0 "$(count_requests blob GET .)"
log_mark
check "dd conv=fsync uploads at fsync" dd if="$T/1k" of="$MNT/files/$FID/$ALIAS" conv=fsync 2>/dev/null
check_eq "and close does not upload the same bytes again" 1 "$(count_requests api POST "^/api/1/file/$FID\$")"

# --- rm -r: a File, the newest version; older versions are EBUSY without a request (test_delete) --
n=$(newest "$FID")
log_mark
check_errno "rm -r of an older version is EBUSY" "Device or resource busy" rm -r "$MNT/files/$FID/1"
check_eq "and sends no request" 0 "$(count_requests api DELETE .)"
check "rm -r of the newest version succeeds" rm -r "$MNT/files/$FID/$n"
check_eq "the server's newest is the one before" $((n - 1)) "$(newest "$FID")"
check "latest follows" wait_until 3 latest_is "$FID" $((n - 1))
check "rm -r of a File succeeds" rm -r "$MNT/files/$NEW_6m"
check_eq "the File is gone from the server" 0 "$(state && py "print(sum(1 for f in s['files'] if f['id']=='$NEW_6m'))")"
check "and from /files" sh -c "! ls '$MNT/files' | grep -qx '$NEW_6m'"
check "and so is the link to it" test ! -L "$MNT/files/new-6m.png"
check_errno "rm -r of a File that is not there" "No such file" rm -r "$MNT/files/file_00000000-0000-0000-0000-000000000000"

# --- writes where there is nothing to write ---------------------------------------------------
check "another name in a File's directory is local scratch (test_save.sh)" touch "$MNT/files/$FID/other.txt"
check "which goes with rm" rm "$MNT/files/$FID/other.txt"
check_errno "a version's data is read-only" "Permission denied" sh -c "echo x > '$MNT/files/$FID/1/file'"
check_errno "file.json is read-only" "Permission denied" sh -c "echo x > '$MNT/files/$FID/file.json'"
check_errno "mkdir in /files is refused" "Operation not permitted" mkdir "$MNT/files/newdir"
check_errno "rm of the alias is refused" "Operation not permitted" rm "$MNT/files/$FID/$ALIAS"

# --- a Content-MD5 rejection: close fails, the data is kept, nothing half-made -----------------
# The emulator holds blob PUTs (budget 0) so that the upload is certainly in flight, however
# slowly this machine runs the checks.
config '{"multipart_threshold": 1073741824, "blob_put_budget": 0}'
before=$(newest "$FID")
(cp "$T/64m" "$MNT/files/$FID/$ALIAS" 2>"$T/md5.err"; echo $? >"$T/md5.rc") &
cp_pid=$!
wait_until 20 upload_state_is "/$ALIAS" uploading
staged=$(upload_field "/$ALIAS" staged_at)
# The staged bytes change under the upload: the Content-MD5 sent no longer matches them.
python3 -c "
f = open('$staged', 'r+b'); f.seek(-1, 2); b = f.read(1); f.seek(-1, 2); f.write(bytes([b[0] ^ 255]))"
config '{"blob_put_budget": -1}'
wait "$cp_pid"
check_eq "cp reports the failure of close()" 1 "$(cat "$T/md5.rc")"
check "with the errno of the refusal (EINVAL)" grep -q "Invalid argument" "$T/md5.err"
check "the staged data is kept" test -s "$staged"
check "its path is in the log" grep -qF "$staged" "$T/vrcfs.log"
check_eq "stats.json shows the failed upload" failed "$(upload_field "/$ALIAS" state)"
check_eq "no version is left half-made" 0 "$(unfinished "$FID")"
check_eq "the newest version is unchanged" "$before" "$(newest "$FID")"
check "rm of the alias discards the failed staged copy" rm "$MNT/files/$FID/$ALIAS"
check "which is then gone from the cache dir" test ! -e "$staged"
config '{"multipart_threshold": 10485760}'

# --- the blob store stays down, the API too: close fails, data kept, uploaded after remount ----
before=$(newest "$FID")
emu_fault "blob:503:method=PUT"
check_errno "with the blob store down, close fails with EAGAIN" "Resource temporarily unavailable" \
    cp "$T/6m" "$MNT/files/$FID/$ALIAS"
staged=$(upload_field "/$ALIAS" staged_at)
check "the staged file exists" test -s "$staged"
check "and holds the bytes" cmp "$T/6m" "$staged"
check_eq "nothing half-made on the server" 0 "$(unfinished "$FID")"
check_eq "no new version" "$before" "$(newest "$FID")"
emu_faults_clear
emu_fault "api:503"
check_errno "with the API down, a new File fails too" "Resource temporarily unavailable" \
    cp "$T/1k" "$MNT/files/while-down.bin"
staged_new=$(upload_field "/while-down.bin" staged_at)
check "its data is kept too" cmp "$T/1k" "$staged_new"
emu_faults_clear
check_eq "and no File was made" 0 "$(state && py "print(sum(1 for f in s['files'] if f['name']=='while-down'))")"
remount
check "after a remount the kept version is uploaded" wait_until 20 newest_above "$FID" "$before"
check "with the bytes that were kept" cmp "$T/6m" "$(blob_path "$FID" "$(newest "$FID")")"
check "and the kept new File is created" wait_until 20 test -L "$MNT/files/while-down.bin"
id=$(readlink "$MNT/files/while-down.bin")
check "with its bytes" cmp "$T/1k" "$(blob_path "${id%%/*}" 1)"
check "the staged copies are gone" sh -c "test ! -e '$staged' && test ! -e '$staged_new'"

# --- kill -9 during a multipart upload: the next mount resumes it -----------------------------
# Three parts go through, the emulator holds the rest: vrcfs is killed with the upload certainly
# half done, however slowly this machine runs the checks.
config '{"blob_put_budget": 3}'
before=$(newest "$OTHER")
alias2=$(ls "$MNT/files/$OTHER" | grep -vE '^(file\.json|latest|[0-9]+)$')
(cp "$T/64m" "$MNT/files/$OTHER/$alias2" 2>/dev/null; echo $? >"$T/kill.rc") &
cp_pid=$!
# Wait until the server holds some parts, then kill vrcfs as a crash would.
wait_until 30 server_has_parts "$OTHER"
check "stats.json shows the upload's progress" \
    test "$(upload_field "/$alias2" bytes_total)" -gt $((64 << 20))
kill_vrcfs
wait "$cp_pid"
check "the killed cp failed" test "$(cat "$T/kill.rc")" != 0
config '{"blob_put_budget": -1}'
log_mark
# Parts the killed mount had in flight are logged when the server is done with them, after the
# mark; only those begun after the remount count.
remounted=$(date +%s.%N)
vrcfs_mount -o "$OPTS"
check "the next mount finishes the upload" wait_until 60 newest_above "$OTHER" "$before"
check "with the right bytes" cmp "$T/64m" "$(blob_path "$OTHER" "$(newest "$OTHER")")"
check_eq "nothing left waiting" 0 "$(unfinished "$OTHER")"
check "it resumed the waiting version instead of starting over" \
    grep -q "resuming $OTHER/$((before + 1)): [1-9][0-9]* of 13 parts are already there" "$T/vrcfs.log"
check "and sent fewer than all 13 parts again" test "$(python3 -c "
import json
rs = [json.loads(l) for l in open('$T/requests.log')]
print(sum(1 for r in rs if r['host'] == 'blob' and r['method'] == 'PUT' and
          'partNumber=' in (r['query'] or '') and r['t'] >= $remounted))")" -lt 13

# --- kill -9 while a file is still being written: kept and reported, not uploaded --------------
before=$(newest "$OTHER")
# One process that writes 1 MiB and then waits with the file open.
python3 -c "
import sys, time
f = open(sys.argv[1], 'wb'); f.write(open(sys.argv[2], 'rb').read(1 << 20)); f.flush(); time.sleep(30)" \
    "$MNT/files/$OTHER/$alias2" "$T/6m" 2>/dev/null &
writer=$!
check "the half-written file shows in stats.json" wait_until 10 upload_state_is "/$alias2" staged
kill_vrcfs
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
vrcfs_mount -o "$OPTS"
check_eq "stats.json reports it as kept" kept "$(upload_field "/$alias2" state)"
kept=$(upload_field "/$alias2" staged_at)
check "its data is still there" cmp "$kept" <(head -c $((1 << 20)) "$T/6m")
check "the log says so" grep -q "may be incomplete" "$T/vrcfs.log"
sleep 1
check_eq "and nothing was uploaded from it" "$before" "$(newest "$OTHER")"
rm -f "$kept" "${kept%.data}.json" "${kept%.data}.sig"

# --- cache_size bounds staging: ENOSPC, and nothing uploaded ----------------------------------
remount "$OPTS,cache_size=4M"
before=$(newest "$FID")
check_errno "a write past cache_size fails with ENOSPC" "No space left on device" \
    cp "$T/6m" "$MNT/files/$FID/$ALIAS"
check_eq "and uploads nothing" "$before" "$(newest "$FID")"
check "a file that fits still goes up" cp "$T/1k" "$MNT/files/$FID/$ALIAS"
check_eq "as a new version" $((before + 1)) "$(newest "$FID")"

# --- ro refuses every write -------------------------------------------------------------------
remount "$OPTS,ro"
check_errno "ro: cp onto an alias" "Read-only file system" cp "$T/1k" "$MNT/files/$FID/$ALIAS"
check_errno "ro: a new File" "Read-only file system" cp "$T/1k" "$MNT/files/ro.png"
check_errno "ro: rmdir" "Read-only file system" rmdir "$MNT/files/$FID"
check_errno "ro: rm of file.json" "Read-only file system" rm -f "$MNT/files/$FID/file.json"
vrcfs_unmount
check "no staged data is left behind" sh -c "! ls '$T/staging/staging' | grep -q ."
finish
