#include "session_watch.h"

#include "log.h"
#include "remote/sharedcloud_api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct session_watch {
    char *path;
    char *service;
    char *api_url;
    char *credential; /* the auth cookie or the token the client carries now */
    struct stat seen; /* the file as it was when last read */
};

static bool same_file_version(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool is_vrchat(const char *service)
{
    return strcmp(service, SESSION_SERVICE_VRCHAT) == 0;
}

static bool renew(void *arg, struct http_client *c)
{
    struct session_watch *w = arg;
    struct stat st;
    if (stat(w->path, &st) != 0 || same_file_version(&st, &w->seen))
        return false;
    w->seen = st;
    struct session s;
    int err = session_load(w->path, &s);
    if (err) {
        log_info("session file %s: %s, not taken up", w->path,
                 err == -ENOENT ? "gone" : "not a session");
        return false;
    }
    bool vrchat = is_vrchat(s.service);
    const char *credential = vrchat ? s.auth : s.token;
    bool taken = false;
    if (strcmp(s.service, w->service) != 0 || strcmp(s.api_url, w->api_url) != 0) {
        log_info("session file %s is now for %s at %s, not this mount's %s at %s: not taken up",
                 w->path, s.service, s.api_url, w->service, w->api_url);
    } else if (credential && strcmp(credential, w->credential) != 0) {
        char *copy = strdup(credential);
        if (copy) {
            if (vrchat)
                http_client_set_cookies(c, s.auth, s.two_factor);
            else
                sharedcloud_api_set_token(c, s.token);
            free(w->credential);
            w->credential = copy;
            taken = true;
            log_info("took up the new session in %s", w->path);
        }
    }
    session_clear(&s);
    return taken;
}

struct session_watch *session_watch_new(struct http_client *c, const char *path,
                                        const struct session *s)
{
    struct session_watch *w = calloc(1, sizeof *w);
    const char *credential = is_vrchat(s->service) ? s->auth : s->token;
    if (!w || !credential)
        goto fail;
    w->path = path ? strdup(path) : session_default_path();
    w->service = strdup(s->service);
    w->api_url = strdup(s->api_url);
    w->credential = strdup(credential);
    if (!w->path || !w->service || !w->api_url || !w->credential)
        goto fail;
    /* A file that cannot be read now counts as changed when it can. */
    if (stat(w->path, &w->seen) != 0)
        memset(&w->seen, 0, sizeof w->seen);
    http_client_on_unauthorized(c, renew, w);
    return w;
fail:
    session_watch_free(NULL, w);
    return NULL;
}

void session_watch_free(struct http_client *c, struct session_watch *w)
{
    if (!w)
        return;
    if (c)
        http_client_on_unauthorized(c, NULL, NULL);
    if (w->credential)
        explicit_bzero(w->credential, strlen(w->credential));
    free(w->credential);
    free(w->path);
    free(w->service);
    free(w->api_url);
    free(w);
}
