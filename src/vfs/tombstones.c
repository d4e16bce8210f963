/* tombstones: recently deleted subtrees, by path, until they expire or are removed name by name. */
#include "vfs/tombstones.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct name {
    char *path;
    char *target;
    struct stat st;
    bool gone; /* removed since */
};

struct tomb {
    struct tomb *next;
    char *root;
    double until;
    struct name *names;
    size_t n;
};

struct tombstones {
    pthread_mutex_t lock;
    struct tomb *tombs;
};

static void tomb_free(struct tomb *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->names[i].path);
        free(b->names[i].target);
    }
    free(b->names);
    free(b->root);
    free(b);
}

struct tombstones *tombstones_new(void)
{
    struct tombstones *t = calloc(1, sizeof *t);
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void tombstones_free(struct tombstones *t)
{
    if (!t)
        return;
    while (t->tombs) {
        struct tomb *b = t->tombs;
        t->tombs = b->next;
        tomb_free(b);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* path is root or below it. */
static bool is_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* Drops the tombstones that expired, and those with root (when not NULL). t->lock held. */
static void prune(struct tombstones *t, double now, const char *root)
{
    for (struct tomb **pp = &t->tombs; *pp;) {
        struct tomb *b = *pp;
        bool empty = true;
        for (size_t i = 0; i < b->n && empty; i++)
            empty = b->names[i].gone;
        if (b->until <= now || empty || (root && strcmp(b->root, root) == 0)) {
            *pp = b->next;
            tomb_free(b);
        } else {
            pp = &b->next;
        }
    }
}

int tombstones_add(struct tombstones *t, const char *root, const struct tomb_entry *entries,
                   size_t n, double until)
{
    struct tomb *b = calloc(1, sizeof *b);
    if (!b || !(b->root = strdup(root)) || !(b->names = calloc(n ? n : 1, sizeof *b->names))) {
        if (b)
            free(b->root);
        free(b);
        return -ENOMEM;
    }
    b->until = until;
    for (size_t i = 0; i < n; i++) {
        if (!is_under(entries[i].path, root))
            continue;
        struct name *m = &b->names[b->n];
        m->path = strdup(entries[i].path);
        m->target = entries[i].target ? strdup(entries[i].target) : NULL;
        m->st = entries[i].st;
        if (!m->path || (entries[i].target && !m->target)) {
            free(m->path);
            free(m->target);
            tomb_free(b);
            return -ENOMEM;
        }
        b->n++;
    }
    pthread_mutex_lock(&t->lock);
    prune(t, until, root); /* until > now: only the one replaced and those expired by then */
    b->next = t->tombs;
    t->tombs = b;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* The live name at path. t->lock held. */
static struct name *find(struct tombstones *t, const char *path, double now)
{
    prune(t, now, NULL);
    for (struct tomb *b = t->tombs; b; b = b->next) {
        if (!is_under(path, b->root))
            continue;
        for (size_t i = 0; i < b->n; i++)
            if (!b->names[i].gone && strcmp(b->names[i].path, path) == 0)
                return &b->names[i];
    }
    return NULL;
}

int tombstones_stat(struct tombstones *t, const char *path, double now, struct stat *st)
{
    pthread_mutex_lock(&t->lock);
    struct name *m = find(t, path, now);
    if (m)
        *st = m->st;
    pthread_mutex_unlock(&t->lock);
    return m ? 0 : -ENOENT;
}

int tombstones_readlink(struct tombstones *t, const char *path, double now, char *buf, size_t size)
{
    pthread_mutex_lock(&t->lock);
    struct name *m = find(t, path, now);
    bool ok = m && m->target && size > 0;
    if (ok)
        snprintf(buf, size, "%s", m->target);
    pthread_mutex_unlock(&t->lock);
    return ok ? 0 : -ENOENT;
}

/* The name of path if it lies directly under dir, else NULL. */
static const char *child_name(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
        return NULL;
    return strchr(path + n + 1, '/') ? NULL : path + n + 1;
}

int tombstones_list(struct tombstones *t, const char *dir, double now,
                    void (*fn)(void *arg, const char *name, const struct stat *st), void *arg)
{
    pthread_mutex_lock(&t->lock);
    struct name *d = find(t, dir, now);
    bool is_dir = d && S_ISDIR(d->st.st_mode);
    for (struct tomb *b = is_dir ? t->tombs : NULL; b; b = b->next) {
        for (size_t i = 0; i < b->n; i++) {
            const char *name = b->names[i].gone ? NULL : child_name(b->names[i].path, dir);
            if (name)
                fn(arg, name, &b->names[i].st);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return !d ? -ENOENT : is_dir ? 0 : -ENOTDIR;
}

int tombstones_remove(struct tombstones *t, const char *path, double now)
{
    pthread_mutex_lock(&t->lock);
    struct name *m = find(t, path, now);
    for (struct tomb *b = m ? t->tombs : NULL; b; b = b->next)
        for (size_t i = 0; i < b->n; i++)
            if (is_under(b->names[i].path, path))
                b->names[i].gone = true;
    prune(t, now, NULL);
    pthread_mutex_unlock(&t->lock);
    return m ? 0 : -ENOENT;
}
