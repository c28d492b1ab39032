#include "notify_kinds.h"

#include <string.h>

#define S_KIND(code, email, sms, notice) {#code, email, sms, notice},
static const notify_kind s_kinds[] = {NOTIFY_KINDS(S_KIND)};
#define S_NKINDS (sizeof s_kinds / sizeof s_kinds[0])

const notify_kind *notify_kind_find(const char *code)
{
    for (size_t i = 0; code && i < S_NKINDS; i++)
        if (strcmp(s_kinds[i].code, code) == 0)
            return &s_kinds[i];
    return NULL;
}

size_t notify_kind_count(void)
{
    return S_NKINDS;
}

const notify_kind *notify_kind_at(size_t i)
{
    return i < S_NKINDS ? &s_kinds[i] : NULL;
}
