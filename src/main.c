/* vrcfs: mounts a VRChat account. This file only parses options and starts things. */
#include "commands.h"
#include "log.h"
#include "options.h"
#include "session_watch.h"
#include "status_command.h"
#include "remote/sharedcloud_api.h"
#include "vfs/vfs.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 3

static void usage(void)
{
    printf("usage: vrcfs login [-o api_url=URL,contact=C,session=FILE]\n"
           "       vrcfs login -o service=sharedcloud[,api_url=ORIGIN,session=FILE]\n"
           "       vrcfs logout [-o session=FILE]\n"
           "       vrcfs status [MOUNTPOINT] [--watch]\n"
           "       vrcfs [-f] [-d] [-o options] [vrcfs] MOUNTPOINT\n"
           "\n"
           "options (-o name=value,...):\n"
           "    service=NAME       vrchat (default) or sharedcloud (login remembers it)\n"
           "    api_url=URL        VRChat API base (default %s), or the sharedcloud\n"
           "                       origin (default %s); login remembers it\n"
           "    contact=TEXT       contact part of the User-Agent (an e-mail address)\n"
           "    session=FILE       session file (default $XDG_CONFIG_HOME/vrcfs/session.json)\n"
           "    cache_ttl=SECONDS  how long a listing or File stays fresh (default 60)\n"
           "    cache_entries=N    metadata cache cap (default 20000)\n"
           "    cache_dir=DIR      downloaded versions and upload staging\n"
           "                       (default $XDG_CACHE_HOME/vrcfs)\n"
           "    cache_size=BYTES   limit of the two together, K/M/G suffixes (default 4G)\n"
           "    rate=N             API requests per minute (default 60)\n"
           "    retries=N          retries of a transient failure (default 4)\n"
           "    part_size_mib=N    multipart upload part size (default 16, at least 5)\n"
           "    log_file=FILE      also append the log there (default: syslog, stderr with -f)\n"
           "    uid=N, gid=N       owner shown for every file (default: the mounting user)\n"
           "    umask=OCTAL        masks the modes shown (e.g. 027)\n"
           "plus the FUSE mount options: allow_other, default_permissions, ro, ...\n"
           "\n"
           "The manual, man vrcfs, says more: the tree, writing, deleting, errors, examples.\n",
           VRCFS_DEFAULT_API_URL, SHAREDCLOUD_DEFAULT_ORIGIN);
}

static char *default_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char *dir = NULL;
    int n = xdg && *xdg ? asprintf(&dir, "%s/vrcfs", xdg)
                        : asprintf(&dir, "%s/.cache/vrcfs", home ? home : "/tmp");
    return n < 0 ? NULL : dir;
}

static int mount_command(struct fuse_args *args, struct vrcfs_options *o, const char *mountpoint)
{
    struct session s;
    struct http_client *http = command_open_session(o, &s);
    if (!http)
        return 1;
    char *cache_dir = o->cache_dir ? strdup(o->cache_dir) : default_cache_dir();
    struct vfs_config cfg = {
        .cache_ttl = o->cache_ttl,
        .cache_entries = (size_t)o->cache_entries,
        .cache_dir = cache_dir,
        .cache_size = (uint64_t)o->cache_size,
        .service = s.service,
        .part_size = (uint64_t)o->multipart_part_mib * 1024 * 1024,
        .user_id = s.user_id,
        .uid = o->uid,
        .gid = o->gid,
        .umask = (mode_t)o->umask,
        .foreground = o->foreground,
    };
    fuse_opt_add_arg(args, mountpoint);
    struct session_watch *watch = session_watch_new(http, o->session, &s);
    int rc = vfs_run(args, &cfg, http);
    session_watch_free(http, watch);
    http_client_free(http);
    session_clear(&s);
    free(cache_dir);
    return rc;
}

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct vrcfs_options o;
    char *words[MAX_WORDS] = {0};
    int nwords = 0;
    int rc = 1;
    if (options_parse(&args, &o, words, MAX_WORDS, &nwords) != 0)
        goto out;
    if (o.show_version) {
        printf("vrcfs %s (libfuse %d, %s)\n", VRCFS_VERSION, fuse_version(), curl_version());
        rc = 0;
        goto out;
    }
    if (o.show_help || nwords == 0) {
        usage();
        rc = o.show_help ? 0 : 1;
        goto out;
    }
    if (o.debug)
        log_set_level(LOG_LVL_DEBUG);
    /* Opened before the mount daemonizes, so that a relative path means what it says. */
    int err = o.log_file ? log_open_file(o.log_file) : 0;
    if (err) {
        fprintf(stderr, "vrcfs: cannot open log_file %s: %s\n", o.log_file, strerror(-err));
        goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(words[0], "login") == 0 && nwords == 1)
        rc = command_login(&o);
    else if (strcmp(words[0], "logout") == 0 && nwords == 1)
        rc = command_logout(&o);
    else if (strcmp(words[0], "status") == 0 && nwords <= 2)
        rc = command_status(nwords == 2 ? words[1] : NULL, o.watch);
    else if (nwords <= 2)
        /* mount.fuse3 passes the source ("vrcfs") before the mountpoint. */
        rc = mount_command(&args, &o, words[nwords - 1]);
    else
        usage();
    curl_global_cleanup();
out:
    for (int i = 0; i < nwords; i++)
        free(words[i]);
    options_free(&o);
    fuse_opt_free_args(&args);
    return rc;
}
