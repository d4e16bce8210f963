/* Fuzzes the check of a CreateInstanceRequest a user writes under /instances
 * (src/remote/instance_request.c). */
#include "remote/instance_request.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *req = instance_request_parse(
        (const char *)data, size, "usr_00000000-0000-4000-8000-000000000000", err, sizeof err);
    if (req) {
        char *text = json_dumps(req, JSON_COMPACT);
        free(text);
        json_decref(req);
    }
    return 0;
}
