#include "ccip_test_service.h"

#include <stdlib.h>
#include <string.h>

struct ccip_service {
    ccip_service_config base; /* what ccip_service_config_get hands out */
    char *name;               /* what ccip_service_name hands out */
};

ccip_service *ccip_test_service_new(const char *name, const char *instance,
                                    int64_t max_message_bytes)
{
    ccip_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return NULL;
    svc->name = strdup(name);
    svc->base.instance = strdup(instance);
    svc->base.max_message_bytes = max_message_bytes;
    if (!svc->name || !svc->base.instance)
        ccip_test_service_destroy(&svc);
    return svc;
}

void ccip_test_service_destroy(ccip_service **svc)
{
    if (!svc || !*svc)
        return;
    free((*svc)->name);
    free((*svc)->base.instance);
    free(*svc);
    *svc = NULL;
}

const void *ccip_service_config_get(const ccip_service *svc)
{
    return &svc->base;
}

const char *ccip_service_name(const ccip_service *svc)
{
    return svc->name;
}
