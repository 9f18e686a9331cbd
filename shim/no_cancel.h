/*
 * The shim's work on a program's thread holds no cancellation point. The
 * shim calls some (libunwind's first capture writes to a pipe, a wait for
 * another thread's stack sleeps, a report writes and opens files), and a
 * thread with a cancel pending there would act on it inside the shim:
 * inside a map call made under the program's lock, which then stays held
 * by a thread that is gone (a held-out probe: a program whose workers are
 * cancelled while another's cleanup handler writes the map hung in 1 run
 * of 30), or inside one of the shim's own locks. So those paths turn
 * cancellation off, and back to what the program had.
 */
#ifndef MAPGUARD_NO_CANCEL_H
#define MAPGUARD_NO_CANCEL_H

#include <pthread.h>

static inline int mg_cancel_off(void)
{
    int state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
    return state;
}

static inline void mg_cancel_restore(int state) { pthread_setcancelstate(state, NULL); }

#endif
