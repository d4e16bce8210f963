#include "vfs/instance_names.h"

#include "remote/location.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const xattr_names[] = {
    INSTANCE_XATTR_SHORT_NAME,
    INSTANCE_XATTR_SECURE_NAME,
    INSTANCE_XATTR_INVITE,
    INSTANCE_XATTR_CLOSE,
};
static const enum instance_xattr xattr_kinds[] = {IX_SHORT_NAME, IX_SECURE_NAME, IX_INVITE,
                                                  IX_CLOSE};
#define N_XATTRS (sizeof xattr_names / sizeof xattr_names[0])

enum instance_xattr instance_names_xattr(const char *name)
{
    for (size_t i = 0; name && i < N_XATTRS; i++)
        if (strcmp(name, xattr_names[i]) == 0)
            return xattr_kinds[i];
    return IX_NONE;
}

int instance_names_xattr_list(char *list, size_t size)
{
    size_t need = 0;
    for (size_t i = 0; i < N_XATTRS; i++)
        need += strlen(xattr_names[i]) + 1;
    if (size == 0)
        return (int)need;
    if (size < need)
        return -ERANGE;
    char *p = list;
    for (size_t i = 0; i < N_XATTRS; i++) {
        size_t n = strlen(xattr_names[i]) + 1;
        memcpy(p, xattr_names[i], n);
        p += n;
    }
    return (int)need;
}

/* Reads exactly n digits at *pp into *v. */
static bool digits(const char **pp, const char *end, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*pp)++) {
        if (*pp >= end || !isdigit((unsigned char)**pp))
            return false;
        *v = *v * 10 + (**pp - '0');
    }
    return true;
}

static bool expect(const char **pp, const char *end, char c)
{
    if (*pp >= end || **pp != c)
        return false;
    (*pp)++;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The ISO 8601 date-times VRChat's closedAt takes; checked here so that a typo is EINVAL at
 * setxattr instead of a round trip. Ranges are checked too (no 2030-02-30). */
static bool is_iso_time(const char *s, const char *end)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h, mi, sec = 0, tzh, tzm;
    if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
        !expect(&p, end, '-') || !digits(&p, end, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap(y)))
        return false;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return false;
    p++;
    if (!digits(&p, end, 2, &h) || !expect(&p, end, ':') || !digits(&p, end, 2, &mi))
        return false;
    if (p < end && *p == ':') {
        p++;
        if (!digits(&p, end, 2, &sec))
            return false;
        if (p < end && (*p == '.' || *p == ',')) {
            p++;
            const char *f = p;
            while (p < end && isdigit((unsigned char)*p))
                p++;
            if (p == f || p - f > 9)
                return false;
        }
    }
    if (h > 23 || mi > 59 || sec > 60)
        return false;
    if (p == end)
        return true;
    if (*p == 'Z' || *p == 'z')
        return p + 1 == end;
    if (*p != '+' && *p != '-')
        return false;
    p++;
    if (!digits(&p, end, 2, &tzh))
        return false;
    if (p < end && *p == ':')
        p++;
    if (!digits(&p, end, 2, &tzm) || tzh > 23 || tzm > 59)
        return false;
    return p == end;
}

int instance_names_close_value(const char *value, size_t size, char *time_buf, size_t time_len,
                               struct instances_api_close *out)
{
    out->hard = false;
    out->closed_at = NULL;
    if (!value)
        size = 0;
    while (size > 0 && (isspace((unsigned char)value[size - 1]) || value[size - 1] == '\0'))
        size--;
    if (size == 4 && memcmp(value, "soft", 4) == 0)
        return 0;
    if (size == 4 && memcmp(value, "hard", 4) == 0) {
        out->hard = true;
        return 0;
    }
    if (size == 0 || size >= time_len || memchr(value, '\0', size) ||
        !is_iso_time(value, value + size))
        return -EINVAL;
    memcpy(time_buf, value, size);
    time_buf[size] = '\0';
    /* The space form (date --rfc-3339) would need escaping and not every server takes it. */
    if (time_buf[10] == ' ' || time_buf[10] == 't')
        time_buf[10] = 'T';
    if (time_buf[size - 1] == 'z')
        time_buf[size - 1] = 'Z';
    out->closed_at = time_buf;
    return 0;
}

bool instance_names_is_request_name(const char *name)
{
    static const char suffix[] = ".json";
    size_t n = name ? strlen(name) : 0, s = sizeof suffix - 1;
    return n > s && strcmp(name + n - s, suffix) == 0;
}

int instance_names_presence(json_t *user, char *out, size_t out_len)
{
    json_t *presence = json_object_get(user, "presence");
    const char *world = json_string_value(json_object_get(presence, "world"));
    const char *inst = json_string_value(json_object_get(presence, "instance"));
    if (!world || !inst || !*world || !*inst)
        goto none;
    /* "offline" is a valid instance name to the grammar, so the sentinels are checked alone. */
    static const char *const sentinels[] = {"offline", "private", "traveling"};
    for (size_t i = 0; i < sizeof sentinels / sizeof sentinels[0]; i++)
        if (strcmp(world, sentinels[i]) == 0 || strcmp(inst, sentinels[i]) == 0)
            goto none;
    int n;
    if (strchr(inst, ':'))
        n = snprintf(out, out_len, "%s", inst);
    else
        n = snprintf(out, out_len, "%s:%s", world, inst);
    /* Anything half-formed ("traveling:traveling", a '/') fails the grammar. */
    if (n >= 0 && (size_t)n < out_len && location_parse(out, NULL) == 0)
        return 0;
none:
    if (out_len)
        out[0] = '\0';
    return -ENOENT;
}

/* The merged listing being built: the list and an open-addressing set of what is in it, so
 * that each name costs one hash whatever the length (the server decides how many come). */
struct merge {
    char **list;
    size_t count;
    const char **slots; /* borrowed from list; a power of two, at most half full */
    size_t mask;
};

static size_t hash(const char *s)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Appends s to the list if it is a location not there yet. */
static int add_unique(struct merge *m, const char *s)
{
    if (!s || location_parse(s, NULL) != 0)
        return 0;
    size_t i = hash(s) & m->mask;
    for (; m->slots[i]; i = (i + 1) & m->mask)
        if (strcmp(m->slots[i], s) == 0)
            return 0;
    m->list[m->count] = strdup(s);
    if (!m->list[m->count])
        return -ENOMEM;
    m->slots[i] = m->list[m->count++];
    return 0;
}

char **instance_names_merge(const char *current, char *const *recent, size_t nrecent,
                            char *const *created, size_t ncreated, size_t *count)
{
    *count = 0;
    size_t most = 1 + nrecent + ncreated, nslots = 16;
    while (nslots < 2 * most)
        nslots *= 2;
    struct merge m = {
        .list = calloc(most + 1, sizeof *m.list),
        .slots = calloc(nslots, sizeof *m.slots),
        .mask = nslots - 1,
    };
    int err = m.list && m.slots ? add_unique(&m, current) : -ENOMEM;
    for (size_t i = 0; !err && i < nrecent; i++)
        err = add_unique(&m, recent[i]);
    for (size_t i = 0; !err && i < ncreated; i++)
        err = add_unique(&m, created[i]);
    free(m.slots);
    if (err) {
        instances_api_free_strings(m.list);
        return NULL;
    }
    *count = m.count;
    return m.list;
}

bool instance_names_list_has(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

int instance_names_list_push(char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 2) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *list = grown;
    grown[*n] = strdup(s);
    if (!grown[*n])
        return -ENOMEM;
    grown[++*n] = NULL;
    return 0;
}

void instance_names_list_remove(char **list, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i], s) == 0) {
            free(list[i]);
            memmove(&list[i], &list[i + 1], (*n - i) * sizeof *list); /* with the NULL */
            (*n)--;
            return;
        }
    }
}
