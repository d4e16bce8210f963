/* auth: the VRChat login conversation (NOTES.md 1 and 7): Basic login on GET /auth/user,
 * the three 2FA verify endpoints, GET /auth, and logout. Knows nothing of prompts or files. */
#ifndef VRCFS_AUTH_H
#define VRCFS_AUTH_H

#include "remote/http.h"

#include <jansson.h>
#include <stdbool.h>

enum auth_method {
    AUTH_2FA_TOTP = 1 << 0,
    AUTH_2FA_OTP = 1 << 1,
    AUTH_2FA_EMAIL = 1 << 2,
};

struct auth_login {
    unsigned methods; /* 2FA methods the server asks for; 0 when logged in outright */
    char *auth;       /* the new auth cookie */
    char *user_id;    /* when logged in outright */
    char *display_name;
    char message[256]; /* the server's words on failure, as it said them */
    long status;       /* the HTTP status of a failure, 0 when no answer came */
};

/* Basic login. two_factor is a remembered twoFactorAuth cookie or NULL. Clears the client's
 * old auth cookie first (stale cookies make VRChat ask for 2FA again). Never retried.
 * 0 (see out->methods), or -EACCES (refused: out->message says why), -EAGAIN (rate
 * limited), or a transport errno. On success the client sends the new cookie from then on. */
int auth_login(struct http_client *c, const char *username, const char *password,
               const char *two_factor, struct auth_login *out);

/* Verifies a 2FA code for one method with the client's pending auth cookie. On success returns
 * 0 and the new twoFactorAuth cookie in *two_factor (malloc'd). A refusal is -EACCES: *status
 * tells a wrong code (400, or 200 without "verified") from a session the server no longer
 * has (401 "Missing Credentials": the auth cookie was missing or has expired); -EAGAIN is 429
 * (too many tries). *status is 0 when no answer came; message gets the server's words. */
int auth_verify(struct http_client *c, enum auth_method method, const char *code, char **two_factor,
                char *message, long *status);

/* The method a 2FA code is for, among those offered (a mask): a recovery code ("abcd-efgh",
 * or its 8 letters and digits) is otp whenever totp or otp is offered, as VRChat accepts one
 * in place of an authenticator's code; else totp, then emailOtp, then otp. */
enum auth_method auth_method_for_code(unsigned offered, const char *code);

/* True for the shape of a recovery code: 4 letters or digits, an optional '-', 4 more. */
bool auth_is_recovery_code(const char *code);

/* GET /auth/user with the client's cookies: 0 and the CurrentUser (new reference), or
 * -EACCES when the session is not (fully) logged in. */
int auth_current_user(struct http_client *c, json_t **user);

/* GET /auth: 0 when the cookie is valid, -EACCES when not, else a transport errno. */
int auth_check(struct http_client *c, char *message);

/* PUT /logout. */
int auth_logout(struct http_client *c);

void auth_login_clear(struct auth_login *l);

/* "totp", "otp" or "emailOtp". */
const char *auth_method_name(enum auth_method m);

#endif
