/* location: validates "<worldId>:<instanceId>" strings before they become file names or URL
 * path segments. Everything is checked against a whitelist, so a string that passes can be
 * used raw in a path (no '/', no '%', no spaces, bounded length). */
#include "remote/location.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Known tokens have a fixed relative order (NOTES.md 4); each gets a rank, and ranks must
 * strictly increase, which rejects both repeats and wrong order with one comparison. */
enum token_rank {
    RANK_INVALID = -1,
    RANK_OTHER = 0, /* ~strict, ~ageGate, ...: any position, once each */
    RANK_TYPE,
    RANK_GROUP_ACCESS,
    RANK_CAN_REQUEST_INVITE,
    RANK_REGION,
    RANK_NONCE,
};

#define TOKENS_MAX (LOCATION_MAX / 2) /* every token takes at least "~x" */

struct token {
    const char *key;
    size_t key_len;
    const char *arg; /* NULL when the token has no "(...)" */
    size_t arg_len;
};

struct parse_state {
    struct location loc;
    int last_rank;
    struct token others[TOKENS_MAX];
    int n_others;
};

static const char *const sentinels[] = {"", "offline", "private", "traveling",
                                        "traveling:traveling"};
static const char *const types[] = {"hidden", "friends", "private", "group"};
static const char *const regions[] = {"us", "use", "eu", "jp"};
static const char *const group_access_types[] = {"members", "plus", "public"};

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Characters allowed inside "(...)": ids, uuids and nonces. */
static bool is_arg_char(char c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static bool is_location_char(char c)
{
    return is_arg_char(c) || c == '~' || c == '(' || c == ')' || c == ':';
}

static bool span_equals(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

static bool span_in(const char *p, size_t n, const char *const *set, size_t set_len)
{
    for (size_t i = 0; i < set_len; i++)
        if (span_equals(p, n, set[i]))
            return true;
    return false;
}

/* Copies a span into a fixed field; false if it does not fit with its NUL. */
static bool copy_span(char *dst, size_t dst_size, const char *p, size_t n)
{
    if (n >= dst_size)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static bool is_sentinel(const char *s)
{
    return span_in(s, strlen(s), sentinels, sizeof(sentinels) / sizeof(sentinels[0]));
}

/* "wrld_" + [0-9a-zA-Z-]{1,58} */
static bool parse_world(const char *p, size_t n, struct location *loc)
{
    static const char prefix[] = "wrld_";
    const size_t plen = sizeof(prefix) - 1;

    if (n <= plen || n - plen > 58 || memcmp(p, prefix, plen) != 0)
        return false;
    for (size_t i = plen; i < n; i++)
        if (!is_alnum(p[i]) && p[i] != '-')
            return false;
    return copy_span(loc->world_id, sizeof(loc->world_id), p, n);
}

/* Reads "~key" or "~key(arg)" at *pp; on success *pp points past it. */
static bool read_token(const char **pp, struct token *t)
{
    const char *p = *pp + 1; /* skip '~' */

    t->key = p;
    while (is_alpha(*p))
        p++;
    t->key_len = (size_t)(p - t->key);
    t->arg = NULL;
    t->arg_len = 0;
    if (t->key_len == 0)
        return false;
    if (*p == '(') {
        t->arg = ++p;
        while (is_arg_char(*p))
            p++;
        t->arg_len = (size_t)(p - t->arg);
        if (t->arg_len == 0 || *p != ')')
            return false;
        p++;
    }
    if (*p != '~' && *p != '\0')
        return false;
    *pp = p;
    return true;
}

static int token_rank(const struct token *t)
{
    /* "public" is the absence of a type token; ~public(...) would forge an owner. */
    if (span_equals(t->key, t->key_len, "public"))
        return RANK_INVALID;
    if (span_in(t->key, t->key_len, types, sizeof(types) / sizeof(types[0])))
        return RANK_TYPE;
    if (span_equals(t->key, t->key_len, "groupAccessType"))
        return RANK_GROUP_ACCESS;
    if (span_equals(t->key, t->key_len, "canRequestInvite"))
        return RANK_CAN_REQUEST_INVITE;
    if (span_equals(t->key, t->key_len, "region"))
        return RANK_REGION;
    if (span_equals(t->key, t->key_len, "nonce"))
        return RANK_NONCE;
    return RANK_OTHER;
}

/* Other tokens carry no meaning here, but a repeat is still malformed. */
static bool note_other(struct parse_state *st, const struct token *t)
{
    for (int i = 0; i < st->n_others; i++)
        if (st->others[i].key_len == t->key_len &&
            memcmp(st->others[i].key, t->key, t->key_len) == 0)
            return false;
    if (st->n_others == TOKENS_MAX)
        return false;
    st->others[st->n_others++] = *t;
    return true;
}

/* Stores the value of a known token after checking its argument. */
static bool apply_known(struct location *loc, int rank, const struct token *t)
{
    switch (rank) {
    case RANK_TYPE:
        return t->arg && copy_span(loc->type, sizeof(loc->type), t->key, t->key_len) &&
               copy_span(loc->owner_id, sizeof(loc->owner_id), t->arg, t->arg_len);
    case RANK_GROUP_ACCESS:
        /* Only group instances have an access type; elsewhere it is a forged string. */
        return t->arg && strcmp(loc->type, "group") == 0 &&
               span_in(t->arg, t->arg_len, group_access_types,
                       sizeof(group_access_types) / sizeof(group_access_types[0])) &&
               copy_span(loc->group_access_type, sizeof(loc->group_access_type), t->arg,
                         t->arg_len);
    case RANK_CAN_REQUEST_INVITE:
        loc->can_request_invite = true;
        return t->arg == NULL;
    case RANK_REGION:
        return t->arg &&
               span_in(t->arg, t->arg_len, regions, sizeof(regions) / sizeof(regions[0])) &&
               copy_span(loc->region, sizeof(loc->region), t->arg, t->arg_len);
    case RANK_NONCE:
        return t->arg != NULL; /* kept only inside instance_id */
    default:
        return false;
    }
}

static bool parse_token(struct parse_state *st, const struct token *t)
{
    int rank = token_rank(t);

    if (rank == RANK_INVALID)
        return false;
    if (rank == RANK_OTHER)
        return note_other(st, t);
    if (rank <= st->last_rank)
        return false;
    st->last_rank = rank;
    return apply_known(&st->loc, rank, t);
}

/* <name>[~token...]; the whole string is also kept in instance_id. */
static bool parse_instance(struct parse_state *st, const char *p)
{
    const char *name = p;
    struct token t;

    while (is_alnum(*p))
        p++;
    if (p == name || !copy_span(st->loc.name, sizeof(st->loc.name), name, (size_t)(p - name)))
        return false;
    while (*p == '~') {
        if (!read_token(&p, &t) || !parse_token(st, &t))
            return false;
    }
    return *p == '\0';
}

static bool chars_allowed(const char *s)
{
    for (; *s; s++)
        if (!is_location_char(*s))
            return false;
    return true;
}

int location_parse(const char *s, struct location *out)
{
    struct parse_state st;
    const char *colon;

    memset(&st, 0, sizeof(st));
    if (!s || strnlen(s, LOCATION_MAX) >= LOCATION_MAX || is_sentinel(s) || !chars_allowed(s))
        return -EINVAL;
    colon = strchr(s, ':');
    if (!colon || !parse_world(s, (size_t)(colon - s), &st.loc))
        return -EINVAL;
    snprintf(st.loc.type, sizeof(st.loc.type), "public");
    if (!parse_instance(&st, colon + 1))
        return -EINVAL;
    /* Cannot fail: the whole string is shorter than LOCATION_MAX. */
    copy_span(st.loc.instance_id, sizeof(st.loc.instance_id), colon + 1, strlen(colon + 1));
    if (out)
        *out = st.loc;
    return 0;
}
