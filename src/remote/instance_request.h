/* instance_request: checks a CreateInstanceRequest (NOTES.md 4) that a user wrote to a new
 * file under /instances before anything is sent. */
#ifndef VRCFS_INSTANCE_REQUEST_H
#define VRCFS_INSTANCE_REQUEST_H

#include <jansson.h>
#include <stddef.h>

/* Parses text (len bytes, not NUL-terminated) as a JSON object and checks it: required worldId
 * ("wrld_..."), type (friends|group|hidden|private|public), region (eu|jp|unknown|us|use);
 * optional fields of the right JSON types (ownerId string or null, canRequestInvite,
 * inviteOnly, queueEnabled, ageGate, hardClose booleans, groupAccessType members|plus|public,
 * roleIds string array, closedAt string and not for public, displayName string or null,
 * contentSettings object of booleans, instancePersistenceEnabled/playerPersistenceEnabled
 * boolean or null, calendarEntryId string). Unknown fields are passed through.
 * default_owner fills ownerId when absent for friends|hidden|private (may be NULL).
 * Returns the object to send (a new reference), or NULL with a one-line reason in err. */
json_t *instance_request_parse(const char *text, size_t len, const char *default_owner, char *err,
                               size_t err_len);

#endif
