/* names: file names derived from VRChat data, MIME types for extensions, and temp-file names. */
#include "vfs/names.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OCTET_STREAM "application/octet-stream"
#define EMPTY_NAME "file"
#define MKSTEMP_SUFFIX_LEN 6

/* --- alias ------------------------------------------------------------------------------- */

/* '/' cannot be in a name at all and control characters break terminals and scripts. */
static void sanitize(char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '/' || ch < 0x20 || ch == 0x7f)
            *s = '_';
    }
}

static bool is_numeric(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

/* Names the rest of /files/<fileId>/ already uses. A number is a version there (vfs_path
 * treats every numeric name as one), so a numeric alias would be unreachable. */
static bool is_reserved(const char *s)
{
    return strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strcmp(s, "file.json") == 0 ||
           strcmp(s, "latest") == 0 || is_numeric(s);
}

/* The largest n <= max such that s[0..n) does not end inside a UTF-8 sequence. Backs off at
 * most 3 continuation bytes: a longer run is not UTF-8 anyway and any cut is as good. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    for (int i = 0; i < 3 && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; i++)
        n--;
    return n;
}

static char *join(const char *a, size_t alen, const char *b, size_t blen, bool prefix)
{
    size_t p = prefix ? 1 : 0;
    char *out = malloc(p + alen + blen + 1);
    if (out == NULL)
        return NULL;
    out[0] = '_';
    memcpy(out + p, a, alen);
    memcpy(out + p + alen, b, blen);
    out[p + alen + blen] = '\0';
    return out;
}

/* Fits base + ext into NAME_MAX bytes. The extension is what tools go by, so it stays whole
 * and the name is cut, unless the extension is so long (over half of NAME_MAX) that it is not
 * really one: then the whole name is cut. */
static char *fit(const char *base, const char *ext, bool prefix)
{
    size_t p = prefix ? 1 : 0, blen = strlen(base), elen = strlen(ext);
    if (p + blen + elen <= NAME_MAX)
        return join(base, blen, ext, elen, prefix);
    if (elen <= NAME_MAX / 2)
        return join(base, utf8_cut(base, blen, NAME_MAX - p - elen), ext, elen, prefix);
    char *whole = join(base, blen, ext, elen, false);
    if (whole == NULL)
        return NULL;
    char *out = join(whole, utf8_cut(whole, blen + elen, NAME_MAX - p), "", 0, prefix);
    free(whole);
    return out;
}

char *names_alias(const char *name, const char *extension)
{
    char *base = strdup(name != NULL && name[0] != '\0' ? name : EMPTY_NAME);
    char *ext = strdup(extension != NULL ? extension : "");
    char *full = NULL, *out = NULL;
    if (base == NULL || ext == NULL)
        goto done;
    sanitize(base);
    sanitize(ext);
    full = join(base, strlen(base), ext, strlen(ext), false);
    if (full != NULL)
        out = fit(base, ext, is_reserved(full));
done:
    free(base);
    free(ext);
    free(full);
    return out;
}

/* --- new File names ---------------------------------------------------------------------- */

int names_split_new(const char *file_name, char **name, char **ext)
{
    if (name != NULL)
        *name = NULL;
    if (ext != NULL)
        *ext = NULL;
    if (file_name == NULL || name == NULL || ext == NULL)
        return -EINVAL;
    const char *dot = strrchr(file_name, '.');
    if (dot == NULL || dot == file_name || dot[1] == '\0')
        return -EINVAL;
    *name = strndup(file_name, (size_t)(dot - file_name));
    *ext = strdup(dot);
    if (*name == NULL || *ext == NULL) {
        free(*name);
        free(*ext);
        *name = *ext = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* --- MIME types -------------------------------------------------------------------------- */

struct mime_entry {
    const char *ext;
    const char *mime;
};

/* Only values from the spec's MIMEType enum: the server rejects anything else. Its svg value
 * is written with U+FF0B in the spec, a typo; the plain ASCII '+' is what is sent. */
static const struct mime_entry mime_table[] = {
    {".gz", "application/gzip"},
    {".bin", OCTET_STREAM},
    {".vrca", "application/x-avatar"},
    {".vrcw", "application/x-world"},
    {".vrcp", "application/x-prop"},
    {".delta", "application/x-rsync-delta"},
    {".sig", "application/x-rsync-signature"},
    {".signature", "application/x-rsync-signature"},
    {".bmp", "image/bmp"},
    {".gif", "image/gif"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".webp", "image/webp"},
};

const char *names_mime_for_extension(const char *ext)
{
    if (ext == NULL)
        return OCTET_STREAM;
    for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++) {
        if (strcasecmp(ext, mime_table[i].ext) == 0)
            return mime_table[i].mime;
    }
    return OCTET_STREAM;
}

/* --- temporary files --------------------------------------------------------------------- */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* vim: ".x.swp", then ".x.swo", ".x.swn"... as earlier swap files exist; ".x.swpx" probes. */
static bool is_vim_swap(const char *s)
{
    size_t n = strlen(s);
    if (s[0] != '.' || n < 5)
        return false;
    if (ends_with(s, ".swpx"))
        return true;
    return memcmp(s + n - 4, ".sw", 3) == 0 && islower((unsigned char)s[n - 1]);
}

/* mkstemp-style ".x.XXXXXX" (rsync, many editors' atomic saves): a hidden name whose last
 * dot is followed by exactly six letters or digits. */
static bool is_mkstemp(const char *s)
{
    const char *dot = strrchr(s, '.');
    if (s[0] != '.' || dot == s || strlen(dot + 1) != MKSTEMP_SUFFIX_LEN)
        return false;
    for (const char *p = dot + 1; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p))
            return false;
    }
    return true;
}

int names_is_temporary(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return 0;
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '~')
        return 1; /* emacs, nano, many others: backup "x~" */
    if (n > 2 && name[0] == '#' && name[n - 1] == '#')
        return 1; /* emacs auto-save "#x#" */
    if (starts_with(name, ".#") || starts_with(name, ".~lock."))
        return 1; /* emacs and LibreOffice lock files */
    if (starts_with(name, ".goutputstream-"))
        return 1; /* GLib/gedit atomic save */
    return is_vim_swap(name) || is_mkstemp(name);
}

/* --- UTF-8 -------------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

int names_is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

void names_printable(const char *s, char *out, size_t out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        size_t n = utf8_seq(p);
        bool plain = n > 1 || (n == 1 && *p >= 0x20 && *p != 0x7f);
        size_t need = plain ? n : 4;
        if (o + need >= out_len)
            break;
        if (plain)
            memcpy(out + o, p, n);
        else
            snprintf(out + o, 5, "\\x%02X", *p);
        o += need;
        p += plain ? n : 1;
    }
    out[o] = '\0';
}
