/* notify: one inbox per person, and e-mail and SMS that arrive exactly once. */
#include "notify.h"

int main(int argc, char **argv)
{
    return ccip_service_main(&notify_def, argc, argv);
}
