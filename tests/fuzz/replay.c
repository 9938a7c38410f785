/*
 * replay.c - a main for the libFuzzer harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput once over each file named, or each file in each
 * folder named (one level, sorted), so that ctest replays every corpus
 * in the ordinary and the sanitizer builds (any compiler). A failing
 * input aborts (the harnesses assert), and the last "replay:" line names
 * it. Exit 0 when every input ran, 1 when a file could not be read or
 * none was found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rbe");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    /* exactly the file's size, so that ASan sees a read past the end */
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    int rc = buf && fread(buf, 1, len, f) == len ? 0 : -1;
    fclose(f);
    if (rc == 0) {
        fprintf(stderr, "replay: %s\n", path);
        LLVMFuzzerTestOneInput(buf, len);
    } else {
        fprintf(stderr, "replay: %s: cannot read\n", path);
    }
    free(buf);
    return rc;
}

static int
skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
    int rc = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc |= run_file(argv[i]) != 0;
            n++;
            continue;
        }
        struct dirent **names;
        int k = scandir(argv[i], &names, skip_dot, alphasort);
        if (k < 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        for (int j = 0; j < k; j++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
            rc |= run_file(path) != 0;
            n++;
            free(names[j]);
        }
        free(names);
    }
    if (n == 0)
        rc = 1;
    fprintf(stderr, "replay: %d inputs%s\n", n, rc ? ", some unreadable" : "");
    return rc;
}
