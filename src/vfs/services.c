/* services: the one table of services and the subtrees their mounts are made of. A new service
 * is one line here; a new top-level directory is one subtree module (subtree.h). */
#include "vfs/services.h"

#include "vfs/files_subtree.h"
#include "vfs/instances_tree.h"
#include "vfs/meta_tree.h"
#include "vfs/sharedcloud_tree.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static const struct service services[] = {
    {"vrchat", {&files_subtree, &instances_subtree, &meta_subtree}},
    {"sharedcloud", {&sharedcloud_subtree, &meta_subtree}},
};

const struct service *services_find(const char *name)
{
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        if (strcmp(services[i].name, name) == 0)
            return &services[i];
    }
    return NULL;
}

int services_parse(const struct service *s, const char *path, struct vfs_path *out,
                   const struct subtree_ops **tree)
{
    memset(out, 0, sizeof *out);
    *tree = NULL;
    if (!path || path[0] != '/')
        return -ENOENT;
    if (path[1] == '\0') {
        out->kind = VP_ROOT;
        out->path = path;
        return 0;
    }
    size_t len = strcspn(path + 1, "/");
    for (size_t i = 0; i < SERVICE_SUBTREES_MAX && s->subtrees[i]; i++) {
        const struct subtree_ops *t = s->subtrees[i];
        if (strlen(t->name) == len && memcmp(path + 1, t->name, len) == 0) {
            *tree = t;
            int err = t->parse(path, out);
            if (!err)
                out->path = path;
            return err;
        }
    }
    return len > NAME_MAX ? -ENAMETOOLONG : -ENOENT;
}

void **subtree_state(struct vfs *v, const struct subtree_ops *t)
{
    size_t i = 0;
    while (i < SERVICE_SUBTREES_MAX - 1 && v->service->subtrees[i] != t)
        i++;
    return &v->states[i];
}
