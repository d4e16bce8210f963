/* stage_upload: sending a stage to the server: a new File first when it has none yet, then a
 * new version, one upload per File at a time, with the progress stats.json shows. */
#ifndef VRCFS_STAGE_UPLOAD_H
#define VRCFS_STAGE_UPLOAD_H

#include "vfs/stage.h"

/* Uploads s if its content changed since the last upload (a temporary name or an unlisted stage
 * never); 0 when there was nothing to do. The result is what close() and fsync() return; a
 * failure is logged with where the data is kept. A created File's name becomes its link. Takes
 * s->lock itself (none held). */
int stage_upload(struct files_write_state *w, struct stage *s);

#endif
