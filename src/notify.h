/* notify: tells a service manager (systemd, Type=notify) that the mount is up. The protocol is
 * one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (sd_notify(3)); vrcfs writes it
 * itself rather than link libsystemd for it. */
#ifndef VRCFS_NOTIFY_H
#define VRCFS_NOTIFY_H

/* Sends "READY=1\nSTATUS=<status>" when $NOTIFY_SOCKET is set. 0 when sent or not asked for,
 * else a negative errno (the mount works either way). */
int notify_ready(const char *status);

#endif
