/* gateway: the front door for people (accounts, sessions, the HTTP API). */
#include "gateway.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&gateway_def, argc, argv);
}
