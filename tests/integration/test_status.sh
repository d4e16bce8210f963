#!/usr/bin/env bash
# vrcfs status (docs/SEMANTICS.md, Commands): what a mount is doing, for a person, as plain text: an
# upload's progress that rises during a slow 300 MB cp, every vrcfs mount when none is named, an
# expired session, the last refusals, and a clear error for what is not a vrcfs mount.
. "$(dirname "$0")/lib.sh"

emu_start --files 2 --versions 2 --size 3000
vrcfs_login >/dev/null || die "login failed"
vrcfs_mount
config() { emu_ctl POST /config "$1" >/dev/null; }
status() { "$VRCFS" status "$@" 2>&1; }
# The percentage of the upload whose path ends with $1, from the status text in $T/status.out
# (its line follows the path), or nothing when it is not uploading.
percent_of() {
    awk -v p="$1" 'found { if (match($0, /[0-9]+%/)) print substr($0, RSTART, RLENGTH - 1); exit }
                   index($0, p) && substr($0, length($0) - length(p) + 1) == p { found = 1 }' \
        "$T/status.out"
}

ls "$MNT/files" >/dev/null
# --- the mount at rest --------------------------------------------------------------------------
status "$MNT" >"$T/status.out"
check_eq "status of the mount succeeds" 0 "$?"
check "it names the mount" grep -qx "vrcfs at $MNT" "$T/status.out"
check "the session is ok" grep -qx "session: ok" "$T/status.out"
check "no upload" grep -qx "uploads: none" "$T/status.out"
check "the content cache with its limit" grep -Eq "^content cache: .* used of 4.00 GiB" "$T/status.out"
check "staging with its limit" grep -Eq "^staging: .* used of 4.00 GiB" "$T/status.out"
check "requests by kind" grep -Eq "^ +[0-9]+  GET /files$" "$T/status.out"
check "the API holds nothing back" grep -qx "api: ok, no request held back" "$T/status.out"

# --- no mount point named: every vrcfs mount --------------------------------------------------
status >"$T/all.out"
check "status with no argument lists this mount" grep -qx "vrcfs at $MNT" "$T/all.out"

# --- what is not a vrcfs mount ----------------------------------------------------------------
out=$("$VRCFS" status "$T/no-such-dir" 2>&1)
check_eq "a missing mount point exits 1" 1 "$?"
check "and says so" grep -q "no such mount point" <<<"$out"
mkdir -p "$T/plain-dir"
out=$("$VRCFS" status "$T/plain-dir" 2>&1)
check_eq "a directory that is not a vrcfs mount exits 1" 1 "$?"
check "and says so" grep -q "is not a vrcfs mount" <<<"$out"

# --- a slow 300 MB upload: the percentage rises -----------------------------------------------
# 19 parts of 16 MiB, 4 at a time, each PUT 2 s late at the blob store: about 10 s of upload.
head -c 300M /dev/urandom >"$T/300m"
config '{"blob_latency_ms": 2000}'
cp "$T/300m" "$MNT/files/big.bin" &
CP_PID=$!
uploading_above() { # PERCENT: the upload of big.bin shows more than that
    status "$MNT" >"$T/status.out"
    local p
    p=$(percent_of /files/big.bin)
    [ -n "$p" ] && [ "$p" -gt "$1" ]
}
check "status shows the upload with a percentage" wait_until 120 uploading_above -1
cp "$T/status.out" "$T/first.out"
FIRST=$(percent_of /files/big.bin)
say "first seen at $FIRST%"
check "as uploading, with a progress bar" grep -Eq "^    uploading \[[#-]+\] +[0-9]+% .* of 30[0-9.]+ MiB" "$T/first.out"
check "a later call shows a higher percentage" wait_until 120 uploading_above "$FIRST"
say "then at $(percent_of /files/big.bin)%"
check "with its rate and time left" grep -Eq "^    uploading .*iB/s, [0-9dhms]+ left, for [0-9dhms]+$" "$T/status.out"
check "the output has no ESC byte (not a tty)" bash -c "! grep -q $'\e' '$T/first.out' '$T/status.out'"
wait "$CP_PID"
check_eq "the cp succeeds" 0 "$?"
config '{"blob_latency_ms": 0}'
status "$MNT" >"$T/status.out"
check "once done, the upload is gone from status" grep -qx "uploads: none" "$T/status.out"

# --- a slow uplink: the percentage moves as the bytes go out, not a part at a time ------------
# One simple PUT of 40 MiB at 4 MiB/s: counted a part at a time, it showed 0% until all was sent.
# At most the sender's socket buffer (4 MiB here) goes out at once.
head -c 40M /dev/urandom >"$T/40m"
config '{"blob_put_kbps": 4096, "multipart_threshold": 67108864}'
cp "$T/40m" "$MNT/files/slow.bin" &
CP_PID=$!
partway() {
    status "$MNT" >"$T/status.out"
    local p
    p=$(percent_of /files/slow.bin)
    [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$p" -lt 90 ]
}
check "a single PUT shows a percentage between 0 and 90 while it goes" wait_until 60 partway
say "seen at $(percent_of /files/slow.bin)%"
wait "$CP_PID"
check_eq "and the cp succeeds" 0 "$?"
config '{"blob_put_kbps": 0, "multipart_threshold": 10485760}'
check "the blob stored is the file" cmp "$T/40m" "$MNT/files/slow.bin"

# --- all sent, the server still checks: finishing ----------------------------------------------
head -c 6M /dev/urandom >"$T/6m"
config '{"complete_delay_ms": 3000}'
cp "$T/6m" "$MNT/files/fin.bin" &
CP_PID=$!
finishing() { status "$MNT" | grep -A1 -x "  /files/fin.bin" | grep -q "^    finishing: sent, the server checks it .* 100% "; }
check "once all is sent, the upload shows as finishing" wait_until 60 finishing
wait "$CP_PID"
check_eq "and the cp succeeds" 0 "$?"
config '{"complete_delay_ms": 0}'

# --- --watch: a block each second, separated by a blank line ----------------------------------
"$VRCFS" status "$MNT" --watch >"$T/watch.out" 2>&1 &
WATCH_PID=$!
wait_until 30 test "$(grep -c "^vrcfs at $MNT$" "$T/watch.out")" -ge 2
kill "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null
check "--watch prints block after block" test "$(grep -c "^vrcfs at $MNT$" "$T/watch.out")" -ge 2
check "separated by a blank line" grep -qx "" "$T/watch.out"
check "with no ESC byte (not a tty)" bash -c "! grep -q $'\e' '$T/watch.out'"

# --- a refusal appears among the problems -----------------------------------------------------
FID=$(basename "$(dirname "$(ls -d "$MNT"/files/file_*/2 | head -1)")")
check_errno "rm -r of an older version is EBUSY" "Device or resource busy" rm -r "$MNT/files/$FID/1"
status "$MNT" >"$T/status.out"
check "status lists the refusal among the problems" bash -c \
    "sed -n '/^problems:/,\$p' '$T/status.out' | grep -Eq '/files/$FID/1.*(EBUSY|Device or resource busy)'"

# --- the session expires ----------------------------------------------------------------------
api_as_user PUT /logout >/dev/null
# A File not seen yet: its lookup asks the server, which answers 401.
ls "$MNT/files/file_5e55e55e-0000-4000-8000-000000000001" >/dev/null 2>&1
status "$MNT" >"$T/status.out"
check "after a logout elsewhere, status shows the session expired" \
    grep -Eq "^session: expired since [0-9:]+Z .*run vrcfs login" "$T/status.out"
check "and the expiry among the problems" \
    grep -q "warning: the session has expired: run vrcfs login" "$T/status.out"

finish
