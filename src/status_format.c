#include "status_format.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BAR_WIDTH 24
#define BOLD "\033[1m"
#define PLAIN "\033[0m"

void status_format_size(uint64_t bytes, char *out, size_t len)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(out, len, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    /* Three significant digits: 1.20 GiB, 12.3 MiB, 300 KiB (but 300.0 MiB reads as exact). */
    snprintf(out, len, v < 10 ? "%.2f %s" : "%.1f %s", v, units[u]);
}

void status_format_duration(double seconds, char *out, size_t len)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e9) {
        snprintf(out, len, "?");
        return;
    }
    uint64_t s = (uint64_t)(seconds + 0.5);
    if (s < 60)
        snprintf(out, len, "%" PRIu64 "s", s);
    else if (s < 3600)
        snprintf(out, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(out, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
}

void status_format_bar(uint64_t done, uint64_t total, int width, char *out, size_t len)
{
    if (len == 0)
        return;
    if (width < 1 || (size_t)width + 3 > len) {
        out[0] = '\0';
        return;
    }
    int filled = 0;
    if (total > 0)
        filled = done >= total ? width : (int)((double)done / (double)total * width);
    out[0] = '[';
    for (int i = 0; i < width; i++)
        out[1 + i] = i < filled ? '#' : '-';
    out[width + 1] = ']';
    out[width + 2] = '\0';
}

/* The message of a log line, after "TIME LEVEL: ", and its level in level. */
static const char *split_line(const char *line, char *level, size_t level_len)
{
    const char *sp = strchr(line, ' ');
    const char *colon = sp ? strstr(sp + 1, ": ") : NULL;
    if (!colon || (size_t)(colon - sp - 1) >= level_len) {
        *level = '\0';
        return line;
    }
    memcpy(level, sp + 1, (size_t)(colon - sp - 1));
    level[colon - sp - 1] = '\0';
    return colon + 2;
}

/* "GET /files: 401 Missing Credentials" or "PUT <blob>: 0 Timeout was reached": http's line
 * for a request that failed. */
static bool is_failed_request(const char *msg)
{
    size_t method = strspn(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (method == 0 || msg[method] != ' ' ||
        (msg[method + 1] != '/' && strncmp(msg + method + 1, "<blob>", 6) != 0))
        return false;
    const char *colon = strstr(msg, ": ");
    if (!colon)
        return false;
    const char *code = colon + 2;
    if (strspn(code, "0123456789") == 0)
        return false;
    long status = strtol(code, NULL, 10);
    return status == 0 || status >= 400;
}

/* ": EBUSY" or ": Device or resource busy" somewhere in msg: an errno by its symbol (followed
 * by a ':', ',', ' ' or the end) or by its text. */
static bool names_an_errno(const char *msg)
{
    for (const char *p = strstr(msg, ": "); p; p = strstr(p + 1, ": ")) {
        const char *w = p + 2;
        size_t n = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ2");
        bool word_end = w[n] == ':' || w[n] == '\0' || w[n] == ' ' || w[n] == ',';
        for (int e = 1; e < 134; e++) {
            const char *name = strerrorname_np(e);
            const char *text = strerror(e);
            if (name && word_end && strlen(name) == n && strncmp(w, name, n) == 0)
                return true;
            if (text && strncmp(text, "Unknown", 7) != 0 && strncmp(w, text, strlen(text)) == 0)
                return true;
        }
    }
    return false;
}

bool status_line_is_problem(const char *line)
{
    char level[16];
    const char *msg = split_line(line, level, sizeof level);
    if (strcmp(level, "warning") == 0 || strcmp(level, "error") == 0)
        return true;
    return strcmp(level, "info") == 0 && (is_failed_request(msg) || names_an_errno(msg));
}

/* Writes s with every control character (ESC among them) as '?': text from the server or the
 * log never reaches a terminal as a command. */
static void put_clean(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

static void put_clean_str(FILE *f, const char *s)
{
    put_clean(f, s ? s : "", SIZE_MAX);
}

static void heading(FILE *f, bool tty, const char *label)
{
    fprintf(f, "%s%s:%s", tty ? BOLD : "", label, tty ? PLAIN : "");
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static uint64_t count(json_t *o, const char *key)
{
    double v = num(o, key);
    return v > 0 ? (uint64_t)v : 0;
}

/* "03:12:33Z": the wall-clock time t in UTC, as the log's lines give it. */
static void clock_time(double t, char *out, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || strftime(out, len, "%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "?");
}

static void render_session(FILE *f, json_t *stats, double now, bool tty)
{
    json_t *session = json_object_get(stats, "session");
    const char *state = json_string_value(json_object_get(session, "state"));
    heading(f, tty, "session");
    if (!state) {
        fprintf(f, " unknown (this mount does not say)\n");
    } else if (strcmp(state, "expired") == 0) {
        char at[16], ago[16];
        clock_time(num(session, "since"), at, sizeof at);
        status_format_duration(now - num(session, "since"), ago, sizeof ago);
        fprintf(f,
                " expired since %s (%s ago): run vrcfs login, and this mount takes up the new "
                "session by itself\n",
                at, ago);
    } else {
        fprintf(f, " ");
        put_clean_str(f, state);
        fprintf(f, "\n");
    }
}

static void render_api(FILE *f, json_t *stats, double now, bool tty)
{
    json_t *api = json_object_get(stats, "api");
    uint64_t pacing = count(api, "pacing");
    double until = num(api, "backoff_until");
    heading(f, tty, "api");
    if (pacing)
        fprintf(f, " pacing: %" PRIu64 " request%s wait%s for the rate limit (-o rate)%s", pacing,
                pacing == 1 ? "" : "s", pacing == 1 ? "s" : "", until > now ? ";" : "");
    if (until > now) {
        char at[16], in[16];
        clock_time(until, at, sizeof at);
        status_format_duration(until - now, in, sizeof in);
        long status = (long)num(api, "backoff_status");
        if (status)
            fprintf(f, " backing off after HTTP %ld until %s (in %s)", status, at, in);
        else
            fprintf(f, " backing off after a request got no answer, until %s (in %s)", at, in);
    }
    if (!pacing && until <= now)
        fprintf(f, " ok, no request held back");
    fprintf(f, "\n");
}

/* What a person reads for an upload's state (stats.json "state"). */
static const char *state_words(const char *state)
{
    static const struct {
        const char *state, *words;
    } table[] = {
        {"staged", "staged: written here, uploaded at its close"},
        {"queued", "queued: left by an earlier run, uploaded soon"},
        {"hashing", "hashing: its md5 and signature are being finished"},
        {"uploading", "uploading"},
        {"finishing", "finishing: sent, the server checks it"},
        {"failed", "failed"},
        {"kept", "kept, not uploaded"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(state, table[i].state) == 0)
            return table[i].words;
    return NULL;
}

static void render_upload(FILE *f, json_t *u, double now)
{
    const char *state = json_string_value(json_object_get(u, "state"));
    state = state ? state : "?";
    uint64_t done = count(u, "bytes_done"), total = count(u, "bytes_total");
    char sdone[32], stotal[32];
    status_format_size(done, sdone, sizeof sdone);
    status_format_size(total, stotal, sizeof stotal);
    fprintf(f, "  ");
    put_clean_str(f, json_string_value(json_object_get(u, "path")));
    fprintf(f, "\n    ");
    const char *words = state_words(state);
    put_clean_str(f, words ? words : state);
    bool moving = strcmp(state, "uploading") == 0 || strcmp(state, "finishing") == 0;
    if (moving) {
        char bar[BAR_WIDTH + 3];
        status_format_bar(done, total, BAR_WIDTH, bar, sizeof bar);
        unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100.0 / (double)total) : 0;
        fprintf(f, " %s %3u%% %s of %s", bar, pct, sdone, stotal);
        double rate = num(u, "rate");
        double started = num(u, "started_at");
        if (rate > 0) {
            char srate[32], left[16];
            status_format_size((uint64_t)rate, srate, sizeof srate);
            status_format_duration((double)(total - (done < total ? done : total)) / rate, left,
                                   sizeof left);
            fprintf(f, ", %s/s, %s left", srate, left);
        }
        if (started > 0) {
            char took[16];
            status_format_duration(now - started, took, sizeof took);
            fprintf(f, ", for %s", took);
        }
    } else {
        fprintf(f, ", %s", stotal);
    }
    const char *error = json_string_value(json_object_get(u, "error"));
    if (error) {
        fprintf(f, ": ");
        put_clean_str(f, error);
    }
    const char *staged_at = json_string_value(json_object_get(u, "staged_at"));
    if ((strcmp(state, "failed") == 0 || strcmp(state, "kept") == 0) && staged_at && *staged_at) {
        fprintf(f, "; the data is at ");
        put_clean_str(f, staged_at);
    }
    fprintf(f, "\n");
}

static void render_uploads(FILE *f, json_t *stats, double now, bool tty)
{
    json_t *uploads = json_object_get(stats, "uploads");
    heading(f, tty, "uploads");
    size_t n = json_array_size(uploads);
    if (n == 0) {
        fprintf(f, " none\n");
        return;
    }
    fprintf(f, " %zu\n", n);
    for (size_t i = 0; i < n; i++)
        render_upload(f, json_array_get(uploads, i), now);
}

static void render_space(FILE *f, json_t *stats, const char *key, const char *label, bool tty)
{
    json_t *o = json_object_get(stats, key);
    if (!o)
        return;
    char used[32], limit[32];
    status_format_size(count(o, "bytes_used"), used, sizeof used);
    status_format_size(count(o, "bytes_limit"), limit, sizeof limit);
    heading(f, tty, label);
    fprintf(f, " %s used of %s (-o cache_size)", used, limit);
    if (json_object_get(o, "entries"))
        fprintf(f, ", %" PRIu64 " version%s kept", count(o, "entries"),
                count(o, "entries") == 1 ? "" : "s");
    fprintf(f, "\n");
}

struct request_kind {
    const char *endpoint;
    uint64_t total;
    json_t *by_status;
};

static int by_total_desc(const void *a, const void *b)
{
    const struct request_kind *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    return strcmp(x->endpoint, y->endpoint);
}

static void render_requests(FILE *f, json_t *stats, bool tty)
{
    json_t *requests = json_object_get(stats, "requests");
    heading(f, tty, "requests");
    fprintf(f, " %" PRIu64 " in all, %" PRIu64 " retried, %" PRIu64 " rate limited (429)\n",
            count(stats, "requests_total"), count(stats, "retries"), count(stats, "rate_limited"));
    size_t n = json_object_size(requests);
    struct request_kind *kinds = n ? calloc(n, sizeof *kinds) : NULL;
    if (!kinds)
        return;
    size_t k = 0;
    const char *endpoint;
    json_t *by_status;
    json_object_foreach(requests, endpoint, by_status)
    {
        kinds[k] = (struct request_kind){endpoint, 0, by_status};
        const char *st;
        json_t *c;
        json_object_foreach(by_status, st, c) kinds[k].total += (uint64_t)json_integer_value(c);
        k++;
    }
    qsort(kinds, k, sizeof *kinds, by_total_desc);
    for (size_t i = 0; i < k && i < STATUS_REQUEST_KINDS; i++) {
        fprintf(f, "  %8" PRIu64 "  ", kinds[i].total);
        put_clean_str(f, kinds[i].endpoint);
        /* What did not succeed, by status: "0" is a request that got no answer. */
        const char *st;
        json_t *c;
        bool first = true;
        json_object_foreach(kinds[i].by_status, st, c)
        {
            if (st[0] == '2' || st[0] == '3')
                continue;
            fprintf(f, "%s", first ? "  (" : ", ");
            if (strcmp(st, "0") == 0)
                fprintf(f, "no answer");
            else
                put_clean_str(f, st);
            fprintf(f, ": %" JSON_INTEGER_FORMAT, json_integer_value(c));
            first = false;
        }
        fprintf(f, "%s\n", first ? "" : ")");
    }
    if (k > STATUS_REQUEST_KINDS)
        fprintf(f, "  and %zu more kinds\n", k - STATUS_REQUEST_KINDS);
    free(kinds);
}

static void render_problems(FILE *f, const char *log, bool tty)
{
    /* The last STATUS_PROBLEM_LINES problem lines, as a ring of line starts. */
    const char *ring[STATUS_PROBLEM_LINES];
    size_t seen = 0;
    for (const char *p = log; p && *p;) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        if (line && status_line_is_problem(line))
            ring[seen++ % STATUS_PROBLEM_LINES] = p;
        free(line);
        p += n + (p[n] == '\n');
    }
    size_t shown = seen < STATUS_PROBLEM_LINES ? seen : STATUS_PROBLEM_LINES;
    heading(f, tty, "problems");
    fprintf(f, shown ? " the last %zu in /.vrcfs/log\n" : " none in /.vrcfs/log\n", shown);
    for (size_t i = 0; i < shown; i++) {
        const char *line = ring[(seen - shown + i) % STATUS_PROBLEM_LINES];
        fprintf(f, "  ");
        put_clean(f, line, strcspn(line, "\n"));
        fprintf(f, "\n");
    }
}

char *status_render(const char *mountpoint, json_t *stats, const char *log, double now, bool tty)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "%svrcfs at ", tty ? BOLD : "");
    put_clean_str(f, mountpoint);
    fprintf(f, "%s\n", tty ? PLAIN : "");
    render_session(f, stats, now, tty);
    render_api(f, stats, now, tty);
    render_uploads(f, stats, now, tty);
    render_space(f, stats, "content_cache", "content cache", tty);
    render_space(f, stats, "staging", "staging", tty);
    render_requests(f, stats, tty);
    render_problems(f, log, tty);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash), undone in
 * place. */
static void unescape(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Whether one mountinfo line is a vrcfs mount; its mount point (still escaped) in point. */
static bool vrcfs_mount_line(char *line, char **point)
{
    /* "36 35 0:40 / /mnt rw,nosuid - fuse.vrcfs vrcfs rw,user_id=0": the fifth field is the
     * mount point; after the " - " that ends the optional fields, the type and the source. */
    char *save = NULL, *field = strtok_r(line, " ", &save);
    for (int i = 1; field && i < 5; i++)
        field = strtok_r(NULL, " ", &save);
    if (!field)
        return false;
    *point = field;
    while ((field = strtok_r(NULL, " ", &save)) && strcmp(field, "-") != 0)
        ;
    char *type = field ? strtok_r(NULL, " ", &save) : NULL;
    char *source = type ? strtok_r(NULL, " ", &save) : NULL;
    if (!type)
        return false;
    return strcmp(type, "fuse.vrcfs") == 0 ||
           (strncmp(type, "fuse", 4) == 0 && source && strcmp(source, "vrcfs") == 0);
}

int status_parse_mountinfo(const char *mountinfo, char ***points)
{
    *points = NULL;
    int n = 0;
    for (const char *p = mountinfo; p && *p;) {
        size_t len = strcspn(p, "\n");
        char *line = strndup(p, len), *point = NULL;
        if (!line)
            goto fail;
        if (vrcfs_mount_line(line, &point)) {
            char **more = realloc(*points, (size_t)(n + 1) * sizeof *more);
            char *copy = more ? strdup(point) : NULL;
            if (more)
                *points = more;
            if (!copy) {
                free(line);
                goto fail;
            }
            unescape(copy);
            (*points)[n++] = copy;
        }
        free(line);
        p += len + (p[len] == '\n');
    }
    return n;
fail:
    for (int i = 0; i < n; i++)
        free((*points)[i]);
    free(*points);
    *points = NULL;
    return -1;
}
