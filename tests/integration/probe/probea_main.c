/* probea: the producing probe service (test fixture). */
#include "probe.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&probea_def, argc, argv);
}
