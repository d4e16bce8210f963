/* Fuzzes what /instances is built from: the CurrentUser's presence (GET /auth/user) and a page
 * of GET /instances/recent, merged as instances_tree.c does (src/vfs/instance_names.c). */
#include "remote/instances_api.h"
#include "vfs/instance_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!root)
        return 0;
    char current[1024];
    bool have_current = instance_names_presence(root, current, sizeof current) == 0;
    /* The same document as a recent page: its strings are the locations. */
    json_t *list = json_is_array(root) ? root : json_object_get(root, "recent");
    size_t n = json_array_size(list), k = 0;
    char **recent = calloc(n + 1, sizeof *recent);
    if (recent) {
        for (size_t i = 0; i < n; i++)
            if (json_is_string(json_array_get(list, i)))
                recent[k++] = (char *)json_string_value(json_array_get(list, i));
        size_t count = 0;
        char **merged =
            instance_names_merge(have_current ? current : NULL, recent, k, recent, k / 2, &count);
        instances_api_free_strings(merged);
        free(recent);
    }
    json_decref(root);
    return 0;
}
