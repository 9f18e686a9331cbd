/*
 * §2.2 with GLib, fixed as §4.2 advises: the table wrapped with a GRWLock
 * (Go's sync.RWMutex). The reader shares the read lock; the writer takes
 * the write lock. GRWLock is a pthread_rwlock inside GLib, reached through
 * the PLT, so mapguard sees every lock and unlock and orders the calls.
 */
#include <glib.h>
#include <stdio.h>

static GHashTable *m; /* map[int]int */
static GRWLock mu;    /* a static GRWLock needs no init */

static gpointer reader(gpointer arg)
{
    long *found = arg;
    for (int i = 0; i < 1000; i++) {
        g_rw_lock_reader_lock(&mu);
        *found += g_hash_table_contains(m, GINT_TO_POINTER(i));
        g_rw_lock_reader_unlock(&mu);
    }
    return NULL;
}

static gpointer writer(gpointer arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        g_rw_lock_writer_lock(&mu);
        g_hash_table_insert(m, GINT_TO_POINTER(i), GINT_TO_POINTER(i));
        g_rw_lock_writer_unlock(&mu);
    }
    return NULL;
}

int main(void)
{
    long found = 0;
    m = g_hash_table_new(g_direct_hash, g_direct_equal);
    GThread *r = g_thread_new("reader", reader, &found);
    GThread *w = g_thread_new("writer", writer, NULL);
    g_thread_join(r);
    g_thread_join(w);
    guint n = g_hash_table_size(m);
    g_hash_table_destroy(m);
    printf("under a GRWLock: 1000 entries written (%u), the reader found %ld already there\n", n, found);
    return n == 1000 ? 0 : 1;
}
