/* fuse-null: the ceiling of a cold sequential read through FUSE on this machine, for
 * scripts/bench. One file, /file, of FNULL_SIZE bytes (default 1 GiB), whose reads are answered
 * from a 1 MiB pattern in memory. It is mounted with vrcfs's FUSE settings (multithreaded loop,
 * async reads, max_readahead 1 MiB, kernel cache kept; scripts/bench sets its read_ahead_kb to
 * 1 MiB as vrcfs does its own), so that a dd of /file measures FUSE and the page cache alone: no
 * network, no digest.
 *
 *   cc -O2 -o fuse-null bench/fuse-null.c $(pkg-config --cflags --libs fuse3)
 *   FNULL_SIZE=1073741824 ./fuse-null -f MOUNTPOINT */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATTERN_LEN (1u << 20)

static off_t file_size;
static char *pattern;

static void *null_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->entry_timeout = 1.0;
    cfg->attr_timeout = 1.0;
    conn->max_readahead = 1024 * 1024;
    conn->want |= conn->capable & FUSE_CAP_ASYNC_READ;
    return NULL;
}

static int null_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    memset(st, 0, sizeof *st);
    if (strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (strcmp(path, "/file") == 0) {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = file_size;
        return 0;
    }
    return -ENOENT;
}

static int null_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                        struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;
    if (strcmp(path, "/") != 0)
        return -ENOTDIR;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    fill(buf, "file", NULL, 0, 0);
    return 0;
}

static int null_open(const char *path, struct fuse_file_info *fi)
{
    if (strcmp(path, "/file") != 0)
        return -ENOENT;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    fi->keep_cache = 1;
    return 0;
}

static int null_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    (void)fi;
    if (off >= file_size)
        return 0;
    if ((off_t)size > file_size - off)
        size = (size_t)(file_size - off);
    for (size_t done = 0; done < size;) {
        size_t at = (size_t)((off + (off_t)done) % PATTERN_LEN);
        size_t n = PATTERN_LEN - at < size - done ? PATTERN_LEN - at : size - done;
        memcpy(buf + done, pattern + at, n);
        done += n;
    }
    return (int)size;
}

static const struct fuse_operations null_ops = {
    .init = null_init,
    .getattr = null_getattr,
    .readdir = null_readdir,
    .open = null_open,
    .read = null_read,
};

int main(int argc, char **argv)
{
    const char *size = getenv("FNULL_SIZE");
    file_size = size ? atoll(size) : 1LL << 30;
    pattern = malloc(PATTERN_LEN);
    if (!pattern)
        return 1;
    for (unsigned i = 0; i < PATTERN_LEN; i++)
        pattern[i] = (char)((i * 2654435761u) >> 24);
    return fuse_main(argc, argv, &null_ops, NULL);
}
