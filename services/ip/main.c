/* ip: the registry and trading platform of intellectual property (ip.h). */
#include "ip.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&ip_def, argc, argv);
}
