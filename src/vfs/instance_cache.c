/* instance_cache: what the server said of instances, fresh for instances_ttl()
 * (instance_cache.h). */
#include "vfs/instance_cache.h"

#include "json_text.h"
#include "log.h"
#include "remote/instances_api.h"
#include "remote/location.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN (NAME_MAX + 1 + 8) /* a prefix and any name */

static void *ival_ref(void *p)
{
    atomic_fetch_add(&((struct ival *)p)->refs, 1);
    return p;
}

void instance_cache_unref(void *p)
{
    struct ival *iv = p;
    if (!iv || atomic_fetch_sub(&iv->refs, 1) != 1)
        return;
    free(iv->a);
    free(iv->b);
    free(iv);
}

static const struct cache_value_ops ival_ops = {ival_ref, instance_cache_unref};

/* Takes a and b (malloc'd or NULL). */
static struct ival *ival_new(int err, char *a, size_t a_len, char *b)
{
    struct ival *iv = calloc(1, sizeof *iv);
    if (!iv) {
        free(a);
        free(b);
        return NULL;
    }
    atomic_init(&iv->refs, 1);
    iv->at = vfs_mono_now();
    iv->wall = time(NULL);
    iv->err = err;
    iv->a = a;
    iv->a_len = a_len;
    iv->b = b;
    return iv;
}

static void key_of(char *key, const char *prefix, const char *name)
{
    snprintf(key, KEY_LEN, "%s%s", prefix, name);
}

/* A fresh value under key, or NULL. */
static struct ival *ival_lookup(struct vfs *v, const char *key)
{
    void *val = NULL;
    if (cache_lookup(v->cache, key, &val) != CACHE_HIT)
        return NULL;
    struct ival *iv = val;
    if (vfs_mono_now() - iv->at >= instances_ttl(v)) {
        instance_cache_unref(iv);
        return NULL;
    }
    cache_watch_note(iv->at + instances_ttl(v)); /* fresher than the cache's own ttl says */
    return iv;
}

/* Stores iv under key (the cache takes the reference). */
static void ival_store(struct vfs *v, const char *key, struct ival *iv)
{
    if (iv)
        cache_insert(v->cache, key, iv, &ival_ops);
}

/* Remembers a short name that resolved, for the listing of /instances/s. Under s->lock. */
static void remember_short(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->nshorts; i++)
        if (strcmp(s->shorts[i], name) == 0)
            return;
    char *copy = strdup(name);
    if (!copy)
        return;
    if (s->nshorts < SHORT_KNOWN_MAX) {
        s->shorts[s->nshorts++] = copy;
        return;
    }
    free(s->shorts[s->short_next]);
    s->shorts[s->short_next] = copy;
    s->short_next = (s->short_next + 1) % SHORT_KNOWN_MAX;
}

/* Makes loc's shortName and secureName (either may be NULL) resolve without a request; with
 * show, they are listed in /instances/s too. */
static void store_short_names(struct vfs *v, const char *loc, const char *shrt, const char *secure,
                              bool show)
{
    const char *names[] = {shrt, secure};
    for (size_t i = 0; i < 2; i++) {
        if (!names[i] || !instances_api_short_name_ok(names[i]))
            continue;
        char key[KEY_LEN];
        char *l = strdup(loc);
        key_of(key, INSTANCE_CACHE_SHORT, names[i]);
        ival_store(v, key, l ? ival_new(0, l, strlen(l), NULL) : NULL);
        if (show) {
            struct instances_state *s = instances_state_of(v);
            pthread_mutex_lock(&s->lock);
            remember_short(s, names[i]);
            pthread_mutex_unlock(&s->lock);
        }
    }
}

/* Caches an Instance the server just sent (from a GET, a lookup by short name, a create or a
 * close) under loc, or under its own "location" when loc is NULL, with the short names that
 * point at it. The name that was asked for wins, so the next stat of that name is free even if
 * the server spells the location differently (token order, say). Returns the pretty JSON (a
 * new reference, which stays usable with cache_ttl=0), or NULL when out of memory. */
static struct ival *learn_instance(struct vfs *v, json_t *inst, const char *loc)
{
    if (!loc)
        loc = json_string_value(json_object_get(inst, "location"));
    if (!loc || location_parse(loc, NULL) != 0)
        return NULL;
    size_t len = 0;
    char *full = json_text_dump(inst, JSON_INDENT(2), &len);
    if (!full)
        return NULL;
    char key[KEY_LEN];
    key_of(key, INSTANCE_CACHE_JSON, loc);
    struct ival *pretty = ival_new(0, full, len, NULL);
    if (pretty)
        ival_store(v, key, ival_ref(pretty));
    store_short_names(v, loc, json_string_value(json_object_get(inst, "shortName")),
                      json_string_value(json_object_get(inst, "secureName")), false);
    return pretty;
}

void instance_cache_learn(struct vfs *v, json_t *inst, const char *loc)
{
    instance_cache_unref(learn_instance(v, inst, loc));
}

int instance_cache_get(struct vfs *v, const char *loc, struct ival **out)
{
    char key[KEY_LEN];
    key_of(key, INSTANCE_CACHE_JSON, loc);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        json_t *inst = NULL;
        int err = instances_api_get(v->http, loc, &inst);
        if (err == -ENOENT)
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        if (err)
            return err;
        iv = learn_instance(v, inst, loc);
        json_decref(inst);
        if (!iv)
            return -ENOMEM;
    }
    int err = iv->err;
    if (err)
        instance_cache_unref(iv);
    else
        *out = iv;
    return err;
}

int instance_cache_resolve_short(struct vfs *v, const char *name, struct ival **out)
{
    if (!instances_api_short_name_ok(name))
        return -ENOENT;
    char key[KEY_LEN];
    key_of(key, INSTANCE_CACHE_SHORT, name);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        json_t *inst = NULL;
        int err = instances_api_get_by_short_name(v->http, name, &inst);
        const char *loc = json_string_value(json_object_get(inst, "location"));
        if (!err && (!loc || location_parse(loc, NULL) != 0)) {
            log_warn("GET /instances/s/%s: the Instance has no usable location", name);
            err = -EIO;
        }
        if (!err) {
            instance_cache_learn(v, inst, NULL);
            char *l = strdup(loc);
            iv = l ? ival_new(0, l, strlen(l), NULL) : NULL;
            if (iv)
                ival_store(v, key, ival_ref(iv));
        } else if (err == -ENOENT) {
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        }
        json_decref(inst);
        if (err)
            return err;
        if (!iv)
            return -ENOMEM;
    }
    if (iv->err) {
        int err = iv->err;
        instance_cache_unref(iv);
        return err;
    }
    struct instances_state *s = instances_state_of(v);
    pthread_mutex_lock(&s->lock);
    remember_short(s, name);
    pthread_mutex_unlock(&s->lock);
    *out = iv;
    return 0;
}

int instance_cache_names(struct vfs *v, const char *loc, struct ival **out)
{
    char key[KEY_LEN];
    key_of(key, INSTANCE_CACHE_NAMES, loc);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        char *shrt = NULL, *secure = NULL;
        int err = instances_api_short_name(v->http, loc, &shrt, &secure);
        if (err == -ENOENT)
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        if (err)
            return err;
        iv = ival_new(0, shrt, shrt ? strlen(shrt) : 0, secure);
        if (!iv)
            return -ENOMEM;
        ival_store(v, key, ival_ref(iv));
        /* Both names now resolve without a request, and show in /instances/s. */
        store_short_names(v, loc, iv->a, iv->b, true);
    }
    if (iv->err) {
        int err = iv->err;
        instance_cache_unref(iv);
        return err;
    }
    *out = iv;
    return 0;
}

struct ival *instance_cache_fresh(struct vfs *v, const char *prefix, const char *name)
{
    char key[KEY_LEN];
    key_of(key, prefix, name);
    return ival_lookup(v, key);
}

void instance_cache_forget(struct vfs *v, const char *loc)
{
    char key[KEY_LEN];
    key_of(key, INSTANCE_CACHE_JSON, loc);
    cache_remove(v->cache, key);
}
