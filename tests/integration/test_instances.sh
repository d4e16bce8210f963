#!/usr/bin/env bash
# /instances (docs/SEMANTICS.md, The tree and Writing) with ordinary tools against a real mount: the
# listing and its request cost, reading any location, short-name links, the user.vrchat.*
# attributes, creating an instance by writing JSON, closing by rm, and every error case with what it
# sends.
. "$(dirname "$0")/lib.sh"

emu_start
vrcfs_login >/dev/null || die "login failed"
inst() { # LOCATION FIELD: a field of an instance in the emulator's state
    state
    py "print([i for i in s['instances'] if i['location']=='$1'][0]['$2'])"
}
# Requests since log_mark whose method, path and query match, with the query kept.
count_query() { # METHOD PATH_REGEX QUERY_REGEX
    log_since_mark | python3 -c "
import json, re, sys
print(sum(1 for l in sys.stdin for r in [json.loads(l)]
          if r['host'] == 'api' and r['method'] == '$1' and re.search(r'''$2''', r['path'])
          and re.search(r'''$3''', r.get('query', ''))))"
}

# The seeded account (emulator gen_worlds): demo stands in a public instance of someone else's
# world, owns a hidden one with a shortName, and has visited someone else's private one, which
# has no shortName. All three are demo's recent locations.
state
ME=$(py "print([u['id'] for u in s['users'] if u['username']=='demo'][0])")
PUB=$(py "print([i['location'] for i in s['instances'] if i['type']=='public'][0])")
HID=$(py "print([i['location'] for i in s['instances'] if i['type']=='hidden'][0])")
PRIV=$(py "print([i['location'] for i in s['instances'] if i['type']=='private'][0])")
PUB_SHORT=$(inst "$PUB" shortName)
PUB_SECURE=$(inst "$PUB" secureName)
HID_SHORT=$(inst "$HID" shortName)
HID_SECURE=$(inst "$HID" secureName)
HID_WORLD=$(inst "$HID" worldId)
if [ -z "$PUB" ] || [ -z "$HID" ] || [ -z "$PRIV" ] || [ "$(inst "$PRIV" shortName)" != None ]; then
    die "the emulator's seeded instances are not what this test expects"
fi
# An instance that exists but is not among the user's locations (made by another client).
OTHER=$(api_as_user POST /instances \
    "{\"worldId\":\"$HID_WORLD\",\"type\":\"hidden\",\"region\":\"jp\",\"ownerId\":\"$ME\"}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['location'])")
[ -n "$OTHER" ] || die "could not create an unlisted instance"
UNKNOWN="$HID_WORLD:99999~region(us)" # a valid location of a known world, no such instance

vrcfs_mount -o rate=6000
I=$MNT/instances

# --- the listing and its cost ---------------------------------------------------------------
log_mark
ls -l "$I" >"$T/ls1.txt" 2>"$T/ls1.err"
# The second ls -l runs straight away, well within the five seconds, however slowly the checks
# below run on this machine; each is counted in its own part of the log.
first=$LOG_MARK
log_mark
LOG_END=$LOG_MARK
ls -l "$I" >"$T/ls2.txt"
second=$LOG_MARK
LOG_MARK=$first
check_eq "cold ls -l /instances: one GET /auth/user (presence)" 1 \
    "$(count_requests api GET '^/api/1/auth/user$')"
check_eq "cold ls -l /instances: one GET /instances/recent" 1 \
    "$(count_query GET '^/api/1/instances/recent$' 'n=100')"
check_eq "cold ls -l /instances: one GET per entry, for its size" 3 \
    "$(count_requests api GET '^/api/1/instances/wrld_')"
check_eq "cold ls -l /instances: nothing else" 5 "$(count_requests api '*' .)"
check_eq "ls -l printed no errors" "" "$(cat "$T/ls1.err")"
LOG_MARK=$second
unset LOG_END
check_eq "a second ls -l within five seconds sends nothing" 0 "$(count_requests api '*' .)"
check "and lists the same" cmp "$T/ls1.txt" "$T/ls2.txt"
sleep 5.2 # past vrcfs's cache: stat asks for the size of what a read would return now
stat "$I/$PUB.json" "$I/$HID.json" "$I/$PRIV.json" >/dev/null
check_eq "stat of stale entries sends one GET each" 3 "$(count_requests api '*' .)"
ls "$I" >"$T/names.txt"
check "the current location is listed" grep -qxF "$PUB.json" "$T/names.txt"
check "a recent location is listed" grep -qxF "$HID.json" "$T/names.txt"
check "another recent location is listed" grep -qxF "$PRIV.json" "$T/names.txt"
check "the short-name directory is listed" grep -qx s "$T/names.txt"
check_eq "exactly the user's three locations" 3 "$(grep -c '\.json$' "$T/names.txt")"
check "an instance made elsewhere is not listed" bash -c "! grep -qF '$OTHER' '$T/names.txt'"
check_eq "instance files are 0444" 444 "$(stat -c %a "$I/$HID.json")"
check_eq "directories are 0755" "755 755" "$(stat -c %a "$I" "$I/s" | xargs)"
check_eq "instance JSON shows the size of what a read returns" "$(wc -c <"$I/$PRIV.json")" \
    "$(stat -c %s "$I/$PRIV.json")"
sleep 5.2 # the copies go stale again

# --- reading --------------------------------------------------------------------------------
log_mark
check_eq "cat gives the Instance" "$HID" "$(jq -r .location <"$I/$HID.json")"
check_eq "reading a listed instance costs one GET" 1 \
    "$(count_requests api GET '^/api/1/instances/wrld_.*~hidden\(')"
check_eq "the location goes into the URL raw" 1 \
    "$(count_requests api GET "^/api/1/instances/$(printf '%s' "$HID" | sed 's/[][().~-]/\\&/g')\$")"
check "it is pretty JSON" test "$(wc -l <"$I/$HID.json")" -gt 20
check "it is the whole Instance (world included)" \
    bash -c "jq -e '.world.id == \"$HID_WORLD\" and .secureName == \"$HID_SECURE\"' '$I/$HID.json'"
check "python's json module reads it too" python3 -m json.tool "$I/$PUB.json"
check_eq "any valid location can be read by name, listed or not" "$OTHER" \
    "$(jq -r .location <"$I/$OTHER.json")"
log_mark
check_errno "an unknown instance of a known world (literal null) is ENOENT" \
    "No such file or directory" cat "$I/$UNKNOWN.json"
check_eq "... after exactly one GET, answered null" 1 \
    "$(count_requests api GET '^/api/1/instances/wrld_.*:99999')"
check_errno "a valid location of an unknown world (404) is ENOENT" "No such file or directory" \
    cat "$I/wrld_00000000-0000-0000-0000-000000000000:1.json"
log_mark
check_errno "a malformed location is ENOENT" "No such file or directory" \
    cat "$I/$HID_WORLD:12345~region(mars).json"
check_errno "a sentinel is ENOENT" "No such file or directory" cat "$I/offline.json"
check_errno "a repeated token is ENOENT" "No such file or directory" \
    cat "$I/$HID_WORLD:1~region(us)~region(us).json"
check_errno "a name without .json is ENOENT" "No such file or directory" cat "$I/$HID"
check_eq "malformed names send no request" 0 "$(count_requests api '*' .)"

# --- short names ----------------------------------------------------------------------------
check_eq "s/<shortName> links to the instance" "../$PUB.json" "$(readlink "$I/s/$PUB_SHORT")"
check_eq "s/<secureName> links to it too" "../$PUB.json" "$(readlink "$I/s/$PUB_SECURE")"
check_eq "cat through the link gives the Instance" "$PUB" "$(jq -r .location <"$I/s/$PUB_SHORT")"
check "resolved names show in ls s/" bash -c "ls '$I/s' | grep -qxF '$PUB_SHORT'"
check_errno "an unknown short name is ENOENT" "No such file or directory" stat "$I/s/zzzzzzzz"
log_mark
check_errno "a short name that cannot be one is ENOENT" "No such file or directory" \
    stat "$I/s/a.b"
check_eq "... without a request" 0 "$(count_requests api '*' .)"

# --- extended attributes --------------------------------------------------------------------
check_eq "listxattr shows the four attributes" \
    "user.vrchat.close user.vrchat.invite user.vrchat.secureName user.vrchat.shortName" \
    "$(python3 -c "import os,sys; print(' '.join(sorted(os.listxattr(sys.argv[1]))))" "$I/$HID.json")"
check_eq "user.vrchat.shortName" "$HID_SHORT" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.shortName "$I/$HID.json")"
check_eq "user.vrchat.secureName" "$HID_SECURE" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.secureName "$I/$HID.json")"
check_errno "no shortName is ENODATA" "No such attribute" \
    getfattr --absolute-names -n user.vrchat.shortName "$I/$PRIV.json"
check_eq "... while its secureName is there" "$(inst "$PRIV" secureName)" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.secureName "$I/$PRIV.json")"
check_errno "other attributes are ENODATA" "No such attribute" \
    getfattr --absolute-names -n user.vrchat.nope "$I/$HID.json"
check_errno "shortName cannot be set" "Operation not permitted" \
    setfattr -n user.vrchat.shortName -v x "$I/$HID.json"
check_errno "unknown attributes cannot be set" "Operation not supported" \
    setfattr -n user.foo -v x "$I/$HID.json"
log_mark
check "setting user.vrchat.invite invites you" setfattr -n user.vrchat.invite -v 1 "$I/$PUB.json"
check_eq "... with one POST /invite/myself/to/<location>" 1 \
    "$(count_requests api POST '^/api/1/invite/myself/to/wrld_.*~region\(us\)$')"

log_mark
check_errno "a bad close value is EINVAL" "Invalid argument" \
    setfattr -n user.vrchat.close -v tomorrow "$I/$OTHER.json"
check_errno "an impossible date is EINVAL" "Invalid argument" \
    setfattr -n user.vrchat.close -v 2031-02-30T00:00:00Z "$I/$OTHER.json"
check_eq "... and nothing is sent" 0 "$(count_requests api DELETE .)"
check "close at an ISO 8601 time" \
    setfattr -n user.vrchat.close -v 2031-01-02T03:04:05+01:00 "$I/$OTHER.json"
check_eq "... sends DELETE with closedAt" 1 \
    "$(count_query DELETE '^/api/1/instances/wrld_' 'hardClose=false&closedAt=2031-01-02T03(%3A|:)04(%3A|:)05(%2B|\+)01(%3A|:)00')"
check_eq "... which the server took" 2031-01-02T02:04:05.000Z "$(inst "$OTHER" closedAt)"
check_eq "... and the file shows at once" 2031-01-02T02:04:05.000Z \
    "$(jq -r .closedAt <"$I/$OTHER.json")"
check_errno "closing an instance you do not own is EACCES" "Permission denied" \
    setfattr -n user.vrchat.close -v hard "$I/$PRIV.json"

# --- creating an instance -------------------------------------------------------------------
REQ="{\"worldId\":\"$HID_WORLD\",\"type\":\"hidden\",\"region\":\"eu\",\"displayName\":\"party\"}"
log_mark
check "writing a CreateInstanceRequest to party.json succeeds" write_json "$I/party.json" "$REQ"
check_eq "... with one POST /instances" 1 "$(count_requests api POST '^/api/1/instances$')"
state
NEW=$(py "print([i['location'] for i in s['instances'] if i.get('displayName')=='party'][0])")
check "... which made a hidden instance owned by you (ownerId filled in)" \
    test "$(inst "$NEW" ownerId)" = "$ME" -a "$(inst "$NEW" type)" = hidden
# Right after close(), with no wait: the kernel was told before close() returned.
check "party.json is a symlink at once" test -L "$I/party.json"
check_eq "party.json is now a symlink to the new location" "$NEW.json" "$(readlink "$I/party.json")"
check_eq "cat party.json gives the new Instance" "$NEW" "$(jq -r .location <"$I/party.json")"
log_mark
check "setfattr invite works on it at once" setfattr -n user.vrchat.invite -v 1 "$I/party.json"
check_eq "... with one invite" 1 "$(count_requests api POST "^/api/1/invite/myself/to/")"
check "create, then cat and setfattr at once, in one shell" sh -c "
    printf '%s' '${REQ/party/third}' > '$I/third.json' && [ -L '$I/third.json' ] &&
    cat '$I/third.json' >/dev/null && setfattr -n user.vrchat.invite -v 1 '$I/third.json'"
ls "$I" >"$T/names2.txt"
check "the new location is listed" grep -qxF "$NEW.json" "$T/names2.txt"
check "party.json is listed" grep -qx party.json "$T/names2.txt"
check_eq "its xattrs work through the link" "$(inst "$NEW" secureName)" \
    "$(getfattr --absolute-names --only-values -n user.vrchat.secureName "$I/party.json")"
check_errno "a second write to the same name is refused" "Permission denied" \
    write_json "$I/party.json" "$REQ"
check_errno "creating it again with O_EXCL is EEXIST" "File exists" \
    python3 -c "import os; os.open('$I/party.json', os.O_CREAT | os.O_EXCL | os.O_WRONLY)"

log_mark
check_errno "JSON that does not parse fails close() with EINVAL" "Invalid argument" \
    write_json "$I/broken.json" '{"worldId": '
check_errno "a request without a region fails with EINVAL" "Invalid argument" \
    write_json "$I/noregion.json" "{\"worldId\":\"$HID_WORLD\",\"type\":\"public\"}"
check_errno "cp of a bad request fails too" "Invalid argument" \
    bash -c "echo '[1,2]' >'$T/bad.json' && cp '$T/bad.json' '$I/copied.json'"
check_errno "touch (nothing written) fails with EINVAL" "Invalid argument" touch "$I/empty.json"
check_eq "... and nothing was sent for any of them" 0 "$(count_requests api POST .)"
check "the refusal is logged" grep -q "broken.json is not a CreateInstanceRequest" "$T/vrcfs.log"
check "the reason is logged" grep -q "noregion.json is not a CreateInstanceRequest.*region" \
    "$T/vrcfs.log"
sleep 1.1
check_errno "a refused name does not stay" "No such file or directory" stat "$I/broken.json"

log_mark
check_errno "a request the server refuses fails close() with EINVAL" "Invalid argument" \
    write_json "$I/refused.json" \
    "{\"worldId\":\"$HID_WORLD\",\"type\":\"public\",\"region\":\"us\",\"ownerId\":\"$ME\"}"
check_eq "... after one POST" 1 "$(count_requests api POST '^/api/1/instances$')"
check "... with the server's message in the log" grep -q "ownerId must be null" "$T/vrcfs.log"
check_errno "an unknown world (404) is ENOENT, as the errno table says" "No such file or directory" \
    write_json "$I/noworld.json" \
    '{"worldId":"wrld_00000000-0000-0000-0000-000000000000","type":"public","region":"us"}'
check_errno "only *.json names can be created" "Operation not permitted" touch "$I/notes.txt"
check_errno "a location's file cannot be written" "Permission denied" \
    bash -c "echo '{}' >'$I/$HID.json'"
check_errno "nor created" "Permission denied" bash -c "echo '{}' >'$I/$UNKNOWN.json'"
check_errno "mkdir is refused" "Operation not permitted" mkdir "$I/dir"

# --- closing by rm --------------------------------------------------------------------------
log_mark
check_errno "rm of an instance you do not own is EACCES" "Permission denied" rm "$I/$PRIV.json"
check_eq "... which stays open" None "$(inst "$PRIV" closedAt)"
check "rm of your instance closes it" rm "$I/$NEW.json"
check_eq "... with DELETE hardClose=false and no closedAt" 1 \
    "$(count_query DELETE '^/api/1/instances/wrld_.*~hidden\(' '^hardClose=false$')"
check "... now" test "$(inst "$NEW" closedAt)" != None
check "... it leaves the listing" bash -c "! ls '$I' | grep -qxF '$NEW.json'"
check_eq "... and can still be read by name" "$NEW" "$(jq -r .location <"$I/$NEW.json")"
check_errno "closing it again is EACCES (already closed)" "Permission denied" \
    setfattr -n user.vrchat.close -v soft "$I/$NEW.json"
log_mark
check "rm of a created name removes only the link" rm "$I/party.json"
check_errno "... it is gone" "No such file or directory" stat "$I/party.json"
check_eq "... and nothing was sent" 0 "$(count_requests api '*' .)"
check "close hard" setfattr -n user.vrchat.close -v hard "$I/$HID.json"
check_eq "... is hardClose=true" True "$(inst "$HID" hardClose)"

# --- many readers at once -------------------------------------------------------------------
parallel_reader() {
    for _ in $(seq 20); do
        ls -l "$I" >/dev/null && jq -e .id "$I/$PUB.json" >/dev/null &&
            jq -e .id "$I/s/$PUB_SHORT" >/dev/null &&
            getfattr --absolute-names -n user.vrchat.secureName "$I/$PRIV.json" >/dev/null &&
            ! cat "$I/$UNKNOWN.json" 2>/dev/null || return 1
    done
}
pids=()
for _ in $(seq 8); do
    parallel_reader &
    pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "8 parallel readers, 20 rounds each, all succeed" 0 "$bad"

# --- errors from the server -----------------------------------------------------------------
# Each source of the listing that fails is left out with a log line; the others stay.
write_json "$I/kept.json" "${REQ/party/kept}" || say "could not create kept.json"
state
KEPT=$(py "print([i['location'] for i in s['instances'] if i.get('displayName')=='kept'][0])")
emu_fault "api:500:match=^/api/1/instances/recent,count=20"
sleep 5.2 # the listing is fresh for at most five seconds
ls "$I" >"$T/names-norecent.txt"
check_eq "a failing GET /instances/recent still lists" 0 $?
check "... where you are" grep -qxF "$PUB.json" "$T/names-norecent.txt"
check "... and what was created here" grep -qxF "$KEPT.json" "$T/names-norecent.txt"
check "... but not the recent ones" sh -c "! grep -qxF '$PRIV.json' '$T/names-norecent.txt'"
check "... and says why in the log" grep -q "leaves out the recent instances" "$T/vrcfs.log"
emu_faults_clear
# VRChat's own "not implemented" 404 (error is a string) on recent.
printf '%s' '{"error":"not implemented","status_code":404}' >"$T/not-implemented.json"
emu_fault "api:respond:match=^/api/1/instances/recent,status=404,body_file=$T/not-implemented.json"
sleep 5.2
ls "$I" >"$T/names-404.txt"
check_eq "recent answering the real 'not implemented' 404 still lists" 0 $?
check "... where you are" grep -qxF "$PUB.json" "$T/names-404.txt"
check "... and what was created here" grep -qxF "$KEPT.json" "$T/names-404.txt"
emu_faults_clear
emu_fault "api:500:match=^/api/1/auth/user,count=20"
sleep 5.2
ls "$I" >"$T/names-nouser.txt"
check_eq "a failing GET /auth/user still lists" 0 $?
check "... the recent ones" grep -qxF "$PRIV.json" "$T/names-nouser.txt"
check "... and says why in the log" grep -q "leaves out where you are" "$T/vrcfs.log"
emu_faults_clear
sleep 5.2
check "and all of it is back once the server works" \
    bash -c "ls '$I' | grep -qxF '$PRIV.json' && ls '$I' | grep -qxF '$PUB.json'"

# --- created names last until unmount -------------------------------------------------------
write_json "$I/second.json" "${REQ/party/second}" || say "could not create second.json"
check "a created name is a symlink" test -L "$I/second.json"
vrcfs_unmount || say "vrcfs exited non-zero"
vrcfs_mount -o rate=6000
check_errno "after a remount it is gone" "No such file or directory" stat "$I/second.json"
check "and it works after the remount" test -r "$I/$PUB.json"

# --- cache_ttl=0: nothing is kept, everything still works -----------------------------------
vrcfs_unmount || say "vrcfs exited non-zero"
vrcfs_mount -o rate=6000,cache_ttl=0
log_mark
check_eq "cache_ttl=0: cat works" "$PUB" "$(jq -r .location <"$I/$PUB.json")"
check_eq "cache_ttl=0: an unlisted instance works" "$OTHER" "$(jq -r .location <"$I/$OTHER.json")"
check "cache_ttl=0: ls works" bash -c "ls '$I' | grep -qxF '$PUB.json'"
ls "$I" >/dev/null
check_eq "cache_ttl=0: each listing asks again" 2 \
    "$(count_query GET '^/api/1/instances/recent$' .)"

finish
