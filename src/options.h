/* options: everything `-o name=value` can set, parsed once in main.c with a fuse_opt table. */
#ifndef VRCFS_OPTIONS_H
#define VRCFS_OPTIONS_H

#include <fuse_opt.h>

struct vrcfs_options {
    char *service; /* "vrchat" or "sharedcloud"; NULL when not given (login: vrchat; mount: the
                      session's) */
    char *api_url;
    char *contact;
    char *session;
    char *cache_dir;
    char *log_file;
    double cache_ttl;
    int cache_entries;
    long long cache_size;
    int rate;
    int retries;
    int multipart_part_mib;
    long uid, gid; /* -1: the mounting user's */
    unsigned int umask;
    int debug;
    int foreground;
    int show_help;
    int show_version;
    int watch; /* vrcfs status --watch */
};

#define VRCFS_DEFAULT_API_URL "https://api.vrchat.cloud/api/1"

/* Parses vrcfs's own options out of args (leaving FUSE's) and collects the non-option words
 * (the command, the source and the mountpoint) into words. Returns 0 or -1. */
int options_parse(struct fuse_args *args, struct vrcfs_options *o, char **words, int max_words,
                  int *nwords);

void options_free(struct vrcfs_options *o);

#endif
