/* local_link: the symlinks created Files leave in /files and by-tag/<tag>/ (local_link.h). */
#include "vfs/local_link.h"

#include "vfs/names.h"

#include <stdlib.h>
#include <string.h>

struct local_link *local_link_find(struct files_write_state *w, const char *dir, const char *name)
{
    for (struct local_link *l = w->links; l; l = l->next)
        if (strcmp(l->dir, dir) == 0 && strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

bool local_link_shown(struct files_write_state *w, const struct stage *s)
{
    return s && s->rec.kind == STAGING_NEW && atomic_load(&s->phase) == PHASE_DONE &&
           local_link_find(w, s->rec.dir, s->rec.name);
}

void local_link_remove(struct files_write_state *w, struct local_link *gone)
{
    for (struct local_link **pp = &w->links; *pp; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            free(gone->target);
            free(gone);
            return;
        }
    }
}

void local_link_add(struct files_write_state *w, const char *dir, const char *name,
                    const struct vrc_file *f)
{
    char *alias = names_alias(f->name, f->extension);
    char *target = NULL;
    if (!alias || asprintf(&target, "%s%s/%s", *dir ? "../../" : "", f->id, alias) < 0)
        target = NULL;
    free(alias);
    struct local_link *l = target ? calloc(1, sizeof *l) : NULL;
    if (!l) {
        free(target);
        return;
    }
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->file_id, sizeof l->file_id, "%s", f->id);
    l->target = target;
    pthread_mutex_lock(&w->lock);
    struct local_link *old = local_link_find(w, dir, name);
    if (old)
        local_link_remove(w, old);
    l->next = w->links;
    w->links = l;
    pthread_mutex_unlock(&w->lock);
}

void local_link_forget_file(struct files_write_state *w, const char *file_id)
{
    for (struct local_link **pp = &w->links; *pp;) {
        if (strcmp((*pp)->file_id, file_id) == 0) {
            struct local_link *gone = *pp;
            *pp = gone->next;
            free(gone->target);
            free(gone);
        } else {
            pp = &(*pp)->next;
        }
    }
}

void local_link_free_all(struct files_write_state *w)
{
    while (w->links) {
        struct local_link *l = w->links;
        w->links = l->next;
        free(l->target);
        free(l);
    }
}
