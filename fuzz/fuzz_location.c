/* Fuzzes the LocationID grammar (src/remote/location.c) and the other checks of names that come
 * from the server or from a user's path under /instances. */
#include "remote/instances_api.h"
#include "remote/location.h"
#include "vfs/instance_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct location loc;
    (void)location_parse(s, &loc);
    (void)instances_api_short_name_ok(s);
    (void)instance_names_is_request_name(s);
    (void)instance_names_xattr(s);
    char time_buf[64];
    struct instances_api_close how;
    if (instance_names_close_value(s, size, time_buf, sizeof time_buf, &how) == 0) {
        char query[256];
        (void)instances_api_close_query(&how, query, sizeof query);
    }
    free(s);
    return 0;
}
