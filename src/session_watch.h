/* session_watch: a mount takes up the session that `vrcfs login` writes while it runs. After a
 * 401, the session file is read again when it changed since it was last read; new credentials
 * for the same service and API go on the client and the request is tried once more. Nothing
 * here ever logs in. */
#ifndef VRCFS_SESSION_WATCH_H
#define VRCFS_SESSION_WATCH_H

#include "remote/http.h"
#include "remote/session.h"

struct session_watch;

/* Watches path (NULL: the default session file) for the session s that c carries now, and
 * hooks itself to c's 401s. NULL when out of memory (the mount works on without it). */
struct session_watch *session_watch_new(struct http_client *c, const char *path,
                                        const struct session *s);

/* Unhooks from c and frees w (NULL is fine). */
void session_watch_free(struct http_client *c, struct session_watch *w);

#endif
