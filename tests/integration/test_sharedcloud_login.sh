#!/usr/bin/env bash
# sharedcloud.io (docs/SEMANTICS.md, sharedcloud.io): login with a token, the session file, the
# check before a mount, logout, retries of the check, and the token kept out of every log.
. "$(dirname "$0")/lib.sh"

sc_start
SESSION=$XDG_CONFIG_HOME/vrcfs/session.json
LIST='^/api/v1/instances/$'

# A wrong token: one clear line, exit 1, one request, nothing saved.
log_mark
VRCFS_TOKEN=wrong-token setsid "$VRCFS" login -o "service=sharedcloud,api_url=$SC_ORIGIN" \
    </dev/null >"$T/bad.out" 2>&1
check_eq "a wrong token exits 1" 1 $?
check_eq "and says so in one line, in the server's words" "vrcfs: login refused: Invalid token." \
    "$(cat "$T/bad.out")"
check_eq "after one GET of the list" 1 "$(count_requests api GET "$LIST")"
check_eq "and no other request" 1 "$(count_requests api '*' .)"
check "and no session is saved" test ! -e "$SESSION"

# No token at all, or one that cannot go into a header: refused before any request.
log_mark
check_errno "no token says how to give one" "a token is required (or set VRCFS_TOKEN)" sc_login ""
check_errno "a token with a line break is refused" "not a token" sc_login $'demo-token\r\nX-Evil: 1'
check_eq "neither sent a request" 0 "$(count_requests api '*' .)"

# The right token, with the origin written with a trailing slash.
log_mark
VRCFS_TOKEN=demo-token setsid "$VRCFS" login -o "service=sharedcloud,api_url=$SC_ORIGIN/" \
    </dev/null >"$T/good.out" 2>&1
check_eq "login with demo-token succeeds" 0 $?
check "it says where the session went" grep -q "Logged in to sharedcloud at $SC_ORIGIN; session saved in $SESSION" "$T/good.out"
check_eq "with one GET of the list" 1 "$(count_requests api GET "$LIST")"
check "which carried the Authorization header" \
    sh -c "tail -n 1 '$T/requests.log' | grep -q '\"authorization\": true'"
check "and vrcfs's User-Agent" sh -c "tail -n 1 '$T/requests.log' | grep -q '\"ua\": \"vrcfs/'"
check_eq "the session file is 0600" 600 "$(stat -c %a "$SESSION")"
check_eq "its directory is 0700" 700 "$(stat -c %a "$(dirname "$SESSION")")"
check_eq "it holds the service, the origin without the slash, and the token" \
    "sharedcloud $SC_ORIGIN demo-token" \
    "$(python3 -c "import json; s=json.load(open('$SESSION')); print(s['service'], s['api_url'], s['token'])")"

# A transient failure of the check is retried, a bounded number of times.
emu_fault "api:503:count=2"
log_mark
check "a login through two 503s succeeds" sc_login
check_eq "after three GETs of the list" 3 "$(count_requests api GET "$LIST")"
emu_fault "api:429:count=1,retry_after=1"
log_mark
check "a login through a 429 succeeds" sc_login
check_eq "after two GETs of the list" 2 "$(count_requests api GET "$LIST")"
emu_faults_clear

# The check before a mount: a session for another service or origin is refused without a
# request; a revoked token with one GET, and nothing is mounted.
log_mark
check_errno "a mount as vrchat of a sharedcloud session is refused" \
    "the session is for sharedcloud, not vrchat; run vrcfs login -o service=vrchat" \
    "$VRCFS" -f -o service=vrchat "$MNT"
check_errno "a mount with another origin is refused" "run vrcfs login -o api_url=http://127.0.0.1:9" \
    "$VRCFS" -f -o service=sharedcloud,api_url=http://127.0.0.1:9 "$MNT"
check_eq "neither sent a request" 0 "$(count_requests api '*' .)"
emu_ctl POST /revoke '{"token":"demo-token"}' >/dev/null
log_mark
check_errno "a revoked token is refused before mounting" \
    "the session has expired or was logged out (Invalid token.); run vrcfs login -o service=sharedcloud" \
    "$VRCFS" -f -o "service=sharedcloud,contact=$CONTACT" "$MNT"
check_eq "after one GET of the list" 1 "$(count_requests api GET "$LIST")"
check "and nothing was mounted" sh -c "! mountpoint -q '$MNT'"

# Logout forgets the token; sharedcloud.io has no logout endpoint, so no request is made.
log_mark
check "logout succeeds" "$VRCFS" logout
check "the session file is gone" test ! -e "$SESSION"
check_eq "without a request" 0 "$(count_requests api '*' .)"

# An unreachable origin says so.
check_errno "an unreachable origin says so" "cannot reach http://127.0.0.1:9" \
    env VRCFS_TOKEN=demo-token "$VRCFS" login -o service=sharedcloud,api_url=http://127.0.0.1:9

# No token in any output or log, even with -d.
VRCFS_TOKEN=other-token setsid "$VRCFS" login -d -o "service=sharedcloud,api_url=$SC_ORIGIN" \
    </dev/null >"$T/debug-login.out" 2>&1
check "a debug login succeeds" grep -q "Logged in" "$T/debug-login.out"
for secret in demo-token other-token; do
    check "no '$secret' in any output or log" sh -c \
        "! grep -rqF -- '$secret' '$T/bad.out' '$T/good.out' '$T/login.out' '$T/debug-login.out' '$T/requests.log'"
done
finish
