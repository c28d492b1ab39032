/* probeb: the consuming probe service (test fixture). */
#include "probe.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&probeb_def, argc, argv);
}
