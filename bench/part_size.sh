#!/usr/bin/env bash
# Upload benchmark: how long `cp` of one file into a File takes through a real mount, for several
# multipart part sizes, at a given API rate and emulated latency. Not a pass/fail test.
#
#   bench/part_size.sh [SIZE_MIB] [RATE] [LATENCY_MS] [PART_MIBS...]
#   e.g. bench/part_size.sh 256 60 30 5 8 16 32 64
#
# Every part costs one API request (PUT .../start?partNumber=k) besides its blob PUT, and API
# requests are paced at RATE per minute: at VRChat's 60, parts are paid for in seconds.
. "$(dirname "$0")/../tests/integration/lib.sh"

SIZE_MIB=${1:-256}
RATE=${2:-60}
LATENCY=${3:-30}
shift 3 2>/dev/null || shift $#
PARTS=${*:-5 8 16 32 64}

emu_start --files 1 --versions 1 --size 1000 --latency-ms "$LATENCY" --blob-latency-ms "$LATENCY"
vrcfs_login >/dev/null || die "login failed"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$T/data"
printf '%-10s %-8s %-8s %-10s %s\n' part_mib parts seconds MiB/s requests
for p in $PARTS; do
    vrcfs_mount -o "rate=$RATE,part_size_mib=$p"
    fid=$(ls "$MNT/files" | grep '^file_' | head -1)
    alias=$(ls "$MNT/files/$fid" | grep -vE '^(file\.json|latest|[0-9]+)$')
    log_mark
    start=$(date +%s.%N)
    cp "$T/data" "$MNT/files/$fid/$alias" || die "cp failed with part_size_mib=$p"
    end=$(date +%s.%N)
    parts=$(tail -n +"$((LOG_MARK + 1))" "$T/requests.log" | grep -c 'partNumber=')
    reqs=$(tail -n +"$((LOG_MARK + 1))" "$T/requests.log" | grep -c '"host": "api"')
    python3 -c "
s = $end - $start
print('%-10s %-8s %-8.2f %-10.1f %s' % ($p, $((parts / 2)), s, $SIZE_MIB / s, $reqs))"
    vrcfs_unmount
done
finish
