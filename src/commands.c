#include "commands.h"

#include "log.h"
#include "remote/auth.h"
#include "remote/sharedcloud_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_CONTACT "vrcfs-user"

static char *session_path(const struct vrcfs_options *o)
{
    return o->session ? strdup(o->session) : session_default_path();
}

static struct http_client *client_for(const struct vrcfs_options *o, const char *api_url,
                                      const char *contact)
{
    struct http_config cfg = {
        .api_url = api_url,
        .contact = contact ? contact : DEFAULT_CONTACT,
        .rate_per_min = o->rate,
        .retries = o->retries,
        .connect_timeout_s = 10,
        .low_speed_time_s = 30,
        .api_timeout_s = 120,
    };
    return http_client_new(&cfg);
}

/* Reads one line from the terminal (or stdin), without echo when secret. */
static char *prompt(const char *question, int secret)
{
    FILE *tty = fopen("/dev/tty", "r+");
    FILE *in = tty ? tty : stdin;
    FILE *out = tty ? tty : stderr;
    fprintf(out, "%s", question);
    fflush(out);
    struct termios old, quiet;
    int restore = secret && tcgetattr(fileno(in), &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(in), TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (restore) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fprintf(out, "\n");
    }
    if (tty)
        fclose(tty);
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static char *env_or_prompt(const char *env, const char *question, int secret)
{
    const char *v = getenv(env);
    return v && *v ? strdup(v) : prompt(question, secret);
}

/* One line on why a login step failed, from what happened: no answer at all, a refusal, a
 * rate limit, or a server that answered but failed (a 503 is an outage, not a rate limit).
 * status -1: unknown (sharedcloud's check gives none), judged by the errno alone. */
static void explain_login_failure(int err, long status, const char *api_url, const char *message)
{
    const char *said = *message ? message : strerror(-err);
    if (status < 0 && err != -EACCES && err != -EAGAIN && err != -EIO && err != -ETIMEDOUT) {
        fprintf(stderr, "vrcfs: login failed: %s\n", said);
        return;
    }
    if (status < 0)
        status = err == -EACCES ? 401 : err == -EAGAIN ? 429 : 0;
    if (status == 0)
        fprintf(stderr, "vrcfs: cannot reach %s: %s\n", api_url, said);
    else if (status == 429)
        fprintf(stderr,
                "vrcfs: the server is rate limiting logins (%s); wait before trying again\n", said);
    else if (status == 401 || status == 403)
        fprintf(stderr, "vrcfs: login refused: %s\n", *message ? message : "access denied");
    else if (status >= 500)
        fprintf(stderr,
                "vrcfs: the server answered the login with HTTP %ld: %s; it is failing or down, "
                "try again later\n",
                status, said);
    else
        fprintf(stderr, "vrcfs: login failed: HTTP %ld: %s\n", status, said);
}

static int second_factor(struct http_client *c, unsigned methods, char **two_factor)
{
    const char *env_code = getenv("VRCFS_2FA_CODE");
    int tries = env_code && *env_code ? 1 : 3;
    int err = -EACCES;
    long status = 400;
    /* Only a wrong code is worth typing another one. */
    for (int i = 0; i < tries && err == -EACCES && status == 400; i++) {
        const char *question = methods & AUTH_2FA_TOTP
                                   ? "Authenticator (totp) or recovery (otp) code: "
                               : methods & AUTH_2FA_EMAIL ? "E-mailed (emailOtp) code: "
                                                          : "Recovery (otp) code: ";
        char *code = env_or_prompt("VRCFS_2FA_CODE", question, 0);
        enum auth_method m = auth_method_for_code(methods, code);
        if (!code) {
            fprintf(stderr, "vrcfs: a %s code is required (set VRCFS_2FA_CODE)\n",
                    auth_method_name(m));
            return -EINVAL;
        }
        char message[256] = "";
        err = auth_verify(c, m, code, two_factor, message, &status);
        free(code);
        if (err == -EACCES && status == 401)
            fprintf(stderr,
                    "vrcfs: the login was no longer pending when the %s code was checked (%s): "
                    "the session cookie was missing or had expired; run vrcfs login again\n",
                    auth_method_name(m), *message ? message : "401");
        else if (err == -EACCES)
            fprintf(stderr, "vrcfs: wrong %s code: %s\n", auth_method_name(m), message);
        else if (err)
            explain_login_failure(err, status, http_client_api_url(c), message);
    }
    return err;
}

static int finish_login(struct http_client *c, const char *path, struct session *s)
{
    json_t *user = NULL;
    int err = auth_current_user(c, &user);
    char message[256] = "";
    if (!err)
        err = auth_check(c, message);
    if (err) {
        fprintf(stderr, "vrcfs: the server did not accept the new session: %s\n",
                *message ? message : strerror(-err));
        json_decref(user);
        return 1;
    }
    s->user_id = strdup(json_string_value(json_object_get(user, "id")));
    const char *name = json_string_value(json_object_get(user, "displayName"));
    s->display_name = name ? strdup(name) : NULL;
    json_decref(user);
    err = session_save(path, s);
    if (err) {
        fprintf(stderr, "vrcfs: cannot write the session file %s: %s\n", path, strerror(-err));
        return 1;
    }
    printf("Logged in as %s (%s); session saved in %s\n", s->display_name ? s->display_name : "?",
           s->user_id, path);
    return 0;
}

static bool is_sharedcloud(const char *service)
{
    return service && strcmp(service, SESSION_SERVICE_SHAREDCLOUD) == 0;
}

/* The origin a sharedcloud session is for: api_url (default the service's) without a trailing
 * '/', since the API paths start with one. */
static char *sharedcloud_origin(const struct vrcfs_options *o)
{
    char *origin = strdup(o->api_url ? o->api_url : SHAREDCLOUD_DEFAULT_ORIGIN);
    size_t n = origin ? strlen(origin) : 0;
    while (n > 0 && origin[n - 1] == '/')
        origin[--n] = '\0';
    return origin;
}

/* sharedcloud: the token is checked with one GET of the list and kept in the session file. */
static int login_sharedcloud(const struct vrcfs_options *o)
{
    char *path = session_path(o);
    struct session s = {.service = strdup(SESSION_SERVICE_SHAREDCLOUD)};
    s.api_url = sharedcloud_origin(o);
    s.token = env_or_prompt("VRCFS_TOKEN", "sharedcloud.io API token: ", 1);
    struct http_client *c = NULL;
    int rc = 1;
    if (!s.token || !*s.token) {
        fprintf(stderr, "vrcfs: a token is required (or set VRCFS_TOKEN)\n");
        goto out;
    }
    if (!sharedcloud_api_token_ok(s.token)) {
        fprintf(stderr, "vrcfs: that is not a token (spaces or control characters)\n");
        goto out;
    }
    /* A refusal is said once, below, rather than also as http.c's request line. */
    if (!o->debug)
        log_set_level(LOG_LVL_WARN);
    c = client_for(o, s.api_url, o->contact);
    sharedcloud_api_set_token(c, s.token);
    char message[SHAREDCLOUD_MESSAGE_LEN] = "";
    int err = sharedcloud_api_check(c, message);
    if (err) {
        explain_login_failure(err, -1, s.api_url, message);
        goto out;
    }
    err = session_save(path, &s);
    if (err) {
        fprintf(stderr, "vrcfs: cannot write the session file %s: %s\n", path, strerror(-err));
        goto out;
    }
    printf("Logged in to sharedcloud at %s; session saved in %s\n", s.api_url, path);
    rc = 0;
out:
    http_client_free(c);
    session_clear(&s);
    free(path);
    return rc;
}

int command_login(const struct vrcfs_options *o)
{
    if (is_sharedcloud(o->service))
        return login_sharedcloud(o);
    char *path = session_path(o);
    struct session old = {0}, s = {0};
    struct auth_login login = {0};
    session_load(path, &old);
    s.api_url = strdup(o->api_url ? o->api_url : VRCFS_DEFAULT_API_URL);
    /* A remembered twoFactorAuth cookie skips 2FA, but only for the API that issued it. */
    const char *remembered =
        old.api_url && strcmp(old.api_url, s.api_url) == 0 ? old.two_factor : NULL;
    struct http_client *c = client_for(o, s.api_url, o->contact);
    char *user = env_or_prompt("VRCFS_USERNAME", "Username: ", 0);
    char *password = user ? env_or_prompt("VRCFS_PASSWORD", "Password: ", 1) : NULL;
    int rc = 1;
    if (!user || !password) {
        fprintf(stderr, "vrcfs: a username and password are required (or set VRCFS_USERNAME "
                        "and VRCFS_PASSWORD)\n");
        goto out;
    }

    int err = auth_login(c, user, password, remembered, &login);
    if (err) {
        explain_login_failure(err, login.status, s.api_url, login.message);
        goto out_login;
    }
    s.auth = strdup(login.auth);
    if (login.methods) {
        if (second_factor(c, login.methods, &s.two_factor) != 0)
            goto out_login;
        http_client_set_cookies(c, s.auth, s.two_factor);
    } else if (remembered) {
        s.two_factor = strdup(remembered);
    }
    rc = finish_login(c, path, &s);
out_login:
    auth_login_clear(&login);
out:
    if (password)
        explicit_bzero(password, strlen(password));
    free(password);
    free(user);
    http_client_free(c);
    session_clear(&s);
    session_clear(&old);
    free(path);
    return rc;
}

int command_logout(const struct vrcfs_options *o)
{
    char *path = session_path(o);
    struct session s;
    int err = session_load(path, &s);
    if (err) {
        fprintf(stderr, "vrcfs: not logged in (no session at %s)\n", path);
        free(path);
        return err == -ENOENT ? 0 : 1;
    }
    /* sharedcloud.io has no logout: its token stays valid until revoked on the website. */
    struct http_client *c = is_sharedcloud(s.service) ? NULL : client_for(o, s.api_url, o->contact);
    if (c) {
        http_client_set_cookies(c, s.auth, s.two_factor);
        err = auth_logout(c);
        if (err && err != -EACCES)
            fprintf(stderr,
                    "vrcfs: the server did not confirm the logout (%s); the session file is "
                    "deleted anyway\n",
                    strerror(-err));
    }
    int rc = unlink(path) == 0 ? 0 : 1;
    if (rc)
        perror("vrcfs: cannot delete the session file");
    else
        printf("Logged out; %s deleted\n", path);
    http_client_free(c);
    session_clear(&s);
    free(path);
    return rc;
}

struct http_client *command_open_session(const struct vrcfs_options *o, struct session *s)
{
    char *path = session_path(o);
    int err = session_load(path, s);
    if (err) {
        fprintf(stderr, "vrcfs: %s session at %s; run vrcfs login\n",
                err == -ENOENT ? "no" : "an unreadable", path);
        free(path);
        return NULL;
    }
    free(path);
    if (o->service && strcmp(o->service, s->service) != 0) {
        fprintf(stderr, "vrcfs: the session is for %s, not %s; run vrcfs login -o service=%s\n",
                s->service, o->service, o->service);
        session_clear(s);
        return NULL;
    }
    char *wanted = !o->api_url                  ? NULL
                   : is_sharedcloud(s->service) ? sharedcloud_origin(o)
                                                : strdup(o->api_url);
    if (wanted && strcmp(wanted, s->api_url) != 0) {
        fprintf(stderr, "vrcfs: the session is for %s, not %s; run vrcfs login -o api_url=%s\n",
                s->api_url, wanted, wanted);
        free(wanted);
        session_clear(s);
        return NULL;
    }
    free(wanted);
    struct http_client *c = client_for(o, s->api_url, o->contact);
    char message[SHAREDCLOUD_MESSAGE_LEN] = "";
    if (is_sharedcloud(s->service)) {
        sharedcloud_api_set_token(c, sharedcloud_api_token_ok(s->token) ? s->token : NULL);
        err = sharedcloud_api_check(c, message);
    } else {
        http_client_set_cookies(c, s->auth, s->two_factor);
        err = auth_check(c, message);
    }
    if (err == -EACCES) {
        fprintf(stderr,
                "vrcfs: the session has expired or was logged out (%s); run vrcfs login%s\n",
                message, is_sharedcloud(s->service) ? " -o service=sharedcloud" : "");
    } else if (err) {
        fprintf(stderr, "vrcfs: cannot check the session with %s: %s\n", s->api_url,
                *message ? message : strerror(-err));
    }
    if (err) {
        http_client_free(c);
        session_clear(s);
        return NULL;
    }
    return c;
}
