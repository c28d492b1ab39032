/*
 * ctl: what the ccipctl commands share: the global options, the connection
 * to the bus, sending a command and printing its reply (for people, or as
 * JSON with --json), and the exit codes.
 *
 * Every service's commands (cli/ctl_<svc>.c) are a table of one shape
 * (ctl_args.h): a line a command, naming its arguments (typed, and the
 * request field each fills), what it sends and what comes back. ctl_send
 * fills the request from the arguments, sends it, maps the answer to an
 * exit code and prints the reply with the command's printer, or as JSON
 * with --json. A command that needs more than the table (values made of
 * parts, files, a default, a second round trip) has a function that fills
 * the rest and ends with ctl_send; ctl_send_reply, ctl_request and
 * ctl_print are the parts of ctl_send for the commands that do something
 * else with a reply.
 */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>
#include <stdio.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_client.h"
#include "ccip_keys.h"
#include "ctl_args.h"

/* Exit codes that mean something to scripts. */
enum {
    CTL_OK = 0,          /* done */
    CTL_REFUSED = 1,     /* the service answered with an error */
    CTL_USAGE = 2,       /* bad command line */
    CTL_UNAVAILABLE = 3, /* no answer: bus or service down, timeout */
    CTL_LOCAL = 4,       /* a local problem: keys, files */
};

/* Each attempt's wait for a reply unless --timeout says otherwise; commands
 * that take longer (a rebuild, a verify) wait longer when it is unchanged. */
#define CTL_DEFAULT_TIMEOUT_MS 3000

struct ctl_opts {
    const char *config_file;               /* --config */
    char *command_endpoint;                /* bus ROUTER */
    char *subscribe_endpoint;              /* bus XPUB */
    char *key_file;                        /* own .key */
    char *server_key_file;                 /* bus .pub */
    const char *actor;                     /* --actor: who is asking */
    const char *role;                      /* --role: the role claimed (front-door keys only) */
    int json;                              /* --json */
    int timeout_ms;                        /* --timeout, else CTL_DEFAULT_TIMEOUT_MS */
    void *ctx;                             /* zmq context, made on first use */
    ccip_keypair keys;                     /* own key pair (ctl_load_keys) */
    char server_key[CCIP_KEY_Z85_LEN + 1]; /* the bus's public key (ctl_load_keys) */
};

/* ---- the bus ------------------------------------------------------------------ */

/* Loads ccipctl's key pair and the bus's public key into o. Returns 0, or
 * -1 after printing the reason to stderr. */
int ctl_load_keys(ctl_opts *o);

/* Loads the keys and makes a client for the bus. Returns NULL after
 * printing the reason to stderr. */
ccip_client *ctl_connect(ctl_opts *o);

/* Sends one command and prints a refusal (to stderr, or as a JSON object
 * with --json). Returns the reply (status OK; free with
 * ccip_envelope_free) or NULL with *exit_code set: CTL_REFUSED, or
 * CTL_UNAVAILABLE when nothing or an UNAVAILABLE / DEADLINE_EXCEEDED came
 * back. */
Ccip__Envelope *ctl_call(ctl_opts *o, ccip_client *c, const char *service, const char *type,
                         const void *payload, size_t len, int *exit_code);

/* ---- commands -------------------------------------------------------------------- */

/* Sends rq to `service` as `type` on *c (connected first when NULL; the
 * caller destroys it) and decodes the reply as reply_desc into *reply
 * (free with protobuf_c_message_free_unpacked). Returns CTL_OK, or the
 * exit code after printing why (*reply NULL). */
int ctl_request(ctl_opts *o, ccip_client **c, const char *service, const char *type,
                const ProtobufCMessage *rq, const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply);

/* Prints a reply: as one line of JSON with --json, else with print. */
void ctl_print(const ctl_opts *o, ctl_args *a, const ProtobufCMessage *reply, ctl_printer print);

/* Fills rq (of the command's request type) from the arguments
 * (ctl_fill), sends it as the command a was parsed for (its type, to its
 * service) and decodes the reply as the command's reply message into
 * *reply (free with protobuf_c_message_free_unpacked). Returns CTL_OK, or
 * the exit code after printing why (*reply NULL). */
int ctl_send_reply(ctl_opts *o, ctl_args *a, ProtobufCMessage *rq, ProtobufCMessage **reply);

/* ctl_send_reply, then prints the reply with the command's printer
 * (ctl_print) and frees it: the end of every command's function. Returns
 * the exit code. */
int ctl_send(ctl_opts *o, ctl_args *a, ProtobufCMessage *rq);

/* ---- output ------------------------------------------------------------------------ */

/* Prints any protobuf-c message as one JSON object, driven by its
 * descriptor: enums by name, bytes as base64, 64-bit numbers exact, only
 * the member of a oneof that is set. */
void ctl_json_message(FILE *f, const ProtobufCMessage *m);

/* Prints the value of field fd at p (one element of a repeated field) as
 * JSON. */
void ctl_json_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p);

/* The printer of every reply that has no table of its own (a ctl_printer):
 * one "field: value" line a field, nested messages indented two spaces a
 * level, empty fields left out. Values as people read them: a time
 * (field ending _us) in Beijing time (ctl_beijing_text), money (_fen) as
 * "1234.56 yuan", hundredths (_centi) as "70.25", enums by name, yes for
 * true, a text of several lines as an indented block, a list of words on
 * one line ("roles: staff, admin") and a list of messages indexed
 * ("reviews[0]:"). --json prints the exact values instead. */
void ctl_print_fields(const ProtobufCMessage *reply, ctl_args *a);

/* Prints s as a JSON string literal (NULL as ""). */
void ctl_json_string(FILE *f, const char *s);

/* Prints `before` as it is (the JSON around a value: "{\"id\":",
 * ",\"type\":") and then s as a JSON string literal. */
void ctl_json_field(FILE *f, const char *before, const char *s);

/* Prints s as a CSV field to stdout: quoted when it holds a comma, a quote
 * or a line break (NULL as ""). */
void ctl_csv_field(const char *s);

/* Bytes one value of field fd takes (an element of its array when
 * repeated). */
size_t ctl_field_size(const ProtobufCFieldDescriptor *fd);

/* How many values field fd of m holds: its count when repeated, else 1. */
size_t ctl_field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd);

/* Value k (< ctl_field_count) of field fd of m. */
const void *ctl_field_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                            size_t k);

/* The name of enum value v, or "?" when d has none. */
const char *ctl_enum_name(const ProtobufCEnumDescriptor *d, int v);

/* Writes fen as yuan ("1234.56") into buf (CCIP_FEN_STRLEN + 1 bytes) and
 * returns buf. */
const char *ctl_yuan_text(int64_t fen, char *buf, size_t len);

/* Writes a time for people into buf (CCIP_TIME_STRLEN + 1 bytes) and
 * returns buf: "-" for 0, else RFC 3339 in UTC with the microseconds only
 * when they are not zero, or never with whole_seconds. */
const char *ctl_time_text(int64_t us, int whole_seconds, char *buf, size_t len);

/* Characters of ctl_beijing_text's "2027-06-30 23:59 Beijing", without the NUL. */
#define CTL_BEIJING_STRLEN 24

/* Writes an instant as people here read it, in Beijing time (UTC+8 all
 * year, no daylight saving) to the minute: "2027-06-30 23:59 Beijing", or
 * "-" for 0, into buf (CTL_BEIJING_STRLEN + 1 bytes) and returns buf. The
 * commands people read (followup, case) print times so; --json keeps UTC
 * microseconds. */
const char *ctl_beijing_text(int64_t us, char *buf, size_t len);

/* Prints an event (table line or JSON object per line). */
void ctl_print_event(const ctl_opts *o, const char *topic, const Ccip__Envelope *ev);

/* ---- the services --------------------------------------------------------------------- */

/* ccipctl audit verify [SERVICE]: every event chain recomputed from
 * position 1 (cli/ctl_audit.c). */
int ctl_audit(ctl_opts *o, int argc, char **argv);

/* ccipctl case show | search | dossier: one case across every service
 * (cli/ctl_case.c). */
int ctl_case(ctl_opts *o, int argc, char **argv);

/* ccipctl events tail | replay (cli/ctl_events.c). */
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

/* ccipctl followup ...: entrusted tasks, key projects, boards, the sweep and
 * the digest (cli/ctl_followup.c). */
int ctl_followup(ctl_opts *o, int argc, char **argv);

/* ccipctl stats ...: quarterly reports, approvals, completeness, analysis,
 * event-derived indicators, releases (cli/ctl_stats.c). */
int ctl_stats(ctl_opts *o, int argc, char **argv);

/* ccipctl notify ...: inboxes, preferences, deliveries (cli/ctl_notify.c). */
int ctl_notify(ctl_opts *o, int argc, char **argv);
/* ccipctl admin consumer status | reset: a service's consumers, and an
 * operator's reset of a cursor (cli/ctl_admin.c). */
int ctl_admin(ctl_opts *o, int argc, char **argv);
/* ccipctl gateway ...: accounts, bindings, invitations, password resets
 * (cli/ctl_gateway.c). */
int ctl_gateway(ctl_opts *o, int argc, char **argv);

#endif
