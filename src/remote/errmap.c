#include "remote/errmap.h"

#include <errno.h>

static const struct {
    long status;
    int err;
} errmap_table[] = {
    {400, EINVAL}, {401, EACCES}, {403, EACCES}, {404, ENOENT}, {409, EBUSY},
    {410, ENOENT}, {413, EFBIG},  {416, EINVAL}, {429, EAGAIN}, {503, EAGAIN},
};

int errmap_status(long status)
{
    if (status >= 200 && status < 400)
        return 0;
    for (size_t i = 0; i < sizeof errmap_table / sizeof errmap_table[0]; i++)
        if (errmap_table[i].status == status)
            return errmap_table[i].err;
    return EIO;
}

int errmap_curl(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return ENOMEM;
    default:
        return EIO;
    }
}
