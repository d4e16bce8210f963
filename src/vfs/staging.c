/* staging: the rules for staged data that do not need a disk to be checked. */
#include "vfs/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[] = {"version", "new", "temp"};
static const char *const state_names[] = {"writing", "closed", "uploaded"};

#define N_KINDS (sizeof kind_names / sizeof kind_names[0])
#define N_STATES (sizeof state_names / sizeof state_names[0])

json_t *staging_record_to_json(const struct staging_record *r)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "format",
                     STAGING_FORMAT, "kind", kind_names[r->kind], "state", state_names[r->state],
                     "dir", r->dir, "name", r->name, "file_id", r->file_id, "new_name", r->new_name,
                     "extension", r->extension, "mime", r->mime, "size", (json_int_t)r->size, "md5",
                     r->md5, "time", (json_int_t)r->time);
}

static int pick(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

/* Copies the string member key into out; an absent member is "", an oversized one an error. */
static int copy_member(json_t *obj, const char *key, char *out, size_t out_len)
{
    json_t *v = json_object_get(obj, key);
    const char *s = v ? json_string_value(v) : "";
    if (!s || strlen(s) >= out_len)
        return -EINVAL;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static bool usable_name(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* "by-tag/<tag>" with a tag of vfs_path_tags: where a new File with that tag is made. */
static bool is_tag_dir(const char *dir)
{
    const char *prefix = "by-tag/";
    if (strncmp(dir, prefix, strlen(prefix)) != 0)
        return false;
    for (const char *const *t = vfs_path_tags; *t; t++)
        if (strcmp(dir + strlen(prefix), *t) == 0)
            return true;
    return false;
}

int staging_record_from_json(json_t *obj, struct staging_record *r)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(obj) ||
        json_integer_value(json_object_get(obj, "format")) != STAGING_FORMAT)
        return -EINVAL;
    int kind = pick(json_string_value(json_object_get(obj, "kind")), kind_names, N_KINDS);
    int state = pick(json_string_value(json_object_get(obj, "state")), state_names, N_STATES);
    if (kind < 0 || state < 0)
        return -EINVAL;
    r->kind = (enum staging_kind)kind;
    r->state = (enum staging_state)state;
    if (copy_member(obj, "dir", r->dir, sizeof r->dir) ||
        copy_member(obj, "name", r->name, sizeof r->name) ||
        copy_member(obj, "file_id", r->file_id, sizeof r->file_id) ||
        copy_member(obj, "new_name", r->new_name, sizeof r->new_name) ||
        copy_member(obj, "extension", r->extension, sizeof r->extension) ||
        copy_member(obj, "mime", r->mime, sizeof r->mime) ||
        copy_member(obj, "md5", r->md5, sizeof r->md5))
        return -EINVAL;
    json_int_t size = json_integer_value(json_object_get(obj, "size"));
    r->size = size > 0 ? (uint64_t)size : 0;
    r->time = json_integer_value(json_object_get(obj, "time"));
    bool tag_dir = is_tag_dir(r->dir);
    if (!usable_name(r->name) || (*r->dir && !vfs_path_is_file_id(r->dir) && !tag_dir) ||
        (*r->file_id && !vfs_path_is_file_id(r->file_id)))
        return -EINVAL;
    if (r->kind == STAGING_VERSION && (!*r->file_id || strcmp(r->dir, r->file_id) != 0))
        return -EINVAL;
    if (r->kind == STAGING_NEW && ((*r->dir && !tag_dir) || !*r->extension))
        return -EINVAL;
    return 0;
}

enum staging_action staging_recovery_action(const struct staging_record *r, bool have_data,
                                            uint64_t data_size)
{
    if (r->kind == STAGING_TEMP || r->state == STAGING_UPLOADED || !have_data)
        return STAGING_ACT_DISCARD;
    if (r->state == STAGING_CLOSED && data_size == r->size)
        return STAGING_ACT_UPLOAD;
    return STAGING_ACT_KEEP;
}

int staging_space_resize(struct staging_space *s, uint64_t old_size, uint64_t new_size)
{
    if (new_size <= old_size) {
        uint64_t freed = old_size - new_size;
        s->used = freed > s->used ? 0 : s->used - freed;
        return 0;
    }
    uint64_t grow = new_size - old_size;
    if (s->used > s->limit || grow > s->limit - s->used)
        return -ENOSPC;
    s->used += grow;
    return 0;
}

void staging_hash_init(struct staging_hash *h)
{
    h->valid = true;
    h->hashed = 0;
}

enum staging_hash_step staging_hash_write(struct staging_hash *h, uint64_t off, uint64_t len)
{
    if (!h->valid)
        return STAGING_HASH_SKIP;
    if (off != h->hashed) {
        h->valid = false;
        return STAGING_HASH_DROP;
    }
    h->hashed += len;
    return STAGING_HASH_FEED;
}

enum staging_hash_step staging_hash_truncate(struct staging_hash *h, uint64_t size)
{
    if (size == 0) {
        staging_hash_init(h);
        return STAGING_HASH_RESET;
    }
    if (!h->valid)
        return STAGING_HASH_SKIP;
    if (size == h->hashed)
        return STAGING_HASH_KEEP;
    h->valid = false;
    return STAGING_HASH_DROP;
}

void staging_new_stem(char out[STAGING_STEM_LEN + 1])
{
    unsigned char raw[STAGING_STEM_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* No entropy: time and pid still make a name no other staged file has. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        memcpy(raw, &x, sizeof raw);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

bool staging_is_stem(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == STAGING_STEM_LEN && s[n] == '\0';
}
