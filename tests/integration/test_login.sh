#!/usr/bin/env bash
# Login, 2FA, logout, the session file, the User-Agent rule, and secrets kept out of logs.
. "$(dirname "$0")/lib.sh"

emu_start --session-limit 8
SESSION=$XDG_CONFIG_HOME/vrcfs/session.json

# `vrcfs login` as USER with no terminal: a 2FA code can only come from VRCFS_2FA_CODE.
login_as() {
    VRCFS_USERNAME=$1 VRCFS_PASSWORD=demo-password setsid "$VRCFS" login \
        -o "api_url=$API,contact=$CONTACT" </dev/null
}

# The emulator enforces VRChat's User-Agent rule; vrcfs must pass it.
check_eq "a request without a User-Agent gets the WAF 403" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -A '' "$API/auth")"
check "the WAF body carries waf_code 13799" \
    sh -c "curl -s -A 'curl/7.88.1' '$API/auth' | grep -q 13799"

# Plain login.
log_mark
check "login as demo succeeds" vrcfs_login demo demo-password
check "the session file exists" test -f "$SESSION"
check_eq "the session file is 0600" 600 "$(stat -c %a "$SESSION")"
check_eq "its directory is 0700" 700 "$(stat -c %a "$(dirname "$SESSION")")"
check "the session remembers the api_url" grep -q "\"api_url\": \"$API\"" "$SESSION"
check "every API request of the login carried vrcfs's User-Agent" \
    test "$(tail -n +$((LOG_MARK + 1)) "$T/requests.log" | grep '"host": "api"' | grep -vc '"ua": "vrcfs/')" = 0

# Wrong password, unreachable server: one clear line each, non-zero exit.
check_errno "a wrong password is refused with the server's words" \
    "login refused: Invalid Username/Email or Password" vrcfs_login demo wrong-password
check_errno "an unreachable server says so" "cannot reach" \
    env VRCFS_USERNAME=demo VRCFS_PASSWORD=x "$VRCFS" login -o api_url=http://127.0.0.1:9/api/1,session=$T/other.json

# A server that answered but failed is neither a rate limit nor unreachable.
emu_fault "api:503:match=^/api/1/auth/user,count=1"
check_errno "a 503 at login says the server is failing, not rate limiting" \
    "answered the login with HTTP 503: Service Unavailable; it is failing or down" vrcfs_login
check "... and never says rate limiting" sh -c "! tail -1 '$T/login.out' | grep -q 'rate limiting'"
emu_fault "api:html504:match=^/api/1/auth/user,count=1"
check_errno "a 504 HTML page at login says the server answered" \
    "answered the login with HTTP 504: (an HTML page)" vrcfs_login
check "... and never says cannot reach" sh -c "! tail -1 '$T/login.out' | grep -q 'cannot reach'"

# TOTP: the code comes from the emulator (it knows the secret it printed).
rm -f "$SESSION"
code=$(emu_ctl GET '/totp?user=demo-totp' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
export VRCFS_2FA_CODE=000000
check_errno "a wrong TOTP code is refused" "wrong totp code" login_as demo-totp
check "and no session is saved" test ! -e "$SESSION"
export VRCFS_2FA_CODE=$code
check "login with a TOTP code succeeds" login_as demo-totp
check "the session keeps the twoFactorAuth cookie" grep -q twoFactorAuth "$SESSION"

# A recovery code (otp) works although totp is offered, and goes to the otp endpoint.
rm -f "$SESSION"
RECOVERY=$(sed -n 's/^vrchat-emulator: otp recovery codes \([^,]*\),.*/\1/p' "$T/emulator.out")
[ -n "$RECOVERY" ] || die "no recovery codes in the emulator's output"
log_mark
export VRCFS_2FA_CODE=$RECOVERY
check "login with a recovery code succeeds" login_as demo-totp
check_eq "... verified at /auth/twofactorauth/otp/verify" 1 \
    "$(count_requests api POST '^/api/1/auth/twofactorauth/otp/verify$')"
check_eq "... not at totp" 0 "$(count_requests api POST '^/api/1/auth/twofactorauth/totp/verify$')"

# A 401 "Missing Credentials" from verify is a lost login session, not a wrong code.
rm -f "$SESSION"
printf '%s' '{"error":{"message":"\"Missing Credentials\"","status_code":401}}' >"$T/401.json"
emu_fault "api:respond:match=^/api/1/auth/twofactorauth/totp/verify,status=401,body_file=$T/401.json,count=1"
export VRCFS_2FA_CODE=123456
log_mark
login_as demo-totp >"$T/verify401.out" 2>&1
check_eq "a 401 from verify fails the login" 1 $?
check "... saying the login session was missing or expired" \
    grep -q "session cookie was missing or had expired; run vrcfs login again" "$T/verify401.out"
check "... and not that the code was wrong" sh -c "! grep -q 'wrong totp code' '$T/verify401.out'"
check_eq "... after one verify, not three" 1 "$(count_requests api POST '/verify$')"
code=$(emu_ctl GET '/totp?user=demo-totp' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
export VRCFS_2FA_CODE=$code
check "a TOTP login works again after that" login_as demo-totp

# A remembered twoFactorAuth cookie skips 2FA on the next login.
unset VRCFS_2FA_CODE
check "a second login with the remembered cookie needs no code" login_as demo-totp

# emailOtp: the code is mailed (logged by the emulator) only after the password is accepted,
# so it is typed at the prompt, as a person would.
rm -f "$SESSION"
mkfifo "$T/code.fifo"
VRCFS_USERNAME=demo-email VRCFS_PASSWORD=demo-password setsid "$VRCFS" login \
    -o "api_url=$API,contact=$CONTACT" <"$T/code.fifo" >"$T/email-login.out" 2>&1 &
login_pid=$!
exec 9>"$T/code.fifo"
for _ in $(seq 100); do grep -q '"host": "mail"' "$T/requests.log" && break; sleep 0.05; done
code=$(emu_ctl GET '/email?user=demo-email' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
echo "$code" >&9
exec 9>&-
wait $login_pid
check_eq "login with the e-mailed code succeeds" 0 $?
check "it says who is logged in" grep -q "Logged in as" "$T/email-login.out"

# Logout ends the session on the server and deletes the file; a mount then refuses to start.
check "logout succeeds" "$VRCFS" logout
check "logout sent PUT /logout" test "$(count_requests api PUT '^/api/1/logout$')" -ge 1
check "the session file is gone" test ! -e "$SESSION"
check_errno "a mount without a session tells you to log in" "run vrcfs login" \
    "$VRCFS" -f -o contact=$CONTACT "$MNT"
check "and nothing was mounted" sh -c "! mountpoint -q '$MNT'"

# A session the server no longer knows (logged out elsewhere) is refused before mounting.
vrcfs_login
cp "$SESSION" "$T/saved-session.json"
"$VRCFS" logout >/dev/null
cp "$T/saved-session.json" "$SESSION"
check_errno "an expired session tells you to log in" "expired.*run vrcfs login" \
    "$VRCFS" -f -o contact=$CONTACT "$MNT"

# No secret in any log, even with -d.
rm -f "$SESSION"
vrcfs_login || die "cannot log in for the mount"
auth=$(python3 -c "import json; print(json.load(open('$SESSION'))['auth'])")
"$VRCFS" -f -d -o "contact=$CONTACT" "$MNT" >"$T/vrcfs.log" 2>&1 &
VRCFS_PID=$!
for _ in $(seq 200); do mountpoint -q "$MNT" && break; sleep 0.05; done
check "the debug mount came up" mountpoint -q "$MNT"
ls -lR "$MNT/files" >/dev/null 2>&1
cat "$MNT"/files/file_*/file.json >/dev/null 2>&1
vrcfs_unmount
check "the debug log is not empty" test -s "$T/vrcfs.log"
for secret in "$auth" demo-password twoFactorAuth=; do
    check "no '${secret:0:12}…' in any log or output" sh -c \
        "! grep -rqF -- '$secret' '$T/vrcfs.log' '$T/login.out' '$T/email-login.out'"
done
# Too many logins: the real 429 text, said once, no retry loop.
log_mark
for _ in 1 2 3 4 5 6 7 8; do vrcfs_login >/dev/null 2>&1; done
log_mark
check_errno "a rate-limited login says so" "rate limiting logins.*Created too many sessions" vrcfs_login
check_eq "the refused login was sent once, not retried" 1 "$(count_requests api GET '^/api/1/auth/user$')"

# A login from somewhere new: VRChat answers 401 with a message the user must read as it is.
kill "$EMU_PID" && wait "$EMU_PID" 2>/dev/null
rm -f "$T/port"
emu_start --new-location
check_errno "a login from a new place shows the server's message" \
    "login refused: It looks like you're logging in from somewhere new! Check your email" vrcfs_login
finish
