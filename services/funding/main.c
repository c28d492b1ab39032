/* funding: the special funds (budgets, ledger, awards, tranches, inspection). */
#include "funding.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&funding_def, argc, argv);
}
