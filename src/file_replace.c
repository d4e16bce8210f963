/* file_replace: a file replaced whole (file_replace.h). */
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int file_replace(const char *path, const char *tmp, const char *text, size_t len)
{
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int err = 0;
    errno = 0;
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
        err = errno ? -errno : -EIO;
    if (close(fd) != 0 && !err)
        err = -errno;
    if (!err && rename(tmp, path) != 0)
        err = -errno;
    if (err)
        unlink(tmp);
    return err;
}
