/* Fuzzes the File model (src/remote/vrc_file.c) with what GET /files, GET /file/{id} and the
 * upload calls answer: a JSON array is taken as a listing page (each element parsed on its own,
 * as files_api.c does), anything else as one File. Every accessor runs on what parses. */
#include "remote/vrc_file.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    for (size_t i = 0; i < f->nversions; i++)
        for (int k = 0; k < VRC_DATA_KINDS; k++)
            if (f->versions[i].data[k].present && f->versions[i].data[k].url)
                (void)strlen(f->versions[i].data[k].url);
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
