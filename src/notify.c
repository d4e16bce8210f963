#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_ready(const char *status)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    /* A path, or "@name" for an abstract socket (a leading NUL on the wire). */
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof addr.sun_path)
        return -EINVAL;
    memcpy(addr.sun_path, name, len);
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    char msg[512];
    int n = snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status);
    if (n < 0 || (size_t)n >= sizeof msg)
        n = (int)strlen("READY=1");
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t sent = sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    int err = sent < 0 ? -errno : 0;
    close(fd);
    return err;
}
