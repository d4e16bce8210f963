/* Fuzzes the File model (src/remote/vrc_file.c) with what GET /files, GET /file/{id} and the
 * upload calls answer: a JSON array is taken as a listing page (each element parsed on its own,
 * as files_api.c does), anything else as one File. Every accessor runs on what parses, each
 * version's sizes become attributes as the tree shows them (src/vfs/vfs_common.c), and file.json
 * is rendered (src/remote/vrc_file_json.c). */
#include "remote/vrc_file.h"
#include "remote/vrc_file_json.h"
#include "vfs/vfs_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* file.json: what it renders is JSON, and its size does not depend on the md5s of complete
 * versions (a stat before GET /file and the read after it agree): without any, the same length.
 * f is not shared yet, so its md5s can be taken out here. */
static void render_file_json(struct vrc_file *f)
{
    size_t len = 0, len_without = 0;
    char *text = vrc_file_json_render(f, &len);
    if (!text)
        return;
    json_t *back = json_loads(text, 0, NULL);
    if (!back)
        abort();
    json_decref(back);
    for (size_t i = 0; i < f->nversions; i++)
        for (int k = 0; k < VRC_DATA_KINDS; k++)
            if (f->versions[i].data[k].present && !f->versions[i].deleted &&
                f->versions[i].status == VRC_STATUS_COMPLETE)
                f->versions[i].data[k].md5[0] = '\0';
    char *without = vrc_file_json_render(f, &len_without);
    if (without && len_without != len)
        abort();
    free(without);
    free(text);
}

static void exercise(json_t *obj)
{
    char err[200];
    struct vrc_file *f = vrc_file_parse(obj, err, sizeof err);
    if (!f)
        return;
    int latest = vrc_file_latest(f), newest = vrc_file_newest(f);
    (void)vrc_file_version(f, latest);
    (void)vrc_file_version(f, newest);
    (void)vrc_file_id_ok(f->id, strlen(f->id));
    static struct vfs v; /* only its uid, gid, umask and mount time are read */
    for (size_t i = 0; i < f->nversions; i++)
        for (int k = 0; k < VRC_DATA_KINDS; k++) {
            const struct vrc_file_data *d = &f->versions[i].data[k];
            if (!d->present)
                continue;
            struct stat st;
            vfs_stat_file(&v, &st, (off_t)d->size, 0444, f->versions[i].created_at);
            if (d->url)
                (void)strlen(d->url);
        }
    render_file_json(f);
    vrc_file_unref(vrc_file_ref(f));
    vrc_file_unref(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)vrc_parse_time(text); /* created_at strings */
    (void)vrc_file_id_ok(text, size);
    free(text);
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (json_is_array(root)) {
        size_t i;
        json_t *item;
        json_array_foreach(root, i, item) exercise(item);
    } else if (root) {
        exercise(root);
    }
    json_decref(root);
    return 0;
}
