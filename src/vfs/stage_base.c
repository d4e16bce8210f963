/* stage_base: the server's current data of a File as the start of a stage (stage_base.h). */
#include "vfs/stage_base.h"

#include "log.h"
#include "remote/files_api.h"
#include "vfs/files_meta.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOWNLOAD_CHUNK (4u << 20)

int stage_fetch_base(struct files_write_state *w, struct stage *s)
{
    struct vfs *v = w->v;
    struct vrc_file *f = NULL;
    int err = files_meta_get(v, s->rec.file_id, &f);
    if (err)
        return err;
    int n = vrc_file_latest(f);
    const struct vrc_file_version *ver = n ? vrc_file_version(f, n) : NULL;
    uint64_t total = ver ? ver->data[VRC_DATA_FILE].size : 0;
    char want_md5[sizeof ver->data[0].md5] = "";
    if (ver)
        memcpy(want_md5, ver->data[VRC_DATA_FILE].md5, sizeof want_md5);
    vrc_file_unref(f);
    stage_digest_reset(s);
    if (ftruncate(s->fd, 0) != 0)
        return -errno;
    if (!total) {
        s->size = 0;
        s->needs_base = false;
        return 0;
    }
    err = stage_account(w, s, total);
    if (err)
        return err;
    char *url = NULL;
    char *buf = malloc(DOWNLOAD_CHUNK);
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    err = buf && md5 && EVP_DigestInit_ex(md5, EVP_md5(), NULL) ? 0 : -ENOMEM;
    if (!err)
        err = files_resolve_download(v->http, s->rec.file_id, n, VRC_DATA_FILE, &url);
    bool renewed = false;
    for (uint64_t off = 0; !err && off < total;) {
        size_t want = total - off < DOWNLOAD_CHUNK ? (size_t)(total - off) : DOWNLOAD_CHUNK;
        size_t got = 0;
        err = files_read_range(v->http, url, off, buf, want, &got);
        if (err == -EACCES && !renewed) { /* the signed URL expired: one fresh one */
            renewed = true;
            free(url);
            url = NULL;
            err = files_resolve_download(v->http, s->rec.file_id, n, VRC_DATA_FILE, &url);
            continue;
        }
        if (!err && got == 0)
            err = -EIO; /* shorter than the File says */
        if (!err && pwrite(s->fd, buf, got, (off_t)off) != (ssize_t)got)
            err = -EIO;
        if (!err) {
            EVP_DigestUpdate(md5, buf, got);
            stage_digest_write(s, buf, off, got);
            off += got;
        }
    }
    if (!err && *want_md5) {
        unsigned char raw[16];
        char b64[DIGEST_MD5_B64_LEN + 1];
        EVP_DigestFinal_ex(md5, raw, NULL);
        EVP_EncodeBlock((unsigned char *)b64, raw, 16);
        if (strcmp(b64, want_md5) != 0) {
            log_error("%s: the current data of %s does not match its md5: not editing it",
                      s->rec.name, s->rec.file_id);
            err = -EIO;
        }
    }
    EVP_MD_CTX_free(md5);
    free(buf);
    free(url);
    if (err) {
        if (ftruncate(s->fd, 0) != 0)
            log_warn("staging: cannot empty %s", s->stem);
        stage_account(w, s, 0);
        stage_digest_reset(s);
        return err;
    }
    s->size = total;
    s->needs_base = false;
    return 0;
}

int stage_ensure_base(struct files_write_state *w, struct stage *s)
{
    return s->needs_base ? stage_fetch_base(w, s) : 0;
}
