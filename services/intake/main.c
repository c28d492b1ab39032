/* intake: calls, the applicant register, applications and their documents. */
#include "intake.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&intake_def, argc, argv);
}
