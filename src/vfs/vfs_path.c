/* vfs_path: the grammars of VRChat's subtrees (docs/SEMANTICS.md, The tree), pure functions of the
 * path. */
#include "vfs/vfs_path.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "remote/location.h"
#include "remote/vrc_file.h"

/* The deepest paths have four components: /files/<fileId>/<N>/file, /files/by-tag/<tag>/<fileId>.
 */
#define MAX_DEPTH 4
#define JSON_SUFFIX ".json"

const char *const vfs_path_tags[] = {
    "admin",   "avatargallery", "avatarimage",    "bundle",  "emoji",   "emojianimated",
    "gallery", "icon",          "listinggallery", "product", "sticker", NULL,
};

/* A component of the path: not NUL-terminated, it points into the caller's string. */
struct comp {
    const char *s;
    size_t len;
};

struct comps {
    struct comp c[MAX_DEPTH];
    int n;
};

static bool comp_is(const struct comp *c, const char *lit)
{
    return c->len == strlen(lit) && memcmp(c->s, lit, c->len) == 0;
}

/* Copies a component into a fixed field; callers have checked it fits (NAME_MAX at most). */
static void comp_copy(char *dst, size_t dst_size, const struct comp *c)
{
    size_t n = c->len < dst_size - 1 ? c->len : dst_size - 1;
    memcpy(dst, c->s, n);
    dst[n] = '\0';
}

int vfs_path_is_file_id(const char *s)
{
    return s != NULL && vrc_file_id_ok(s, strlen(s));
}

static bool comp_is_file_id(const struct comp *c)
{
    return vrc_file_id_ok(c->s, c->len);
}

/* Splits "/a/b/c" into components. ".", ".." and empty components (from "//" or a trailing
 * slash) name nothing here: FUSE resolves them before calling us, so seeing one means a
 * caller bug or a hostile path, and it must not alias another node. */
static int split(const char *path, struct comps *out)
{
    out->n = 0;
    if (path == NULL || path[0] != '/')
        return -ENOENT;
    if (path[1] == '\0')
        return 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct comp c = {p, len};
        if (len == 0 || comp_is(&c, ".") || comp_is(&c, ".."))
            return -ENOENT;
        if (len > NAME_MAX)
            return -ENAMETOOLONG;
        if (out->n == MAX_DEPTH)
            return -ENOENT;
        out->c[out->n++] = c;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

static bool all_digits(const struct comp *c, size_t from)
{
    if (c->len <= from)
        return false;
    for (size_t i = from; i < c->len; i++) {
        if (c->s[i] < '0' || c->s[i] > '9')
            return false;
    }
    return true;
}

/* Looks like a number, valid version or not: such names are reserved for versions, so "0",
 * "01" or "-1" are ENOENT rather than an alias or a temp file that would shadow a version. */
static bool looks_numeric(const struct comp *c)
{
    bool sign = c->len > 0 && (c->s[0] == '-' || c->s[0] == '+');
    return all_digits(c, sign ? 1 : 0);
}

/* A version is a canonical decimal >= 1 that fits an int: no sign, no leading zero. */
static bool parse_version(const struct comp *c, int *version)
{
    if (!all_digits(c, 0) || c->s[0] == '0')
        return false;
    long long v = 0;
    for (size_t i = 0; i < c->len; i++) {
        v = v * 10 + (c->s[i] - '0');
        if (v > INT_MAX)
            return false;
    }
    *version = (int)v;
    return true;
}

static bool parse_data_type(const struct comp *c, enum vfs_data_type *type)
{
    if (comp_is(c, "file"))
        *type = VD_FILE;
    else if (comp_is(c, "signature"))
        *type = VD_SIGNATURE;
    else if (comp_is(c, "delta"))
        *type = VD_DELTA;
    else
        return false;
    return true;
}

static bool find_tag(const struct comp *c)
{
    for (size_t i = 0; vfs_path_tags[i] != NULL; i++) {
        if (comp_is(c, vfs_path_tags[i]))
            return true;
    }
    return false;
}

/* /files/by-tag[/<tag>[/<fileId> or <name>]] */
static int parse_by_tag(const struct comps *cs, struct vfs_path *out)
{
    if (cs->n == 2) {
        out->kind = VP_BY_TAG;
        return 0;
    }
    if (!find_tag(&cs->c[2]))
        return -ENOENT;
    comp_copy(out->tag, sizeof(out->tag), &cs->c[2]);
    if (cs->n == 3) {
        out->kind = VP_TAG_DIR;
        return 0;
    }
    if (!comp_is_file_id(&cs->c[3])) {
        comp_copy(out->name, sizeof(out->name), &cs->c[3]);
        out->kind = VP_TAG_NAME;
        return 0;
    }
    comp_copy(out->file_id, sizeof(out->file_id), &cs->c[3]);
    out->kind = VP_TAG_LINK;
    return 0;
}

/* /files/<fileId>/<third>: file.json, latest, a version, or any other name. */
static int parse_file_child(const struct comp *c, struct vfs_path *out)
{
    if (comp_is(c, "file.json")) {
        out->kind = VP_FILE_JSON;
    } else if (comp_is(c, "latest")) {
        out->kind = VP_FILE_LATEST;
    } else if (parse_version(c, &out->version)) {
        out->kind = VP_VERSION_DIR;
    } else if (looks_numeric(c)) {
        return -ENOENT;
    } else {
        comp_copy(out->name, sizeof(out->name), c);
        out->kind = VP_FILE_NAME;
    }
    return 0;
}

/* /files/<fileId>[/...] */
static int parse_file_id(const struct comps *cs, struct vfs_path *out)
{
    comp_copy(out->file_id, sizeof(out->file_id), &cs->c[1]);
    if (cs->n == 2) {
        out->kind = VP_FILE_DIR;
        return 0;
    }
    if (cs->n == 3)
        return parse_file_child(&cs->c[2], out);
    if (!parse_version(&cs->c[2], &out->version) || !parse_data_type(&cs->c[3], &out->data_type))
        return -ENOENT;
    out->kind = VP_VERSION_DATA;
    return 0;
}

static int parse_files(const struct comps *cs, struct vfs_path *out)
{
    if (cs->n == 1) {
        out->kind = VP_FILES;
        return 0;
    }
    if (comp_is(&cs->c[1], "by-tag"))
        return parse_by_tag(cs, out);
    if (comp_is_file_id(&cs->c[1]))
        return parse_file_id(cs, out);
    if (cs->n > 2)
        return -ENOENT;
    comp_copy(out->name, sizeof(out->name), &cs->c[1]);
    out->kind = VP_FILES_NAME;
    return 0;
}

/* "<location>.json" with a location that location_parse() accepts; anything else is a name. */
static void parse_instance_entry(const struct comp *c, struct vfs_path *out)
{
    const size_t slen = sizeof(JSON_SUFFIX) - 1;
    out->kind = VP_INSTANCE_NAME;
    comp_copy(out->name, sizeof(out->name), c);
    if (c->len <= slen || memcmp(c->s + c->len - slen, JSON_SUFFIX, slen) != 0)
        return;
    char loc[NAME_MAX + 1];
    struct comp base = {c->s, c->len - slen};
    comp_copy(loc, sizeof(loc), &base);
    if (location_parse(loc, NULL) == 0) {
        memcpy(out->name, loc, base.len + 1);
        out->kind = VP_INSTANCE_JSON;
    }
}

static int parse_instances(const struct comps *cs, struct vfs_path *out)
{
    if (cs->n == 1) {
        out->kind = VP_INSTANCES;
        return 0;
    }
    if (comp_is(&cs->c[1], "s")) {
        if (cs->n == 2) {
            out->kind = VP_SHORT_DIR;
            return 0;
        }
        if (cs->n > 3)
            return -ENOENT;
        comp_copy(out->name, sizeof(out->name), &cs->c[2]);
        out->kind = VP_SHORT_LINK;
        return 0;
    }
    if (cs->n > 2)
        return -ENOENT;
    parse_instance_entry(&cs->c[1], out);
    return 0;
}

static int parse_meta(const struct comps *cs, struct vfs_path *out)
{
    if (cs->n == 1) {
        out->kind = VP_META_DIR;
        return 0;
    }
    if (cs->n == 2 && comp_is(&cs->c[1], "log")) {
        out->kind = VP_LOG;
        return 0;
    }
    if (cs->n == 2 && comp_is(&cs->c[1], "stats.json")) {
        out->kind = VP_STATS;
        return 0;
    }
    return -ENOENT;
}

/* Splits path and hands its components to the subtree's grammar; *out is zeroed on an error, so
 * that no caller trusts a half-filled result. */
static int parse_with(const char *path, struct vfs_path *out,
                      int (*grammar)(const struct comps *, struct vfs_path *))
{
    struct comps cs;
    memset(out, 0, sizeof(*out));
    int rc = split(path, &cs);
    if (rc == 0)
        rc = cs.n > 0 ? grammar(&cs, out) : -ENOENT;
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

int vfs_path_parse_files(const char *path, struct vfs_path *out)
{
    return parse_with(path, out, parse_files);
}

int vfs_path_parse_instances(const char *path, struct vfs_path *out)
{
    return parse_with(path, out, parse_instances);
}

int vfs_path_parse_meta(const char *path, struct vfs_path *out)
{
    return parse_with(path, out, parse_meta);
}
