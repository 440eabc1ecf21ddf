// Floors of FLV -> FLV on Linux: what reading an FLV's tag headers and writing its bytes cost with
// no media server around them, one way per mode. Built and run by flv-copy-floors.sh.
//   cfr           copy_file_range of the whole file (what coreutils' `cat` does)
//   mmap-cfr      tag headers walked through a mapping (pages dropped behind), then one copy_file_range
//   pread-cfr     1 MiB pread blocks (each starting at the first torn tag), a copy_file_range per block
//   pread-write   the same blocks, each written from memory with write()
//   walk-mmap / walk-pread   only the walk, no output
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 20)
#define FIRST_TAG 13 // a 9-byte FLV header and the first previous-tag-size

static unsigned long checksum;

// Walks the whole tags in p[0..len): reads each header and the first bytes of its body, as a
// reader building frames does. Returns the bytes of whole tags.
static size_t walk(const unsigned char *p, size_t len) {
    size_t at = 0;
    while (at + 11 + 5 <= len) {
        size_t body = (size_t)p[at + 1] << 16 | p[at + 2] << 8 | p[at + 3];
        size_t unit = 11 + body + 4;
        if (at + unit > len) break;
        checksum += p[at] + p[at + 11] + p[at + 12] + p[at + 15] + p[at + unit - 1];
        at += unit;
    }
    return at;
}

static void copy_range(int in, int out, off_t offset, size_t len) {
    loff_t at = offset;
    while (len > 0) {
        ssize_t n = copy_file_range(in, &at, out, NULL, len, 0);
        if (n <= 0) { perror("copy_file_range"); exit(1); }
        len -= (size_t)n;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s MODE IN.flv OUT\n", argv[0]); return 2; }
    const char *mode = argv[1];
    int in = open(argv[2], O_RDONLY);
    struct stat st;
    if (in < 0 || fstat(in, &st) != 0) { perror(argv[2]); return 1; }
    size_t len = (size_t)st.st_size;
    int out = strncmp(mode, "walk", 4) ? open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    if (!strcmp(mode, "cfr")) {
        copy_range(in, out, 0, len);
    } else if (!strcmp(mode, "mmap-cfr") || !strcmp(mode, "walk-mmap")) {
        unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, in, 0);
        if (p == MAP_FAILED) { perror("mmap"); return 1; }
        madvise(p, len, MADV_SEQUENTIAL);
        size_t at = FIRST_TAG, released = 0;
        while (at < len) {
            size_t n = walk(p + at, len - at < BLOCK ? len - at : BLOCK);
            if (n == 0) n = walk(p + at, len - at); // a tag larger than a block, or the end
            if (n == 0) break;
            at += n;
            if (at > 2 * BLOCK && at - 2 * BLOCK > released + BLOCK) {
                released = (at - 2 * BLOCK) & ~(size_t)4095;
                madvise(p, released, MADV_DONTNEED);
            }
        }
        if (out >= 0) copy_range(in, out, 0, len);
        munmap(p, len);
    } else {
        unsigned char *block = malloc(BLOCK);
        off_t at = FIRST_TAG;
        for (;;) {
            ssize_t n = pread(in, block, BLOCK, at);
            if (n <= 0) break;
            size_t whole = walk(block, (size_t)n);
            if (whole == 0) break; // a tag larger than a block is not handled here
            if (!strcmp(mode, "pread-cfr")) copy_range(in, out, at, whole);
            else if (!strcmp(mode, "pread-write") && write(out, block, whole) != (ssize_t)whole) { perror("write"); return 1; }
            at += (off_t)whole;
        }
    }
    fprintf(stderr, "%s: checksum %lu\n", mode, checksum);
    return 0;
}
