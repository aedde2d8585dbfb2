// Linux calls that Swift's Glibc module leaves out: it is built without _GNU_SOURCE.

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

// sync_file_range(2): start writing a file's dirty pages back without waiting for them.
int sync_file_range(int fd, long offset, long nbytes, unsigned int flags);

#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WRITE 2
#endif

// prctl(PR_SET_PDEATHSIG): have the kernel send `signal` to this process when its parent
// exits (strictly: when the thread that started it does). prctl(2) is variadic, which Swift
// cannot call, hence this wrapper.
static inline int set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

// close_range(first, ~0, 0): closes every descriptor from `first` on (Linux 5.9). Called through
// syscall(2), which is variadic, so Swift cannot call it itself; -1 with ENOSYS on older kernels.
static inline int close_descriptors_from(unsigned int first) {
    return (int)syscall(SYS_close_range, first, ~0U, 0);
}

// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the spawned child closes every
// descriptor from `from` on before it runs, whatever the parent has open without close-on-exec
// (Foundation's `Pipe` makes its ends without it).
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// Line-buffers standard output, so each line shows at once even when it goes to a file or a
// pipe. Swift 6 refuses any use of C's `stdout` (a global variable), hence this wrapper.
static inline void line_buffer_standard_output(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

// open(folder, O_TMPFILE): a new file in `folder` with no name yet, so a process killed while
// writing it leaves nothing behind; -1 (EOPNOTSUPP, EISDIR) where the file system cannot.
// O_TMPFILE is __O_TMPFILE | O_DIRECTORY and needs _GNU_SOURCE: __O_TMPFILE's value is written
// out (the same on x86-64 and arm64), O_DIRECTORY taken from the headers (it differs).
static inline int open_unnamed_file(const char *folder) {
    return open(folder, 020000000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC, 0644);
}

// A new pseudo-terminal, unlocked: its master side's descriptor, and in `number` the N of
// its /dev/pts/N side. posix_openpt and friends need _XOPEN_SOURCE, and ioctl(2) is variadic,
// which Swift cannot call: hence this wrapper (for tests driving a program on a terminal).
static inline int open_pseudo_terminal(int *number) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0 || ioctl(master, TIOCGPTN, number) != 0) {
        close(master);
        return -1;
    }
    return master;
}
