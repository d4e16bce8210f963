#!/usr/bin/env bash
# Running vrcfs for real (README "Running it for real"): an fstab line mounted by mount(8)
# through mount.fuse3, the units systemd makes of that line, and mounts by a user who is not
# root (allow_other refused until /etc/fuse.conf has user_allow_other, which then brings
# default_permissions). Needs root. Nothing of the machine is changed: the test runs in a
# private mount namespace, where a temporary fstab, fuse.conf, /dev/fuse node and vrcfs on
# mount.fuse3's PATH are bind-mounted over the real ones and vanish with the test.
if [ -z "${VRCFS_TEST_PRIVATE_NS:-}" ]; then
    exec env VRCFS_TEST_PRIVATE_NS=1 unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

for tool in mount.fuse3 fusermount3 setpriv; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
emu_start --files 2 --versions 2 --size 3000
vrcfs_login >/dev/null || die "login failed"
SESSION=$XDG_CONFIG_HOME/vrcfs/session.json
FILES=$(state && py "print(len(s['files']))")
files_listed() { ls "$1/files" | grep -c '^file_'; }

# Under the sanitizer build, the daemons that mount(8) and nobody start have no stderr (and
# mount(8) gives them no environment): their reports go to files that the end of the test checks.
mkdir -m 1777 "$T/sanitizer"
SAN_ENV=()
[ -n "${ASAN_OPTIONS:-}" ] && SAN_ENV+=("ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$T/sanitizer/asan")
[ -n "${UBSAN_OPTIONS:-}" ] && SAN_ENV+=("UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$T/sanitizer/ubsan")
# mount(8) runs mount.fuse3, and mount.fuse3 runs `vrcfs` through /bin/sh with no PATH in its
# environment: the shell's default PATH finds it, /usr/local/sbin first.
mount -t tmpfs tmpfs /usr/local/sbin || die "cannot mount a tmpfs on /usr/local/sbin"
{
    echo '#!/bin/bash'
    for kv in "${SAN_ENV[@]}"; do printf 'export %q\n' "$kv"; done
    printf 'exec -a vrcfs %q "$@"\n' "$VRCFS"
} >/usr/local/sbin/vrcfs
chmod 755 /usr/local/sbin/vrcfs

# --- an fstab line, mounted by root with mount(8) -----------------------------------------------
# The environment systemd gives a mount is empty (no HOME): the line names the session and the
# cache directory itself.
OPTS="nodev,nosuid,contact=$CONTACT,session=$SESSION,cache_dir=$T/staging,rate=6000,log_file=$T/vrcfs.log"
printf 'vrcfs  %s  fuse.vrcfs  noauto,_netdev,x-systemd.automount,%s  0 0\n' "$MNT" "$OPTS" >"$T/fstab"
check "mount MOUNTPOINT with the fstab line mounts" env -i /usr/bin/mount -T "$T/fstab" "$MNT"
INFO=$(grep " $MNT " /proc/self/mountinfo)
check "as fuse.vrcfs" grep -q " - fuse.vrcfs vrcfs " <<<"$INFO"
check "with nodev and nosuid" grep -Eq " $MNT [^ ]*nosuid,nodev" <<<"$INFO"
check_eq "it lists the account" "$FILES" "$(files_listed "$MNT")"
# A File with two versions.
FID=$(basename "$(dirname "$(ls -d "$MNT"/files/file_*/2 | head -1)")")
check "and reads a version" cmp "$MNT/files/$FID/2/file" "$(blob_path "$FID" 2)"
ARGS=$(ps -eo args | grep "^vrcfs vrcfs $MNT ")
check "mount.fuse3 passed vrcfs the source, the mount point and -o" grep -q -- " -o " <<<"$ARGS"
check "without noauto, _netdev and x-systemd.* (mount's, not vrcfs's)" \
    bash -c "! grep -Eq 'noauto|_netdev|x-systemd' <<<'$ARGS'"
check "umount MOUNTPOINT unmounts" umount "$MNT"
check "and vrcfs ends" bash -c "for _ in \$(seq 100); do pgrep -f '^vrcfs vrcfs $MNT ' >/dev/null || exit 0; sleep 0.1; done; exit 1"

check "noauto: mount -a leaves the line alone" env -i /usr/bin/mount -a -T "$T/fstab"
check "and nothing is mounted" bash -c "! mountpoint -q '$MNT'"

check "mount -t fuse.vrcfs vrcfs MOUNTPOINT -o ... mounts too" \
    env -i /usr/bin/mount -t fuse.vrcfs vrcfs "$MNT" -o "$OPTS"
check_eq "and lists the account" "$FILES" "$(files_listed "$MNT")"
check "umount" umount "$MNT"

# --- what systemd makes of the line ---------------------------------------------------------------
GENERATOR=/usr/lib/systemd/system-generators/systemd-fstab-generator
if [ -x "$GENERATOR" ]; then
    UNIT=$(systemd-escape --path "$MNT")
    mkdir -p "$T/units/normal" "$T/units/early" "$T/units/late"
    SYSTEMD_FSTAB=$T/fstab SYSTEMD_PROC_CMDLINE="" "$GENERATOR" "$T/units/normal" "$T/units/early" \
        "$T/units/late" >"$T/generator.out" 2>&1
    check "x-systemd.automount: an automount unit for the mount point" \
        grep -qx "Where=$MNT" "$T/units/normal/$UNIT.automount"
    check "_netdev: started by remote-fs.target, so after the network" \
        test -L "$T/units/normal/remote-fs.target.requires/$UNIT.automount"
    check "the mount unit mounts fuse.vrcfs" grep -qx "Type=fuse.vrcfs" "$T/units/normal/$UNIT.mount"
else
    say "not checked: no $GENERATOR"
fi

# --- a user who is not root ----------------------------------------------------------------------
# nobody, with a HOME of its own in the work directory. FUSE needs /dev/fuse readable and
# writable by the user (udev makes it 0666); fusermount3, setuid root, does the mount itself.
chmod 711 "$T"
U=$T/user
mkdir -p "$U/home" "$U/mnt"
chown -R nobody:nogroup "$U"
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin HOME="$U/home" \
        "${SAN_ENV[@]}" "$@"
}
as_other() { setpriv --reuid=12345 --regid=12345 --clear-groups "$@"; }
has_file() { state && py "import sys; sys.exit(0 if any(f['id']=='$1' for f in s['files']) else 1)"; }

as_nobody env VRCFS_USERNAME=demo VRCFS_PASSWORD=demo-password \
    "$VRCFS" login -o "api_url=$API,contact=$CONTACT" </dev/null >>"$T/login.out" 2>&1
check "vrcfs login as nobody writes the session under its HOME" \
    test "$(stat -c '%U %a' "$U/home/.config/vrcfs/session.json")" = "nobody 600"
if ! as_nobody test -r /dev/fuse -a -w /dev/fuse; then
    check_errno "with /dev/fuse $(stat -c %a /dev/fuse), libfuse cannot open it" \
        "failed to open /dev/fuse: Permission denied" as_nobody "$VRCFS" "$U/mnt"
fi
mkdir "$T/dev"
mount -t tmpfs -o mode=755 tmpfs "$T/dev" && mknod -m 666 "$T/dev/fuse" c 10 229 &&
    mount --bind "$T/dev/fuse" /dev/fuse || die "cannot put a 0666 /dev/fuse in place"
check "nobody mounts with vrcfs MOUNTPOINT" as_nobody "$VRCFS" -o "rate=6000,log_file=$U/vrcfs.log" "$U/mnt"
check "the mount is nobody's" grep -q " $U/mnt .* fuse.vrcfs vrcfs rw,user_id=65534,group_id=65534" /proc/self/mountinfo
check_eq "nobody lists the account" "$FILES" "$(as_nobody ls "$U/mnt/files" | grep -c '^file_')"
check_errno "without allow_other, no other user gets in, root neither" "Permission denied" ls "$U/mnt"
check "the cache is under nobody's HOME" test "$(stat -c %U "$U/home/.cache/vrcfs/staging")" = nobody
check "fusermount3 -u as nobody unmounts" as_nobody fusermount3 -u "$U/mnt"

check_errno "allow_other is refused without user_allow_other in /etc/fuse.conf" \
    "option allow_other only allowed if 'user_allow_other' is set in /etc/fuse.conf" \
    as_nobody "$VRCFS" -o "rate=6000,allow_other" "$U/mnt"
check "and nothing is mounted" bash -c "! mountpoint -q '$U/mnt'"

printf 'user_allow_other\n' >"$T/fuse.conf"
mount --bind "$T/fuse.conf" /etc/fuse.conf || die "cannot put a fuse.conf in place"
check "with user_allow_other, nobody mounts with allow_other" \
    as_nobody "$VRCFS" -o "rate=6000,allow_other,log_file=$U/vrcfs.log" "$U/mnt"
check "and vrcfs turned default_permissions on" \
    grep -q " $U/mnt .* fuse.vrcfs vrcfs .*default_permissions,allow_other" /proc/self/mountinfo
F=$FID
check "another user reads" as_other cmp "$U/mnt/files/$F/2/file" "$(blob_path "$F" 2)"
check_errno "but cannot delete: the kernel checks the modes shown" "Permission denied" \
    as_other rm -r "$U/mnt/files/$F"
check "and the File is still there" has_file "$F"
check "fusermount3 -u as nobody" as_nobody fusermount3 -u "$U/mnt"

# --- an fstab line that mounts as nobody (setuid=, mount.fuse3's) ---------------------------------
printf 'vrcfs  %s  fuse.vrcfs  noauto,setuid=nobody,session=%s,cache_dir=%s,rate=6000,log_file=%s  0 0\n' \
    "$U/mnt" "$U/home/.config/vrcfs/session.json" "$U/home/.cache/vrcfs" "$U/vrcfs.log" >"$T/fstab-user"
check "root mounts the line with setuid=nobody" env -i /usr/bin/mount -T "$T/fstab-user" "$U/mnt"
check_eq "vrcfs runs as nobody" nobody "$(ps -o user= -p "$(pgrep -f "^vrcfs vrcfs $U/mnt ")")"
check_eq "nobody lists the account" "$FILES" "$(as_nobody ls "$U/mnt/files" | grep -c '^file_')"
check "nobody unmounts it" as_nobody fusermount3 -u "$U/mnt"

chown root "$U/mnt"
check_errno "a mount point the user cannot write to is refused" "user has no write access to mountpoint" \
    as_nobody "$VRCFS" -o rate=6000 "$U/mnt"

cat "$U/vrcfs.log" "$T"/sanitizer/* >>"$T/vrcfs.log" 2>/dev/null # for finish's sanitizer check
umount /dev/fuse "$T/dev" /etc/fuse.conf /usr/local/sbin
finish
