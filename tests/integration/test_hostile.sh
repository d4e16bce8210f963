#!/usr/bin/env bash
# Hostile and odd server answers never break the mount (issue 12). Each canned answer comes from
# the emulator's `respond` fault; the emulator's own routes stay faithful.
. "$(dirname "$0")/lib.sh"

emu_start
vrcfs_login >/dev/null || die "login failed"
vrcfs_mount
F=$MNT/files
I=$MNT/instances

# respond SPEC_PREFIX FILE: a canned answer from FILE for requests matching the prefix's rule.
respond() { emu_fault "api:respond:body_file=$2,$1"; }

# --- a /files page with Files vrcfs cannot show, next to good ones --------------------------
# The real page, plus: an id with '/', an id with a NUL, a name with a NUL, an integer above
# 2^64, and sizeInBytes INT64_MAX. The JSON is written by hand: Python cannot write the huge
# integer next to a \u0000 the way a hostile server would, so the text is spliced.
api_as_user GET '/files?n=100&offset=0' >"$T/page.json"
REAL=$(python3 -c "import json; print(' '.join(sorted(f['id'] for f in json.load(open('$T/page.json')))))")
[ -n "$REAL" ] || die "no Files in the emulator's listing"
python3 - "$T/page.json" "$T/hostile-page.json" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
ver = lambda size: ('{"version":1,"status":"complete","created_at":"2024-05-01T12:00:00.000Z",'
                    '"file":{"category":"simple","md5":"AAAAAAAAAAAAAAAAAAAAAA==","sizeInBytes":%s,"status":"complete"}}'
                    % size)
extra = [
    '{"id":"file_evil/../../etc","name":"slash","extension":".bin","versions":[%s]}' % ver(1),
    '{"id":"file_nul\\u0000id","name":"nulid","extension":".bin","versions":[%s]}' % ver(1),
    '{"id":"file_nul-name","name":"a\\u0000b","extension":".bin","versions":[%s]}' % ver(5),
    '{"id":"file_huge-int","name":"huge","extension":".bin","versions":[%s]}'
    % ver("123456789012345678901234567890"),
    '{"id":"file_max-size","name":"max","extension":".bin","versions":[%s]}'
    % ver("9223372036854775807"),
]
text = "[" + ",".join([json.dumps(f) for f in page] + extra) + "]"
open(sys.argv[2], "w").write(text)
PY
respond "match=^/api/1/files,method=GET,count=1" "$T/hostile-page.json"
ls "$F" >"$T/files.txt" 2>"$T/files.err"
check_eq "ls /files succeeds with a hostile page" "" "$(cat "$T/files.err")"
for id in $REAL file_nul-name file_huge-int file_max-size; do
    check "ls /files shows $id" grep -qxF "$id" "$T/files.txt"
done
check "the File whose id has a '/' is left out" sh -c "! grep -q evil '$T/files.txt'"
check "the File whose id has a NUL is left out" sh -c "! grep -q '^file_nul$' '$T/files.txt'"
check_eq "each dropped File is one log line" 2 "$(grep -c "a File that vrcfs cannot use" "$T/vrcfs.log")"
check "the log names the bad id" grep -q 'cannot use: its id "file_evil/../../etc"' "$T/vrcfs.log"
check "the name with a NUL has a file under its id" test -f "$F/file_nul-name/1/file"
check_eq "a huge integer size is no size" 0 "$(stat -c %s "$F/file_huge-int/1/file")"
check_eq "sizeInBytes INT64_MAX is cut to 1 PiB" $((1 << 50)) "$(stat -c %s "$F/file_max-size/1/file")"
check "stat -c %b of it does not overflow" test "$(stat -c %b "$F/file_max-size/1/file")" -gt 0
check "and file.json of it is readable JSON" jq -e .id "$F/file_max-size/file.json"

# --- /instances/recent answering far more than asked -----------------------------------------
python3 -c "
import json
print(json.dumps(['wrld_4cf0c2c3-7b5f-4d6c-a0b2-%012d:%d~region(us)' % (i, i) for i in range(200000)]))
" >"$T/recent-200k.json"
respond "match=^/api/1/instances/recent,method=GET" "$T/recent-200k.json"
log_mark
# A hang guard, not a timing: the quadratic merge took minutes here.
timeout 120 ls "$I" >"$T/inst.txt" 2>"$T/inst.err"
check_eq "ls /instances with 200,000 recent locations in one page succeeds" 0 $?
check_eq "... after one GET /instances/recent (more than asked ends the paging)" 1 \
    "$(count_requests api GET '^/api/1/instances/recent$')"
check "... it shows the first of them" grep -qF 'wrld_4cf0c2c3-7b5f-4d6c-a0b2-000000000000:0~region(us).json' "$T/inst.txt"
check "... and never the 101st" sh -c "! grep -qF ':100~region(us).json' '$T/inst.txt'"
check "... says so in the log" grep -q "sent 200000 locations for n=100" "$T/vrcfs.log"
emu_faults_clear

# --- a name that is not UTF-8 ----------------------------------------------------------------
check_errno "creating a name that is not UTF-8 is EINVAL" "Invalid argument" \
    python3 -c "open(b'$F/' + b'caf\xe9.txt', 'wb')"
check "... with one log line saying why" grep -q 'caf\\xE9.txt: the name is not UTF-8' "$T/vrcfs.log"
check "renaming a temporary file to such a name is EINVAL too" bash -c "
    echo x >'$F/.draft.swp' &&
    python3 -c \"import os; os.rename(b'$F/.draft.swp', b'$F/\\xff.txt')\" 2>&1 | grep -q 'Invalid argument'"
check "... and says why" grep -q 'xFF.txt: the name is not UTF-8' "$T/vrcfs.log"
rm -f "$F/.draft.swp"

# --- a 401 from PUT .../start is never retried -----------------------------------------------
printf '%s' '{"error":{"message":"\"Missing Credentials\"","status_code":401}}' >"$T/401.json"
emu_fault "api:respond:match=/start,method=PUT,status=401,body_file=$T/401.json"
head -c 3000 /dev/urandom >"$T/small.bin"
log_mark
check_errno "a simple upload refused with 401 fails with EACCES" "Permission denied" \
    cp "$T/small.bin" "$F/refused.bin"
check_eq "... after one PUT .../start, not retried" 1 "$(count_requests api PUT '/start$')"
emu_ctl POST /config '{"multipart_threshold": 1048576}' >/dev/null
head -c $((16 << 20)) /dev/urandom >"$T/big.bin"
log_mark
check_errno "a multipart upload refused with 401 fails with EACCES" "Permission denied" \
    cp "$T/big.bin" "$F/refused-big.bin"
tail -n +"$((LOG_MARK + 1))" "$T/requests.log" | python3 -c "
import json, sys, collections
n = collections.Counter(r.get('query', '') for r in map(json.loads, sys.stdin)
                        if r['host'] == 'api' and r['method'] == 'PUT' and r['path'].endswith('/start'))
print(sum(n.values()), max(n.values(), default=0))" >"$T/starts.txt"
read -r starts most <"$T/starts.txt"
check "... some part's start was asked" test "$starts" -ge 1
check_eq "... and no part's start was asked twice" 1 "$most"
emu_faults_clear

# --- data a crashed mount left: rm of its staged_at frees cache_size --------------------------
vrcfs_unmount || say "vrcfs exited non-zero"
mkdir -p "$T/staging/staging"
LEFT=$T/staging/staging/0123456789abcdef.data
head -c $((3 << 20)) /dev/urandom >"$LEFT"
vrcfs_mount -o cache_size=4M
head -c $((2 << 20)) /dev/urandom >"$T/2m.bin"
check_errno "leftover data counts against cache_size" "No space left on device" \
    cp "$T/2m.bin" "$F/after-crash.bin"
kept_at() {
    python3 -c "
import json
print(' '.join(u['staged_at'] for u in json.load(open('$MNT/.vrcfs/stats.json'))['uploads'] if u['state'] == 'kept'))"
}
check_eq "stats.json names it as kept, with where it is" "$LEFT" "$(kept_at)"
check "rm of that path is the way out" rm "$LEFT"
check "the same write now fits" cp "$T/2m.bin" "$F/after-crash.bin"
check_eq "stats.json no longer lists it" "" "$(kept_at)"
check "the log says the bytes were freed" grep -q "0123456789abcdef.data was deleted; 3145728 bytes" "$T/vrcfs.log"

# --- a /files page longer than asked: the first n are shown and the listing ends ---------------
python3 -c "
import json
print(json.dumps([{'id': 'file_many-%03d' % i, 'name': 'm%d' % i, 'extension': '.bin'}
                  for i in range(150)]))" >"$T/long-page.json"
emu_fault "api:respond:match=^/api/1/files,method=GET,count=1,body_file=$T/long-page.json"
log_mark
ls "$F" >"$T/files-long.txt"
check_eq "a page of 150 Files for n=100 shows the first 100" 100 "$(grep -c '^file_many-' "$T/files-long.txt")"
check "... up to file_many-099" grep -qx file_many-099 "$T/files-long.txt"
check_eq "... and asks for no second untagged page" 0 \
    "$(tail -n +"$((LOG_MARK + 1))" "$T/requests.log" | grep -c '"query": "n=100&offset=100"')"
check "... saying so in the log" grep -q "the server sent 150 Files for n=100" "$T/vrcfs.log"
emu_faults_clear

finish
