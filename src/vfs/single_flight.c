/* single_flight: the keys being fetched, a list under one mutex (a handful at once: one per
 * fetch running), and one condition variable that every end broadcasts. */
#include "vfs/single_flight.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct flight {
    char *key;
    struct flight *next;
};

struct single_flight {
    pthread_mutex_t lock;
    pthread_cond_t ended;
    struct flight *running;
    uint64_t waits;
};

struct single_flight *single_flight_new(void)
{
    struct single_flight *sf = calloc(1, sizeof *sf);
    if (!sf)
        return NULL;
    pthread_mutex_init(&sf->lock, NULL);
    pthread_cond_init(&sf->ended, NULL);
    return sf;
}

void single_flight_free(struct single_flight *sf)
{
    if (!sf)
        return;
    pthread_cond_destroy(&sf->ended);
    pthread_mutex_destroy(&sf->lock);
    free(sf);
}

static bool running(const struct single_flight *sf, const char *key)
{
    for (const struct flight *f = sf->running; f; f = f->next)
        if (strcmp(f->key, key) == 0)
            return true;
    return false;
}

bool single_flight_begin(struct single_flight *sf, const char *key)
{
    pthread_mutex_lock(&sf->lock);
    if (running(sf, key)) {
        sf->waits++;
        while (running(sf, key))
            pthread_cond_wait(&sf->ended, &sf->lock);
        pthread_mutex_unlock(&sf->lock);
        return false;
    }
    struct flight *f = malloc(sizeof *f);
    if (f && !(f->key = strdup(key))) {
        free(f);
        f = NULL;
    }
    if (f) {
        f->next = sf->running;
        sf->running = f;
    }
    pthread_mutex_unlock(&sf->lock);
    return true;
}

void single_flight_end(struct single_flight *sf, const char *key)
{
    pthread_mutex_lock(&sf->lock);
    for (struct flight **p = &sf->running; *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            struct flight *f = *p;
            *p = f->next;
            free(f->key);
            free(f);
            break;
        }
    }
    pthread_cond_broadcast(&sf->ended);
    pthread_mutex_unlock(&sf->lock);
}

uint64_t single_flight_waits(struct single_flight *sf)
{
    pthread_mutex_lock(&sf->lock);
    uint64_t n = sf->waits;
    pthread_mutex_unlock(&sf->lock);
    return n;
}
