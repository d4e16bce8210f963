#include "remote/retry.h"

#include <string.h>

bool retry_status_is_transient(long status, const char *method)
{
    if (status == 429 || status == 503)
        return true;
    if (status == 502 || status == 504)
        return strcmp(method, "POST") != 0;
    return false;
}

bool retry_curl_is_transient(CURLcode code, const char *method)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return true;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
        return strcmp(method, "POST") != 0;
    default:
        return false;
    }
}

long retry_delay_ms(int attempt, long retry_after_s, double jitter)
{
    if (retry_after_s >= 0)
        return retry_after_s * 1000;
    long d = RETRY_CAP_MS;
    if (attempt < 16 && (RETRY_BASE_MS << attempt) < RETRY_CAP_MS)
        d = RETRY_BASE_MS << attempt;
    return d / 2 + (long)(jitter * (double)(d / 2));
}
