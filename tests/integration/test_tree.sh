#!/usr/bin/env bash
# The tree as a backup sees it (docs/SEMANTICS.md, The tree): /files holds every File, tagged or
# not, so rsync -a of it is whole and leaves no dangling link; a second rsync within cache_ttl costs
# nothing.
. "$(dirname "$0")/lib.sh"

# 20 untagged Files (one page), the default account's Icon 1, Icon 2 and Gallery Image 1, and a
# sticker.
emu_start --files 20 --versions 2 --size 3000 --add-file "S.png:2000:sticker"
vrcfs_login >/dev/null || die "login failed"
emu_ctl GET /state >"$T/state.json"
stats() { # EXPR over the mount's stats.json as s
    python3 -c "import json; s=json.load(open('$MNT/.vrcfs/stats.json')); print($1)"
}
STICKER=$(py "print([f['id'] for f in s['files'] if 'sticker' in f['tags']][0])")

vrcfs_mount

# --- /files lists every File; the listing costs pages plus one per tag, once ----------------
log_mark
ls -lR "$MNT/files" >"$T/ls.txt" 2>"$T/ls.err"
check_eq "ls -lR printed no errors" "" "$(cat "$T/ls.err")"
check_eq "/files lists every File once, tagged or not" \
    "$(py "print('\n'.join(sorted(f['id'] for f in s['files'])))")" \
    "$(ls "$MNT/files" | grep '^file_' | sort)"
check "the sticker is in /files" test -d "$MNT/files/$STICKER"
check "and in by-tag/sticker" test -L "$MNT/files/by-tag/sticker/$STICKER"
check_eq "cold ls -lR: one untagged page and one listing per tag (11), by-tag reused" 12 \
    "$(count_requests api GET '^/api/1/files$')"
check_eq "each tag listed once" 11 \
    "$(tail -n +$((LOG_MARK + 1)) "$T/requests.log" | grep -o '"query": "[^"]*tag=[a-z]*' | sort -u | wc -l)"
HIDDEN=$(py "print(' '.join(f['id'] for f in s['files'] if f['md5_hidden_in_list']))")
check "the account has Files whose listing leaves an md5 out" test -n "$HIDDEN"
check_eq "no GET /file, not even for the Files whose listing left an md5 out" \
    0 "$(count_requests api GET '^/api/1/file/')"
check_eq "stats.json: files_listing counts the untagged page, the tag pages, no md5 GET" \
    "1 11 0" \
    "$(stats "s['files_listing']['untagged_pages'], s['files_listing']['tag_pages'], s['files_listing']['md5_gets']")"

# --- file.json: the size stat gives before the md5s are known is what cat reads after ---------
NHIDDEN=$(echo $HIDDEN | wc -w)
for id in $HIDDEN; do stat -c %s "$MNT/files/$id/file.json"; done >"$T/size.stat1"
check_eq "stat of their file.json sends no GET /file either" 0 "$(count_requests api GET '^/api/1/file/')"
H=${HIDDEN%% *}
emu_fault "api:respond:status=403,count=1,match=^/api/1/file/$H\$"
check_errno "a GET /file refused at open fails the open with its errno" "Permission denied" \
    cat "$MNT/files/$H/file.json"
check "and one line names the path and why" \
    grep -q "open /files/$H/file.json: Permission denied: GET /file for the md5s" "$T/vrcfs.log"
emu_faults_clear
log_mark
for id in $HIDDEN; do cat "$MNT/files/$id/file.json" >"$T/cat.$id.json" && wc -c <"$T/cat.$id.json"; done >"$T/size.cat"
check_eq "cat of their file.json: one GET /file each, for the md5s" \
    "$NHIDDEN" "$(count_requests api GET '^/api/1/file/[^/]+$')"
check_eq "stats.json counts them as md5 GETs (and the one refused)" "$((NHIDDEN + 1))" \
    "$(stats "s['files_listing']['md5_gets']")"
for id in $HIDDEN; do stat -c %s "$MNT/files/$id/file.json"; done >"$T/size.stat2"
check "the size stat gave before is what cat read ($(tr '\n' ' ' <"$T/size.cat"))" \
    cmp "$T/size.stat1" "$T/size.cat"
check "and what stat gives after" cmp "$T/size.stat1" "$T/size.stat2"
check_eq "jq shows the md5s that GET /file has, also where the listing left them out" \
    "$(py "print(' '.join(v['data']['file']['md5'] for f in s['files'] if f['id'] == '$H' for v in f['versions'] if v['version'] > 0 and not v['deleted'] and v['status'] == 'complete' and 'file' in v['data']))")" \
    "$(jq -r '[.versions[] | select(.version > 0 and .deleted != true and .status == "complete" and .file) | .file.md5] | join(" ")' "$T/cat.$H.json")"

# --- rsync -a of /files: whole, no dangling link, byte-identical ------------------------------
mkdir -p "$T/backup"
check "rsync -a of /files succeeds" rsync -a "$MNT/files/" "$T/backup/"
check_eq "the backup has no dangling symlink" "" "$(find "$T/backup" -xtype l)"
check_eq "the backup holds every File" "$(py "print(len(s['files']))")" \
    "$(find "$T/backup" -mindepth 1 -maxdepth 1 -type d -name 'file_*' | wc -l)"
py "
for f in s['files']:
    for v in f['versions']:
        if v['version'] > 0 and not v['deleted'] and v['status'] == 'complete':
            for typ, d in v['data'].items():
                print(f['id'], v['version'], typ, d['blob_path'])
" >"$T/versions.txt"
bad=0
while read -r id n typ blob; do
    cmp -s "$T/backup/$id/$n/$typ" "$blob" || { bad=$((bad + 1)); say "differs: $id/$n/$typ"; }
done <"$T/versions.txt"
check_eq "every version's data and signature in the backup equal the emulator's blobs ($(wc -l <"$T/versions.txt"))" 0 "$bad"
check_eq "by-tag links resolve inside the backup" "$T/backup/$STICKER" \
    "$(realpath "$T/backup/by-tag/sticker/$STICKER")"
log_mark
check "a second rsync -a within cache_ttl succeeds" rsync -a "$MNT/files/" "$T/backup/"
check_eq "and sends no request at all" 0 "$(count_requests '*' '*' .)"

# --- file.json: the same bytes whichever answer brought the File, across remounts -------------
N=$(py "print([f['id'] for f in s['files'] if not f['md5_hidden_in_list'] and not f['tags']][0])")
mkdir -p "$T/fj1" "$T/fj2" "$T/fj3"
vrcfs_unmount
vrcfs_mount
log_mark
ls "$MNT/files" >/dev/null # the Files come from the listing, which leaves an md5 of H out
for id in $H $N; do cp "$MNT/files/$id/file.json" "$T/fj1/$id.json"; done
check_eq "a second mount with the same cache_dir: cat of file.json sends no GET /file (md5s kept)" \
    0 "$(count_requests api GET '^/api/1/file/')"
check "file.json carries every md5 the server has, also where the listing left it out" python3 -c "
import json, sys
s = json.load(open('$T/state.json'))
for fid in ('$H', '$N'):
    mine = {v['version']: v for v in json.load(open('$T/fj1/%s.json' % fid))['versions']}
    f = [f for f in s['files'] if f['id'] == fid][0]
    for v in f['versions']:
        for typ, d in v['data'].items():
            if v['version'] > 0 and not v['deleted'] and mine[v['version']][typ].get('md5') != d['md5']:
                sys.exit('%s %d %s' % (fid, v['version'], typ))"
mtime1=$(stat -c %Y "$MNT/files/$H/file.json")
vrcfs_unmount
vrcfs_mount
log_mark
for id in $H $N; do cp "$MNT/files/$id/file.json" "$T/fj2/$id.json"; done # not listed: GET /file
check_eq "after a remount, loaded by GET /file (no listing)" 0 "$(count_requests api GET '^/api/1/files$')"
check "file.json is the same bytes as from the listing before the remount" diff -r "$T/fj1" "$T/fj2"
check_eq "and the same mtime" "$mtime1" "$(stat -c %Y "$MNT/files/$H/file.json")"
vrcfs_unmount
vrcfs_mount -o cache_ttl=0
ls "$MNT/files" >/dev/null # with cache_ttl=0 each stat loads again; the listing leaves md5s out
for id in $H $N; do cp "$MNT/files/$id/file.json" "$T/fj3/$id.json"; done
check "loaded again and again (cache_ttl=0), file.json is the same bytes" diff -r "$T/fj1" "$T/fj3"
vrcfs_unmount
vrcfs_mount
rsync -ai "$MNT/files/" "$T/backup/" >"$T/rsync-again.txt"
check_eq "a remount and rsync -a --itemize-changes again copies no file (size and mtime hold)" "" \
    "$(grep '^>' "$T/rsync-again.txt")"

# --- files made at open report the size of what a read returns: cp copies them whole ---------
ls "$MNT/instances" | grep '\.json$' >"$T/instances.txt"
check "the account has instances to copy" test -s "$T/instances.txt"
check "cp -r of /instances succeeds" cp -r "$MNT/instances" "$T/inst"
check_eq "no instance copies as an empty file" "" "$(find "$T/inst" -name '*.json' -size 0)"
bad=0
while read -r name; do
    cat "$MNT/instances/$name" >"$T/inst.cat"
    cmp -s "$T/inst/$name" "$T/inst.cat" || { bad=$((bad + 1)); say "differs: $name"; }
    [ "$(stat -c %s "$MNT/instances/$name")" = "$(wc -c <"$T/inst.cat")" ] ||
        { bad=$((bad + 1)); say "stat size differs: $name"; }
    python3 -c "import json; json.load(open('$T/inst/$name'))" || bad=$((bad + 1))
done <"$T/instances.txt"
check_eq "each copy is the whole JSON, as cat gives it, and stat says its size ($(wc -l <"$T/instances.txt"))" 0 "$bad"
check "rsync -a of /instances copies them whole too" sh -c "rsync -a '$MNT/instances/' '$T/inst2/' &&
    diff -r '$T/inst' '$T/inst2' >/dev/null"
check "fstat of an open stats.json is the size of what it reads" python3 -c "
import os, sys
fd = os.open('$MNT/.vrcfs/stats.json', os.O_RDONLY)
size = os.fstat(fd).st_size
data = b''
while True:
    b = os.read(fd, 7)  # small reads: the kernel must not stop short nor read past
    if not b:
        break
    data += b
sys.exit(not (size > 100 and len(data) == size))"
# The counters only grow, so what cat reads lies between the sizes stat reports before and after.
s1=$(stat -c %s "$MNT/.vrcfs/stats.json")
n=$(cat "$MNT/.vrcfs/stats.json" | wc -c)
s2=$(stat -c %s "$MNT/.vrcfs/stats.json")
check "stat -c %s of stats.json is what cat reads ($s1 <= $n <= $s2)" test "$s1" -gt 0 -a "$s1" -le "$n" -a "$n" -le "$s2"
check "cp copies stats.json whole" sh -c "cp '$MNT/.vrcfs/stats.json' '$T/stats.json' &&
    python3 -c \"import json; json.load(open('$T/stats.json'))\""

# --- xattrs on each File's directory: the File's name, tags, MIME type, extension ------------
check_eq "getfattr -n user.vrchat.name gives the File's name" "S" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.name "$MNT/files/$STICKER")"
check_eq "user.vrchat.tags" "sticker" "$(getfattr --absolute-names --only-values -n user.vrchat.tags "$MNT/files/$STICKER")"
check_eq "user.vrchat.mimeType" "image/png" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.mimeType "$MNT/files/$STICKER")"
check_eq "user.vrchat.extension" ".png" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.extension "$MNT/files/$STICKER")"
check_eq "listxattr lists the four" \
    "user.vrchat.extension user.vrchat.mimeType user.vrchat.name user.vrchat.tags" \
    "$(getfattr -d -m - --absolute-names "$MNT/files/$STICKER" | sed -n 's/=.*//p' | sort | tr '\n' ' ' | sed 's/ $//')"
ICON2=$(py "print([f['id'] for f in s['files'] if f['name'] == 'Icon 2'][0])")
check_eq "getfattr -d -R finds a File by name (its directory, and its by-tag link)" \
    "$MNT/files/by-tag/icon/$ICON2 $MNT/files/$ICON2" \
    "$(getfattr -d -R --absolute-names "$MNT/files" 2>/dev/null |
        awk '/^# file: /{f=$3} $0=="user.vrchat.name=\"Icon 2\""{print f}' | sort | tr '\n' ' ' | sed 's/ $//')"
check_errno "setting user.vrchat.name is EPERM" "Operation not permitted" \
    setfattr -n user.vrchat.name -v other "$MNT/files/$STICKER"
check "and logs the path and why" grep -q "/files/$STICKER: user.vrchat.name is read-only" "$T/vrcfs.log"
check_errno "another attribute on a File is ENOTSUP" "Operation not supported" \
    setfattr -n user.other -v x "$MNT/files/$STICKER"
check_errno "removing user.vrchat.tags is EPERM" "Operation not permitted" \
    setfattr -x user.vrchat.tags "$MNT/files/$STICKER"
check_eq "the name is unchanged" "S" "$(getfattr --absolute-names --only-values -n user.vrchat.name "$MNT/files/$STICKER")"

# --- allow_other turns default_permissions on: another user gets only what the modes allow ----
vrcfs_unmount
chmod 755 "$T" # the mount point must be reachable for another user
vrcfs_mount -o allow_other
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
account() { # the Files and versions of the account, as one line per version
    emu_state "'\\n'.join('%s %d %s' % (f['id'], v['version'], v['deleted']) for f in s['files'] for v in f['versions'])" | sort
}
account >"$T/before.txt"
check "the account's versions are known" test "$(wc -l <"$T/before.txt")" -gt 40
F=$(py "print([f['id'] for f in s['files'] if not f['tags']][0])")
check "nobody may read what the modes allow" as_nobody cat "$MNT/files/$F/file.json"
check_errno "nobody cannot rm -r a File" "Permission denied" as_nobody rm -rf "$MNT/files/$F"
check_errno "nobody cannot rmdir a File" "Permission denied" as_nobody rmdir "$MNT/files/$F"
check_errno "nobody cannot rmdir a version" "Permission denied" as_nobody rmdir "$MNT/files/$F/1"
check_errno "nobody cannot create a File" "Permission denied" \
    as_nobody sh -c "echo data >'$MNT/files/nobody.png'"
check_errno "nobody cannot write a new version" "Permission denied" \
    as_nobody sh -c "echo data >'$MNT/files/$F/$(ls "$MNT/files/$F" | grep -vE '^(file\.json|latest|[0-9]+)$')'"
check_errno "nobody cannot create an instance" "Permission denied" \
    as_nobody sh -c "echo '{}' >'$MNT/instances/nobody.json'"
account >"$T/after.txt"
check "the account is unchanged" diff "$T/before.txt" "$T/after.txt"

finish
