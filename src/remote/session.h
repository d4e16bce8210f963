/* session: the file that keeps a login between runs: the service and API it was made for, and
 * the cookies (VRChat) or the token (sharedcloud). Directory 0700, file 0600, written
 * atomically. It holds secrets: never log its content. */
#ifndef VRCFS_SESSION_H
#define VRCFS_SESSION_H

#define SESSION_SERVICE_VRCHAT "vrchat"
#define SESSION_SERVICE_SHAREDCLOUD "sharedcloud"

struct session {
    char *service; /* SESSION_SERVICE_*; a file without one is VRChat's (older vrcfs) */
    char *api_url;
    char *auth;       /* the auth cookie */
    char *two_factor; /* the twoFactorAuth cookie, remembered across logins; may be NULL */
    char *user_id;
    char *display_name;
    char *token; /* sharedcloud's API token */
};

/* $XDG_CONFIG_HOME/vrcfs/session.json, else $HOME/.config/vrcfs/session.json (malloc'd). */
char *session_default_path(void);

/* 0 with s->service always set, -ENOENT when there is no file, -EINVAL when it is not a
 * session: no api_url, an unknown service, a VRChat session without auth or a sharedcloud one
 * without token. */
int session_load(const char *path, struct session *s);

/* Creates the directory (0700) if needed and replaces the file (0600) with the fields that
 * are set (service NULL: VRChat's, written without one). 0 or a negative errno. */
int session_save(const char *path, const struct session *s);

void session_clear(struct session *s);

#endif
