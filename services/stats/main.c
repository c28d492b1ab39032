/* stats: quarterly monitoring of the designated clusters, event-derived indicators, releases. */
#include "stats.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&stats_def, argc, argv);
}
