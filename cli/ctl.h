/*
 * ctl: what the ccipctl subcommands share: options, the connection to the
 * bus and output in table or JSON form.
 */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>
#include <stdio.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_client.h"
#include "ccip_keys.h"

/* Exit codes that mean something to scripts. */
enum {
    CTL_OK = 0,          /* done */
    CTL_REFUSED = 1,     /* the service answered with an error */
    CTL_USAGE = 2,       /* bad command line */
    CTL_UNAVAILABLE = 3, /* no answer: bus or service down, timeout */
    CTL_LOCAL = 4,       /* a local problem: keys, files */
};

typedef struct {
    const char *config_file;  /* --config */
    char *command_endpoint;   /* bus ROUTER */
    char *subscribe_endpoint; /* bus XPUB */
    char *key_file;           /* own .key */
    char *server_key_file;    /* bus .pub */
    const char *actor;        /* --actor: who is asking */
    const char *role;         /* --role: the role claimed (front-door keys only) */
    int json;                 /* --json */
    int timeout_ms;           /* --timeout */
    void *ctx;                /* zmq context, made on first use */
    ccip_keypair keys;
    char server_key[CCIP_KEY_Z85_LEN + 1];
} ctl_opts;

/* Loads keys and makes a client for the bus. Returns NULL after printing
 * the reason to stderr. */
ccip_client *ctl_connect(ctl_opts *o);

/* Sends one command and prints a refusal. Returns the reply (status OK) or
 * NULL with *exit_code set. */
Ccip__Envelope *ctl_call(ctl_opts *o, ccip_client *c, const char *service, const char *type,
                         const void *payload, size_t len, int *exit_code);

/* Prints any protobuf-c message as one JSON object, driven by its
 * descriptor: enums by name, bytes as base64, 64-bit numbers exact. */
void ctl_json_message(FILE *f, const ProtobufCMessage *m);

/* Prints s as a JSON string literal. */
void ctl_json_string(FILE *f, const char *s);

/* Prints an event (table line or JSON object per line). */
void ctl_print_event(const ctl_opts *o, const char *topic, const Ccip__Envelope *ev);

int ctl_events(ctl_opts *o, int argc, char **argv);

/* ccipctl funding ...: programmes, budgets, awards, payments, reports, inspections,
 * the ledger (cli/ctl_funding.c). */
int ctl_funding(ctl_opts *o, int argc, char **argv);

/* ccipctl intake ...: calls, organisations, applications (cli/ctl_intake.c). */
int ctl_intake(ctl_opts *o, int argc, char **argv);

/* ccipctl evaluation ...: registers, score sheets, cases, assignments, reviews,
 * reports, decisions, designations, tasks (cli/ctl_evaluation.c). */
int ctl_evaluation(ctl_opts *o, int argc, char **argv);

/* ccipctl ip ...: the IP registry and trading platform (cli/ctl_ip.c). */
int ctl_ip(ctl_opts *o, int argc, char **argv);

/* ccipctl stats ...: quarterly reports, approvals, completeness, analysis,
 * event-derived indicators, releases (cli/ctl_stats.c). */
int ctl_stats(ctl_opts *o, int argc, char **argv);

/* ccipctl admin consumer status | reset: a service's consumers, and an
 * operator's reset of a cursor (cli/ctl_admin.c). */
int ctl_admin(ctl_opts *o, int argc, char **argv);

#endif
