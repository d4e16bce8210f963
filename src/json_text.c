/* json_text: JSON as the text of a file (json_text.h). */
#include "json_text.h"

#include <stdlib.h>
#include <string.h>

char *json_text_dump(const json_t *json, size_t flags, size_t *len)
{
    char *text = json_dumps(json, flags);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *with_newline = realloc(text, n + 2);
    if (!with_newline) {
        free(text);
        return NULL;
    }
    with_newline[n++] = '\n';
    with_newline[n] = '\0';
    if (len)
        *len = n;
    return with_newline;
}
