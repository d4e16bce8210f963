#!/usr/bin/env bash
# What a person sees of a mount (docs/SEMANTICS.md, Commands and Errors): /.vrcfs/log and log_file
# explain every refusal with its path and reason (EBUSY, EINVAL from bad instance JSON, ENOSPC); a
# service manager hears READY=1 on $NOTIFY_SOCKET once the mount is up.
. "$(dirname "$0")/lib.sh"

emu_start --files 2 --versions 2 --size 3000
vrcfs_login >/dev/null || die "login failed"
OPTS="rate=6000,log_file=$T/file.log"

# --- Type=notify: READY=1 once mounted --------------------------------------------------------
# The listener notes whether the mount point was a mount when the datagram came.
python3 - "$T/notify.sock" "$MNT" >"$T/notify.out" 2>&1 <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
msg = s.recv(4096).decode()
print("mounted" if os.path.ismount(sys.argv[2]) else "not mounted")
print(msg)
PY
LISTENER=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify.sock vrcfs_mount -o "$OPTS"
wait "$LISTENER"
check "the service manager hears READY=1" grep -qx "READY=1" "$T/notify.out"
check "only once the mount is up" grep -qx "mounted" "$T/notify.out"
check "with the mount point in STATUS" grep -qx "STATUS=mounted at $MNT" "$T/notify.out"
LOG=$MNT/.vrcfs/log
remount() {
    vrcfs_unmount || say "vrcfs exited with an error at unmount"
    vrcfs_mount -o "$1"
}

# --- /.vrcfs/log: the mount's own lines, readable with ordinary tools --------------------------
check "/.vrcfs lists log" bash -c "ls -a '$MNT/.vrcfs' | grep -qx log"
check "cat shows the mount line" grep -q "info: mounted $API at $MNT" "$LOG"
check "stat gives it a size" test "$(stat -c %s "$LOG")" -gt 0
check_eq "tail -n 1 reads its last line" "$(tail -n 1 "$LOG")" "$(cat "$LOG" | tail -n 1)"
check "log_file has the same line" grep -q "info: mounted $API at $MNT" "$T/file.log"

# A File with two versions: the first is the older one.
FID=$(basename "$(dirname "$(ls -d "$MNT"/files/file_*/2 | head -1)")")
[ -n "$FID" ] || die "no File with two versions listed"

# --- EBUSY: an older version cannot be deleted ------------------------------------------------
check_errno "rm -r of an older version is EBUSY" "Device or resource busy" rm -r "$MNT/files/$FID/1"
BUSY_LINE="/files/$FID/1/[a-z]+: .*(EBUSY|Device or resource busy).*VRChat deletes only the newest version"
check "the log names the path and why" grep -Eq "$BUSY_LINE" "$LOG"
check "once" test "$(grep -Ec "/files/$FID/1/file: .*VRChat deletes only the newest" "$LOG")" -eq 1
check "so does log_file" grep -Eq "$BUSY_LINE" "$T/file.log"

# --- EPERM: the mount's own directories stay, mkdir makes nothing -----------------------------
check_errno "rmdir of a by-tag directory is EPERM" "Operation not permitted" rmdir "$MNT/files/by-tag/sticker"
check "the log names the path and why" \
    grep -q "rmdir /files/by-tag/sticker: Operation not permitted: the mount's own directory.*rm -r /files/<fileId> deletes a File" "$LOG"
check_errno "mkdir is EPERM" "Operation not permitted" mkdir "$MNT/files/new-dir"
check "the log names the path and why" \
    grep -q "mkdir /files/new-dir: Operation not permitted: mkdir makes nothing" "$LOG"

# --- EINVAL: bad instance JSON ----------------------------------------------------------------
check_errno "bad JSON for an instance is EINVAL" "Invalid argument" \
    python3 -c "import sys; f = open(sys.argv[1], 'w'); f.write('{\"worldId\": '); f.close()" \
    "$MNT/instances/broken.json"
check "the log names the file and why" \
    grep -Eq "close /instances/broken.json: Invalid argument: .*broken.json is not a CreateInstanceRequest" "$LOG"
check_errno "touch of an instance name (nothing to send) is EINVAL" "Invalid argument" \
    touch "$MNT/instances/empty.json"
check "the log says nothing was written, so nothing was sent" \
    grep -q "close /instances/empty.json: EINVAL: nothing was written to it yet, so nothing is sent" "$LOG"

# --- ENOSPC: staging past cache_size ----------------------------------------------------------
remount "$OPTS,cache_size=1M"
ALIAS=$(ls "$MNT/files/$FID" | grep -v -e '^[0-9]*$' -e '^latest$' -e '^file.json$' | head -1)
head -c $((2 << 20)) /dev/urandom >"$T/2m"
check_errno "a write past cache_size is ENOSPC" "No space left on device" \
    cp "$T/2m" "$MNT/files/$FID/$ALIAS"
check "the log names the file and why" \
    grep -Eq "write /files/$FID/$ALIAS: No space left on device: staging: .*cache_size" "$LOG"

# --- lookups of names that do not exist are answers, not refusals -----------------------------
ls "$MNT/files/file_00000000-0000-0000-0000-000000000000" >/dev/null 2>&1
check "a missing name logs nothing" bash -c "! grep -q 'file_00000000-0000-0000-0000-000000000000' '$LOG'"

# --- a session logged out elsewhere, then vrcfs login: the running mount takes it up ----------
remount "$OPTS,cache_ttl=0" # every listing asks the server
check "the mount lists /files" ls "$MNT/files"
api_as_user PUT /logout >/dev/null
log_mark
check_errno "after a logout elsewhere, a listing is EACCES" "Permission denied" ls "$MNT/files"
check_errno "and stays so" "Permission denied" ls "$MNT/files"
check_eq "the log says once that the session has expired" 1 \
    "$(grep -c "the session has expired: run vrcfs login" "$LOG")"
check "and the refusal names the path" grep -q "readdir /files: Permission denied" "$LOG"
check_eq "each refused listing asked once: no 401 loop" 2 "$(count_requests api GET '^/api/1/files$')"
check_eq "and the mount logged in by itself never" 0 "$(count_requests api '*' '^/api/1/auth/user$')"
vrcfs_login >/dev/null || die "login failed"
check "after vrcfs login the same mount lists /files again" ls "$MNT/files"
check "the log says it took up the new session" grep -q "took up the new session" "$LOG"
check "a File's data reads" cmp "$MNT/files/$FID/2/file" "$(blob_path "$FID" 2)"
check_eq "it is still the same mount process" 0 "$(kill -0 "$VRCFS_PID"; echo $?)"

# Every refusal line of every mount above (log_file keeps them all) gives a reason after the
# errno's text.
check_eq "no refusal line stops at its errno" "" \
    "$(grep -E ": (Operation not permitted|Permission denied|Device or resource busy|Invalid argument|No space left on device|Input/output error)$" "$T/file.log")"

finish
