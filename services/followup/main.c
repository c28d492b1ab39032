/* followup: entrusted tasks and key projects. */
#include "followup.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&followup_def, argc, argv);
}
