#!/usr/bin/env bash
# sharedcloud.io (docs/SEMANTICS.md, sharedcloud.io) mounted for real: /instances as JSON files,
# by-name links, create, update, delete, refused input kept and logged, retried faults, and the
# request counts.
. "$(dirname "$0")/lib.sh"

sc_start --instances 2
sc_login >/dev/null || die "login failed"
LIST='^/api/v1/instances/$'
ONE='^/api/v1/instances/[0-9a-f-]+/$'
UNSENT=$T/staging/sharedcloud-unsent


# The instance of the emulator called $1, as the server keeps it: FIELD of it.
server_field() {
    emu_state "[i['$2'] for i in s['instances'] if i['name'] == '$1'][0]"
}
uuid_of() { server_field "$1" uuid; }


# A long cache_ttl: nothing below depends on how long a step takes.
vrcfs_mount -o cache_ttl=3600
I1=$(uuid_of instance1)

# The root has only what the service has.
check_eq "the root lists instances and .vrcfs" ".vrcfs instances" "$(ls -A "$MNT" | sort | tr '\n' ' ' | sed 's/ $//')"

# One listing: one GET of the list, and none per entry, for ls -l, stat and cat alike.
log_mark
ls -l "$MNT/instances" >"$T/ls.out" || die "ls -l /instances failed"
for f in "$MNT"/instances/*.json; do stat "$f" >/dev/null; done
check_eq "ls -l and stat of every entry cost one GET of the list" 1 "$(count_requests api GET "$LIST")"
check_eq "and no GET per instance" 0 "$(count_requests api GET "$ONE")"
check_eq "every instance of the account is listed (3 seeded + 2)" 5 \
    "$(ls "$MNT/instances" | grep -c '\.json$')"
check "another account's instance is not" sh -c "! grep -q '$(uuid_of someone-elses)' '$T/ls.out'"
log_mark
cat "$MNT/instances/$I1.json" >"$T/i1.json"
check_eq "reading a listed instance sends nothing" 0 "$(count_requests api '*' .)"
check "it is JSON with the instance's fields" python3 -c "
import json; d = json.load(open('$T/i1.json'))
assert d['uuid'] == '$I1' and d['name'] == 'instance1' and d['type'] == 'cpu', d
assert d['max_num_parallel_jobs'] == 2 and d['ask_price'] == 0.02, d"
check "pretty, with a final newline" sh -c "head -2 '$T/i1.json' | tail -1 | grep -q '^    \"' && tail -c1 '$T/i1.json' | od -c | grep -q '\\\\n'"
check_eq "its mtime is updated_at" "$(server_field instance1 'updated_at' | cut -d. -f1)" \
    "$(stat -c %Y "$MNT/instances/$I1.json")"
check_eq "its size is what cat reads" "$(wc -c <"$T/i1.json")" "$(stat -c %s "$MNT/instances/$I1.json")"
check_eq "by-name links to it" "../$I1.json" "$(readlink "$MNT/instances/by-name/instance1")"
check "a name with a space is there too" test -L "$MNT/instances/by-name/render farm 3"
check "and reading through the link works" cmp "$T/i1.json" "$MNT/instances/by-name/instance1"
check_errno "an unknown uuid is ENOENT" "No such file" \
    cat "$MNT/instances/00000000-0000-4000-8000-000000000000.json"

# Create: a JSON object written to a new name; name defaults to the file's.
log_mark
write_json "$MNT/instances/new-box.json" '{"ask_price": 0.07, "type": "cpu", "max_num_parallel_jobs": 3}' </dev/null
check_eq "writing a new name created it (one POST)" 1 "$(count_requests api POST "$LIST")"
NEW=$(uuid_of new-box)
check "the server has it, named after the file" test -n "$NEW"
check_eq "with max_num_parallel_jobs sent as a string" '"3"' \
    "$(emu_state "[w['body'] for w in s['writes'] if w['method']=='POST'][-1]" | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['max_num_parallel_jobs']))")"
check_eq "the name is now a link to the instance" "$NEW.json" "$(readlink "$MNT/instances/new-box.json")"
check "the new instance is listed" test -f "$MNT/instances/$NEW.json"
check_eq "and readable, with the price written" "0.07" \
    "$(python3 -c "import json; print(json.load(open('$MNT/instances/new-box.json'))['ask_price'])")"
check_eq "by-name has it" "../$NEW.json" "$(readlink "$MNT/instances/by-name/new-box")"

# Update: exactly the fields written go as a PATCH; the others are kept.
log_mark
write_json "$MNT/instances/$I1.json" '{"ask_price": 0.09}'
check_eq "writing to <uuid>.json sent one PATCH" 1 "$(count_requests api PATCH "$ONE")"
check_eq "of exactly the fields written" "{'ask_price': 0.09}" \
    "$(emu_state "json.loads([w['body'] for w in s['writes'] if w['method']=='PATCH'][-1])")"
check_eq "the price goes as typed, not as 0.089999999999999997" '{"ask_price":0.09}' \
    "$(emu_state "[w['body'] for w in s['writes'] if w['method']=='PATCH'][-1]")"
check_eq "the server has the new price" 0.09 "$(server_field instance1 ask_price)"
check_eq "and kept the other fields" "2 instance1 1" \
    "$(server_field instance1 max_num_parallel_jobs) $(server_field instance1 name) $(server_field instance1 type)"
check_eq "the file shows the new price" 0.09 \
    "$(python3 -c "import json; print(json.load(open('$MNT/instances/$I1.json'))['ask_price'])")"
check "and its mtime moved on from 2018" sh -c "[ \$(stat -c %Y '$MNT/instances/$I1.json') -gt 1600000000 ]"
cp "$MNT/instances/$I1.json" "$T/whole.json"
check "the whole file written back unchanged is accepted" cp "$T/whole.json" "$MNT/instances/$I1.json"

# Refused input: EINVAL, the server's field message in the log, nothing lost.
log_mark
check_errno "a bad ask_price is EINVAL" "Invalid argument" \
    write_json "$MNT/instances/$I1.json" '{"ask_price": "cheap"}'
check "the log names the file and the field's message" \
    grep -q "ask_price: A valid number is required" "$T/vrcfs.log"
check_eq "the price is unchanged" 0.09 "$(server_field instance1 ask_price)"
check "what was written is kept on disk" sh -c "grep -l cheap '$UNSENT'/$I1.*.json"
check "and its path logged" grep -q "kept in $UNSENT/$I1" "$T/vrcfs.log"
check_errno "a create without ask_price is EINVAL" "Invalid argument" \
    write_json "$MNT/instances/no-price.json" '{"type": "cpu"}'
check "the log says ask_price is required" grep -q "ask_price: This field is required" "$T/vrcfs.log"
check "its JSON is kept on disk" sh -c "grep -l '\"cpu\"' '$UNSENT'/no-price.json.*.json"
check "no instance was made" sh -c "! ls '$MNT/instances/by-name' | grep -qx no-price"
check_errno "what is not JSON is EINVAL, nothing sent" "Invalid argument" \
    write_json "$MNT/instances/junk.json" 'not json'
check_errno "a new name without .json is refused" "Operation not permitted" \
    sh -c "echo '{}' >'$MNT/instances/junk'"
check_eq "none of these sent a POST" 1 "$(count_requests api POST "$LIST")"

# Delete.
log_mark
check "rm <uuid>.json deletes the instance" rm "$MNT/instances/$NEW.json"
check_eq "with one DELETE" 1 "$(count_requests api DELETE "$ONE")"
check_eq "the server no longer has it" "" \
    "$(emu_state "[i['uuid'] for i in s['instances'] if i['uuid']=='$NEW']" | tr -d '[]')"
check "it is gone from the listing" sh -c "! ls '$MNT/instances' | grep -q '$NEW'"
check "rm of the created name only drops the link" rm "$MNT/instances/new-box.json"

# Faults: 429 and 503 are retried, within bounds, and the call succeeds.
vrcfs_unmount
vrcfs_mount -o retries=3,cache_ttl=0 # every listing asks
emu_fault "api:503:count=2"
log_mark
check "a listing through two 503s succeeds" ls "$MNT/instances"
check_eq "after three GETs of the list" 3 "$(count_requests api GET "$LIST")"
emu_fault "api:429:count=1,retry_after=1,method=PATCH"
log_mark
check "an update through a 429 succeeds" write_json "$MNT/instances/$I1.json" '{"max_num_parallel_jobs": 4}'
check_eq "after two PATCHes" 2 "$(count_requests api PATCH "$ONE")"
check_eq "the server has it" 4 "$(server_field instance1 max_num_parallel_jobs)"
emu_fault "api:503"
log_mark
check_errno "a listing that stays 503 fails with an error" "Resource temporarily unavailable" \
    ls "$MNT/instances"
check "after a bounded number of tries" sh -c "[ \$(tail -n +$((LOG_MARK + 1)) '$T/requests.log' | wc -l) -le 4 ]"
emu_faults_clear
check "stats.json counts the requests" python3 -c "
import json; d = json.load(open('$MNT/.vrcfs/stats.json')); assert d['requests'], d"

# No token in any log.
check "no token in the mount's log" sh -c "! grep -q demo-token '$T/vrcfs.log'"
vrcfs_unmount
finish
