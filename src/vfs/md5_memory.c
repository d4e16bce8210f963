/* md5_memory: an open-addressing hash table of "fileId/version/kind" -> base64 md5 ("" for
 * none), under one mutex; it only grows, by the number of versions the mount has seen. The kept
 * file is append-only: a line is written once, when GET /file first teaches it. */
#include "vfs/md5_memory.h"
#include "log.h"
#include "remote/vrc_file_json.h"
#include "vfs/str_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slot {
    char *key;
    char md5[32];
};

struct md5_memory {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t size, count; /* size a power of two, count <= size / 2 */
    int kept_fd;        /* the kept file, open for appending, or -1 */
};

struct md5_memory *md5_memory_new(void)
{
    struct md5_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->size = 64;
    m->kept_fd = -1;
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
    if (m->kept_fd >= 0)
        close(m->kept_fd);
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

/* Stores md5 under key, unless a real md5 is there already. 1 when that taught something (a
 * new key, or a real md5 for "none"), 0 when not, or -ENOMEM. Lock held. */
static int put(struct md5_memory *m, const char *key, const char *md5)
{
    struct slot *s = find(m->slots, m->size, key);
    if (s->key) {
        if (s->md5[0] || !md5[0])
            return 0;
        snprintf(s->md5, sizeof s->md5, "%s", md5);
        return 1;
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
    return 1;
}

/* A key that can stand in a kept line: printable, no space (an id is the server's word). */
static bool key_ok(const char *key, size_t len)
{
    if (len == 0 || len >= 512)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] < 0x21 || key[i] == 0x7f)
            return false;
    return true;
}

/* Appends "key md5" (md5 "-" for none) to the kept file. A failed write stops the keeping: the
 * next mount then asks GET /file again, which is all it costs. Lock held. */
static void keep(struct md5_memory *m, const char *key, const char *md5)
{
    if (m->kept_fd < 0 || !key_ok(key, strlen(key)))
        return;
    char line[600];
    int len = snprintf(line, sizeof line, "%s %s\n", key, md5[0] ? md5 : "-");
    if (len > 0 && (size_t)len < sizeof line && write(m->kept_fd, line, (size_t)len) == len)
        return;
    log_warn("md5s: cannot append to the kept file (%s); a remount will ask GET /file again",
             strerror(errno));
    close(m->kept_fd);
    m->kept_fd = -1;
}

/* A kept line, without its newline: "<fileId>/<N>/<kind> <md5|->", no other space, no control
 * characters, an MD5 in base64. */
static bool parse_line(char *line, char **key, char **md5)
{
    char *sp = strchr(line, ' ');
    if (!sp || strchr(sp + 1, ' ') || !key_ok(line, (size_t)(sp - line)))
        return false;
    *sp = '\0';
    *key = line;
    *md5 = sp + 1;
    if (strcmp(*md5, "-") == 0) {
        **md5 = '\0';
        return true;
    }
    return vrc_file_json_md5_ok(*md5);
}

int md5_memory_keep(struct md5_memory *m, const char *path)
{
    int err = 0;
    off_t whole = 0; /* the bytes up to the last newline: after them, a line cut short */
    pthread_mutex_lock(&m->lock);
    FILE *in = fopen(path, "re");
    if (in) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (!err && (len = getline(&line, &cap, in)) > 0 && line[len - 1] == '\n') {
            char *key, *md5;
            whole += len;
            line[len - 1] = '\0';
            if (parse_line(line, &key, &md5) && put(m, key, md5) < 0)
                err = -ENOMEM;
        }
        free(line);
        fclose(in);
    }
    if (!err) {
        /* The cut line goes: appended to, it would read as an md5 that is only its start. */
        m->kept_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (m->kept_fd < 0 || ftruncate(m->kept_fd, whole) != 0)
            err = -errno;
        if (err && m->kept_fd >= 0) {
            close(m->kept_fd);
            m->kept_fd = -1;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return err;
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
            /* Only MD5s are remembered; a complete version's data with something else has none. */
            bool bad = d->md5[0] && !vrc_file_json_md5_ok(d->md5);
            if (bad && !counts(v, k))
                continue;
            size_t bad_len = bad ? strlen(d->md5) : 0;
            if (bad)
                d->md5[0] = '\0';
            key_of(key, sizeof key, f, v->version, k);
            if (!d->md5[0]) {
                struct slot *s = find(m->slots, m->size, key);
                if (s->key)
                    memcpy(d->md5, s->md5, sizeof d->md5);
            }
            if (d->md5[0] || (counts(v, k) && (asked || bad))) {
                int taught = put(m, key, d->md5);
                if (taught < 0)
                    err = taught;
                else if (taught && asked)
                    keep(m, key, d->md5);
                if (taught > 0 && bad && !d->md5[0])
                    log_info("/files/%s: the server's md5 is not a base64 MD5 (%zu characters): "
                             "file.json shows none and the data is read unchecked",
                             key, bad_len);
            }
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
