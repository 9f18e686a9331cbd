/*
 * Real multithreaded programs from the Debian image, run once plainly and
 * once with the shim preloaded (issue 12, item 10): the shim wraps thread
 * creation, locks, condition variables, semaphores, fork, and the calls
 * that make, read and write pipes and sockets, so it runs inside every
 * one of them. Each program must give the same stdout and
 * exit status both ways, finish (a hang is killed with its process group
 * and fails the test), and leave a log with no finding in any of its
 * processes.
 *
 * Each program runs in a shell script under /bin/sh (so the shell and every
 * process it starts are watched too), in a work directory of the same path
 * both times: whatever it prints cannot differ by a path. Inputs are
 * generated here, deterministically; every program's own threading is
 * asked for explicitly (-T2, --parallel=2, pack.threads=2, ...) so that
 * threads really run on any machine.
 *
 * A missing program fails its test naming the Debian package: `make deps`
 * installs them.
 */
#include "harness.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* generous: each script takes a few seconds plainly */
#define RUN_TIMEOUT_MS 90000

struct tool {
    const char *path, *package;
};

static void need(const struct tool *tools)
{
    for (; tools->path; tools++)
        cr_assert(access(tools->path, X_OK) == 0,
                  "%s is missing: this test needs the Debian package %s (`make deps` installs it)", tools->path,
                  tools->package);
}

/* A deterministic generator for the inputs. */
static uint64_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s: %s", path, strerror(errno));
    return f;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    FILE *f = open_in(dir, name);
    fputs(text, f);
    cr_assert(fclose(f) == 0);
}

/* Did a process whose program's name ends in name say hello (was it
 * watched)? */
static bool watched(const struct run *r, const char *name)
{
    json_t *o;
    for (size_t i = 0; (o = find_kind(r, "hello", i)); i++) {
        const char *p = json_string_value(json_object_get(o, "program"));
        size_t pl = p ? strlen(p) : 0, nl = strlen(name);
        if (pl >= nl && !strcmp(p + pl - nl, name))
            return true;
    }
    return false;
}

/* Runs script under /bin/sh -c in a fresh work directory that prep fills,
 * plainly and then under the shim, at the same path; asserts the two runs
 * agree, the shim's run found nothing, and each program named in progs
 * (NULL-terminated, the ends of their paths) was watched. Returns the
 * plain run's stdout (the caller's to free), for checks that the script
 * did its work. */
static char *same_with_and_without(const char *what, const char *script, const char *const *env,
                                   void (*prep)(const char *dir), const char *const *progs)
{
    char base[] = "/tmp/mgreal.XXXXXX";
    cr_assert(mkdtemp(base), "mkdtemp: %s", strerror(errno));
    char work[64], rm[128];
    snprintf(work, sizeof work, "%s/w", base);
    snprintf(rm, sizeof rm, "rm -rf '%s'", work);

    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct run plain, shim;
    for (int preload = 0; preload < 2; preload++) {
        cr_assert(system(rm) == 0);
        cr_assert(mkdir(work, 0700) == 0, "%s: %s", work, strerror(errno));
        if (prep)
            prep(work);
        struct cmd c = {.argv = argv, .env = env, .cwd = work, .preload = preload, .timeout_ms = RUN_TIMEOUT_MS};
        run_cmd(preload ? &shim : &plain, &c);
    }
    cr_assert_eq(plain.status, 0, "%s: the script fails even without the shim (status %d):\n%s", what,
                 plain.status, plain.err);
    cr_assert_eq(shim.status, plain.status, "%s: exit status %d under the shim, %d without\nstderr:\n%.4000s", what,
                 shim.status, plain.status, shim.err);
    cr_assert(!strcmp(shim.out, plain.out), "%s: stdout differs under the shim\n--- plain:\n%.2000s\n--- shim:\n%.2000s",
              what, plain.out, shim.out);
    cr_assert(!strcmp(shim.err, plain.err), "%s: stderr differs under the shim\n--- plain:\n%.2000s\n--- shim:\n%.2000s",
              what, plain.err, shim.err);
    cr_assert_eq(plain.nfiles, 0, "%s: a log without the shim?", what);
    assert_watched_no_finding(&shim, what);
    for (; progs && *progs; progs++)
        cr_assert(watched(&shim, *progs), "%s: no process of %s said hello: was it watched?\n%.4000s", what, *progs,
                  json_dumps(shim.lines, JSON_INDENT(1)));

    char *out = strdup(plain.out);
    run_free(&plain);
    run_free(&shim);
    snprintf(rm, sizeof rm, "rm -rf '%s'", base);
    cr_assert(system(rm) == 0);
    return out;
}

/* ---------------------------------------------------------------- python3 */

/* Producers and consumers on a queue.Queue (a Condition inside), a Lock
 * around the shared total, a Condition main waits on, a ThreadPoolExecutor:
 * CPython's locks are sem_t or mutex-and-condvar, its GIL a mutex and a
 * condvar, all taken by every thread switch. */
static const char py_script[] =
    "import threading, queue, concurrent.futures\n"
    "q = queue.Queue(maxsize=4)\n"
    "lock = threading.Lock()\n"
    "cond = threading.Condition()\n"
    "total = [0]; done = [0]\n"
    "def producer(base):\n"
    "    for i in range(3000):\n"
    "        q.put(base + i)\n"
    "def consumer():\n"
    "    while True:\n"
    "        v = q.get()\n"
    "        if v is None:\n"
    "            break\n"
    "        with lock:\n"
    "            total[0] += v * v % 7919\n"
    "    with cond:\n"
    "        done[0] += 1\n"
    "        cond.notify_all()\n"
    "ps = [threading.Thread(target=producer, args=(k * 100000,)) for k in range(3)]\n"
    "cs = [threading.Thread(target=consumer) for _ in range(3)]\n"
    "for t in ps + cs: t.start()\n"
    "for t in ps: t.join()\n"
    "for _ in cs: q.put(None)\n"
    "with cond:\n"
    "    while done[0] < 3:\n"
    "        cond.wait()\n"
    "for t in cs: t.join()\n"
    "with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:\n"
    "    squares = sum(ex.map(lambda x: x * x, range(2000)))\n"
    "print('total', total[0], 'consumers', done[0], 'squares', squares)\n";

/* script.py, which prep writes, run both ways: the plain run's stdout. */
static char *python3_same(const char *what, void (*prep)(const char *dir))
{
    need((const struct tool[]){{"/usr/bin/python3", "python3"}, {NULL, NULL}});
    /* -I: no user site or PYTHON* variable changes what runs */
    const char *env[] = {"PYTHONHASHSEED=0", NULL};
    return same_with_and_without(what, "exec /usr/bin/python3 -I script.py", env, prep,
                                 (const char *[]){"/python3.11", NULL});
}

static void prep_python(const char *dir) { write_file(dir, "script.py", py_script); }

Test(realprogs, python3_threads_lock_condition_queue)
{
    char *out = python3_same("python3", prep_python);
    cr_assert(!strncmp(out, "total ", 6) && strstr(out, "consumers 3 squares 2664667000\n"), "python3: %s", out);
    free(out);
}

/* Sockets made, connected, accepted and closed by several threads at once
 * (the shim follows socket, connect, accept, send, recv, sendmsg and
 * recvmsg, shim/fd_sync.c): a threading Unix stream server at a path in the
 * work directory, four client threads, and a socket pair between two more
 * threads; no network needed. */
static const char py_sock_script[] =
    "import os, socket, socketserver, threading\n"
    "class H(socketserver.StreamRequestHandler):\n"
    "    def handle(self):\n"
    "        for line in self.rfile:\n"
    "            n = int(line)\n"
    "            self.wfile.write(b'%d\\n' % (n * n % 65521))\n"
    "srv = socketserver.ThreadingUnixStreamServer('srv.sock', H)\n"
    "st = threading.Thread(target=srv.serve_forever); st.start()\n"
    "sums = [0] * 4\n"
    "def client(k):\n"
    "    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:\n"
    "        c.connect('srv.sock')\n"
    "        f = c.makefile('rwb')\n"
    "        for i in range(500):\n"
    "            f.write(b'%d\\n' % (k * 1000 + i)); f.flush()\n"
    "            sums[k] += int(f.readline())\n"
    "cs = [threading.Thread(target=client, args=(k,)) for k in range(4)]\n"
    "for t in cs: t.start()\n"
    "a, b = socket.socketpair()\n"
    "got = []\n"
    "def echo():\n"
    "    for _ in range(200):\n"
    "        msg, _, _, _ = b.recvmsg(16)\n"
    "        b.sendmsg([msg[::-1]])\n"
    "et = threading.Thread(target=echo); et.start()\n"
    "for i in range(200):\n"
    "    a.sendmsg([b'ab%03d' % i]); got.append(a.recv(16))\n"
    "et.join()\n"
    "for t in cs: t.join()\n"
    "srv.shutdown(); st.join(); srv.server_close(); os.unlink('srv.sock')\n"
    "print('sums', sums, 'pair', len(got), got[7])\n";

static void prep_python_sockets(const char *dir) { write_file(dir, "script.py", py_sock_script); }

Test(realprogs, python3_threads_unix_sockets)
{
    char *out = python3_same("python3 sockets", prep_python_sockets);
    cr_assert(!strncmp(out, "sums [", 6) && strstr(out, " pair 200 b'700ba'\n"), "python3 sockets: %s", out);
    free(out);
}

/* ---------------------------------------------------------------- xz */

/* About 4 MB of compressible text. */
static void prep_xz(const char *dir)
{
    FILE *f = open_in(dir, "data");
    uint64_t s = 12;
    static const char *const words[] = {"alpha", "beta", "gamma", "delta", "map", "guard", "thread", "lock"};
    for (int line = 0; line < 120000; line++) {
        fprintf(f, "%06d", line);
        for (int w = 0; w < 5; w++)
            fprintf(f, " %s%u", words[next_rand(&s) % 8], (unsigned)(next_rand(&s) % 100));
        fputc('\n', f);
    }
    cr_assert(fclose(f) == 0);
}

Test(realprogs, xz_two_threads_compress_and_decompress)
{
    need((const struct tool[]){{"/usr/bin/xz", "xz-utils"}, {"/usr/bin/cmp", "diffutils"},
                               {"/usr/bin/cksum", "coreutils"}, {NULL, NULL}});
    /* Small blocks: -T2 compresses (and decompresses) blocks in parallel,
     * and the default block is larger than the whole input. The
     * compressed bytes are printed as a checksum: the shim must not change
     * them. */
    char *out = same_with_and_without("xz",
                                      "set -e\n"
                                      "xz -T2 --block-size=262144 -3 -k data\n"
                                      "cksum data.xz\n"
                                      "xz -l --robot data.xz | grep '^totals'\n"
                                      "xz -T2 -d -c data.xz > back\n"
                                      "cmp data back\n"
                                      "echo round-trip ok\n",
                                      NULL, prep_xz, (const char *[]){"/xz", "/cmp", NULL});
    /* the totals line's third field: the blocks, compressed by two threads */
    const char *t = strstr(out, "totals\t");
    unsigned streams = 0, blocks = 0;
    cr_assert(t && sscanf(t, "totals\t%u\t%u", &streams, &blocks) == 2, "xz: %s", out);
    cr_assert_gt(blocks, 4, "xz: only %u block(s): -T2 had nothing to do in parallel", blocks);
    cr_assert(strstr(out, "round-trip ok\n"), "xz: %s", out);
    free(out);
}

/* ---------------------------------------------------------------- sort */

enum { SORT_LINES = 400000 };

static void prep_sort(const char *dir)
{
    FILE *f = open_in(dir, "input");
    uint64_t s = 34;
    for (int i = 0; i < SORT_LINES; i++)
        fprintf(f, "%u %c\n", (unsigned)(next_rand(&s) % 1000000), 'a' + (int)(next_rand(&s) % 26));
    cr_assert(fclose(f) == 0);
}

Test(realprogs, sort_parallel_two)
{
    need((const struct tool[]){{"/usr/bin/sort", "coreutils"}, {"/usr/bin/cksum", "coreutils"}, {NULL, NULL}});
    /* GNU sort sorts a buffer with threads only from 128Ki lines on, so the
     * first sort's buffer holds the whole input; the second's is small, so
     * it spills to temporary files and merges them. */
    const char *env[] = {"LC_ALL=C", NULL};
    char *out = same_with_and_without("sort",
                                      "set -e\n"
                                      "sort --parallel=2 -S 64M -k2,2 -k1,1n input > big\n"
                                      "sort --parallel=2 -S 1M -T . -k2,2 -k1,1n input > small\n"
                                      "cksum < big\n"
                                      "cksum < small\n"
                                      "head -n 3 big\n"
                                      "wc -l < big\n",
                                      env, prep_sort, (const char *[]){"/sort", NULL});
    unsigned long c1, n1, c2, n2;
    cr_assert(sscanf(out, "%lu %lu\n%lu %lu", &c1, &n1, &c2, &n2) == 4 && c1 == c2 && n1 == n2, "sort: %s", out);
    char want[32];
    snprintf(want, sizeof want, "\n%d\n", SORT_LINES);
    cr_assert(strstr(out, want), "sort: %s", out);
    free(out);
}

/* ---------------------------------------------------------------- git */

/* 300 files, then a few commits that change some of them. */
static void prep_git(const char *dir)
{
    uint64_t s = 56;
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%03d.txt", i);
        FILE *f = open_in(dir, name);
        for (int l = 0; l < 40; l++)
            fprintf(f, "line %d of file %d: %u\n", l, i, (unsigned)(next_rand(&s) % 1000));
        cr_assert(fclose(f) == 0);
    }
}

Test(realprogs, git_commit_repack_grep_clone)
{
    need((const struct tool[]){{"/usr/bin/git", "git"}, {NULL, NULL}});
    /* Fixed names and dates make the commit ids the same every run; HOME
     * and no system config keep the machine's settings out. repack's
     * delta search, grep and index-pack (under clone) run two threads. */
    const char *env[] = {"HOME=.", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=mapguard",
                         "GIT_AUTHOR_EMAIL=mg@example.org", "GIT_AUTHOR_DATE=2020-01-01T00:00:00Z",
                         "GIT_COMMITTER_NAME=mapguard", "GIT_COMMITTER_EMAIL=mg@example.org",
                         "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z", "LC_ALL=C", "TZ=UTC", NULL};
    char *out = same_with_and_without("git",
                                      "set -e\n"
                                      "export HOME=\"$PWD\"\n"
                                      "git init -q -b main repo\n"
                                      "mv f*.txt repo/\n"
                                      "cd repo\n"
                                      "git config gc.auto 0\n"
                                      "git add -A\n"
                                      "git commit -q -m first\n"
                                      "for i in 1 2 3 4 5 6; do\n"
                                      "  for f in f0$i*.txt; do echo \"change $i\" >> $f; done\n"
                                      "  git commit -q -a -m \"change $i\"\n"
                                      "done\n"
                                      "git -c pack.threads=2 repack -q -a -d -f --window=20\n"
                                      "git count-objects -v | grep -E '^(count|in-pack|packs):'\n"
                                      "git -c grep.threads=2 grep -c 'change 3' | head -n 3\n"
                                      "git log --format='%H %s'\n"
                                      "git -c pack.threads=2 clone -q --no-local . ../clone\n"
                                      "git -C ../clone rev-parse HEAD\n"
                                      "git fsck --no-progress\n"
                                      "echo git ok\n",
                                      env, prep_git, (const char *[]){"/git", NULL});
    cr_assert(strstr(out, "in-pack: ") && strstr(out, " first\n") && strstr(out, "git ok\n"), "git: %s", out);
    free(out);
}

/* ---------------------------------------------------------------- gcc */

/* A threaded C program in two files, built with link-time optimization in
 * two jobs and linked by gold with two threads, then run: gcc's driver,
 * cc1, lto1, as and ld are watched, and so is the program. */
static const char gcc_main[] =
    "#include <pthread.h>\n"
    "#include <stdio.h>\n"
    "long work(long n);\n"
    "static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;\n"
    "static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;\n"
    "static long total; static int finished;\n"
    "static void *run(void *arg) {\n"
    "    long r = work((long)arg);\n"
    "    pthread_mutex_lock(&mu); total += r; finished++;\n"
    "    pthread_cond_signal(&cv); pthread_mutex_unlock(&mu);\n"
    "    return NULL;\n"
    "}\n"
    "int main(void) {\n"
    "    pthread_t t[4];\n"
    "    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, run, (void *)(i * 1000));\n"
    "    pthread_mutex_lock(&mu);\n"
    "    while (finished < 4) pthread_cond_wait(&cv, &mu);\n"
    "    pthread_mutex_unlock(&mu);\n"
    "    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);\n"
    "    printf(\"total %ld\\n\", total);\n"
    "    return 0;\n"
    "}\n";
static const char gcc_work[] =
    "long work(long n) { long s = 0; for (long i = 0; i < 100000; i++) s += (i ^ n) % 97; return s; }\n";

static void prep_gcc(const char *dir)
{
    write_file(dir, "main.c", gcc_main);
    write_file(dir, "work.c", gcc_work);
}

Test(realprogs, gcc_lto_gold_threads_then_run)
{
    need((const struct tool[]){{"/usr/bin/gcc", "gcc"}, {"/usr/bin/ld.gold", "binutils"}, {NULL, NULL}});
    const char *env[] = {"LC_ALL=C", NULL};
    char *out = same_with_and_without("gcc",
                                      "set -e\n"
                                      "gcc -O2 -pipe -flto=2 -fuse-ld=gold -Wl,--threads,--thread-count=2 "
                                      "-o prog main.c work.c -pthread\n"
                                      "./prog\n",
                                      env, prep_gcc,
                                      (const char *[]){"gcc-12", "/cc1", "/lto1", "ld.gold", "/prog", NULL});
    /* 4 threads x sum over i of (i ^ n) % 97, computed here the same way */
    long want = 0;
    for (long n = 0; n < 4000; n += 1000)
        for (long i = 0; i < 100000; i++)
            want += (i ^ n) % 97;
    char line[64];
    snprintf(line, sizeof line, "total %ld\n", want);
    cr_assert_str_eq(out, line, "gcc: the program printed %s", out);
    free(out);
}
