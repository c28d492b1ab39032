#include "ccip_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ccip_test_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(buf, len, "%s/ccip-test-XXXXXX", base) >= len)
        return -1;
    return mkdtemp(buf) ? 0 : -1;
}

int ccip_test_write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
