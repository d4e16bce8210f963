#include "options.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    KEY_HELP,
    KEY_VERSION,
    KEY_DEBUG,
    KEY_FOREGROUND,
    KEY_CACHE_SIZE,
    KEY_ALLOW_OTHER,
    KEY_DEFAULT_PERMISSIONS
};

/* fuse_opt stores values at offsets from the data pointer, so the options come first. */
struct parse_state {
    struct vrcfs_options opts;
    struct vrcfs_options *o;
    char **words;
    int max_words;
    int nwords;
    int allow_other, default_permissions; /* seen among FUSE's options */
};

#define VRCFS_OPT(t, p)                                                                            \
    {                                                                                              \
        t, offsetof(struct vrcfs_options, p), 1                                                    \
    }

static const struct fuse_opt option_table[] = {
    VRCFS_OPT("service=%s", service),
    VRCFS_OPT("api_url=%s", api_url),
    VRCFS_OPT("contact=%s", contact),
    VRCFS_OPT("session=%s", session),
    VRCFS_OPT("cache_dir=%s", cache_dir),
    VRCFS_OPT("log_file=%s", log_file),
    VRCFS_OPT("cache_ttl=%lf", cache_ttl),
    VRCFS_OPT("cache_entries=%d", cache_entries),
    VRCFS_OPT("rate=%d", rate),
    VRCFS_OPT("retries=%d", retries),
    VRCFS_OPT("part_size_mib=%d", multipart_part_mib),
    VRCFS_OPT("uid=%ld", uid),
    VRCFS_OPT("gid=%ld", gid),
    VRCFS_OPT("umask=%o", umask),
    VRCFS_OPT("--watch", watch),
    FUSE_OPT_KEY("cache_size=", KEY_CACHE_SIZE), /* parsed by hand below, for suffixes */
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    FUSE_OPT_KEY("debug", KEY_DEBUG),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
    FUSE_OPT_END,
};

/* "512M", "2G", "1.5GiB", "1048576" -> bytes; -1 when malformed or too large. */
static long long parse_size(const char *s)
{
    static const char units[] = "KMGT";
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -1;
    const char *unit = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (unit) {
        v *= pow(1024, (double)(unit - units + 1));
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    }
    return *end || v >= 0x1p63 ? -1 : (long long)v;
}

static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    (void)outargs;
    struct parse_state *st = data;
    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        if (st->nwords >= st->max_words) {
            fprintf(stderr, "vrcfs: unexpected argument '%s'\n", arg);
            return -1;
        }
        st->words[st->nwords++] = strdup(arg);
        return 0;
    case KEY_CACHE_SIZE: {
        long long v = parse_size(arg + strlen("cache_size="));
        if (v < 0) {
            fprintf(stderr, "vrcfs: bad cache_size '%s'\n", arg);
            return -1;
        }
        st->o->cache_size = v;
        return 0;
    }
    case KEY_HELP:
        st->o->show_help = 1;
        return 0;
    case KEY_VERSION:
        st->o->show_version = 1;
        return 0;
    case KEY_DEBUG:
        st->o->debug = 1;
        return 1; /* FUSE wants it too */
    case KEY_FOREGROUND:
        st->o->foreground = 1;
        return 1;
    case KEY_ALLOW_OTHER:
        st->allow_other = 1;
        return 1;
    case KEY_DEFAULT_PERMISSIONS:
        st->default_permissions = 1;
        return 1;
    default:
        return 1;
    }
}

int options_parse(struct fuse_args *args, struct vrcfs_options *o, char **words, int max_words,
                  int *nwords)
{
    struct parse_state st = {.words = words, .max_words = max_words};
    st.o = &st.opts;
    st.opts.cache_ttl = 60;
    st.opts.cache_entries = 20000;
    st.opts.cache_size = 4LL * 1024 * 1024 * 1024;
    st.opts.rate = 60;
    st.opts.retries = 4;
    st.opts.multipart_part_mib = 16;
    st.opts.uid = st.opts.gid = -1;
    int rc = fuse_opt_parse(args, &st, option_table, option_proc);
    /* Other users may see the mount: the kernel checks the modes shown, so that nobody else
     * can delete or upload in the account (docs/SEMANTICS.md, The tree). */
    if (rc == 0 && st.allow_other && !st.default_permissions)
        rc = fuse_opt_add_arg(args, "-odefault_permissions");
    *o = st.opts;
    *nwords = st.nwords;
    if (rc == 0 && (o->cache_ttl < 0 || o->cache_entries < 1 || o->rate < 0 || o->retries < 0 ||
                    o->retries > 20 || o->multipart_part_mib < 5 || o->uid < -1 || o->gid < -1 ||
                    o->umask > 0777)) {
        fprintf(stderr, "vrcfs: an option is out of range (cache_ttl >= 0, cache_entries >= 1, "
                        "rate >= 0, 0 <= retries <= 20, part_size_mib >= 5, uid and gid >= 0, "
                        "umask <= 0777)\n");
        rc = -1;
    }
    if (rc == 0 && o->service && strcmp(o->service, "vrchat") != 0 &&
        strcmp(o->service, "sharedcloud") != 0) {
        fprintf(stderr, "vrcfs: unknown service '%s' (vrchat or sharedcloud)\n", o->service);
        rc = -1;
    }
    return rc;
}

void options_free(struct vrcfs_options *o)
{
    free(o->service);
    free(o->api_url);
    free(o->contact);
    free(o->session);
    free(o->cache_dir);
    free(o->log_file);
}
