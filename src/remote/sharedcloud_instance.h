/* sharedcloud_instance: the sharedcloud.io Instance model (docs/SEMANTICS.md,
 * sharedcloud.io) and the service's quirks: `type` answered as a number (1 cpu, 2 gpu) but sent as
 * "cpu"/"gpu", dates as "dd-mm-yyyy HH:MM:SS" (read as UTC), `max_num_parallel_jobs` a number in
 * answers and a string in requests, and `gpu` "n/a" for none. Pure: no I/O, no logging. */
#ifndef VRCFS_SHAREDCLOUD_INSTANCE_H
#define VRCFS_SHAREDCLOUD_INSTANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SHAREDCLOUD_UUID_LEN 36
#define SHAREDCLOUD_DATE_LEN 19 /* "dd-mm-yyyy HH:MM:SS" */

enum sharedcloud_type {
    SHAREDCLOUD_TYPE_UNKNOWN = 0, /* missing or null in the answer */
    SHAREDCLOUD_TYPE_CPU = 1,
    SHAREDCLOUD_TYPE_GPU = 2,
};

struct sharedcloud_instance {
    char uuid[SHAREDCLOUD_UUID_LEN + 1]; /* always set: lowercase 8-4-4-4-12 hex */
    char *name;                          /* NULL when missing or null */
    enum sharedcloud_type type;
    char *gpu;      /* the GPU's uuid; NULL for none (missing, null or "n/a") */
    char *gpu_name; /* NULL for none (missing, null or "n/a") */
    bool has_ask_price;
    double ask_price;
    long long max_num_parallel_jobs; /* -1 when missing or null */
    long long status;                /* -1 when missing or null */
    bool has_created_at, has_updated_at, has_last_connection;
    time_t created_at, updated_at, last_connection; /* 0 when the has_ flag is false */
    json_t *raw; /* the object as the server sent it (a reference of its own) */
};

/* Parses "dd-mm-yyyy HH:MM:SS" exactly (two-digit day, month, hour, minute, second, four-digit
 * year; a real calendar date; hour 0-23, minute and second 0-59), read as UTC. 0 and *out, or
 * -EINVAL for anything else, NULL included. */
int sharedcloud_instance_parse_date(const char *s, time_t *out);

/* True for a uuid in the form the service uses (8-4-4-4-12 hex digits, either case), the only
 * strings that may go into a URL path. NULL is false. */
bool sharedcloud_instance_uuid_ok(const char *s);

/* Parses one instance object. Missing fields, null and extra fields are tolerated (see the
 * struct for what missing means). Returns 0 with *out filled (free with
 * sharedcloud_instance_clear), or -EIO with out cleared and err (err_len bytes) saying which
 * field is wrong and how ("uuid: missing", "updated_at: not a dd-mm-yyyy HH:MM:SS date"):
 * when obj is not an object, the uuid is missing or malformed, or a known field has the wrong
 * JSON type or an impossible value (type other than 1, 2, "cpu", "gpu"; a bad date). */
int sharedcloud_instance_parse(json_t *obj, struct sharedcloud_instance *out, char *err,
                               size_t err_len);

void sharedcloud_instance_clear(struct sharedcloud_instance *in);

/* The time a file of this instance was last changed: updated_at, else created_at, else 0. */
time_t sharedcloud_instance_mtime(const struct sharedcloud_instance *in);

/* "cpu", "gpu" or NULL for SHAREDCLOUD_TYPE_UNKNOWN. */
const char *sharedcloud_instance_type_name(enum sharedcloud_type t);

/* The instance as a file shows it: the server's object in the server's key order, pretty JSON
 * (4-space indent) ending in a newline, with `type` as "cpu"/"gpu", `gpu` "n/a" as null (so the
 * text can be written back as an update unchanged), and `current_server_time` left out (it
 * changes on every answer). Extra fields are kept. malloc'd, NULL only when out of memory. */
char *sharedcloud_instance_render(const struct sharedcloud_instance *in);

/* The body of a create, replace or update request from the fields a user wrote (a JSON
 * object): exactly those fields, except that an integral `max_num_parallel_jobs` number
 * becomes its decimal string, a `type` of 1 or 2 becomes "cpu" or "gpu", and `gpu` "n/a" becomes
 * null. Other values go as they are: the server judges them. Returns a new object, or NULL with
 * err (err_len bytes) saying why when fields is not an object. */
json_t *sharedcloud_instance_request(json_t *fields, char *err, size_t err_len);

#endif
