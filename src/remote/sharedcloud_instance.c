#include "remote/sharedcloud_instance.h"

#include "json_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the service writes for "no GPU" in list and get answers. */
#define NO_GPU "n/a"

static int two_digits(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1])
               ? (s[0] - '0') * 10 + (s[1] - '0')
               : -1;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sharedcloud_instance_parse_date(const char *s, time_t *out)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != SHAREDCLOUD_DATE_LEN || s[2] != '-' || s[5] != '-' || s[10] != ' ' ||
        s[13] != ':' || s[16] != ':')
        return -EINVAL;
    int day = two_digits(s), mon = two_digits(s + 3), hi = two_digits(s + 6),
        lo = two_digits(s + 8), hour = two_digits(s + 11), min = two_digits(s + 14),
        sec = two_digits(s + 17);
    if (day < 0 || mon < 0 || hi < 0 || lo < 0 || hour < 0 || min < 0 || sec < 0)
        return -EINVAL;
    int year = hi * 100 + lo;
    if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 59)
        return -EINVAL;
    if (day > month_days[mon - 1] + (mon == 2 && leap(year)))
        return -EINVAL;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    *out = timegm(&tm);
    return 0;
}

bool sharedcloud_instance_uuid_ok(const char *s)
{
    if (!s || strlen(s) != SHAREDCLOUD_UUID_LEN)
        return false;
    for (int i = 0; i < SHAREDCLOUD_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

const char *sharedcloud_instance_type_name(enum sharedcloud_type t)
{
    switch (t) {
    case SHAREDCLOUD_TYPE_CPU:
        return "cpu";
    case SHAREDCLOUD_TYPE_GPU:
        return "gpu";
    default:
        return NULL;
    }
}

/* One parse failure: the message, then -EIO. */
static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -EIO;
}

/* A present, non-null member, or NULL. */
static json_t *member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* A string member without embedded NULs: 0 and *out (malloc'd, NULL when missing or null),
 * or -EIO. none, when non-NULL, is the service's word for "nothing" and reads as NULL. */
static int string_member(json_t *obj, const char *key, const char *none, char **out, char *err,
                         size_t err_len)
{
    *out = NULL;
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return fail(err, err_len, "%s: not a string", key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return fail(err, err_len, "%s: contains a NUL character", key);
    if (none && strcmp(s, none) == 0)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

static int date_member(json_t *obj, const char *key, bool *has, time_t *out, char *err,
                       size_t err_len)
{
    *has = false;
    *out = 0;
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || sharedcloud_instance_parse_date(json_string_value(v), out) != 0)
        return fail(err, err_len, "%s: not a dd-mm-yyyy HH:MM:SS date: %.40s", key,
                    json_is_string(v) ? json_string_value(v) : "(not a string)");
    *has = true;
    return 0;
}

/* A whole number that is >= 0, as a JSON integer, an integral real or a decimal string (the
 * service takes the string form in requests; an answer in that form is read as well). */
static int count_member(json_t *obj, const char *key, long long *out, char *err, size_t err_len)
{
    *out = -1;
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    long long n = -1;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        n = d == floor(d) && fabs(d) < 0x1p53 ? (long long)d : -1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        n = strtoll(s, &end, 10);
        if (end == s || *end || errno || !isdigit((unsigned char)*s))
            n = -1;
    } else {
        return fail(err, err_len, "%s: not a number", key);
    }
    if (n < 0)
        return fail(err, err_len, "%s: not a whole number >= 0", key);
    *out = n;
    return 0;
}

static int type_member(json_t *obj, enum sharedcloud_type *out, char *err, size_t err_len)
{
    *out = SHAREDCLOUD_TYPE_UNKNOWN;
    json_t *v = member(obj, "type");
    if (!v)
        return 0;
    if (json_is_integer(v) && (json_integer_value(v) == SHAREDCLOUD_TYPE_CPU ||
                               json_integer_value(v) == SHAREDCLOUD_TYPE_GPU)) {
        *out = (enum sharedcloud_type)json_integer_value(v);
    } else if (json_is_string(v) && strcmp(json_string_value(v), "cpu") == 0) {
        *out = SHAREDCLOUD_TYPE_CPU;
    } else if (json_is_string(v) && strcmp(json_string_value(v), "gpu") == 0) {
        *out = SHAREDCLOUD_TYPE_GPU;
    } else {
        return fail(err, err_len, "type: not 1, 2, \"cpu\" or \"gpu\"");
    }
    return 0;
}

static int price_member(json_t *obj, struct sharedcloud_instance *out, char *err, size_t err_len)
{
    json_t *v = member(obj, "ask_price");
    if (!v)
        return 0;
    double d = NAN;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        /* A Django DecimalField answers in this form. */
        const char *s = json_string_value(v);
        char *end;
        d = strtod(s, &end);
        if (end == s || *end)
            d = NAN;
    } else {
        return fail(err, err_len, "ask_price: not a number");
    }
    if (!isfinite(d))
        return fail(err, err_len, "ask_price: not a finite number");
    out->has_ask_price = true;
    out->ask_price = d;
    return 0;
}

int sharedcloud_instance_parse(json_t *obj, struct sharedcloud_instance *out, char *err,
                               size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->max_num_parallel_jobs = out->status = -1;
    if (!json_is_object(obj))
        return fail(err, err_len, "not an object");
    json_t *uuid = member(obj, "uuid");
    if (!uuid)
        return fail(err, err_len, "uuid: missing");
    if (!json_is_string(uuid) || !sharedcloud_instance_uuid_ok(json_string_value(uuid)))
        return fail(err, err_len, "uuid: not a uuid");
    const char *u = json_string_value(uuid);
    for (int i = 0; i <= SHAREDCLOUD_UUID_LEN; i++)
        out->uuid[i] = (char)tolower((unsigned char)u[i]);
    int rc = string_member(obj, "name", NULL, &out->name, err, err_len);
    if (!rc)
        rc = type_member(obj, &out->type, err, err_len);
    if (!rc)
        rc = string_member(obj, "gpu", NO_GPU, &out->gpu, err, err_len);
    if (!rc)
        rc = string_member(obj, "gpu_name", NO_GPU, &out->gpu_name, err, err_len);
    if (!rc)
        rc = price_member(obj, out, err, err_len);
    if (!rc)
        rc = count_member(obj, "max_num_parallel_jobs", &out->max_num_parallel_jobs, err, err_len);
    if (!rc) {
        json_t *status = member(obj, "status");
        if (status && !json_is_integer(status))
            rc = fail(err, err_len, "status: not an integer");
        else if (status)
            out->status = json_integer_value(status);
    }
    if (!rc)
        rc = date_member(obj, "created_at", &out->has_created_at, &out->created_at, err, err_len);
    if (!rc)
        rc = date_member(obj, "updated_at", &out->has_updated_at, &out->updated_at, err, err_len);
    if (!rc)
        rc = date_member(obj, "last_connection", &out->has_last_connection, &out->last_connection,
                         err, err_len);
    if (rc) {
        if (rc == -ENOMEM)
            fail(err, err_len, "out of memory");
        sharedcloud_instance_clear(out);
        return rc == -ENOMEM ? rc : -EIO;
    }
    out->raw = json_incref(obj);
    return 0;
}

void sharedcloud_instance_clear(struct sharedcloud_instance *in)
{
    free(in->name);
    free(in->gpu);
    free(in->gpu_name);
    json_decref(in->raw);
    memset(in, 0, sizeof *in);
    in->max_num_parallel_jobs = in->status = -1;
}

time_t sharedcloud_instance_mtime(const struct sharedcloud_instance *in)
{
    if (in->has_updated_at)
        return in->updated_at;
    return in->has_created_at ? in->created_at : 0;
}

char *sharedcloud_instance_render(const struct sharedcloud_instance *in)
{
    json_t *copy = in->raw ? json_copy(in->raw) : json_object();
    if (!copy)
        return NULL;
    const char *type = sharedcloud_instance_type_name(in->type);
    if (type)
        json_object_set_new(copy, "type", json_string(type));
    if (json_object_get(copy, "gpu") && !in->gpu)
        json_object_set_new(copy, "gpu", json_null());
    json_object_del(copy, "current_server_time");
    char *text = json_text_dump(copy, JSON_INDENT(4) | JSON_REAL_PRECISION(15), NULL);
    json_decref(copy);
    return text;
}

json_t *sharedcloud_instance_request(json_t *fields, char *err, size_t err_len)
{
    if (!json_is_object(fields)) {
        snprintf(err, err_len, "not a JSON object");
        return NULL;
    }
    json_t *body = json_copy(fields);
    if (!body) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    json_t *jobs = json_object_get(body, "max_num_parallel_jobs");
    double integral = json_is_integer(jobs) ? (double)json_integer_value(jobs)
                      : json_is_real(jobs)  ? json_real_value(jobs)
                                            : NAN;
    if (isfinite(integral) && integral == floor(integral) && fabs(integral) < 0x1p53) {
        char text[32];
        snprintf(text, sizeof text, "%.0f", integral);
        json_object_set_new(body, "max_num_parallel_jobs", json_string(text));
    }
    json_t *type = json_object_get(body, "type");
    const char *word =
        json_is_integer(type) && (json_integer_value(type) == SHAREDCLOUD_TYPE_CPU ||
                                  json_integer_value(type) == SHAREDCLOUD_TYPE_GPU)
            ? sharedcloud_instance_type_name((enum sharedcloud_type)json_integer_value(type))
            : NULL;
    if (word)
        json_object_set_new(body, "type", json_string(word));
    json_t *gpu = json_object_get(body, "gpu");
    if (json_is_string(gpu) && strcmp(json_string_value(gpu), NO_GPU) == 0)
        json_object_set_new(body, "gpu", json_null());
    return body;
}
