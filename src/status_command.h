/* status_command: `vrcfs status [MOUNTPOINT] [--watch]`: what a mount is doing, for a person,
 * read from <mountpoint>/.vrcfs/stats.json and <mountpoint>/.vrcfs/log (status_format makes the
 * text). Without a mount point, every vrcfs mount in /proc/self/mountinfo. */
#ifndef VRCFS_STATUS_COMMAND_H
#define VRCFS_STATUS_COMMAND_H

#include <stdbool.h>

/* Prints the status of mountpoint (NULL: of every vrcfs mount) once, or with watch every second
 * until interrupted: on a terminal the screen is cleared before each, otherwise each block
 * follows the last after a blank line. Returns the exit code: 0, or 1 when a mount point is not
 * a vrcfs mount or cannot be read (said on stderr), or when there is no vrcfs mount at all. */
int command_status(const char *mountpoint, bool watch);

#endif
