/* Fuzzes the reading of GET /file/{id}/{N}/file/status, which a resumed multipart upload
 * trusts for the parts it already has (src/remote/upload.c upload_parse_status). */
#include "remote/upload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    int *numbers = NULL;
    char **etags = NULL;
    size_t n = upload_parse_status(root, &numbers, &etags);
    for (size_t i = 0; i < n; i++) {
        size_t len = etags[i] ? strlen(etags[i]) : 0;
        /* The promise: part numbers 1..UPLOAD_PARTS_MAX, etags without their quotes. */
        if (numbers[i] < 1 || numbers[i] > UPLOAD_PARTS_MAX || !etags[i] ||
            (len && (etags[i][0] == '"' || etags[i][len - 1] == '"')))
            abort();
    }
    upload_remote_parts_free(numbers, etags, n);
    json_decref(root);
    return 0;
}
