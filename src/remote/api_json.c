#include "remote/api_json.h"

#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether the number literal s[0..len) (JSON grammar, checked by jansson afterwards) is one
 * jansson refuses as too big: an integer outside int64, or a real that overflows a double. */
static bool number_overflows(const char *s, size_t len)
{
    bool negative = s[0] == '-';
    const char *d = s + negative;
    size_t dlen = len - negative;
    if (!memchr(d, '.', dlen) && !memchr(d, 'e', dlen) && !memchr(d, 'E', dlen)) {
        const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
        size_t llen = strlen(limit);
        return dlen > llen || (dlen == llen && memcmp(d, limit, llen) > 0);
    }
    char buf[128];
    if (len >= sizeof buf)
        return true; /* no real worth keeping is written this long */
    memcpy(buf, s, len);
    buf[len] = '\0';
    return isinf(strtod(buf, NULL));
}

/* text with every number literal outside strings that jansson cannot hold put in quotes, or
 * NULL when there is none (or no memory). */
static char *quote_huge_numbers(const char *text, size_t len, size_t *out_len)
{
    char *out = malloc(len * 3 + 1); /* each literal gains 2 quotes and is at least 1 long */
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_string = false, changed = false;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = text[++i];
            else if (c == '"')
                in_string = false;
            i++;
        } else if (c == '"') {
            in_string = true;
            out[o++] = text[i++];
        } else if (c == '-' || is_digit(c)) {
            size_t start = i++;
            while (i < len && (is_digit(text[i]) || text[i] == '.' || text[i] == 'e' ||
                               text[i] == 'E' || text[i] == '+' || text[i] == '-'))
                i++;
            bool quote = number_overflows(text + start, i - start);
            if (quote)
                out[o++] = '"';
            memcpy(out + o, text + start, i - start);
            o += i - start;
            if (quote)
                out[o++] = '"';
            changed |= quote;
        } else {
            out[o++] = text[i++];
        }
    }
    if (!changed) {
        free(out);
        return NULL;
    }
    *out_len = o;
    return out;
}

json_t *api_json_parse(const char *text, size_t len, json_error_t *err)
{
    json_t *root = json_loadb(text, len, JSON_FLAGS, err);
    if (root || json_error_code(err) != json_error_numeric_overflow)
        return root;
    size_t quoted_len = 0;
    char *quoted = quote_huge_numbers(text, len, &quoted_len);
    if (quoted)
        root = json_loadb(quoted, quoted_len, JSON_FLAGS, err);
    free(quoted);
    return root;
}

int api_json_send(struct http_client *c, const char *method, const char *path, json_t *body,
                  size_t dump_flags, struct http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    char *text = body ? json_dumps(body, dump_flags) : NULL;
    if (body && !text)
        return -ENOMEM;
    struct http_request req = {
        .method = method,
        .url = path,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .content_type = text ? "application/json" : NULL,
    };
    int err = http_perform(c, &req, resp);
    free(text);
    return err;
}

int api_json_call(struct http_client *c, const char *method, const char *path, json_t *body,
                  json_t **out, char *message)
{
    return api_json_call_status(c, method, path, body, out, NULL, message);
}

int api_json_call_status(struct http_client *c, const char *method, const char *path, json_t *body,
                         json_t **out, long *status, char *message)
{
    *out = NULL;
    struct http_response resp;
    int err = api_json_send(c, method, path, body, JSON_COMPACT, &resp);
    if (!err && resp.body_len > 0) {
        json_error_t jerr;
        *out = api_json_parse(resp.body, resp.body_len, &jerr);
        if (!*out) {
            log_warn("%s %s: the answer is not JSON (%s)", method, path, jerr.text);
            err = -EIO;
        }
    }
    if (status)
        *status = resp.status;
    if (message)
        snprintf(message, 256, "%s", resp.message);
    http_response_free(&resp);
    return err;
}
