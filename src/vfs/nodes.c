/* nodes: the inode table: two chained hash tables (by id, and by parent and name) under one
 * lock. A child holds a reference on its parent, so a path can always be built from a node
 * that has one. */
#include "vfs/nodes.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct node {
    uint64_t id;
    uint64_t nlookup;       /* the kernel's lookups not yet forgotten */
    size_t children;        /* named nodes that have this one as parent */
    struct node *parent;    /* NULL for the root and for unlinked nodes */
    char *name;             /* NULL for the root and for unlinked nodes */
    unsigned type;          /* S_IFMT bits last told to the kernel */
    bool superseded;        /* keeps its path, but its name belongs to a newer node */
    bool held;              /* the kernel holds a whole listing ... */
    double until;           /* ... good until then */
    struct node *id_next;   /* chain in the id table */
    struct node *name_next; /* chain in the name table (named nodes only) */
};

struct nodes {
    pthread_mutex_t lock;
    struct node **by_id, **by_name;
    size_t nbuckets; /* both tables; a power of two */
    size_t count;
    uint64_t next_id;
    struct node root;
};

#define MIN_BUCKETS 1024

static size_t id_slot(const struct nodes *t, uint64_t id)
{
    return (size_t)(id * 0x9E3779B97F4A7C15ull >> 17) & (t->nbuckets - 1);
}

static size_t name_slot(const struct nodes *t, uint64_t parent, const char *name)
{
    uint64_t h = 1469598103934665603ull ^ parent; /* FNV-1a over the parent id and the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h ^ h >> 29) & (t->nbuckets - 1);
}

struct nodes *nodes_new(void)
{
    struct nodes *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = MIN_BUCKETS;
    t->by_id = calloc(t->nbuckets, sizeof *t->by_id);
    t->by_name = calloc(t->nbuckets, sizeof *t->by_name);
    if (!t->by_id || !t->by_name) {
        free(t->by_id);
        free(t->by_name);
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->root.id = NODES_ROOT_ID;
    t->root.nlookup = 1;
    t->by_id[id_slot(t, NODES_ROOT_ID)] = &t->root;
    t->count = 1;
    t->next_id = NODES_ROOT_ID + 1;
    return t;
}

void nodes_free(struct nodes *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (struct node *n = t->by_id[i], *next; n; n = next) {
            next = n->id_next;
            if (n != &t->root) {
                free(n->name);
                free(n);
            }
        }
    }
    free(t->by_id);
    free(t->by_name);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct node *get(const struct nodes *t, uint64_t id)
{
    struct node *n = t->by_id[id_slot(t, id)];
    while (n && n->id != id)
        n = n->id_next;
    return n;
}

static struct node *child(const struct nodes *t, const struct node *parent, const char *name)
{
    struct node *n = t->by_name[name_slot(t, parent->id, name)];
    while (n && (n->parent != parent || strcmp(n->name, name) != 0))
        n = n->name_next;
    return n;
}

/* The root, or a node whose parents all still have names. */
static bool has_path(const struct nodes *t, const struct node *n)
{
    for (; n != &t->root; n = n->parent)
        if (!n->parent)
            return false;
    return true;
}

/* Doubles both tables when they fill up; staying small on failure only makes chains longer. */
static void grow(struct nodes *t)
{
    size_t old = t->nbuckets, size = old * 2;
    struct node **by_id = calloc(size, sizeof *by_id), **by_name = calloc(size, sizeof *by_name);
    if (!by_id || !by_name) {
        free(by_id);
        free(by_name);
        return;
    }
    struct node **old_id = t->by_id, **old_name = t->by_name;
    t->by_id = by_id;
    t->by_name = by_name;
    t->nbuckets = size;
    for (size_t i = 0; i < old; i++) {
        for (struct node *n = old_id[i], *next; n; n = next) {
            next = n->id_next;
            size_t s = id_slot(t, n->id);
            n->id_next = by_id[s];
            by_id[s] = n;
        }
        for (struct node *n = old_name[i], *next; n; n = next) {
            next = n->name_next;
            size_t s = name_slot(t, n->parent->id, n->name);
            n->name_next = by_name[s];
            by_name[s] = n;
        }
    }
    free(old_id);
    free(old_name);
}

static void name_insert(struct nodes *t, struct node *n)
{
    size_t s = name_slot(t, n->parent->id, n->name);
    n->name_next = t->by_name[s];
    t->by_name[s] = n;
}

static void name_remove(struct nodes *t, struct node *n)
{
    struct node **p = &t->by_name[name_slot(t, n->parent->id, n->name)];
    while (*p != n)
        p = &(*p)->name_next;
    *p = n->name_next;
}

static void maybe_free(struct nodes *t, struct node *n);

/* Takes n out of its parent's names; the parent may then be freed. */
static void detach(struct nodes *t, struct node *n)
{
    struct node *parent = n->parent;
    if (!n->superseded)
        name_remove(t, n);
    free(n->name);
    n->name = NULL;
    n->parent = NULL;
    parent->children--;
    maybe_free(t, parent);
}

static void maybe_free(struct nodes *t, struct node *n)
{
    while (n != &t->root && n->nlookup == 0 && n->children == 0) {
        struct node *parent = n->parent;
        if (parent) {
            if (!n->superseded)
                name_remove(t, n);
            parent->children--;
        }
        struct node **p = &t->by_id[id_slot(t, n->id)];
        while (*p != n)
            p = &(*p)->id_next;
        *p = n->id_next;
        t->count--;
        free(n->name);
        free(n);
        if (!parent)
            return;
        n = parent;
    }
}

/* nodes_lookup with the lock held; type 0 keeps whatever the node was told. */
static uint64_t lookup_locked(struct nodes *t, uint64_t parent_id, const char *name, unsigned type)
{
    uint64_t id = 0;
    struct node *parent = get(t, parent_id);
    if (parent && has_path(t, parent)) {
        struct node *n = child(t, parent, name);
        if (n && type && n->type && n->type != type) {
            /* The old node keeps its path: the kernel may still send requests for it. */
            name_remove(t, n);
            n->superseded = true;
            parent->children++; /* keeps the parent, should the old node go now */
            maybe_free(t, n);
            parent->children--;
            n = NULL;
        }
        if (!n && (n = calloc(1, sizeof *n)) && !(n->name = strdup(name))) {
            free(n);
            n = NULL;
        } else if (n && !n->parent) { /* just made */
            n->id = t->next_id++;
            n->parent = parent;
            parent->children++;
            size_t s = id_slot(t, n->id);
            n->id_next = t->by_id[s];
            t->by_id[s] = n;
            name_insert(t, n);
            if (++t->count > t->nbuckets)
                grow(t);
        }
        if (n) {
            n->nlookup++;
            if (type)
                n->type = type;
            id = n->id;
        }
    }
    return id;
}

uint64_t nodes_lookup(struct nodes *t, uint64_t parent, const char *name)
{
    pthread_mutex_lock(&t->lock);
    uint64_t id = lookup_locked(t, parent, name, 0);
    pthread_mutex_unlock(&t->lock);
    return id;
}

uint64_t nodes_lookup_as(struct nodes *t, uint64_t parent, const char *name, unsigned type)
{
    pthread_mutex_lock(&t->lock);
    uint64_t id = lookup_locked(t, parent, name, type);
    pthread_mutex_unlock(&t->lock);
    return id;
}

void nodes_forget(struct nodes *t, uint64_t id, uint64_t count)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = get(t, id);
    if (n && n != &t->root) {
        n->nlookup = count < n->nlookup ? n->nlookup - count : 0;
        maybe_free(t, n);
    }
    pthread_mutex_unlock(&t->lock);
}

uint64_t nodes_find(struct nodes *t, uint64_t parent_id, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct node *parent = get(t, parent_id);
    struct node *n = parent ? child(t, parent, name) : NULL;
    uint64_t id = n ? n->id : 0;
    pthread_mutex_unlock(&t->lock);
    return id;
}

char *nodes_path(struct nodes *t, uint64_t id, const char *name)
{
    char *path = NULL;
    pthread_mutex_lock(&t->lock);
    struct node *n = get(t, id);
    if (n && has_path(t, n)) {
        size_t len = name ? 1 + strlen(name) : 0;
        for (struct node *p = n; p != &t->root; p = p->parent)
            len += 1 + strlen(p->name);
        if ((path = malloc(len + 2))) { /* "/" for the root alone, and the NUL */
            size_t end = len;
            path[end] = '\0';
            if (name) {
                size_t l = strlen(name);
                end -= l;
                memcpy(path + end, name, l);
                path[--end] = '/';
            }
            for (struct node *p = n; p != &t->root; p = p->parent) {
                size_t l = strlen(p->name);
                end -= l;
                memcpy(path + end, p->name, l);
                path[--end] = '/';
            }
            if (len == 0)
                strcpy(path, "/");
        }
    }
    pthread_mutex_unlock(&t->lock);
    return path;
}

/* The node at path, lock held. */
static struct node *resolve(struct nodes *t, const char *path)
{
    struct node *n = &t->root;
    char name[256];
    for (const char *p = path; n && *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len >= sizeof name)
            return NULL;
        memcpy(name, p, len);
        name[len] = '\0';
        n = child(t, n, name);
        p += len;
    }
    return n;
}

uint64_t nodes_resolve(struct nodes *t, const char *path)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = resolve(t, path);
    uint64_t id = n ? n->id : 0;
    pthread_mutex_unlock(&t->lock);
    return id;
}

void nodes_unlink(struct nodes *t, uint64_t parent_id, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct node *parent = get(t, parent_id);
    struct node *n = parent ? child(t, parent, name) : NULL;
    if (n) {
        detach(t, n);
        maybe_free(t, n);
    }
    pthread_mutex_unlock(&t->lock);
}

int nodes_rename(struct nodes *t, uint64_t parent_id, const char *name, uint64_t newparent_id,
                 const char *newname)
{
    int err = 0;
    pthread_mutex_lock(&t->lock);
    struct node *parent = get(t, parent_id), *newparent = get(t, newparent_id);
    struct node *n = parent ? child(t, parent, name) : NULL;
    if (n && newparent) {
        char *copy = strdup(newname);
        if (!copy) {
            err = -ENOMEM;
        } else {
            /* n counts as newparent's child first, so neither parent can go while it moves. */
            newparent->children++;
            struct node *old = child(t, newparent, newname);
            if (old && old != n) {
                detach(t, old);
                maybe_free(t, old);
            }
            name_remove(t, n);
            free(n->name);
            n->name = copy;
            struct node *oldparent = n->parent;
            n->parent = newparent;
            name_insert(t, n);
            oldparent->children--;
            maybe_free(t, oldparent);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return err;
}

void nodes_set_listed(struct nodes *t, uint64_t id, double until)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = get(t, id);
    if (n) {
        n->held = true;
        n->until = until;
    }
    pthread_mutex_unlock(&t->lock);
}

/* Whether n is the node at or below the node `top`. */
static bool is_under(const struct node *n, const struct node *top)
{
    for (; n; n = n->parent)
        if (n == top)
            return true;
    return false;
}

size_t nodes_take_listed(struct nodes *t, double now, const char *under, uint64_t **ids)
{
    size_t n = 0, cap = 0;
    *ids = NULL;
    pthread_mutex_lock(&t->lock);
    struct node *top = under ? resolve(t, under) : NULL;
    for (size_t i = 0; (top || !under) && i < t->nbuckets; i++) {
        for (struct node *p = t->by_id[i]; p; p = p->id_next) {
            if (!p->held || p->until > now || (top && !is_under(p, top)))
                continue;
            if (n == cap) {
                size_t c = cap ? cap * 2 : 64;
                uint64_t *grown = realloc(*ids, c * sizeof *grown);
                if (!grown)
                    goto out; /* the marks not taken stay for the next call */
                *ids = grown;
                cap = c;
            }
            (*ids)[n++] = p->id;
            p->held = false;
        }
    }
out:
    pthread_mutex_unlock(&t->lock);
    return n;
}

unsigned nodes_type(struct nodes *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = get(t, id);
    unsigned type = n ? n->type : 0;
    pthread_mutex_unlock(&t->lock);
    return type;
}

size_t nodes_count(struct nodes *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
