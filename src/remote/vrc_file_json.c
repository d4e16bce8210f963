#include "remote/vrc_file_json.h"

#include "json_text.h"

#include <stdlib.h>
#include <string.h>

static const struct vrc_file_version *version_of(const struct vrc_file *f, json_int_t n)
{
    for (size_t i = 0; i < f->nversions; i++)
        if (f->versions[i].version == n)
            return &f->versions[i];
    return NULL;
}

/* Puts f's md5s into the versions of obj, and takes out the ones f does not hold. */
static void set_md5s(const struct vrc_file *f, json_t *obj)
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
            if (v && v->data[k].md5[0])
                json_object_set_new(data, "md5", json_string(v->data[k].md5));
            else
                json_object_del(data, "md5");
        }
    }
}

char *vrc_file_json_render(const struct vrc_file *f, size_t *len)
{
    json_t *obj = json_loads(f->json, 0, NULL);
    if (!obj)
        return NULL;
    set_md5s(f, obj);
    char *text = json_text_dump(obj, JSON_INDENT(2) | JSON_SORT_KEYS, len);
    json_decref(obj);
    return text;
}
