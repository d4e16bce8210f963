/* instance_request: validates a user-written CreateInstanceRequest locally, so that a typo
 * comes back as a clear one-line message (for the write() that failed) instead of an opaque
 * 400 from the server, and fills in the owner the user should not have to look up. */
#include "remote/instance_request.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum field_kind {
    F_WORLD_ID,
    F_ENUM,
    F_STRING,
    F_STRING_OR_NULL,
    F_BOOL,
    F_BOOL_OR_NULL,
    F_STRING_ARRAY,
    F_BOOL_OBJECT,
};

struct field {
    const char *name;
    enum field_kind kind;
    bool required;
    const char *const *values; /* F_ENUM: NULL-terminated */
};

static const char *const types[] = {"friends", "group", "hidden", "private", "public", NULL};
static const char *const regions[] = {"eu", "jp", "unknown", "us", "use", NULL};
static const char *const group_access_types[] = {"members", "plus", "public", NULL};
static const char *const user_owned_types[] = {"friends", "hidden", "private", NULL};

/* NOTES.md 4, CreateInstanceRequest. Fields not listed here are passed through unchecked. */
static const struct field fields[] = {
    {"worldId", F_WORLD_ID, true, NULL},
    {"type", F_ENUM, true, types},
    {"region", F_ENUM, true, regions},
    {"ownerId", F_STRING_OR_NULL, false, NULL},
    {"canRequestInvite", F_BOOL, false, NULL},
    {"inviteOnly", F_BOOL, false, NULL},
    {"groupAccessType", F_ENUM, false, group_access_types},
    {"roleIds", F_STRING_ARRAY, false, NULL},
    {"queueEnabled", F_BOOL, false, NULL},
    {"ageGate", F_BOOL, false, NULL},
    {"closedAt", F_STRING, false, NULL},
    {"hardClose", F_BOOL, false, NULL},
    {"displayName", F_STRING_OR_NULL, false, NULL},
    {"contentSettings", F_BOOL_OBJECT, false, NULL},
    {"instancePersistenceEnabled", F_BOOL_OR_NULL, false, NULL},
    {"playerPersistenceEnabled", F_BOOL_OR_NULL, false, NULL},
    {"calendarEntryId", F_STRING, false, NULL},
};

/* Writes the reason, then blanks control characters: jansson's messages quote the input,
 * and the caller needs exactly one line. */
__attribute__((format(printf, 3, 4))) static void fail(char *err, size_t err_len, const char *fmt,
                                                       ...)
{
    va_list ap;

    if (!err || err_len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* "wrld_" + [0-9a-zA-Z-]{1,58}, the same rule as location.h, since it ends up in URLs. */
static bool is_world_id(const char *s)
{
    size_t n = strlen(s);

    if (n <= 5 || n > 5 + 58 || strncmp(s, "wrld_", 5) != 0)
        return false;
    for (const char *p = s + 5; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    return true;
}

static bool in_enum(const char *s, const char *const *values)
{
    for (; *values; values++)
        if (strcmp(s, *values) == 0)
            return true;
    return false;
}

static void join_enum(const char *const *values, char *out, size_t out_len)
{
    size_t used = 0;

    out[0] = '\0';
    for (; *values && used < out_len; values++)
        used += (size_t)snprintf(out + used, out_len - used, "%s%s", used ? "|" : "", *values);
}

static bool is_string_array(const json_t *v)
{
    size_t i;
    json_t *item;

    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, item) if (!json_is_string(item)) return false;
    return true;
}

/* Returns the offending key, or NULL when every value is a boolean. */
static const char *non_bool_member(json_t *obj)
{
    const char *key;
    json_t *value;

    json_object_foreach(obj, key, value) if (!json_is_boolean(value)) return key;
    return NULL;
}

static int check_enum(const struct field *f, const json_t *v, char *err, size_t err_len)
{
    char list[64];

    if (json_is_string(v) && in_enum(json_string_value(v), f->values))
        return 0;
    join_enum(f->values, list, sizeof(list));
    fail(err, err_len, "%s: must be one of %s", f->name, list);
    return -1;
}

static int check_bool_object(const struct field *f, json_t *v, char *err, size_t err_len)
{
    const char *bad;

    if (!json_is_object(v)) {
        fail(err, err_len, "%s: must be an object of booleans", f->name);
        return -1;
    }
    bad = non_bool_member(v);
    if (bad) {
        /* The key is user text; %.40s keeps the message short. */
        fail(err, err_len, "%s.%.40s: must be a boolean", f->name, bad);
        return -1;
    }
    return 0;
}

/* The simple kinds: one JSON type test each, with the wording of the message. */
static bool simple_kind_ok(enum field_kind kind, const json_t *v, const char **what)
{
    switch (kind) {
    case F_WORLD_ID:
        *what = "a string \"wrld_\" followed by letters, digits and '-'";
        return json_is_string(v) && is_world_id(json_string_value(v));
    case F_STRING:
        *what = "a string";
        return json_is_string(v);
    case F_STRING_OR_NULL:
        *what = "a string or null";
        return json_is_string(v) || json_is_null(v);
    case F_BOOL:
        *what = "a boolean";
        return json_is_boolean(v);
    case F_BOOL_OR_NULL:
        *what = "a boolean or null";
        return json_is_boolean(v) || json_is_null(v);
    case F_STRING_ARRAY:
        *what = "an array of strings";
        return is_string_array(v);
    default:
        *what = "valid";
        return false;
    }
}

static int check_field(const struct field *f, json_t *req, char *err, size_t err_len)
{
    json_t *v = json_object_get(req, f->name);
    const char *what;

    if (!v) {
        if (!f->required)
            return 0;
        fail(err, err_len, "%s: required field is missing", f->name);
        return -1;
    }
    if (f->kind == F_ENUM)
        return check_enum(f, v, err, err_len);
    if (f->kind == F_BOOL_OBJECT)
        return check_bool_object(f, v, err, err_len);
    if (simple_kind_ok(f->kind, v, &what))
        return 0;
    fail(err, err_len, "%s: must be %s", f->name, what);
    return -1;
}

/* Rules that involve more than one field; runs after check_field, so type is valid. */
static int check_combinations(json_t *req, char *err, size_t err_len)
{
    const char *type = json_string_value(json_object_get(req, "type"));

    if (strcmp(type, "public") == 0 && json_object_get(req, "closedAt")) {
        fail(err, err_len, "closedAt: not allowed for a public instance");
        return -1;
    }
    return 0;
}

/* friends/hidden/private instances belong to a user; the server wants to be told which. */
static int fill_owner(json_t *req, const char *default_owner, char *err, size_t err_len)
{
    const char *type = json_string_value(json_object_get(req, "type"));

    if (!default_owner || json_object_get(req, "ownerId") || !in_enum(type, user_owned_types))
        return 0;
    if (json_object_set_new(req, "ownerId", json_string(default_owner)) != 0) {
        fail(err, err_len, "ownerId: cannot set the default owner");
        return -1;
    }
    return 0;
}

static json_t *load_object(const char *text, size_t len, char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *req;

    if (!text && len) {
        fail(err, err_len, "request: no text");
        return NULL;
    }
    /* DECODE_ANY so that null, numbers and strings get the "not an object" message. */
    req = json_loadb(text ? text : "", len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        fail(err, err_len, "request: invalid JSON at line %d, column %d: %.80s", jerr.line,
             jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(req)) {
        fail(err, err_len, "request: must be a JSON object");
        json_decref(req);
        return NULL;
    }
    return req;
}

json_t *instance_request_parse(const char *text, size_t len, const char *default_owner, char *err,
                               size_t err_len)
{
    json_t *req = load_object(text, len, err, err_len);

    if (!req)
        return NULL;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (check_field(&fields[i], req, err, err_len) < 0)
            goto bad;
    }
    if (check_combinations(req, err, err_len) < 0 ||
        fill_owner(req, default_owner, err, err_len) < 0)
        goto bad;
    return req;
bad:
    json_decref(req);
    return NULL;
}
