/* md5_memory: an open-addressing hash table of "fileId/version/kind" -> base64 md5 ("" for
 * none), under one mutex; it only grows, by the number of versions the mount has seen. */
#include "vfs/md5_memory.h"
#include "vfs/str_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char *key;
    char md5[32];
};

struct md5_memory {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t size, count; /* size a power of two, count <= size / 2 */
};

struct md5_memory *md5_memory_new(void)
{
    struct md5_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->size = 64;
    m->slots = calloc(m->size, sizeof *m->slots);
    if (!m->slots || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->slots);
        free(m);
        return NULL;
    }
    return m;
}

void md5_memory_free(struct md5_memory *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->size; i++)
        free(m->slots[i].key);
    free(m->slots);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The slot of key, or the empty one where it would go. Lock held. */
static struct slot *find(struct slot *slots, size_t size, const char *key)
{
    for (size_t i = (size_t)str_hash(key) & (size - 1);; i = (i + 1) & (size - 1))
        if (!slots[i].key || strcmp(slots[i].key, key) == 0)
            return &slots[i];
}

static int grow(struct md5_memory *m)
{
    size_t size = m->size * 2;
    struct slot *slots = calloc(size, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->size; i++)
        if (m->slots[i].key)
            *find(slots, size, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->size = size;
    return 0;
}

/* Stores md5 under key, unless a real md5 is there already. Lock held. */
static int put(struct md5_memory *m, const char *key, const char *md5)
{
    struct slot *s = find(m->slots, m->size, key);
    if (s->key) {
        if (!s->md5[0])
            snprintf(s->md5, sizeof s->md5, "%s", md5);
        return 0;
    }
    if ((m->count + 1) * 2 > m->size) {
        if (grow(m) != 0)
            return -ENOMEM;
        s = find(m->slots, m->size, key);
    }
    if (!(s->key = strdup(key)))
        return -ENOMEM;
    snprintf(s->md5, sizeof s->md5, "%s", md5);
    m->count++;
    return 0;
}

static void key_of(char *key, size_t len, const struct vrc_file *f, int version, int kind)
{
    snprintf(key, len, "%s/%d/%s", f->id, version, vrc_data_kind_name((enum vrc_data_kind)kind));
}

/* Data whose md5 matters: that of a complete, not deleted version. */
static bool counts(const struct vrc_file_version *v, int kind)
{
    return v->data[kind].present && !v->deleted && v->status == VRC_STATUS_COMPLETE;
}

int md5_memory_apply(struct md5_memory *m, struct vrc_file *f, bool asked)
{
    int err = 0;
    char key[512];
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < f->nversions && !err; i++) {
        struct vrc_file_version *v = &f->versions[i];
        for (int k = 0; k < VRC_DATA_KINDS && !err; k++) {
            struct vrc_file_data *d = &v->data[k];
            if (!d->present)
                continue;
            key_of(key, sizeof key, f, v->version, k);
            if (!d->md5[0]) {
                struct slot *s = find(m->slots, m->size, key);
                if (s->key)
                    memcpy(d->md5, s->md5, sizeof d->md5);
            }
            if (d->md5[0] || (asked && counts(v, k)))
                err = put(m, key, d->md5);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return err;
}

bool md5_memory_lacks(struct md5_memory *m, const struct vrc_file *f)
{
    bool lacks = false;
    char key[512];
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < f->nversions && !lacks; i++) {
        const struct vrc_file_version *v = &f->versions[i];
        for (int k = 0; k < VRC_DATA_KINDS && !lacks; k++) {
            if (!counts(v, k) || v->data[k].md5[0])
                continue;
            key_of(key, sizeof key, f, v->version, k);
            lacks = !find(m->slots, m->size, key)->key;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return lacks;
}
