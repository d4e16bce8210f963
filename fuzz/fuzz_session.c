/* Fuzzes the reading of a session file (src/remote/session.c): the input becomes the file. */
#include "remote/session.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/vrcfs-fuzz-session-%d.json", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct session s;
    if (session_load(path, &s) == 0)
        session_clear(&s);
    unlink(path);
    return 0;
}
