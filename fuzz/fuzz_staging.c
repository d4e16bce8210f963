/* Fuzzes the reading of a staging sidecar record (src/vfs/staging.c), which a later mount
 * trusts to find what a killed one left: read, act on, write back, read again. */
#include "vfs/staging.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    struct staging_record r;
    if (root && staging_record_from_json(root, &r) == 0) {
        (void)staging_recovery_action(&r, size & 1, r.size);
        json_t *again = staging_record_to_json(&r);
        struct staging_record r2;
        if (!again || staging_record_from_json(again, &r2) != 0)
            abort(); /* a record vrcfs accepted must survive its own round trip */
        json_decref(again);
    }
    json_decref(root);
    return 0;
}
