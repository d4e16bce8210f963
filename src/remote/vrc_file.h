/* vrc_file: a VRChat File (NOTES.md 3) as vrcfs uses it, parsed leniently from the API's JSON.
 * Immutable once parsed and shared by reference count between the cache and readers. */
#ifndef VRCFS_VRC_FILE_H
#define VRCFS_VRC_FILE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The longest part after "file_" of a File id vrcfs accepts (a uuid is 36). */
#define VRC_FILE_ID_BODY_MAX 80
/* The largest sizeInBytes vrcfs believes (1 PiB); a larger one is cut to it, so that every
 * sum of a size and a block or a read length stays far from overflowing. */
#define VRC_FILE_SIZE_MAX (UINT64_C(1) << 50)

enum vrc_status { VRC_STATUS_OTHER, VRC_STATUS_WAITING, VRC_STATUS_QUEUED, VRC_STATUS_COMPLETE };

struct vrc_file_data {
    bool present;
    bool multipart; /* category "multipart" (else simple or queued) */
    enum vrc_status status;
    uint64_t size; /* sizeInBytes */
    char md5[32];  /* base64 MD5, "" when the server gave none */
    char *url;
    char *upload_id;
};

enum vrc_data_kind { VRC_DATA_FILE, VRC_DATA_SIGNATURE, VRC_DATA_DELTA, VRC_DATA_KINDS };

struct vrc_file_version {
    int version;
    enum vrc_status status;
    bool deleted;
    time_t created_at;
    struct vrc_file_data data[VRC_DATA_KINDS];
};

struct vrc_file {
    atomic_int refs;
    char *id;
    char *name;
    char *extension;
    char *mime_type;
    char *owner_id;
    char **tags;
    size_t ntags;
    struct vrc_file_version *versions; /* as the server listed them */
    size_t nversions;
    char *json; /* the object as pretty JSON, for file.json */
    size_t json_len;
};

/* True when s[0..len) is a File id vrcfs can show as a directory name and put into a URL:
 * "file_" and then 1..VRC_FILE_ID_BODY_MAX of [A-Za-z0-9-]. */
bool vrc_file_id_ok(const char *s, size_t len);

/* Parses a File object. Only "id" is required, a string vrc_file_id_ok() accepts; every other
 * field has a default (name "", no versions, ...), unknown fields are ignored. Sizes are cut to
 * VRC_FILE_SIZE_MAX; a version number outside 0..INT_MAX becomes -1 (never shown). NULL with a
 * reason in err. */
struct vrc_file *vrc_file_parse(json_t *obj, char *err, size_t err_len);

struct vrc_file *vrc_file_ref(struct vrc_file *f);
void vrc_file_unref(struct vrc_file *f);

/* Version n if it is >= 1, not deleted and complete; else NULL. */
const struct vrc_file_version *vrc_file_version(const struct vrc_file *f, int n);

/* The number of the newest complete, not deleted version, or 0 if there is none. */
int vrc_file_latest(const struct vrc_file *f);

/* The number of the newest version that is not deleted, whatever its status (the only one
 * VRChat lets you delete), or 0. */
int vrc_file_newest(const struct vrc_file *f);

/* "file", "signature", "delta". */
const char *vrc_data_kind_name(enum vrc_data_kind k);

/* Parses an ISO 8601 UTC time ("2024-05-01T12:34:56.789Z"); 0 when it cannot. */
time_t vrc_parse_time(const char *s);

#endif
