#include "remote/session.h"

#include "file_replace.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *session_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *path = NULL;
    int n = xdg && *xdg ? asprintf(&path, "%s/vrcfs/session.json", xdg)
                        : asprintf(&path, "%s/.config/vrcfs/session.json", home ? home : ".");
    return n < 0 ? NULL : path;
}

static char *dup_field(json_t *root, const char *key)
{
    const char *v = json_string_value(json_object_get(root, key));
    return v && *v ? strdup(v) : NULL;
}

int session_load(const char *path, struct session *s)
{
    memset(s, 0, sizeof *s);
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return access(path, F_OK) == 0 ? -EINVAL : -ENOENT;
    s->service = dup_field(root, "service");
    if (!s->service)
        s->service = strdup(SESSION_SERVICE_VRCHAT);
    s->api_url = dup_field(root, "api_url");
    s->auth = dup_field(root, "auth");
    s->two_factor = dup_field(root, "twoFactorAuth");
    s->user_id = dup_field(root, "user_id");
    s->display_name = dup_field(root, "display_name");
    s->token = dup_field(root, "token");
    json_decref(root);
    bool vrchat = s->service && strcmp(s->service, SESSION_SERVICE_VRCHAT) == 0;
    bool sharedcloud = s->service && strcmp(s->service, SESSION_SERVICE_SHAREDCLOUD) == 0;
    if (!s->api_url || (vrchat && !s->auth) || (sharedcloud && !s->token) ||
        (!vrchat && !sharedcloud)) {
        session_clear(s);
        return -EINVAL;
    }
    return 0;
}

static int make_parent_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    char *dir = dirname(copy);
    int err = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        /* The parent's parent ($HOME/.config) may be missing on a fresh machine. */
        char *copy2 = strdup(dir);
        char *grand = copy2 ? dirname(copy2) : NULL;
        if (!grand || (mkdir(grand, 0700) != 0 && errno != EEXIST) ||
            (mkdir(dir, 0700) != 0 && errno != EEXIST))
            err = -errno;
        free(copy2);
    }
    if (!err)
        chmod(dir, 0700);
    free(copy);
    return err;
}

int session_save(const char *path, const struct session *s)
{
    int err = make_parent_dir(path);
    if (err)
        return err;
    json_t *root = json_object();
    if (s->service)
        json_object_set_new(root, "service", json_string(s->service));
    json_object_set_new(root, "api_url", json_string(s->api_url));
    if (s->auth)
        json_object_set_new(root, "auth", json_string(s->auth));
    if (s->token)
        json_object_set_new(root, "token", json_string(s->token));
    if (s->two_factor)
        json_object_set_new(root, "twoFactorAuth", json_string(s->two_factor));
    if (s->user_id)
        json_object_set_new(root, "user_id", json_string(s->user_id));
    if (s->display_name)
        json_object_set_new(root, "display_name", json_string(s->display_name));
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    char *tmp = NULL;
    if (!text || asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
        free(text);
        return -ENOMEM;
    }
    err = file_replace(path, tmp, text, strlen(text));
    free(tmp);
    free(text);
    return err;
}

void session_clear(struct session *s)
{
    if (s->token)
        explicit_bzero(s->token, strlen(s->token));
    free(s->token);
    free(s->service);
    free(s->api_url);
    free(s->auth);
    free(s->two_factor);
    free(s->user_id);
    free(s->display_name);
    memset(s, 0, sizeof *s);
}
