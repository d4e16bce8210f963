/* meta_persist: the file is one JSON object,
 *   {"format": 1, "api": URL, "user": userId, "files": [{"fetched": SECONDS, "file": {...}}, ...]}
 * with each File the object the server gave (vrc_file's json), parsed again at load as any answer
 * is. One object and not a log: a file cut short does not parse and is dropped whole. */
#include "vfs/meta_persist.h"

#include "file_replace.h"
#include "log.h"
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORMAT 1
#define USER_ID_MAX 100
/* As the server's answers are read (api_json.c): a File's strings may hold \u0000. */
#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

char *meta_persist_path(const char *cache_dir, const char *user_id)
{
    size_t n = user_id ? strlen(user_id) : 0;
    if (n == 0 || n > USER_ID_MAX ||
        strspn(user_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return NULL;
    char *path = NULL;
    return asprintf(&path, "%s/%s/%s.json", cache_dir, META_PERSIST_SUBDIR, user_id) < 0 ? NULL
                                                                                         : path;
}

static json_t *document(const char *api_url, const char *user_id,
                        const struct meta_persist_file *files, size_t n)
{
    json_t *list = json_array();
    json_t *doc = json_pack("{s:i, s:s, s:s, s:o*}", "format", FORMAT, "api", api_url, "user",
                            user_id, "files", list);
    if (!doc)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vrc_file *f = files[i].file;
        json_t *obj = json_loadb(f->json, f->json_len, LOAD_FLAGS, NULL);
        if (!obj || json_array_append_new(list, json_pack("{s:f, s:o}", "fetched", files[i].fetched,
                                                          "file", obj)) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    return doc;
}

/* The directory of path (made 0700 if missing), path + ".tmp" written 0600 and synced, then
 * renamed over path. */
static int write_atomically(const char *path, json_t *doc)
{
    char *dir = strdup(path), *tmp = NULL;
    if (!dir || asprintf(&tmp, "%s.tmp", path) < 0) {
        free(dir);
        return -ENOMEM;
    }
    *strrchr(dir, '/') = '\0';
    int err = vfs_make_dirs(dir, 0700);
    free(dir);
    char *text = err ? NULL : json_dumps(doc, JSON_COMPACT);
    if (!err)
        err = text ? file_replace(path, tmp, text, strlen(text)) : -ENOMEM;
    free(text);
    free(tmp);
    return err;
}

int meta_persist_save(const char *path, const char *api_url, const char *user_id,
                      const struct meta_persist_file *files, size_t n)
{
    if (n == 0)
        return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
    json_t *doc = document(api_url, user_id, files, n);
    int err = doc ? write_atomically(path, doc) : -ENOMEM;
    json_decref(doc);
    return err;
}

/* Calls keep with each File of list fetched age seconds before now, 0 <= age < ttl. */
static size_t give(json_t *list, double ttl, double now,
                   void (*keep)(void *arg, struct vrc_file *f, double age), void *arg)
{
    size_t i, kept = 0;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        json_t *fetched = json_object_get(item, "fetched");
        if (!json_is_number(fetched))
            continue;
        double age = now - json_number_value(fetched);
        if (!isfinite(age) || age < 0 || age >= ttl)
            continue;
        char why[128];
        struct vrc_file *f = vrc_file_parse(json_object_get(item, "file"), why, sizeof why);
        if (f) {
            keep(arg, f, age);
            kept++;
        }
    }
    return kept;
}

size_t meta_persist_load(const char *path, const char *api_url, const char *user_id, double ttl,
                         double now, void (*keep)(void *arg, struct vrc_file *f, double age),
                         void *arg)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, LOAD_FLAGS, &jerr);
    if (!doc) {
        if (access(path, F_OK) == 0)
            log_warn("%s: not read, the Files in it are fetched again (%s)", path, jerr.text);
        unlink(path);
        return 0;
    }
    unlink(path);
    const char *api = json_string_value(json_object_get(doc, "api"));
    const char *user = json_string_value(json_object_get(doc, "user"));
    json_t *list = json_object_get(doc, "files");
    size_t kept = 0;
    if (json_integer_value(json_object_get(doc, "format")) != FORMAT || !json_is_array(list) ||
        !api || !user)
        log_warn("%s: not a record of Files, not used", path);
    else if (strcmp(api, api_url) != 0 || strcmp(user, user_id) != 0)
        log_warn("%s: kept for another account, not used", path);
    else
        kept = give(list, ttl, now, keep, arg);
    json_decref(doc);
    return kept;
}
