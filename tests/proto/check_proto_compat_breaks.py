#!/usr/bin/python3
"""tests/proto/check_proto_compat_breaks.py: scripts/check-proto-compat
fails when one of proto/README.md's rules is broken, and names the file,
the message and the field (issue 21 part 2: "a script compares the proto
files with the previous release's and fails on a removed or renumbered
field or a changed type").

A temporary git repository gets a copy of proto/ as its baseline commit,
with three additions the real protos lack so that every rule has something
to break: a reserved number and name in ccip.Envelope, a service with an
rpc in bus.proto, and two files outside proto/ that name a message (one by
protobuf-c's C name, one by its full name, as the gateway's tests do) and
the rpc. Then, for each break below, the work tree starts again from that
commit, one edit is made as a person might make it (the protos still
compile, so that it is the rule that fails, not protoc), and
check-proto-compat must exit 1 and print the expected words. The untouched
copy must pass first, or every break would "fail" for nothing; and the
changes the rules allow (a field with a new number, a new enum value, a
new message, a field removed with its number and name reserved, a message
nothing uses any more removed) must pass.

    check_proto_compat_breaks.py ROOT      (ctest: check_proto_compat_breaks)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(ROOT, "scripts", "check-proto-compat")
ENV = "proto/ccip/envelope.proto"
BUS = "proto/ccip/bus.proto"
INTAKE = "proto/ccip/intake.proto"
STATS = "proto/ccip/stats.proto"


def replace(text, old, new):
    assert old in text, f"no {old!r} to replace"
    return text.replace(old, new, 1)


def drop_message(text, name):
    """Removes `message NAME { ... }` (a top-level one: its closing brace
    is the first `}` at the start of a line)."""
    m = re.search(r"(?ms)^message " + re.escape(name) + r" \{\n.*?^\}\n", text)
    assert m, f"no message {name} to remove"
    return text[:m.start()] + text[m.end():]


# The baseline's additions (see the docstring).
BASE_EDITS = [
    (ENV, lambda t: replace(t, "  bytes hash = 18;", "  bytes hash = 18;\n"
                            "  reserved 30;\n  reserved \"legacy_note\";")),
    (BUS, lambda t: t + "\nservice Probe {\n  rpc Ping(PingRequest) returns (PingReply);\n}\n"),
]
USERS = {
    "services/stub/stub.c": "/* a handler table */\n"
                            "static const void *d = &ccip__intake__call_closed__descriptor;\n",
    "tests/stub/test_stub.c": "/* the registry's test */\n"
                              "const char *n = \"ccip.intake.GetCallRequest\";\n"
                              "const char *rpc = \"/ccip.Probe/Ping\";\n",
}

# (what is broken, file, edit, words check-proto-compat must print)
BREAKS = [
    ("a field removed", ENV, lambda t: replace(t, "  string error = 15;", ""),
     "envelope.proto:", "message ccip.Envelope field 15 `error`", "removed",
     "reserved 15; reserved \"error\";"),
    ("a field removed, its name not reserved", ENV,
     lambda t: replace(t, "  string error = 15;", "  reserved 15;"),
     "message ccip.Envelope field 15 `error`", "removed", "add `reserved \"error\";`"),
    ("a field removed, its number not reserved", ENV,
     lambda t: replace(t, "  string error = 15;", "  reserved \"error\";"),
     "message ccip.Envelope field 15 `error`", "removed", "add `reserved 15;`"),
    ("a field renumbered", ENV, lambda t: replace(t, "string error = 15;", "string error = 19;"),
     "message ccip.Envelope field 15 `error` renumbered to 19"),
    ("a field renamed", ENV,
     lambda t: replace(t, "string error = 15;", "string error_text = 15;"),
     "message ccip.Envelope field 15 `error` renamed to `error_text`"),
    ("a field's type changed", ENV,
     lambda t: replace(t, "int64 deadline_us = 13;", "uint64 deadline_us = 13;"),
     "message ccip.Envelope field 13 `deadline_us`: type changed from int64 to uint64"),
    ("a field's message type changed", INTAKE,
     lambda t: replace(t, "message CallReply {\n  Call call = 1;",
                       "message CallReply {\n  Organisation call = 1;"),
     "message ccip.intake.CallReply field 1 `call`: type changed from ccip.intake.Call "
     "to ccip.intake.Organisation"),
    ("a field made repeated", ENV,
     lambda t: replace(t, "string actor_id = 11;", "repeated string actor_id = 11;"),
     "message ccip.Envelope field 11 `actor_id`: label changed from `singular` to `repeated`"),
    ("a field made proto3 optional", ENV,
     lambda t: replace(t, "string actor_role = 12;", "optional string actor_role = 12;"),
     "message ccip.Envelope field 12 `actor_role`: label changed from `singular` to `optional`"),
    ("a field moved out of its oneof", STATS,
     lambda t: replace(t, "  oneof value {\n    int64 number = 2;",
                       "  int64 number = 2;\n  oneof value {"),
     "message ccip.stats.Answer field 2 `number`: oneof changed from value to none"),
    ("a reserved number used again", ENV,
     lambda t: replace(t, "  reserved 30;", "  string note = 30;"),
     "message ccip.Envelope field 30 `note` uses number 30, reserved at"),
    ("a reserved number given up", ENV, lambda t: replace(t, "  reserved 30;\n", ""),
     "message ccip.Envelope: number 30 no longer reserved"),
    ("a reserved name used again", ENV,
     lambda t: replace(t, "  reserved \"legacy_note\";", "  string legacy_note = 31;"),
     "message ccip.Envelope field 31 `legacy_note` reuses the name `legacy_note`"),
    ("an enum value removed", ENV, lambda t: replace(t, "  INTERNAL = 13;\n", ""),
     "enum ccip.Status value INTERNAL = 13", "removed"),
    ("an enum value renumbered", ENV, lambda t: replace(t, "UNAVAILABLE = 14;", "UNAVAILABLE = 15;"),
     "enum ccip.Status value UNAVAILABLE renumbered from 14 to 15"),
    ("an enum value renamed", ENV, lambda t: replace(t, "INTERNAL = 13;", "INTERNAL_ERROR = 13;"),
     "enum ccip.Status value 13 renamed from INTERNAL to INTERNAL_ERROR"),
    ("a package changed", "proto/ccip/notify.proto",
     lambda t: replace(t, "package ccip.notify;", "package ccip.notice;"),
     "notify.proto: package changed from `ccip.notify` to `ccip.notice`"),
    ("a message removed that C code still uses", INTAKE, lambda t: drop_message(t, "CallClosed"),
     "message ccip.intake.CallClosed", "removed, but services/stub/stub.c:2 still refers to it"),
    ("a message removed that a test names", INTAKE, lambda t: drop_message(t, "GetCallRequest"),
     "message ccip.intake.GetCallRequest", "removed, but tests/stub/test_stub.c:2 still refers"),
    ("an rpc removed that is still called", BUS,
     lambda t: replace(t, "  rpc Ping(PingRequest) returns (PingReply);\n", ""),
     "service ccip.Probe rpc Ping", "removed, but tests/stub/test_stub.c:3 still refers"),
    ("an rpc's reply changed", BUS,
     lambda t: replace(t, "returns (PingReply);", "returns (ReplayReply);"),
     "service ccip.Probe rpc Ping: changed from (ccip.PingRequest) -> (ccip.PingReply) to "
     "(ccip.PingRequest) -> (ccip.ReplayReply)"),
]

# Changes the rules allow: each must pass.
ALLOWED = [
    ("a field with a new number", ENV,
     lambda t: replace(t, "  bytes hash = 18;", "  bytes hash = 18;\n  string note = 19;")),
    ("a field removed with its number and name reserved", ENV,
     lambda t: replace(t, "  string error = 15;", "  reserved 15;\n  reserved \"error\";")),
    ("an enum value added", ENV, lambda t: replace(t, "UNAUTHENTICATED = 16;",
                                                   "UNAUTHENTICATED = 16;\n  ABORTED = 10;")),
    ("a message added", INTAKE, lambda t: t + "\nmessage CallReopened {\n  string call_id = 1;\n}\n"),
    ("a message nothing uses removed", INTAKE, lambda t: drop_message(t, "CloseDueReply")),
    ("comments and layout changed", ENV, lambda t: t.replace("  ", "    ").replace(
        "// The one envelope", "// Changed wording.\n// The one envelope")),
]


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def edit(repo, rel, fn):
    path = os.path.join(repo, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(fn(text))


def run(repo):
    p = subprocess.run([CHECK, "-C", repo, "HEAD"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="ccip-proto-compat-")
    try:
        repo = os.path.join(tmp, "repo")
        shutil.copytree(os.path.join(ROOT, "proto"), os.path.join(repo, "proto"))
        for rel, fn in BASE_EDITS:
            edit(repo, rel, fn)
        for rel, text in USERS.items():
            os.makedirs(os.path.dirname(os.path.join(repo, rel)), exist_ok=True)
            with open(os.path.join(repo, rel), "w", encoding="utf-8") as f:
                f.write(text)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q",
            "-m", "baseline")

        rc, out = run(repo)
        if rc != 0:
            print(f"FAIL: the untouched copy does not pass (exit {rc}):\n{out}")
            return 1
        print("ok   the untouched copy passes")

        failed = 0
        refused = 0
        for what, rel, fn in ALLOWED:
            git(repo, "checkout", "-q", "--", ".")
            edit(repo, rel, fn)
            rc, out = run(repo)
            if rc != 0:
                print(f"FAIL: {what} is allowed, but check-proto-compat exited {rc}:\n{out}")
                refused += 1
            else:
                print(f"ok   {what}: passes")
        for what, rel, fn, *words in BREAKS:
            git(repo, "checkout", "-q", "--", ".")
            edit(repo, rel, fn)
            rc, out = run(repo)
            missing = [w for w in words if w not in out]
            if rc != 1 or missing:
                print(f"FAIL: {what}: exit {rc} (want 1), missing {missing}:\n{out}")
                failed += 1
            else:
                line = next(x for x in out.splitlines() if words[0] in x)
                print(f"ok   {what}: {line}")
        print(f"check_proto_compat_breaks: {len(BREAKS) - failed} of {len(BREAKS)} breaks caught, "
              f"{len(ALLOWED) - refused} of {len(ALLOWED)} allowed changes passed")
        return 1 if failed or refused else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
