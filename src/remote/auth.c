#include "remote/auth.h"

#include "remote/api_json.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    enum auth_method method;
    const char *name;
    const char *path;
} auth_methods[] = {
    {AUTH_2FA_TOTP, "totp", "/auth/twofactorauth/totp/verify"},
    {AUTH_2FA_OTP, "otp", "/auth/twofactorauth/otp/verify"},
    {AUTH_2FA_EMAIL, "emailOtp", "/auth/twofactorauth/emailotp/verify"},
};

const char *auth_method_name(enum auth_method m)
{
    for (size_t i = 0; i < sizeof auth_methods / sizeof auth_methods[0]; i++)
        if (auth_methods[i].method == m)
            return auth_methods[i].name;
    return "?";
}

static unsigned parse_methods(json_t *list)
{
    unsigned methods = 0;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        for (size_t k = 0; k < sizeof auth_methods / sizeof auth_methods[0]; k++)
            if (json_is_string(v) && strcmp(json_string_value(v), auth_methods[k].name) == 0)
                methods |= auth_methods[k].method;
    }
    return methods;
}

static char *dup_string(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? strdup(v) : NULL;
}

int auth_login(struct http_client *c, const char *username, const char *password,
               const char *two_factor, struct auth_login *out)
{
    memset(out, 0, sizeof *out);
    /* VRChat wants each part percent-encoded before the pair is base64'd (NOTES.md 1). */
    char *user = curl_easy_escape(NULL, username, 0);
    char *pass = curl_easy_escape(NULL, password, 0);
    if (!user || !pass) {
        curl_free(user);
        curl_free(pass);
        return -ENOMEM;
    }
    http_client_set_cookies(c, NULL, two_factor);
    struct http_request req = {
        .method = "GET",
        .url = "/auth/user",
        .basic_user = user,
        .basic_password = pass,
        .no_retry = true,
    };
    struct http_response resp;
    int err = http_perform(c, &req, &resp);
    curl_free(user);
    curl_free(pass);
    snprintf(out->message, sizeof out->message, "%s", resp.message);
    if (!err && !resp.set_auth) {
        snprintf(out->message, sizeof out->message, "the server set no auth cookie");
        err = -EIO;
    }
    json_error_t jerr;
    json_t *body = err ? NULL : api_json_parse(resp.body, resp.body_len, &jerr);
    if (!err && !json_is_object(body)) {
        snprintf(out->message, sizeof out->message, "the server's answer is not a user");
        err = -EIO;
    }
    if (!err) {
        out->auth = resp.set_auth;
        resp.set_auth = NULL;
        http_client_set_cookies(c, out->auth, two_factor);
        json_t *methods = json_object_get(body, "requiresTwoFactorAuth");
        if (methods) {
            out->methods = parse_methods(methods);
        } else {
            out->user_id = dup_string(body, "id");
            out->display_name = dup_string(body, "displayName");
        }
    }
    json_decref(body);
    out->status = err ? resp.status : 0;
    http_response_free(&resp);
    return err;
}

int auth_verify(struct http_client *c, enum auth_method method, const char *code, char **two_factor,
                char *message, long *status)
{
    *two_factor = NULL;
    *status = 0;
    const char *path = NULL;
    for (size_t i = 0; i < sizeof auth_methods / sizeof auth_methods[0]; i++)
        if (auth_methods[i].method == method)
            path = auth_methods[i].path;
    if (!path)
        return -EINVAL;
    json_t *body = json_pack("{s:s}", "code", code);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct http_request req = {
        .method = "POST",
        .url = path,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .content_type = "application/json",
        .no_retry = true,
    };
    struct http_response resp;
    int err = http_perform(c, &req, &resp);
    free(text);
    snprintf(message, 256, "%s", resp.message);
    *status = resp.status;
    if (err == -EINVAL)
        err = -EACCES; /* a 400 here is a wrong code */
    if (!err) {
        json_error_t jerr;
        json_t *result = api_json_parse(resp.body, resp.body_len, &jerr);
        if (!json_is_true(json_object_get(result, "verified"))) {
            snprintf(message, 256, "the code was not accepted");
            err = -EACCES;
        }
        json_decref(result);
    }
    if (!err) {
        *two_factor = resp.set_two_factor;
        resp.set_two_factor = NULL;
    }
    http_response_free(&resp);
    return err;
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool auth_is_recovery_code(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n != 8 && !(n == 9 && code[4] == '-'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(i == 4 && n == 9) && !is_alnum(code[i]))
            return false;
    return true;
}

enum auth_method auth_method_for_code(unsigned offered, const char *code)
{
    if ((offered & (AUTH_2FA_TOTP | AUTH_2FA_OTP)) && auth_is_recovery_code(code))
        return AUTH_2FA_OTP;
    if (offered & AUTH_2FA_TOTP)
        return AUTH_2FA_TOTP;
    if (offered & AUTH_2FA_EMAIL)
        return AUTH_2FA_EMAIL;
    return AUTH_2FA_OTP;
}

int auth_current_user(struct http_client *c, json_t **user)
{
    int err = api_json_call(c, "GET", "/auth/user", NULL, user, NULL);
    if (!err && (!json_is_object(*user) || json_object_get(*user, "requiresTwoFactorAuth") ||
                 !json_is_string(json_object_get(*user, "id")))) {
        json_decref(*user);
        *user = NULL;
        err = -EACCES;
    }
    return err;
}

int auth_check(struct http_client *c, char *message)
{
    json_t *result = NULL;
    int err = api_json_call(c, "GET", "/auth", NULL, &result, message);
    if (!err && !json_is_true(json_object_get(result, "ok")))
        err = -EACCES;
    json_decref(result);
    return err;
}

int auth_logout(struct http_client *c)
{
    json_t *result = NULL;
    int err = api_json_call(c, "PUT", "/logout", NULL, &result, NULL);
    json_decref(result);
    return err;
}

void auth_login_clear(struct auth_login *l)
{
    free(l->auth);
    free(l->user_id);
    free(l->display_name);
    memset(l, 0, sizeof *l);
}
