# Shared harness of the integration tests: a private emulator, a session, a real FUSE mount,
# and plain assertions. Source it from a test script; call finish at the end.
#
#   emu_start [emulator flags]     start scripts/vrchat-emulator; sets API, CTL, T (work dir)
#   sc_start [emulator flags]      start scripts/sharedcloud-emulator instead; sets SC_ORIGIN, CTL
#   sc_login [token]               vrcfs login -o service=sharedcloud (token default demo-token)
#   vrcfs_login [user] [password]  log in (XDG_CONFIG_HOME under $T)
#   api_as_user METHOD PATH [JSON] an API call with that session, as another client would
#   vrcfs_mount [-o opts]          mount at $MNT in the foreground process $VRCFS_PID; fails loudly
#   vrcfs_unmount                  unmount and wait for the process to end
#   emu_mounted [emulator flags]   emu_start, vrcfs_login and vrcfs_mount in one
#   state; py EXPR                 save the emulator's state; run python over it as `s`
#   write_json PATH TEXT           one open, write and close; prints the errno text of a failure
#   wait_until SECONDS CMD...      poll CMD every 0.1 s until it succeeds (1 when it never does)
#   emu_ctl METHOD PATH [JSON]     call the emulator's /_emulator control API
#   emu_fault SPEC / emu_faults_clear
#   blob_path FILE_ID N [TYPE]     where the emulator keeps a version's data
#   count_requests HOST METHOD PATH_REGEX   requests in the emulator's log since log_mark
#   check DESC CMD...              runs CMD; counts a pass or a fail
#   check_eq DESC WANT GOT
#   check_errno DESC ERRNO_NAME CMD...      CMD must fail with that error text
#   finish                         prints "N passed, N failed" and exits non-zero on failures
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VRCFS=$(realpath "${VRCFS:-$ROOT/build/vrcfs}")
EMULATOR=$ROOT/scripts/vrchat-emulator
T=$(mktemp -d "${TMPDIR:-/tmp}/vrcfs-test.XXXXXX")
MNT=$T/mnt
export XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache
CONTACT=tests@vrcfs.invalid
PASSED=0
FAILED=0
EMU_PID=
VRCFS_PID=
TEST_NAME=$(basename "$0" .sh)
mkdir -p "$MNT"

say() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

die() {
    say "FATAL: $*"
    [ -f "$T/vrcfs.log" ] && tail -20 "$T/vrcfs.log" | sed 's/^/  vrcfs.log: /'
    FAILED=$((FAILED + 1))
    finish
}

cleanup() {
    if [ -n "$VRCFS_PID" ]; then
        fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
        kill "$VRCFS_PID" 2>/dev/null
        wait "$VRCFS_PID" 2>/dev/null
    fi
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else say "kept $T"; fi
}
trap cleanup EXIT

emu_start() {
    "$EMULATOR" --port 0 --port-file "$T/port" --log "$T/requests.log" --blob-dir "$T/blobs" \
        --quiet "$@" >"$T/emulator.out" 2>&1 &
    EMU_PID=$!
    for _ in $(seq 200); do
        [ -s "$T/port" ] && break
        kill -0 "$EMU_PID" 2>/dev/null || die "the emulator did not start: $(cat "$T/emulator.out")"
        sleep 0.05
    done
    [ -s "$T/port" ] || die "the emulator did not listen within 10 s"
    PORT=$(cat "$T/port")
    API=http://127.0.0.1:$PORT/api/1
    CTL=http://127.0.0.1:$PORT/_emulator
}

vrcfs_login() {
    VRCFS_USERNAME=${1:-demo} VRCFS_PASSWORD=${2:-demo-password} \
        "$VRCFS" login -o "api_url=$API,contact=$CONTACT" </dev/null 2>&1 | tee -a "$T/login.out"
    return "${PIPESTATUS[0]}"
}

api_as_user() { # METHOD PATH [JSON]: one API call with the current session's cookie, as another client
    local auth
    auth=$(python3 -c "import json; print(json.load(open('$XDG_CONFIG_HOME/vrcfs/session.json'))['auth'])")
    curl -sS -X "$1" -A "othertool/1.0 tests@vrcfs.invalid" -b "auth=$auth" \
        ${3:+-H 'Content-Type: application/json' --data "$3"} "$API$2"
}

vrcfs_mount() {
    # Tests run many operations back to back: pace them at 100/s, not VRChat's 1/s.
    local opts="contact=$CONTACT,cache_dir=$T/staging,rate=6000"
    if [ "${1:-}" = -o ]; then opts="$opts,$2"; fi
    "$VRCFS" -f -o "$opts" "$MNT" >>"$T/vrcfs.log" 2>&1 &
    VRCFS_PID=$!
    for _ in $(seq 200); do
        mountpoint -q "$MNT" && return 0
        kill -0 "$VRCFS_PID" 2>/dev/null || die "vrcfs exited before mounting"
        sleep 0.05
    done
    die "the mount did not appear within 10 s"
}

# write_json PATH TEXT: one open, one write, one close, printing the error of any, as an editor's
# save would (bash itself ignores the close() of a redirection, where vrcfs sends the request).
write_json() {
    python3 -c '
import sys
try:
    with open(sys.argv[1], "wb") as f:
        f.write(sys.argv[2].encode())
except OSError as e:
    print(e.strerror)
    sys.exit(1)' "$1" "$2"
}

vrcfs_unmount() {
    fusermount3 -u "$MNT" || die "fusermount3 -u failed"
    wait "$VRCFS_PID"
    local rc=$?
    VRCFS_PID=
    return $rc
}

emu_mounted() {
    emu_start "$@"
    vrcfs_login >/dev/null || die "login failed"
    vrcfs_mount
}

emu_ctl() {
    curl -sS -X "$1" ${3:+-H 'Content-Type: application/json' --data "$3"} "$CTL${2}"
}

emu_fault() { emu_ctl POST /faults "{\"spec\":\"$1\"}" >/dev/null; }
emu_faults_clear() { emu_ctl DELETE /faults >/dev/null; }

# Prints one field of the emulator's state with a python expression over `s`.
emu_state() {
    emu_ctl GET /state | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

state() { emu_ctl GET /state >"$T/state.json"; }
py() { python3 -c "import json; s=json.load(open('$T/state.json')); $1"; }

blob_path() {
    emu_state "[d['data']['${3:-file}']['blob_path'] for f in s['files'] if f['id']=='$1' for d in f['versions'] if d['version']==$2][0]"
}

wait_until() { # SECONDS CMD...: polls CMD every 0.1 s until it succeeds
    local n=$(($1 * 10))
    shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

log_mark() { LOG_MARK=$(wc -l <"$T/requests.log"); }
LOG_MARK=0
# The requests logged since the mark, up to line LOG_END when it is set (to count what one
# command sent after later commands ran).
log_since_mark() { sed -n "$((LOG_MARK + 1)),${LOG_END:-\$}p" "$T/requests.log"; }

count_requests() {
    log_since_mark | python3 -c "
import json, re, sys
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if r['host'] == '$1' and ('$2' == '*' or r['method'] == '$2') and re.search(r'''$3''', r['path']):
        n += 1
print(n)"
}

check() {
    local desc=$1
    shift
    if "$@" >>"$T/check.out" 2>&1; then
        PASSED=$((PASSED + 1))
        say "ok: $desc"
    else
        FAILED=$((FAILED + 1))
        say "FAIL: $desc (command: $*)"
    fi
}

check_eq() {
    if [ "$2" = "$3" ]; then
        PASSED=$((PASSED + 1))
        say "ok: $1"
    else
        FAILED=$((FAILED + 1))
        say "FAIL: $1 (want '$2', got '$3')"
    fi
}

# check_errno DESC "No such file or directory" CMD...: CMD must fail and say that.
check_errno() {
    local desc=$1 want=$2
    shift 2
    local out
    if out=$("$@" 2>&1); then
        FAILED=$((FAILED + 1))
        say "FAIL: $desc (succeeded, wanted '$want')"
    elif printf '%s' "$out" | grep -q "$want"; then
        PASSED=$((PASSED + 1))
        say "ok: $desc"
    else
        FAILED=$((FAILED + 1))
        say "FAIL: $desc (wanted '$want', got '$out')"
    fi
}

finish() {
    trap - EXIT
    if [ -n "$VRCFS_PID" ]; then
        fusermount3 -u "$MNT" 2>/dev/null
        wait "$VRCFS_PID" 2>/dev/null
        VRCFS_PID=
    fi
    # Under the sanitizer build, a report in any vrcfs log is a failure of this test.
    if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log "$T"/*.out >/dev/null 2>&1; then
        FAILED=$((FAILED + 1))
        say "FAIL: sanitizer report in $(grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log "$T"/*.out | tr '\n' ' ')"
    fi
    cleanup
    echo "$TEST_NAME: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}

# sharedcloud.io (docs/SEMANTICS.md, sharedcloud.io): the same log, control endpoints and checks
# as the VRChat emulator.
sc_start() {
    "$ROOT/scripts/sharedcloud-emulator" --port 0 --port-file "$T/port" --log "$T/requests.log" \
        --quiet "$@" >"$T/emulator.out" 2>&1 &
    EMU_PID=$!
    for _ in $(seq 200); do
        [ -s "$T/port" ] && break
        kill -0 "$EMU_PID" 2>/dev/null || die "the emulator did not start: $(cat "$T/emulator.out")"
        sleep 0.05
    done
    [ -s "$T/port" ] || die "the emulator did not listen within 10 s"
    PORT=$(cat "$T/port")
    SC_ORIGIN=http://127.0.0.1:$PORT
    CTL=$SC_ORIGIN/_emulator
    touch "$T/requests.log"
}

sc_login() {
    VRCFS_TOKEN=${1-demo-token} setsid "$VRCFS" login \
        -o "service=sharedcloud,api_url=$SC_ORIGIN,contact=$CONTACT" </dev/null 2>&1 | tee -a "$T/login.out"
    return "${PIPESTATUS[0]}"
}
