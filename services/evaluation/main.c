/* evaluation: investigations, expert reviews, the office's decisions, designations. */
#include "evaluation.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&evaluation_def, argc, argv);
}
