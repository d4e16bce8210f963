/* Fuzzes the reading of an error answer (src/remote/http.c http_error_message: the VRChat
 * envelope, the "not implemented" string, HTML and S3 XML pages, anything) and the status
 * table (src/remote/errmap.c). */
#include "remote/errmap.h"
#include "remote/http.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char small[8], message[256];
    http_error_message((const char *)data, size, message, sizeof message);
    if (strlen(message) >= sizeof message)
        __builtin_trap();
    http_error_message((const char *)data, size, small, sizeof small);
    long status = 0;
    memcpy(&status, data, size < sizeof status ? size : sizeof status);
    (void)errmap_status(status);
    return 0;
}
