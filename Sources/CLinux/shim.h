// Linux calls that Swift's Glibc module leaves out: it is built without _GNU_SOURCE.

// sync_file_range(2): start writing a file's dirty pages back without waiting for them.
int sync_file_range(int fd, long offset, long nbytes, unsigned int flags);

#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WRITE 2
#endif
