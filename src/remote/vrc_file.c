#include "remote/vrc_file.h"

#include "json_text.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const data_kind_names[VRC_DATA_KINDS] = {"file", "signature", "delta"};

const char *vrc_data_kind_name(enum vrc_data_kind k)
{
    return data_kind_names[k];
}

time_t vrc_parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return timegm(&tm);
}

static enum vrc_status parse_status(json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return VRC_STATUS_OTHER;
    if (strcmp(s, "complete") == 0)
        return VRC_STATUS_COMPLETE;
    if (strcmp(s, "waiting") == 0)
        return VRC_STATUS_WAITING;
    if (strcmp(s, "queued") == 0)
        return VRC_STATUS_QUEUED;
    return VRC_STATUS_OTHER;
}

static char *dup_or(json_t *obj, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return strdup(v ? v : fallback);
}

static void parse_data(json_t *obj, struct vrc_file_data *d)
{
    if (!json_is_object(obj))
        return;
    d->present = true;
    const char *category = json_string_value(json_object_get(obj, "category"));
    d->multipart = category && strcmp(category, "multipart") == 0;
    d->status = parse_status(json_object_get(obj, "status"));
    json_int_t size = json_integer_value(json_object_get(obj, "sizeInBytes"));
    d->size = size > 0 ? (uint64_t)size : 0;
    if (d->size > VRC_FILE_SIZE_MAX)
        d->size = VRC_FILE_SIZE_MAX;
    const char *md5 = json_string_value(json_object_get(obj, "md5"));
    if (md5 && strlen(md5) < sizeof d->md5)
        strcpy(d->md5, md5);
    d->url = dup_or(obj, "url", "");
    d->upload_id = dup_or(obj, "uploadId", "");
}

static void parse_version(json_t *obj, struct vrc_file_version *v)
{
    json_int_t n = json_integer_value(json_object_get(obj, "version"));
    v->version = n >= 0 && n <= INT_MAX ? (int)n : -1;
    v->status = parse_status(json_object_get(obj, "status"));
    v->deleted = json_is_true(json_object_get(obj, "deleted"));
    v->created_at = vrc_parse_time(json_string_value(json_object_get(obj, "created_at")));
    for (int k = 0; k < VRC_DATA_KINDS; k++)
        parse_data(json_object_get(obj, data_kind_names[k]), &v->data[k]);
}

bool vrc_file_id_ok(const char *s, size_t len)
{
    static const char prefix[] = "file_";
    const size_t plen = sizeof prefix - 1;
    if (!s || len <= plen || len - plen > VRC_FILE_ID_BODY_MAX || memcmp(s, prefix, plen) != 0)
        return false;
    for (size_t i = plen; i < len; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-'))
            return false;
    }
    return true;
}

/* The start of a rejected id for the log, each byte that is not printable ASCII as '?' (the
 * id came from the server and may hold anything). */
static void printable(char *out, size_t out_len, const char *s, size_t len)
{
    size_t n = 0;
    for (; n + 1 < out_len && n < len; n++)
        out[n] = s[n] > 0x20 && s[n] < 0x7f ? s[n] : '?';
    out[n] = '\0';
}

struct vrc_file *vrc_file_parse(json_t *obj, char *err, size_t err_len)
{
    json_t *id_value = json_object_get(obj, "id");
    const char *id = json_string_value(id_value);
    if (!json_is_object(obj) || !id || !*id) {
        snprintf(err, err_len, "not a File object (no \"id\")");
        return NULL;
    }
    /* json_string_length counts past a \u0000, which would cut the id short in C. */
    size_t id_len = json_string_length(id_value);
    if (!vrc_file_id_ok(id, id_len)) {
        char shown[48];
        printable(shown, sizeof shown, id, id_len);
        snprintf(err, err_len, "its id \"%s\" is not file_ and letters, digits or '-'", shown);
        return NULL;
    }
    struct vrc_file *f = calloc(1, sizeof *f);
    if (!f)
        goto oom;
    atomic_init(&f->refs, 1);
    f->id = strdup(id);
    f->name = dup_or(obj, "name", "");
    f->extension = dup_or(obj, "extension", "");
    f->mime_type = dup_or(obj, "mimeType", "application/octet-stream");
    f->owner_id = dup_or(obj, "ownerId", "");
    json_t *tags = json_object_get(obj, "tags");
    f->tags = calloc(json_array_size(tags) + 1, sizeof *f->tags);
    json_t *versions = json_object_get(obj, "versions");
    f->versions = calloc(json_array_size(versions) + 1, sizeof *f->versions);
    /* file.json ends with a newline, as a text file should. */
    f->json = json_text_dump(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER, &f->json_len);
    if (!f->tags || !f->versions || !f->json)
        goto oom;
    size_t i;
    json_t *v;
    json_array_foreach(tags, i, v)
    {
        if (json_is_string(v))
            f->tags[f->ntags++] = strdup(json_string_value(v));
    }
    json_array_foreach(versions, i, v)
    {
        if (json_is_object(v))
            parse_version(v, &f->versions[f->nversions++]);
    }
    return f;
oom:
    snprintf(err, err_len, "out of memory");
    vrc_file_unref(f);
    return NULL;
}

struct vrc_file *vrc_file_ref(struct vrc_file *f)
{
    atomic_fetch_add(&f->refs, 1);
    return f;
}

void vrc_file_unref(struct vrc_file *f)
{
    if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
        return;
    for (size_t i = 0; i < f->ntags; i++)
        free(f->tags[i]);
    for (size_t i = 0; i < f->nversions; i++) {
        for (int k = 0; k < VRC_DATA_KINDS; k++) {
            free(f->versions[i].data[k].url);
            free(f->versions[i].data[k].upload_id);
        }
    }
    free(f->tags);
    free(f->versions);
    free(f->json);
    free(f->id);
    free(f->name);
    free(f->extension);
    free(f->mime_type);
    free(f->owner_id);
    free(f);
}

const struct vrc_file_version *vrc_file_version(const struct vrc_file *f, int n)
{
    for (size_t i = 0; n >= 1 && i < f->nversions; i++) {
        const struct vrc_file_version *v = &f->versions[i];
        if (v->version == n && !v->deleted && v->status == VRC_STATUS_COMPLETE)
            return v;
    }
    return NULL;
}

int vrc_file_latest(const struct vrc_file *f)
{
    int latest = 0;
    for (size_t i = 0; i < f->nversions; i++) {
        const struct vrc_file_version *v = &f->versions[i];
        if (v->version > latest && !v->deleted && v->status == VRC_STATUS_COMPLETE)
            latest = v->version;
    }
    return latest;
}

int vrc_file_newest(const struct vrc_file *f)
{
    int newest = 0;
    for (size_t i = 0; i < f->nversions; i++)
        if (f->versions[i].version > newest && !f->versions[i].deleted)
            newest = f->versions[i].version;
    return newest;
}
