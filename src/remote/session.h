/* session: the file that keeps a login between runs: the API it was made for and the cookies.
 * Directory 0700, file 0600, written atomically. It holds secrets: never log its content. */
#ifndef VRCFS_SESSION_H
#define VRCFS_SESSION_H

struct session {
    char *api_url;
    char *auth;       /* the auth cookie */
    char *two_factor; /* the twoFactorAuth cookie, remembered across logins; may be NULL */
    char *user_id;
    char *display_name;
};

/* $XDG_CONFIG_HOME/vrcfs/session.json, else $HOME/.config/vrcfs/session.json (malloc'd). */
char *session_default_path(void);

/* 0, -ENOENT when there is no file, -EINVAL when it is not a session (or lacks api_url/auth). */
int session_load(const char *path, struct session *s);

/* Creates the directory (0700) if needed and replaces the file (0600). 0 or a negative errno. */
int session_save(const char *path, const struct session *s);

void session_clear(struct session *s);

#endif
