/*
 * ctl_args: the command table every ccipctl service is written as, the one
 * parser of its command lines, the --help and usage printer made from the
 * same table, and the dispatch from "ccipctl SERVICE GROUP VERB ..." to the
 * command's function.
 *
 * A service is a ctl_service holding a table of ctl_command lines. A line
 * names the command ("award confirm"), shows how it is called, lists its
 * arguments (ctl_arg: positionals and --options, each typed, maybe
 * required or repeated, and naming the request field its value fills),
 * says what is sent (the command type and request message) and what
 * comes back (the reply message and the printer for people). The parser
 * checks and converts every value first; ctl_send copies each into its
 * field and sends the request, so most commands are their line alone:
 *
 *   static const ctl_arg A_CONFIRM[] = {CTL_STR("AWARD", "award_id", CTL_ARG),
 *                                       CTL_YUAN("amount", "amount_fen", 0),
 *                                       CTL_STR("note", "note", 0), {0}};
 *
 *   {"award confirm", "AWARD [--amount YUAN] [--note TEXT]", A_CONFIRM,
 *    "funding.award.confirm.v1", Q(confirm_award), R(award), s_print_award},
 *
 * (Q and R stand for the request and reply descriptors in each file.) A
 * command that needs more than a value per field (values made of parts,
 * files, a default, two round trips) ends its line with a function that
 * fills the rest of its request from the parsed arguments and ends with
 * ctl_send (ctl.h):
 *
 *   static int s_report_save(ctl_opts *o, ctl_args *a)
 *   {
 *       Ccip__Funding__SaveReportRequest rq = CCIP__FUNDING__SAVE_REPORT_REQUEST__INIT;
 *       rq.kind = CCIP__FUNDING__REPORT_KIND__INTERIM; // unless --kind says otherwise
 *       ... --line ITEM=YUAN into rq.lines ...
 *       return ctl_send(o, a, &rq.base);
 *   }
 *
 * Command lines: positionals and options in any order; "--name VALUE" or
 * "--name=VALUE"; a flag takes no value; "--" ends the options; "--help"
 * or "-h" anywhere prints the command's usage to stdout (exit 0). A value
 * given twice: the last one counts, unless the argument is repeated.
 * Problems are printed to stderr as one sentence naming the argument and
 * what it takes, then the command's usage (exit 2, CTL_USAGE).
 */
#ifndef CTL_ARGS_H
#define CTL_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

typedef struct ctl_opts ctl_opts;       /* ctl.h: the global options */
typedef struct ctl_args ctl_args;       /* one parsed command line (opaque) */
typedef struct ctl_command ctl_command; /* one line of a service's table */

/* ---- the arguments of a command ---------------------------------------------- */

/* What an argument's values are, checked and converted when parsed. */
typedef enum {
    CTL_T_STRING, /* taken as typed */
    CTL_T_INT,    /* a whole number from min to max */
    CTL_T_YUAN,   /* an amount in yuan with at most two decimals, kept in fen */
    CTL_T_TIME,   /* RFC 3339, or a date YYYY-MM-DD (UTC midnight), kept in UTC microseconds */
    CTL_T_ENUM,   /* a value of a protobuf-c enum by name: any case, '-' for '_', with or
                     without its prefix; never the zero value */
    CTL_T_FLAG,   /* an option without a value */
    CTL_T_LIST,   /* "a,b,c": its non-empty parts fill a repeated string field */
} ctl_type;

/* Flags of an argument. */
enum {
    CTL_ARG = 1,          /* a positional argument (in table order), required */
    CTL_ARG_OPTIONAL = 2, /* a positional argument that may be left out (after the required) */
    CTL_REQUIRED = 4,     /* an option that must be given */
    CTL_REPEATED = 8,     /* an option that may be given more than once: every value is kept */
};

typedef struct {
    const char *name;                     /* option: "amount" for --amount; positional: its
                                             name in the usage ("AWARD") */
    const char *field;                    /* the request field its value fills (repeated:
                                             every value; "details.uscc": a field of the
                                             message field details, made when not set), or
                                             NULL: the command's function reads it */
    ctl_type type;                        /* what its values are */
    unsigned flags;                       /* CTL_ARG, CTL_REQUIRED, ... */
    int64_t min, max;                     /* CTL_T_INT: the values accepted */
    const ProtobufCEnumDescriptor *enums; /* CTL_T_ENUM: the enum */
    const char *prefix;                   /* CTL_T_ENUM: a prefix people may leave out
                                             ("AWARD_" of AWARD_COMMITTED), or NULL */
} ctl_arg;

/* Table entries; a command's list ends with {0}. A string fills a string
 * field; a number, yuan, time or enum an integer or enum field (int32,
 * uint32, int64, uint64); a flag a bool. */
/* clang-format off */
#define CTL_STR(name, field, flags)          {(name), (field), CTL_T_STRING, (flags), 0, 0, NULL, NULL}
#define CTL_INT(name, field, lo, hi, flags)  {(name), (field), CTL_T_INT, (flags), (lo), (hi), NULL, NULL}
#define CTL_YUAN(name, field, flags)         {(name), (field), CTL_T_YUAN, (flags), 0, 0, NULL, NULL}
#define CTL_TIME(name, field, flags)         {(name), (field), CTL_T_TIME, (flags), 0, 0, NULL, NULL}
#define CTL_ENUM(name, field, d, pre, flags) {(name), (field), CTL_T_ENUM, (flags), 0, 0, (d), (pre)}
#define CTL_FLAG(name, field)                {(name), (field), CTL_T_FLAG, 0, 0, 0, NULL, NULL}
#define CTL_LIST(name, field, flags)         {(name), (field), CTL_T_LIST, (flags), 0, 0, NULL, NULL}
/* clang-format on */

/* ---- the table ------------------------------------------------------------------ */

/* Runs a parsed command: fills what the table cannot of its request and
 * sends it (ctl_send), or whatever else the command does. Returns the exit
 * code (ctl.h); CTL_USAGE after printing what is wrong makes the caller
 * print the usage too. */
typedef int (*ctl_run)(ctl_opts *o, ctl_args *a);

/* Prints a reply for people (--json prints it as JSON instead). a is the
 * command line, for options that change the output (--csv). */
typedef void (*ctl_printer)(const ProtobufCMessage *reply, ctl_args *a);

struct ctl_command {
    const char *words;    /* "award confirm", or one word ("summary") */
    const char *synopsis; /* the usage after the words: "AWARD [--amount YUAN]"; NULL: none.
                             One starting with a line break continues on the next line */
    const ctl_arg *args;  /* its positionals and options, ending with {0}; NULL: none */
    const char *type;     /* the command type ctl_send sends ("funding.award.confirm.v1") */
    const ProtobufCMessageDescriptor *request; /* the request message (the fields the args
                                                  name are its fields) */
    const ProtobufCMessageDescriptor *reply;   /* the reply message ctl_send decodes */
    ctl_printer print;                         /* how ctl_send prints the reply for people */
    ctl_run run;         /* NULL: an empty request filled from the args, sent with ctl_send;
                            else the function that runs the command */
    const char *who;     /* global options the usage shows first ("--role staff --actor
                            ID"), or NULL */
    const char *about;   /* lines --help prints after the usage line ("  closes ...\n"),
                            or NULL */
    const char *summary; /* its line in a column-style overview, or NULL */
};

/* One service of ccipctl ("ccipctl funding ..."). */
typedef struct {
    const char *name;            /* the word after "ccipctl" */
    const char *bus_name;        /* the service on the bus its commands go to; NULL: name
                                    ("case" sends to casefile) */
    const char *header;          /* the overview (--help) before its list of commands */
    const char *list_prefix;     /* NULL: the overview lists no commands; else each line
                                    starts with it ("  ccipctl funding ") and goes on with
                                    the command's words and synopsis, or, when group_width is
                                    set, with columns: first word, second word, summary */
    int group_width, verb_width; /* column widths of a column-style list */
    const char *footer;          /* the overview after the list, or NULL */
    const ctl_command *commands;
    size_t ncommands;
} ctl_service;

/* Runs "ccipctl <svc> ..." (argv[0] is the service's name): finds the
 * command its words name, parses the rest of argv against the command's
 * arguments and runs it. With no words, or "--help", "-h" or "help",
 * prints the overview; with a group's word alone, or it and "--help", the
 * group's part of it (stdout and exit 0 when asked for, else stderr and
 * exit 2). Returns the exit code.
 * It first checks the whole table, so that a wrong line fails any use of
 * its service (asserts, programmer's mistakes): a line without a function
 * has a type, request, reply and printer; every field an argument names is
 * a field of its line's request, of a type the argument fills. */
int ctl_service_run(ctl_opts *o, const ctl_service *svc, int argc, char **argv);

/* ---- a parsed command line ---------------------------------------------------------- */

/* Parses argv (what follows the command's words) against cmd->args.
 * Returns the arguments (free with ctl_args_destroy), or NULL with *code
 * CTL_OK after --help printed the usage to stdout, or CTL_USAGE after the
 * problem and the usage were printed to stderr. svc and cmd must outlive
 * the result; its strings point into argv. */
ctl_args *ctl_args_parse(const ctl_service *svc, const ctl_command *cmd, int argc, char **argv,
                         int *code);

/* Sends the command's request as the table fills it, as a line without a
 * function does: for functions that only check the arguments first.
 * Returns the exit code. */
int ctl_send_table(ctl_opts *o, ctl_args *a);

/* Sets every field of rq that an argument of the command names, and was
 * given, to its value: strings borrowed from argv, the arrays of repeated
 * fields in ctl_alloc memory. rq must be of the command's request type. */
void ctl_fill(ctl_args *a, ProtobufCMessage *rq);

/* Frees the arguments and all ctl_alloc gave out; safe on NULL and twice. */
void ctl_args_destroy(ctl_args **a);

/* The command and service a was parsed for. */
const ctl_command *ctl_args_command(const ctl_args *a);
const ctl_service *ctl_args_service(const ctl_args *a);

/* The accessors below take an argument's name as the table has it; a name
 * the command does not have is a programmer's mistake (assert). */

/* Whether the command has an argument of this name. */
int ctl_declares(const ctl_args *a, const char *name);

/* How many values the argument was given (0: not given). */
int ctl_given(const ctl_args *a, const char *name);

/* The (last) value as typed, or "" when not given. Borrowed from argv:
 * valid while a is; char * because protobuf-c requests take char *. */
char *ctl_str(const ctl_args *a, const char *name);

/* The same, or def when not given. */
char *ctl_str_or(const ctl_args *a, const char *name, const char *def);

/* The (last) value converted: a number, fen, microseconds or an enum value;
 * 0 when not given (a flag: 1 when given). */
int64_t ctl_int(const ctl_args *a, const char *name);

/* Value i (0 .. ctl_given - 1) of a repeated argument, as typed. */
char *ctl_str_at(const ctl_args *a, const char *name, int i);

/* Where the argument was last given on the command line (a larger number
 * is later), 0 when not given: for two options of which the later wins. */
int ctl_last(const ctl_args *a, const char *name);

/* n zeroed bytes that live as long as a, for what a request points to
 * (arrays of repeated fields, split copies). Never returns NULL: out of
 * memory ends ccipctl with CTL_LOCAL after saying so. */
void *ctl_alloc(ctl_args *a, size_t n);

/* n messages of type d, initialised, in ctl_alloc memory: the array of
 * pointers a repeated message field holds (cast it to its type). */
void *ctl_messages(ctl_args *a, const ProtobufCMessageDescriptor *d, size_t n);

/* A copy of text in ctl_alloc memory, split at every sep into an array of
 * its non-empty parts, at most max of them (the rest left out); *n gets
 * the count. */
char **ctl_split(ctl_args *a, const char *text, char sep, size_t max, size_t *n);

/* A copy of text in ctl_alloc memory, cut at its first sep (with last: at
 * its last): returns what precedes it and sets *rest to what follows it,
 * or returns the whole copy and sets *rest to NULL when sep is not in it. */
char *ctl_cut(ctl_args *a, const char *text, char sep, int last, char **rest);

/* Reads the whole file at path (at most max bytes; "-" is not special)
 * into ctl_alloc memory, with a NUL after it; *len gets its size. Returns
 * NULL after printing why. */
uint8_t *ctl_read_file(ctl_args *a, const char *path, size_t max, size_t *len);

/* Writes len bytes of data to the file at path (made or emptied), or to
 * standard output when path is "-". Returns 0, or -1 after printing why
 * (the file may then hold part of the data). */
int ctl_write_file(const char *path, const void *data, size_t len);

/* ---- values inside arguments ----------------------------------------------------- */

/* Prints "ccipctl: <what> must be <must>, got "<text>"" and returns -1:
 * the one way a value is refused. */
int ctl_wrong(const char *what, const char *must, const char *text);

/* The converters the parser uses, for values inside compound arguments
 * ("50:AGREEMENT_SIGNED:on-signing") too. Each returns 0 and sets *out, or
 * -1 after saying what the value must be (ctl_wrong). */
int ctl_parse_int(const char *what, const char *text, int64_t min, int64_t max, int64_t *out);
int ctl_parse_yuan(const char *what, const char *text, int64_t *fen);
int ctl_parse_time(const char *what, const char *text, int64_t *us);
int ctl_parse_enum(const char *what, const ProtobufCEnumDescriptor *d, const char *prefix,
                   const char *text, int *out);

#endif
