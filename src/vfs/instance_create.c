/* instance_create: new instances written as CreateInstanceRequest JSON (instance_create.h). */
#include "vfs/instance_create.h"

#include "log.h"
#include "remote/instance_request.h"
#include "remote/instances_api.h"
#include "vfs/instance_cache.h"
#include "vfs/instance_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_MAX (64 * 1024) /* a CreateInstanceRequest is a few hundred bytes */

void instance_create_put(struct request_handle *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    json_write_fini(&h->jw);
    free(h->name);
    free(h);
}

/* Checks and sends what was written; 0 once the instance exists. Errors: -EINVAL for JSON
 * that is not a usable request (nothing sent) and for a request the server refuses (4xx), else
 * the transport's errno. A json_write_send_fn. */
static int request_submit(struct json_write *jw)
{
    struct request_handle *h = (struct request_handle *)jw;
    struct vfs *v = h->jw.v;
    char why[256];
    json_t *req = instance_request_parse(h->jw.buf ? h->jw.buf : "", h->jw.len, v->cfg.user_id, why,
                                         sizeof why);
    if (!req) {
        log_warn("instances: %s is not a CreateInstanceRequest, nothing sent: %s", h->name, why);
        return -EINVAL;
    }
    json_t *inst = NULL;
    long status = 0;
    char message[256];
    int err = instances_api_create(v->http, req, &inst, &status, message);
    json_decref(req);
    if (err) {
        /* The http layer has logged the server's message; this says which file it was for.
         * A 4xx other than "not logged in", "no such world" (ENOENT, as the errno table says)
         * and "slow down" means the request was refused. */
        if (status >= 400 && status < 500 && status != 401 && status != 404 && status != 429)
            err = -EINVAL;
        log_warn("instances: %s: no instance created (HTTP %ld): %s", h->name, status,
                 strerror(-err));
        return err;
    }
    const char *loc = json_string_value(json_object_get(inst, "location"));
    instance_cache_learn(v, inst, NULL);
    struct instances_state *s = instances_state_of(v);
    pthread_mutex_lock(&s->lock);
    struct created_link *link = instances_find_link(s, h->name);
    struct created_link *grown = link ? NULL : realloc(s->links, (s->nlinks + 1) * sizeof *grown);
    char *lname = link ? NULL : strdup(h->name);
    char *lloc = strdup(loc);
    if (link && lloc) {
        free(link->location);
        link->location = lloc;
    } else if (grown && lname && lloc) {
        s->links = grown;
        s->links[s->nlinks++] = (struct created_link){lname, lloc};
    } else {
        if (grown)
            s->links = grown;
        free(lname);
        free(lloc);
        err = -ENOMEM;
    }
    if (!instance_names_list_has(s->created, s->ncreated, loc) &&
        instance_names_list_push(&s->created, &s->ncreated, loc))
        err = -ENOMEM;
    instance_names_list_remove(s->closed, &s->nclosed, loc);
    pthread_mutex_unlock(&s->lock);
    /* The new location, and the name as its link, in the kernel's listing; the name itself is
     * a link by the time close() returns. */
    vfs_forget_listings(v, "/instances", 0);
    vfs_forget_entry(v, "/instances", h->name, 0, true);
    /* The instance exists either way; an error here would only invite a duplicate. */
    if (err)
        log_error("instances: %s became %s, but vrcfs ran out of memory remembering it", h->name,
                  loc);
    else
        log_info("instances: %s created %s", h->name, loc);
    json_decref(inst);
    return 0;
}

static int request_flush(struct vfs_handle *base)
{
    struct request_handle *h = (struct request_handle *)base;
    char path[NAME_MAX + 16];
    snprintf(path, sizeof path, "/instances/%s", h->name);
    return json_write_flush(&h->jw, request_submit, true, path);
}

static void request_release(struct vfs_handle *base)
{
    struct request_handle *h = (struct request_handle *)base;
    struct instances_state *s = instances_state_of(h->jw.v);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->npending; i++) {
        if (s->pending[i] == h) {
            memmove(&s->pending[i], &s->pending[i + 1], (s->npending - i - 1) * sizeof h);
            s->npending--;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    instance_create_put(h);
}

static const struct vfs_handle_ops request_ops = {
    .read = json_write_read,
    .write = json_write_write,
    .flush = request_flush,
    .fsync = request_flush,
    .truncate = json_write_truncate,
    .getattr = json_write_getattr,
    .release = request_release,
};

struct request_handle *instance_create_find(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->npending; i++) {
        if (strcmp(s->pending[i]->name, name) == 0) {
            atomic_fetch_add(&s->pending[i]->refs, 1);
            return s->pending[i];
        }
    }
    return NULL;
}

int instance_create_new(struct vfs *v, const struct vfs_path *p, mode_t mode,
                        struct fuse_file_info *fi)
{
    (void)mode;
    struct instances_state *s = instances_state_of(v);
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES; /* a location's file is the server's, never written */
    if (!instance_names_is_request_name(p->name)) {
        log_reason("only a new <name>.json makes an instance; nothing else is stored");
        return -EPERM;
    }
    struct request_handle *h = calloc(1, sizeof *h);
    char *name = strdup(p->name);
    if (!h || !name) {
        free(h);
        free(name);
        return -ENOMEM;
    }
    json_write_init(&h->jw, &request_ops, v, REQUEST_MAX);
    atomic_init(&h->refs, 1);
    h->name = name;
    int err = 0;
    pthread_mutex_lock(&s->lock);
    struct request_handle *other = instance_create_find(s, p->name);
    if (other || instances_find_link(s, p->name)) {
        err = -EEXIST;
    } else {
        struct request_handle **grown = realloc(s->pending, (s->npending + 1) * sizeof *grown);
        if (grown) {
            s->pending = grown;
            s->pending[s->npending++] = h;
        } else {
            err = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (other)
        instance_create_put(other);
    if (err) {
        instance_create_put(h);
        return err;
    }
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)&h->jw.base;
    return 0;
}

int instance_create_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    struct instances_state *s = instances_state_of(v);
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES;
    pthread_mutex_lock(&s->lock);
    struct request_handle *h = instance_create_find(s, p->name);
    pthread_mutex_unlock(&s->lock);
    if (!h)
        return -ENOENT;
    int err = json_write_truncate(&h->jw.base, size);
    instance_create_put(h);
    return err;
}
