/*
 * ccipctl: the operator's and staff's command-line client of ccip.
 *
 *   ccipctl [global options] <command> [arguments]
 *
 * Every command has --help. Output is a table for people, or one JSON
 * document (--json) for scripts. Exit codes: see ctl.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_config.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ctl.h"

typedef struct {
    char *command_endpoint;
    char *subscribe_endpoint;
    char *key_file;
    char *server_key_file;
} s_file_config;

static const ccip_config_field s_fields[] = {
    {"bus.command_endpoint", CCIP_CFG_STRING, offsetof(s_file_config, command_endpoint), 6, 255,
     "tcp://127.0.0.1:5555", "CCIP_BUS_COMMANDS", NULL},
    {"bus.subscribe_endpoint", CCIP_CFG_STRING, offsetof(s_file_config, subscribe_endpoint), 6, 255,
     "tcp://127.0.0.1:5557", "CCIP_BUS_SUBSCRIBE", NULL},
    {"curve.key_file", CCIP_CFG_STRING, offsetof(s_file_config, key_file), 0, 1023, "",
     "CCIP_CURVE_KEY_FILE", "the path of ccipctl's .key file"},
    {"curve.server_key_file", CCIP_CFG_STRING, offsetof(s_file_config, server_key_file), 0, 1023,
     "", "CCIP_CURVE_SERVER_KEY_FILE", "the path of the bus's .pub file"},
};
#define NFIELDS (sizeof s_fields / sizeof s_fields[0])

static void s_usage(FILE *f)
{
    fputs("usage: ccipctl [--config FILE] [--json] [--timeout MS] [--actor ID --role ROLE]\n"
          "               COMMAND [ARGS]\n\n"
          "commands:\n"
          "  keygen NAME [--dir DIR] KIND             make a CURVE key pair bound to what it\n"
          "                                           may be (keygen --help lists the kinds)\n"
          "  ping SERVICE                             ask a service (or \"bus\") if it is alive\n"
          "  audit verify [SERVICE] [--via-replay]    recompute the event chains from position 1\n"
          "  case show|search|dossier ...             one case across every service\n"
          "  events tail PREFIX                       follow live events, decoded\n"
          "  events replay SERVICE --from N           print a service's events from position N\n"
          "  funding GROUP COMMAND ...                special funds: budgets, awards, payments\n"
          "  evaluation GROUP COMMAND ...             registers, cases, assignments, reviews,\n"
          "                                           the office's decisions, designations\n"
          "  intake GROUP COMMAND ...                 calls, organisations, applications\n"
          "  ip COMMAND ...                           IP registry: register, verify receipts,\n"
          "                                           audit the chain, trade, disputes\n"
          "  stats COMMAND ...                        quarterly reports, completeness, analysis,\n"
          "                                           indicators from events, releases\n"
          "  followup GROUP COMMAND ...               entrusted tasks and key projects: "
          "deadlines,\n"
          "                                           reports, escalations, boards\n"
          "  notify GROUP COMMAND ...                 inboxes, preferences, deliveries\n"
          "  admin consumer status|reset ...          a service's consumers; reset a cursor\n"
          "                                           after a restore (docs/OPERATIONS.md)\n"
          "  gateway COMMAND ...                      accounts, role bindings, invitations,\n"
          "                                           password resets of the web front door\n\n"
          "configuration (file given by --config or CCIPCTL_CONFIG, or environment):\n"
          "  bus.command_endpoint   CCIP_BUS_COMMANDS            default tcp://127.0.0.1:5555\n"
          "  bus.subscribe_endpoint CCIP_BUS_SUBSCRIBE           default tcp://127.0.0.1:5557\n"
          "  curve.key_file         CCIP_CURVE_KEY_FILE          ccipctl's key pair\n"
          "  curve.server_key_file  CCIP_CURVE_SERVER_KEY_FILE   the bus's public key\n\n"
          "exit codes: 0 done, 1 refused by the service, 2 usage, 3 no answer, 4 local problem\n",
          f);
}

static int s_keygen(int argc, char **argv)
{
    static const char usage[] =
        "usage: ccipctl keygen NAME [--dir DIR] KIND\n"
        "  writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub; copy the .pub into the\n"
        "  bus's keys directory to let NAME in. The .pub says what the key may be:\n"
        "    --service SERVICE                  a replica of SERVICE: registers as SERVICE\n"
        "                                       only, publishes only SERVICE.* events\n"
        "    --front-door --as PERSON --roles ROLE[,ROLE]\n"
        "                                       one person's ccipctl: acts as PERSON in one\n"
        "                                       of ROLES (the first unless --role says)\n"
        "    --front-door --any-person          a front door that authenticates people\n"
        "                                       itself (the web gateway)\n"
        "    --admin                            operations: event replay and tail, logged\n"
        "    --bus                              the bus's own pair (its .pub goes to the\n"
        "                                       clients, never into the keys directory)\n";
    const char *dir = ".", *roles = NULL;
    ccip_key_binding b;
    memset(&b, 0, sizeof b);
    int front_door = 0, kinds = 0;
    char err[512];
    static const struct option longs[] = {
        {"dir", required_argument, NULL, 'd'},   {"service", required_argument, NULL, 's'},
        {"front-door", no_argument, NULL, 'f'},  {"as", required_argument, NULL, 'p'},
        {"roles", required_argument, NULL, 'r'}, {"any-person", no_argument, NULL, 'y'},
        {"admin", no_argument, NULL, 'a'},       {"bus", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    int c;
    optind = 0; /* 0 makes GNU getopt start afresh for the subcommand */
    while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 's':
            b.kind = CCIP_KEY_SERVICE;
            snprintf(b.service, sizeof b.service, "%.*s", (int)sizeof b.service - 1, optarg);
            if (strlen(optarg) >= sizeof b.service)
                b.service[0] = '\0'; /* too long: the check below names the rule */
            kinds++;
            break;
        case 'f':
            b.kind = CCIP_KEY_FRONT_DOOR;
            front_door = 1;
            kinds++;
            break;
        case 'p':
            if (strlen(optarg) >= sizeof b.person) {
                fprintf(stderr, "ccipctl: --as: a person is at most %zu characters\n",
                        sizeof b.person - 1);
                return CTL_USAGE;
            }
            snprintf(b.person, sizeof b.person, "%s", optarg);
            break;
        case 'r':
            roles = optarg;
            break;
        case 'y':
            b.any_person = 1;
            break;
        case 'a':
            b.kind = CCIP_KEY_ADMIN;
            kinds++;
            break;
        case 'b':
            b.kind = CCIP_KEY_BUS;
            kinds++;
            break;
        default:
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? CTL_OK : CTL_USAGE;
        }
    }
    if (optind != argc - 1 || kinds != 1) {
        fputs(usage, stderr);
        if (kinds != 1)
            fputs("ccipctl: say what the key is: exactly one of --service, --front-door, "
                  "--admin, --bus\n",
                  stderr);
        return CTL_USAGE;
    }
    if (!front_door && (b.person[0] || roles || b.any_person)) {
        fputs("ccipctl: --as, --roles and --any-person describe a --front-door key\n", stderr);
        return CTL_USAGE;
    }
    if (front_door && b.any_person == (b.person[0] != '\0')) {
        fputs("ccipctl: a --front-door key is for one person (--as PERSON --roles ROLE[,ROLE]) "
              "or for any person (--any-person)\n",
              stderr);
        return CTL_USAGE;
    }
    if (roles && ccip_key_roles_parse(&b, roles, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: --roles: %s\n", err);
        return CTL_USAGE;
    }
    if (ccip_key_binding_check(&b, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_USAGE;
    }
    ccip_keypair kp;
    if (ccip_keypair_generate(&kp) < 0) {
        fprintf(stderr, "ccipctl: could not generate a key pair: libzmq lacks CURVE\n");
        return CTL_LOCAL;
    }
    if (ccip_keypair_save(dir, argv[optind], &kp, &b, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    char what[CCIP_KEY_PERSON_MAX + 64];
    if (b.kind == CCIP_KEY_SERVICE)
        snprintf(what, sizeof what, "service %s", b.service);
    else if (b.kind == CCIP_KEY_FRONT_DOOR && b.any_person)
        snprintf(what, sizeof what, "front door for any person");
    else if (b.kind == CCIP_KEY_FRONT_DOOR)
        snprintf(what, sizeof what, "front door of %s", b.person);
    else
        snprintf(what, sizeof what, "%s", ccip_key_kind_name(b.kind));
    printf("wrote %s/%s.key and %s/%s.pub (%s)\n", dir, argv[optind], dir, argv[optind], what);
    return CTL_OK;
}

static int s_ping(ctl_opts *o, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: ccipctl ping SERVICE\n  asks one replica of SERVICE (or the bus itself: "
              "\"bus\") for its name, version and event stream head\n",
              argc == 2 ? stdout : stderr);
        return argc == 2 ? CTL_OK : CTL_USAGE;
    }
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    int64_t t0 = ccip_now_us();
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, argv[1], "ccip.ping.v1", NULL, 0, &code);
    int64_t rtt = ccip_now_us() - t0;
    if (reply) {
        char err[256];
        Ccip__PingReply *p = (Ccip__PingReply *)ccip_payload_unpack(
            &ccip__ping_reply__descriptor, reply->payload.data, reply->payload.len, 65536, err,
            sizeof err);
        if (!p) {
            fprintf(stderr, "ccipctl: %s\n", err);
            code = CTL_REFUSED;
        } else if (o->json) {
            ctl_json_field(stdout, "{\"service\":", p->service);
            ctl_json_field(stdout, ",\"instance\":", p->instance);
            ctl_json_field(stdout, ",\"version\":", p->version);
            printf(",\"outbox_head\":%llu,\"commands_run\":%llu,\"batches_committed\":%llu,"
                   "\"round_trip_us\":%lld}\n",
                   (unsigned long long)p->outbox_head, (unsigned long long)p->commands_run,
                   (unsigned long long)p->batches_committed, (long long)rtt);
        } else {
            printf("%s is alive: replica %s, version %s, event stream head %llu, "
                   "%llu commands in %llu batches, round trip %.1f ms\n",
                   p->service, p->instance, p->version, (unsigned long long)p->outbox_head,
                   (unsigned long long)p->commands_run, (unsigned long long)p->batches_committed,
                   (double)rtt / 1000.0);
            for (size_t i = 0; i < p->n_consumers; i++)
                if (p->consumers[i]->stalled)
                    printf("  STOPPED consuming %s: %s\n", p->consumers[i]->producer,
                           p->consumers[i]->stalled_reason);
        }
        if (p)
            protobuf_c_message_free_unpacked(&p->base, NULL);
        ccip_envelope_free(&reply);
    }
    ccip_client_destroy(&c);
    return code;
}

int main(int argc, char **argv)
{
    ctl_opts o = {.timeout_ms = CTL_DEFAULT_TIMEOUT_MS};
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"actor", required_argument, NULL, 'a'},
                                          {"role", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    o.config_file = getenv("CCIPCTL_CONFIG");
    while ((c = getopt_long(argc, argv, "+c:jt:a:r:h", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config_file = optarg;
            break;
        case 'j':
            o.json = 1;
            break;
        case 't':
            o.timeout_ms = atoi(optarg);
            break;
        case 'a':
            o.actor = optarg;
            break;
        case 'r':
            o.role = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return CTL_OK;
        default:
            s_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (optind >= argc || o.timeout_ms <= 0) {
        s_usage(stderr);
        return CTL_USAGE;
    }
    ccip_log_init("ccipctl", "ccipctl", CCIP_LOG_WARN);
    char **args = argv + optind;
    int nargs = argc - optind;
    if (strcmp(args[0], "keygen") == 0)
        return s_keygen(nargs, args);

    s_file_config fc = {0};
    char err[512];
    if (ccip_config_load(o.config_file, s_fields, NFIELDS, &fc, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    o.command_endpoint = fc.command_endpoint;
    o.subscribe_endpoint = fc.subscribe_endpoint;
    o.key_file = fc.key_file;
    o.server_key_file = fc.server_key_file;
    int rc;
    if (strcmp(args[0], "ping") == 0) {
        rc = s_ping(&o, nargs, args);
    } else if (strcmp(args[0], "audit") == 0) {
        rc = ctl_audit(&o, nargs, args);
    } else if (strcmp(args[0], "case") == 0) {
        rc = ctl_case(&o, nargs, args);
    } else if (strcmp(args[0], "events") == 0) {
        rc = ctl_events(&o, nargs, args);
    } else if (strcmp(args[0], "funding") == 0) {
        rc = ctl_funding(&o, nargs, args);
    } else if (strcmp(args[0], "evaluation") == 0) {
        rc = ctl_evaluation(&o, nargs, args);
    } else if (strcmp(args[0], "intake") == 0) {
        rc = ctl_intake(&o, nargs, args);
    } else if (strcmp(args[0], "ip") == 0) {
        rc = ctl_ip(&o, nargs, args);
    } else if (strcmp(args[0], "stats") == 0) {
        rc = ctl_stats(&o, nargs, args);
    } else if (strcmp(args[0], "followup") == 0) {
        rc = ctl_followup(&o, nargs, args);
    } else if (strcmp(args[0], "notify") == 0) {
        rc = ctl_notify(&o, nargs, args);
    } else if (strcmp(args[0], "admin") == 0) {
        rc = ctl_admin(&o, nargs, args);
    } else if (strcmp(args[0], "gateway") == 0) {
        rc = ctl_gateway(&o, nargs, args);
    } else {
        fprintf(stderr, "ccipctl: unknown command \"%s\"; see ccipctl --help\n", args[0]);
        rc = CTL_USAGE;
    }
    if (o.ctx)
        zmq_ctx_term(o.ctx);
    ccip_config_release(s_fields, NFIELDS, &fc);
    return rc;
}
