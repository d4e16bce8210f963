#!/usr/bin/env bash
# Spec conformance: a whole vrcfs workload (login with 2FA, listing, reads, a simple and a
# multipart upload, a new version, deletes, instances, an invite, a close, logout) against the
# emulator, through Prism validating every request and answer against the OpenAPI spec
# (docs/vrchat-api/openapi.yaml). Fails on any request-side Error (vrcfs sends something the spec
# forbids) and on any response-side Error that is not a documented departure of the real API
# (the emulator answers something the real API would not). Data downloads and presigned PUTs do
# not pass Prism (tests/conformance/spec_proxy.py says why).
#   VRCFS=build/vrcfs bash tests/conformance/test_spec.sh      (KEEP=1 keeps the work directory)
source "$(dirname "$0")/../integration/lib.sh"

PRISM=${PRISM:-$ROOT/.deps/prism/node_modules/.bin/prism}
SPEC=$ROOT/docs/vrchat-api/openapi.yaml
SPLIT=$ROOT/tests/conformance/spec_proxy.py
[ -x "$PRISM" ] || die "Prism is not installed at $PRISM (scripts/install-deps installs it)"
PRISM_PID=
SPLIT_PID=
stop_proxies() {
    [ -n "$SPLIT_PID" ] && kill "$SPLIT_PID" 2>/dev/null && wait "$SPLIT_PID" 2>/dev/null
    [ -n "$PRISM_PID" ] && kill "$PRISM_PID" 2>/dev/null && wait "$PRISM_PID" 2>/dev/null
    SPLIT_PID= PRISM_PID=
}
eval "lib_$(declare -f cleanup)" # lib.sh's cleanup, which finish and die call, stops Prism first
cleanup() { stop_proxies; lib_cleanup; }

emu_start --2fa totp --files 4 --versions 2 --size 3000 --multipart-threshold 5M
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PPORT=$(free_port)
"$PRISM" proxy "$SPEC" "$API" -h 127.0.0.1 -p "$PPORT" >"$T/prism.out" 2>&1 &
PRISM_PID=$!
t0=$(date +%s.%N)
for _ in $(seq 1200); do
    curl -s -o /dev/null "http://127.0.0.1:$PPORT/" && break
    kill -0 "$PRISM_PID" 2>/dev/null || die "Prism exited: $(tail -5 "$T/prism.out")"
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$PPORT/" || die "Prism did not listen within 120 s"
say "Prism took $(python3 -c "import time; print(round(time.time() - $t0, 1))") s to load the spec"
python3 "$SPLIT" serve --prism "http://127.0.0.1:$PPORT" --direct "$API" --port-file "$T/split.port" \
    --log "$T/spec.log" &
SPLIT_PID=$!
for _ in $(seq 100); do [ -s "$T/split.port" ] && break; sleep 0.05; done
[ -s "$T/split.port" ] || die "spec_proxy did not start"
EMU_API=$API
API=http://127.0.0.1:$(cat "$T/split.port") # vrcfs talks to the spec through this

# --- login with TOTP -------------------------------------------------------------------------
code=$(emu_ctl GET /totp | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
check "vrcfs login with a TOTP code, through the proxy" env VRCFS_2FA_CODE="$code" bash -c \
    "VRCFS_USERNAME=demo VRCFS_PASSWORD=demo-password '$VRCFS' login -o 'api_url=$API,contact=$CONTACT' </dev/null"
vrcfs_mount -o part_size_mib=5

# --- listing and reads -----------------------------------------------------------------------
check "ls -l /files" ls -l "$MNT/files"
FID=$(ls "$MNT/files" | grep -m1 '^file_')
check "cat file.json" jq -e .id "$MNT/files/$FID/file.json"
check "cp of a version's data" cp "$MNT/files/$FID/latest/file" "$T/read.bin"
check "ls of by-tag" ls "$MNT/files/by-tag/icon"

# --- uploads: a new File (simple), a new version (multipart), deletes ------------------------
head -c 4096 /dev/urandom >"$T/small.png"
head -c $((11 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
check "cp of a new File (simple upload)" cp "$T/small.png" "$MNT/files/conformance.png"
NEW=$(readlink "$MNT/files/conformance.png") # file_…/conformance.png
NEW=${NEW%%/*}
check "the new File has an id" test -n "$NEW"
check "cp of a new version, 11 MiB (multipart upload)" cp "$T/big.bin" "$MNT/files/$NEW/conformance.png"
check "which reads back" cmp "$T/big.bin" "$MNT/files/$NEW/latest/file"
check "rm -r of the newest version" rm -r "$MNT/files/$NEW/2"
check "rm -r of the File" rm -r "$MNT/files/$NEW"

# --- instances: list, read, create, invite, close --------------------------------------------
I=$MNT/instances
check "ls /instances" ls "$I"
LOC=$(ls "$I" | grep -m1 '~hidden(')
LOC=${LOC%.json}
check "cat an instance" jq -e .location "$I/$LOC.json"
check "getfattr of the short names" getfattr -d -m user.vrchat "$I/$LOC.json"
check "invite yourself" setfattr -n user.vrchat.invite -v 1 "$I/$LOC.json"
python3 -c "import sys; open(sys.argv[1], 'w').write(sys.argv[2])" "$I/party.json" \
    "{\"worldId\":\"${LOC%%:*}\",\"type\":\"hidden\",\"region\":\"eu\",\"displayName\":\"party\"}" \
    && PASSED=$((PASSED + 1)) && say "ok: create an instance" \
    || { FAILED=$((FAILED + 1)); say "FAIL: create an instance"; }
sleep 1.2 # the kernel keeps the written name as a file for a second (entry_timeout)
PARTY=$(readlink "$I/party.json")
check "close the new instance" rm "$I/$PARTY"
vrcfs_unmount
check "vrcfs logout" "$VRCFS" logout

# --- what Prism found ------------------------------------------------------------------------
stop_proxies
python3 "$SPLIT" check "$T/spec.log" \
    --require 'GET ^/auth/user$' --require 'POST ^/auth/twofactorauth/totp/verify$' \
    --require 'GET ^/auth$' --require 'GET ^/files$' --require 'POST ^/file$' \
    --require 'POST ^/file/file_[^/]+$' --require 'PUT /file/start$' --require 'PUT /signature/start$' \
    --require 'PUT /file/finish$' --require 'PUT /signature/finish$' \
    --require 'DELETE ^/file/file_[^/]+/[0-9]+$' --require 'DELETE ^/file/file_[^/]+$' \
    --require 'GET ^/instances/recent$' --require 'GET ^/instances/wrld_' \
    --require 'POST ^/instances$' --require 'POST ^/invite/myself/to/' --require 'DELETE ^/instances/wrld_' \
    --require 'PUT ^/logout$' | tee "$T/check.txt" | sed "s/^/$TEST_NAME: /"
check_eq "no request-side Error and no response-side Error the emulator brings in" 0 "${PIPESTATUS[0]}"
direct=$(python3 -c "import json; print(sum(1 for l in open('$T/spec.log') if json.loads(l)['via'] == 'direct'))")
check "the data downloads went around Prism" test "$direct" -gt 0
finish
