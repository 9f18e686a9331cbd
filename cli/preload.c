/*
 * Up-front checks that LD_PRELOAD can work for a program. When the dynamic
 * loader does not preload the shim, the program runs unwatched and reports
 * nothing, which looks exactly like a clean run; a CI gate that passes in
 * that case is worse than none. So before running anything, mapguard refuses
 * the cases the loader is known to skip:
 *
 *  - no PT_INTERP: a static (or static-pie) executable never runs ld.so;
 *  - a different ELF class or machine than the shim: ld.so prints a warning
 *    and ignores the preload;
 *  - secure-execution mode (AT_SECURE): a setuid/setgid program that changes
 *    our ids, or file capabilities for a non-root user, makes ld.so ignore
 *    LD_PRELOAD paths containing a slash, which ours always does.
 *
 * Scripts are checked through their #! interpreter. The shim itself must
 * load too: ld.so only warns and carries on when a preloaded library's own
 * dependencies (libunwind) are missing, so mapguard loads it
 * once in a throwaway child first. The run then double-checks that the shim
 * reported in from the program (run.c).
 */
#include "cli.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

typedef struct elfinfo {
    int elfclass;      /* ELFCLASS32 / ELFCLASS64 */
    unsigned machine;  /* e_machine */
    bool has_interp;
    bool is_elf;
} elfinfo;

static uint16_t rd16(const unsigned char *p, bool le)
{
    return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[1] | p[0] << 8);
}

static uint32_t rd32(const unsigned char *p, bool le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static uint64_t rd64(const unsigned char *p, bool le)
{
    uint64_t a = rd32(p, le), b = rd32(p + 4, le);
    return le ? (a | b << 32) : (b | a << 32);
}

/* Reads just the ELF and program headers; -1 with errno on I/O failure. */
static int read_elf(const char *path, elfinfo *info)
{
    memset(info, 0, sizeof *info);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char eh[64];
    ssize_t n = pread(fd, eh, sizeof eh, 0);
    if (n < 52 || memcmp(eh, ELFMAG, SELFMAG) != 0) {
        close(fd);
        return 0; /* not ELF */
    }
    info->is_elf = true;
    info->elfclass = eh[EI_CLASS];
    bool le = eh[EI_DATA] == ELFDATA2LSB;
    bool is64 = eh[EI_CLASS] == ELFCLASS64;
    if (is64 && n < 64) {
        close(fd);
        return 0;
    }
    info->machine = rd16(eh + 18, le);
    uint64_t phoff = is64 ? rd64(eh + 32, le) : rd32(eh + 28, le);
    unsigned phentsize = rd16(eh + (is64 ? 54 : 42), le);
    unsigned phnum = rd16(eh + (is64 ? 56 : 44), le);
    if (phentsize < (is64 ? 56u : 32u) || phnum == 0 || phnum > 4096) {
        close(fd);
        return 0;
    }
    unsigned char ph[64];
    for (unsigned i = 0; i < phnum; i++) {
        if (pread(fd, ph, phentsize > sizeof ph ? sizeof ph : phentsize,
                  (off_t)(phoff + (uint64_t)i * phentsize)) < (is64 ? 56 : 32))
            break;
        if (rd32(ph, le) == PT_INTERP) {
            info->has_interp = true;
            break;
        }
    }
    close(fd);
    return 0;
}

static const char *class_name(int c)
{
    return c == ELFCLASS64 ? "64-bit" : c == ELFCLASS32 ? "32-bit" : "unknown-class";
}

/* Would exec'ing this file run in secure-execution mode? */
static bool secure_exec(const char *path, char *why, size_t n)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    /* The kernel ignores set-id bits under no_new_privs and on nosuid mounts. */
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        return false;
    struct statvfs vfs;
    if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
        return false;
    if ((st.st_mode & S_ISUID) && st.st_uid != getuid()) {
        snprintf(why, n,
                 "it is setuid (owner uid %u, you are uid %u): the dynamic loader ignores "
                 "LD_PRELOAD in setuid programs",
                 (unsigned)st.st_uid, (unsigned)getuid());
        return true;
    }
    if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != getgid()) {
        snprintf(why, n,
                 "it is setgid (group %u, you are gid %u): the dynamic loader ignores "
                 "LD_PRELOAD in setgid programs",
                 (unsigned)st.st_gid, (unsigned)getgid());
        return true;
    }
    if (geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0) {
        snprintf(why, n,
                 "it has file capabilities: the dynamic loader ignores LD_PRELOAD in "
                 "programs that gain privileges");
        return true;
    }
    return false;
}

static int check_one(const char *prog, const elfinfo *shim, char *why, size_t n, int depth)
{
    elfinfo info;
    if (read_elf(prog, &info) != 0)
        return -1;
    if (!info.is_elf) {
        /* A script: the kernel runs its #! interpreter, which is what the
         * loader preloads into. */
        FILE *fp = fopen(prog, "r");
        if (!fp)
            return -1;
        char line[512] = "";
        char *ok = fgets(line, sizeof line, fp);
        fclose(fp);
        if (!ok || line[0] != '#' || line[1] != '!' || depth > 0)
            return 0; /* ld.so or a shell decides; nothing known to block us */
        char *p = line + 2;
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t\r\n");
        p[len] = '\0';
        if (!*p)
            return 0;
        char sub[512];
        int rc = check_one(p, shim, sub, sizeof sub, depth + 1);
        if (rc == 1)
            snprintf(why, n, "its interpreter %s cannot be watched: %s", p, sub);
        return rc < 0 ? 0 : rc;
    }
    if (!info.has_interp) {
        snprintf(why, n,
                 "it is statically linked (no ELF interpreter), so the dynamic loader never "
                 "runs and cannot preload the detector; link it dynamically (drop -static)");
        return 1;
    }
    if (shim->is_elf && (info.elfclass != shim->elfclass || info.machine != shim->machine)) {
        snprintf(why, n,
                 "it is a %s program for ELF machine %u but the detector is %s for machine %u; "
                 "the dynamic loader would ignore the preload",
                 class_name(info.elfclass), info.machine, class_name(shim->elfclass),
                 shim->machine);
        return 1;
    }
    if (secure_exec(prog, why, n))
        return 1;
    return 0;
}

int mg_check_preloadable(const char *prog, const char *shim, char *why, size_t n)
{
    elfinfo si;
    if (read_elf(shim, &si) != 0)
        memset(&si, 0, sizeof si);
    why[0] = '\0';
    return check_one(prog, &si, why, n, 0);
}

int mg_check_shim_loads(const char *shim, char *why, size_t n)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return 0; /* cannot check; the run's own checks remain */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return 0;
    }
    if (pid == 0) {
        /* The shim's constructor runs here; whatever it would say about
         * options is said again, where it belongs, in the real run. */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        /* A log_path inherited from the user would get this probe's hello. */
        unsetenv("MAPGUARD_OPTIONS");
        unsetenv("MAPGUARD_RUN_LOG");
        void *h = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            ssize_t w = write(p[1], e ? e : "dlopen failed", e ? strlen(e) : 13);
            (void)w;
            _exit(1);
        }
        _exit(0); /* no atexit handlers: the shim's exit summary stays unwritten */
    }
    close(p[1]);
    char buf[1024];
    ssize_t len = 0, r;
    while ((r = read(p[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += r;
    buf[len > 0 ? len : 0] = '\0';
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFSIGNALED(st))
        snprintf(why, n, "the detector %s crashed while loading (signal %d)", shim, WTERMSIG(st));
    else
        snprintf(why, n, "the detector cannot be loaded: %s", buf[0] ? buf : "unknown error");
    return 1;
}
