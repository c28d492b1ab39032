/*
 * probe: two small services used only by the integration tests and the
 * benchmarks. probea produces events (command probea.emit.v1); probeb
 * consumes them into its `applied` table. They are built on ccip_service
 * exactly like the real services, so the tests exercise the real start-up,
 * command, relay and consumer paths.
 */
#ifndef PROBE_H
#define PROBE_H

#include "ccip_service.h"

extern const ccip_service_def probea_def;
extern const ccip_service_def probeb_def;

#endif
