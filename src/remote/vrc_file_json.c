#include "remote/vrc_file_json.h"

#include "json_text.h"
#include "remote/file_digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The width of a quoted base64 MD5, which the md5 of every complete version's data takes in
 * file.json whether it is known or not. */
#define MD5_FIELD_WIDTH (DIGEST_MD5_B64_LEN + 2)

static const struct vrc_file_version *version_of(const struct vrc_file *f, json_int_t n)
{
    for (size_t i = 0; i < f->nversions; i++)
        if (f->versions[i].version == n)
            return &f->versions[i];
    return NULL;
}

bool vrc_file_json_md5_ok(const char *md5)
{
    unsigned char raw[16];
    return digest_md5_from_base64(md5, raw) == 0;
}

/* Puts f's md5s into the versions of obj. The data of a complete, not deleted version always
 * gets one: a real MD5, or none_mark where f has none (or one that is not an MD5); other data
 * keeps what f holds, or loses the key when f holds nothing. */
static void set_md5s(const struct vrc_file *f, json_t *obj, const char *none_mark)
{
    size_t i;
    json_t *jv;
    json_array_foreach(json_object_get(obj, "versions"), i, jv)
    {
        const struct vrc_file_version *v =
            version_of(f, json_integer_value(json_object_get(jv, "version")));
        for (int k = 0; k < VRC_DATA_KINDS; k++) {
            json_t *data = json_object_get(jv, vrc_data_kind_name((enum vrc_data_kind)k));
            if (!json_is_object(data))
                continue;
            const char *md5 = v ? v->data[k].md5 : "";
            bool fixed_width =
                v && v->data[k].present && !v->deleted && v->status == VRC_STATUS_COMPLETE;
            if (fixed_width)
                json_object_set_new(data, "md5",
                                    json_string(vrc_file_json_md5_ok(md5) ? md5 : none_mark));
            else if (md5[0])
                json_object_set_new(data, "md5", json_string(md5));
            else
                json_object_del(data, "md5");
        }
    }
}

char *vrc_file_json_render(const struct vrc_file *f, size_t *len)
{
    /* none_mark: a string of an MD5's length found nowhere in the server's object (nor in any
     * MD5: '.' is not base64), so that each quoted one in the text is a null to put there. */
    char none_mark[DIGEST_MD5_B64_LEN + 1];
    unsigned n = 0;
    do
        snprintf(none_mark, sizeof none_mark, "vrcfs.md5.none.%09u", n++);
    while (strstr(f->json, none_mark));
    json_t *obj = json_loads(f->json, 0, NULL);
    if (!obj)
        return NULL;
    set_md5s(f, obj, none_mark);
    char *text = json_text_dump(obj, JSON_INDENT(2) | JSON_SORT_KEYS, len);
    json_decref(obj);
    char quoted[MD5_FIELD_WIDTH + 1];
    snprintf(quoted, sizeof quoted, "\"%s\"", none_mark);
    for (char *at = text; at && (at = strstr(at, quoted)); at += MD5_FIELD_WIDTH)
        memcpy(at, "null                      ", MD5_FIELD_WIDTH);
    return text;
}
