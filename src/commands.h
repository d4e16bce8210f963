/* commands: `vrcfs login`, `vrcfs logout` and the session check before a mount. */
#ifndef VRCFS_COMMANDS_H
#define VRCFS_COMMANDS_H

#include "options.h"
#include "remote/http.h"
#include "remote/session.h"

/* Each returns the process exit code and prints one clear line on failure. */
int command_login(const struct vrcfs_options *o);
int command_logout(const struct vrcfs_options *o);

/* Loads the session for a mount and checks it once: GET /auth for VRChat, GET of the instance
 * list for sharedcloud. A -o service or api_url that differs from the session's is refused. On
 * success returns a client that carries the session's cookies or token, and fills *s
 * (s->service says which service). NULL (after printing why) otherwise. */
struct http_client *command_open_session(const struct vrcfs_options *o, struct session *s);

#endif
