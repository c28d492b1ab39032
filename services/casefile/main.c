/* casefile: one case followed across every service. */
#include "casefile.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&casefile_def, argc, argv);
}
