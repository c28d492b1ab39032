#!/usr/bin/env python3
"""The same-SQL baselines of scripts/bench (tests/bench/pgbench/*.sql) run
the statements ccip runs, word for word, so that they cannot drift from the
services' code.

Every SQL command of a script is one of:
  - preceded by a line "-- ccip_db_stmt NAME": the text of the C statement
    `static const ccip_db_stmt S_... = {"NAME", "..." ...}` in common/ or
    services/, with pgbench variables ":xN" (letters, then the number) in
    place of its parameters $N. Compared after folding whitespace.
  - preceded by "-- ccip_sql FILE": a statement the C code sends as a plain
    string (BEGIN, COMMIT, SAVEPOINT ...): it must occur as a string literal
    in FILE (a path from the repository's root).
  - preceded by "-- bench_only WHY": what pgbench needs and ccip does not
    (the operation's fresh values, which the service makes in C): a SELECT
    that writes nothing.
Anything else fails the check, naming the script, the statement and what
differs.

Usage: check_pgbench_sql.py ROOT   (exit 0: every script matches)
"""
import pathlib
import re
import sys

STMT = re.compile(
    r'static\s+const\s+ccip_db_stmt\s+\w+\s*=\s*\{\s*"([^"]+)"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}',
    re.S)
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def fold(sql):
    return " ".join(sql.split())


def c_string(pieces):
    text = "".join(m.group(1) for m in LITERAL.finditer(pieces))
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def statements(root):
    found = {}
    for path in list((root / "common").glob("*.c")) + list((root / "services").glob("*/*.c")):
        for m in STMT.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m.group(1), (c_string(m.group(2)), path.relative_to(root)))
    return found


def commands(script):
    """(annotation, sql) for every SQL command: lines up to a ';' at a line's
    end; meta-command lines (backslash) end the command before them."""
    out, note, buf = [], None, []
    for line in script.splitlines():
        s = line.strip()
        if s.startswith("--"):
            if not buf:
                m = re.match(r"--\s*(ccip_db_stmt|ccip_sql|bench_only)\b\s*(.*)", s)
                if m:
                    note = (m.group(1), m.group(2).strip())
            continue
        if s.startswith("\\"):
            if buf:
                out.append((note, " ".join(buf)))
                note, buf = None, []
            continue
        if not s:
            continue
        buf.append(s)
        if s.endswith(";"):
            out.append((note, " ".join(buf)[:-1]))
            note, buf = None, []
    if buf:
        out.append((note, " ".join(buf)))
    return out


def check(root, script_path, known):
    problems = []
    only = 0
    for note, sql in commands(script_path.read_text(encoding="utf-8")):
        head = fold(sql)[:70]
        if note is None:
            problems.append(f"{script_path.name}: \"{head}...\" says neither which ccip statement "
                            "it is (-- ccip_db_stmt NAME / -- ccip_sql FILE) nor why only the "
                            "bench runs it (-- bench_only WHY)")
            continue
        kind, arg = note
        if kind == "bench_only":
            only += 1
            if not re.match(r"(?is)^\s*select\b", sql):
                problems.append(f"{script_path.name}: the bench-only statement \"{head}...\" "
                                "must be a SELECT (it may only make the operation's values)")
            continue
        if kind == "ccip_sql":
            lit = {fold(c_string('"' + m.group(1) + '"'))
                   for m in LITERAL.finditer((root / arg.split()[0]).read_text(encoding="utf-8"))
                   } if (root / arg.split()[0]).is_file() else set()
            if fold(sql) not in lit:
                problems.append(f"{script_path.name}: \"{fold(sql)}\" is not a string "
                                f"literal of {arg} (the service no longer sends it? update the "
                                "script from a log_statement=all capture)")
            continue
        if arg not in known:
            problems.append(f"{script_path.name}: no ccip_db_stmt named \"{arg}\" in common/ or "
                            "services/ (renamed or removed? update the script)")
            continue
        mine = re.sub(r"(?<![:\w]):[A-Za-z]+(\d+)\b", r"$\1", sql)
        want, where = known[arg]
        if fold(mine) != fold(want):
            a, b = fold(mine), fold(want)
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            problems.append(f"{script_path.name}: statement {arg} differs from {where} at "
                            f"character {i}:\n  script: ...{a[max(0, i - 30):i + 50]}\n"
                            f"  source: ...{b[max(0, i - 30):i + 50]}\n  (copy the statement "
                            "from the source again, its $N as :xN)")
    if only == len(commands(script_path.read_text(encoding="utf-8"))):
        problems.append(f"{script_path.name}: runs none of ccip's statements")
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    known = statements(root)
    scripts = sorted((root / "tests" / "bench" / "pgbench").glob("*.sql"))
    if not scripts:
        print("check_pgbench_sql: no scripts in tests/bench/pgbench", file=sys.stderr)
        return 1
    problems = []
    for s in scripts:
        problems += check(root, s, known)
    for p in problems:
        print("check_pgbench_sql: " + p, file=sys.stderr)
    if not problems:
        print(f"check_pgbench_sql: {len(scripts)} scripts run ccip's own statements")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
