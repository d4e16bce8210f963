/* location: the grammar of VRChat LocationIDs, "<worldId>:<instanceId>", per NOTES.md 4:
 * <name> then, in order, ~<type>(<ownerId>), ~groupAccessType(members|plus|public),
 * ~canRequestInvite, ~region(us|use|eu|jp), ~nonce(<key>), and other ~token or ~token(arg)
 * parts (~strict, ~ageGate) kept as they are. */
#ifndef VRCFS_LOCATION_H
#define VRCFS_LOCATION_H

#include <stdbool.h>

#define LOCATION_MAX 240 /* so that "<location>.json" fits in NAME_MAX */

struct location {
    char world_id[64]; /* "wrld_<uuid-ish>" */
    char instance_id[LOCATION_MAX];
    char name[64];     /* the leading instance name: [A-Za-z0-9]{1,63} */
    char type[16];     /* "public" when no type token, else hidden|friends|private|group */
    char owner_id[64]; /* "" for public */
    char region[8];    /* "" when absent */
    char group_access_type[16];
    bool can_request_invite;
};

/* Parses and validates a location. Returns 0, or -EINVAL for anything that is not one:
 * sentinels ("", "offline", "private", "traveling", "traveling:traveling"), a bad worldId
 * (must be "wrld_" + [0-9a-zA-Z-]{1,58}), an empty or bad name, unbalanced parentheses,
 * characters outside [A-Za-z0-9_~():.-], '/', tokens out of order or repeated, unknown
 * type or region values, more than LOCATION_MAX - 1 bytes. out may be NULL. */
int location_parse(const char *s, struct location *out);

#endif
