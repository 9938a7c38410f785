/*
 * mkdata - write the benchmark's files: pseudo-random, incompressible,
 * reproducible (fixed seeds), fast to make.
 *
 *   mkdata file PATH SIZE SEED
 *       one file of SIZE bytes
 *   mkdata set DIR COUNT MIN MAX SEED
 *       COUNT files DIR/00001.bin ... with sizes log-uniform between MIN and
 *       MAX bytes (size = MIN * (MAX/MIN)^u, u uniform in [0, 1]); prints
 *       "NAME SIZE" per file, in order, on standard output
 *
 * The bytes come from a 4 MiB block made by splitmix64, read at an offset
 * that changes every 64 KiB and per file, so no two files (and no two
 * parts of the 1 GiB file) share a page's worth of content at the same
 * place. They are real data blocks on disk, never sparse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (4u << 20)
#define PIECE (64u << 10)

static unsigned char *block;

static uint64_t
splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
fill_block(uint64_t seed)
{
    for (size_t i = 0; i < BLOCK; i += 8) {
        uint64_t v = splitmix(&seed);
        memcpy(block + i, &v, 8);
    }
}

static int
write_file(const char *path, long long size, uint64_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
        return -1;
    }
    long long done = 0;
    while (done < size) {
        size_t n = size - done < PIECE ? (size_t)(size - done) : PIECE;
        size_t off = (size_t)(splitmix(&seed) % (BLOCK - PIECE));
        ssize_t w = write(fd, block + off, n);
        if (w <= 0) {
            fprintf(stderr, "mkdata: %s: %s\n", path, w < 0 ? strerror(errno) : "short write");
            close(fd);
            return -1;
        }
        done += w;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    block = malloc(BLOCK);
    if (!block)
        return 2;
    if (argc == 5 && strcmp(argv[1], "file") == 0) {
        long long size = atoll(argv[3]);
        uint64_t seed = strtoull(argv[4], NULL, 10);
        if (size < 0)
            goto usage;
        fill_block(seed);
        return write_file(argv[2], size, seed) ? 1 : 0;
    }
    if (argc == 7 && strcmp(argv[1], "set") == 0) {
        int count = atoi(argv[3]);
        double lo = atof(argv[4]), hi = atof(argv[5]);
        uint64_t seed = strtoull(argv[6], NULL, 10), rs = seed ^ 0x5eed;
        char path[4096];
        if (count < 1 || count > 99999 || lo < 1 || hi < lo)
            goto usage;
        fill_block(seed);
        for (int i = 1; i <= count; i++) {
            double u = (double)(splitmix(&rs) >> 11) / 9007199254740992.0; /* [0, 1) */
            long long size = llround(lo * pow(hi / lo, u));
            snprintf(path, sizeof(path), "%s/%05d.bin", argv[2], i);
            if (write_file(path, size, seed * 100003u + (uint64_t)i) != 0)
                return 1;
            printf("%05d.bin %lld\n", i, size);
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
usage:
    fprintf(stderr, "usage: mkdata file PATH SIZE SEED | mkdata set DIR COUNT MIN MAX SEED\n");
    return 2;
}
