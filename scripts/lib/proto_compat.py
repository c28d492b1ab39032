#!/usr/bin/python3
"""scripts/lib/proto_compat.py: proto/README.md's evolution rules, checked
mechanically between two versions of proto/ (scripts/check-proto-compat
calls it; read that script first).

The inputs are FileDescriptorSets written by protoc-c (--descriptor_set_out
--include_source_info), so protoc itself has parsed the .proto files:
comments, options, nested types, maps and oneofs need no parser of ours.
They are decoded here with a few lines of protobuf wire format against the
field numbers of google/protobuf/descriptor.proto, which protobuf promises
never to change; that spares a dependency on python3-protobuf.

    proto_compat.py --base BASE.pb --new NEW.pb --base-label REV
                    [--repo DIR] [--proto-dir proto]

Prints one line per broken rule, naming the file, the message (or enum,
service) and the field, what changed and the fix; exits 1 when there is
one, 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

# ---- protobuf wire format ---------------------------------------------------


def _varint(buf, i):
    shift = 0
    value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _signed32(v):
    """int32 fields are sign-extended to 64 bits on the wire."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def wire(buf):
    """[(field number, value)]: int for varints, bytes for everything
    length-delimited; fixed-width values are skipped (descriptor.proto's
    parts read here have none)."""
    out = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, kind = key >> 3, key & 7
        if kind == 0:
            v, i = _varint(buf, i)
        elif kind == 2:
            n, i = _varint(buf, i)
            v = bytes(buf[i:i + n])
            i += n
        elif kind == 1:
            i += 8
            continue
        elif kind == 5:
            i += 4
            continue
        else:
            raise ValueError(f"wire type {kind} in a descriptor set: not written by protoc")
        out.append((num, v))
    return out


def _one(fields, num, default=None):
    for n, v in fields:
        if n == num:
            return v
    return default


def _all(fields, num):
    return [v for n, v in fields if n == num]


def _text(fields, num):
    v = _one(fields, num, b"")
    return v.decode("utf-8") if isinstance(v, bytes) else ""


def _ints(fields, num):
    """A repeated int32, packed or not."""
    out = []
    for v in _all(fields, num):
        if isinstance(v, int):
            out.append(_signed32(v))
        else:
            i = 0
            while i < len(v):
                x, i = _varint(v, i)
                out.append(_signed32(x))
    return out


# ---- the schema of one version ----------------------------------------------

# FieldDescriptorProto.Type
TYPES = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64",
         7: "fixed32", 8: "bool", 9: "string", 10: "group", 11: "message", 12: "bytes",
         13: "uint32", 14: "enum", 15: "sfixed32", 16: "sfixed64", 17: "sint32",
         18: "sint64"}
LABELS = {1: "", 2: "required", 3: "repeated"}


class Field:
    def __init__(self, name, number, type_, label, oneof, line):
        self.name = name
        self.number = number
        self.type = type_      # "string", or a message's or enum's full name
        self.label = label     # "", "optional", "repeated", "required"
        self.oneof = oneof     # the real oneof it belongs to, or None
        self.line = line


class Message:
    def __init__(self, name, file, line):
        self.name = name       # full name, "ccip.intake.Call"
        self.file = file
        self.line = line
        self.fields = {}       # number -> Field
        self.reserved = []     # [(first, last)] inclusive
        self.reserved_names = set()

    def is_reserved(self, number):
        return any(a <= number <= b for a, b in self.reserved)


class Enum:
    def __init__(self, name, file, line):
        self.name = name
        self.file = file
        self.line = line
        self.values = {}       # name -> (number, line)
        self.reserved = []     # [(first, last)] inclusive
        self.reserved_names = set()

    def is_reserved(self, number):
        return any(a <= number <= b for a, b in self.reserved)


class Service:
    def __init__(self, name, file, line):
        self.name = name
        self.file = file
        self.line = line
        self.methods = {}      # name -> (input, output, client streams, server streams, line)


class Schema:
    """Every file, message, enum and service of one version of proto/."""

    def __init__(self, path):
        self.packages = {}     # file -> package
        self.messages = {}     # full name -> Message
        self.enums = {}
        self.services = {}
        with open(path, "rb") as f:
            for raw in _all(wire(f.read()), 1):
                self._file(wire(raw))

    def _file(self, fd):
        name = _text(fd, 1)
        pkg = _text(fd, 2)
        self.packages[name] = pkg
        lines = {}
        info = _one(fd, 9)
        if info:
            for loc in _all(wire(info), 1):
                loc = wire(loc)
                span = _ints(loc, 2)
                if span:
                    lines[tuple(_ints(loc, 1))] = span[0] + 1
        prefix = pkg + "." if pkg else ""
        for i, m in enumerate(_all(fd, 4)):
            self._message(wire(m), prefix, name, lines, (4, i))
        for i, e in enumerate(_all(fd, 5)):
            self._enum(wire(e), prefix, name, lines, (5, i))
        for i, s in enumerate(_all(fd, 6)):
            s = wire(s)
            svc = Service(prefix + _text(s, 1), name, lines.get((6, i), 0))
            for j, m in enumerate(_all(s, 2)):
                m = wire(m)
                svc.methods[_text(m, 1)] = (_text(m, 2).lstrip("."), _text(m, 3).lstrip("."),
                                            bool(_one(m, 5, 0)), bool(_one(m, 6, 0)),
                                            lines.get((6, i, 2, j), 0))
            self.services[svc.name] = svc

    def _message(self, d, prefix, file, lines, path):
        msg = Message(prefix + _text(d, 1), file, lines.get(path, 0))
        oneofs = [_text(wire(o), 1) for o in _all(d, 8)]
        for i, f in enumerate(_all(d, 2)):
            f = wire(f)
            type_ = TYPES.get(_one(f, 5, 0), "?")
            if type_ in ("message", "enum", "group"):
                type_ = _text(f, 6).lstrip(".")
            label = LABELS.get(_one(f, 4, 1), "?")
            oneof = None
            if _one(f, 17, 0):          # proto3 `optional`: a synthetic oneof
                label = "optional"
            elif _one(f, 9) is not None:
                oneof = oneofs[_one(f, 9)]
            number = _signed32(_one(f, 3, 0))
            msg.fields[number] = Field(_text(f, 1), number, type_, label, oneof,
                                       lines.get(path + (2, i), msg.line))
        for r in _all(d, 9):            # DescriptorProto.ReservedRange: end exclusive
            r = wire(r)
            msg.reserved.append((_signed32(_one(r, 1, 0)), _signed32(_one(r, 2, 0)) - 1))
        msg.reserved_names = {v.decode() for v in _all(d, 10)}
        self.messages[msg.name] = msg
        for i, n in enumerate(_all(d, 3)):
            self._message(wire(n), msg.name + ".", file, lines, path + (3, i))
        for i, e in enumerate(_all(d, 4)):
            self._enum(wire(e), msg.name + ".", file, lines, path + (4, i))

    def _enum(self, d, prefix, file, lines, path):
        en = Enum(prefix + _text(d, 1), file, lines.get(path, 0))
        for i, v in enumerate(_all(d, 2)):
            v = wire(v)
            en.values[_text(v, 1)] = (_signed32(_one(v, 2, 0)), lines.get(path + (2, i), en.line))
        for r in _all(d, 4):            # EnumReservedRange: end inclusive
            r = wire(r)
            en.reserved.append((_signed32(_one(r, 1, 0)), _signed32(_one(r, 2, 0))))
        en.reserved_names = {v.decode() for v in _all(d, 5)}
        self.enums[en.name] = en


# ---- references outside proto/ ----------------------------------------------


def _camel_to_lower(name):
    """protobuf-c's lower-case form of a CamelCase name: OpenCallRequest ->
    open_call_request."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def c_names(full, package):
    """The names protobuf-c gives the type `full` of package `package` in C
    (Ccip__Intake__Call, ccip__intake__call__...)."""
    pkg = [p for p in package.split(".") if p]
    rest = full[len(package) + 1:].split(".") if package else full.split(".")
    upper = "__".join([p[:1].upper() + p[1:] for p in pkg] + rest)
    lower = "__".join(pkg + [_camel_to_lower(r) for r in rest]) + "__"
    return [upper, lower]


class References:
    """Where a name still appears in the repository's tracked files outside
    proto/: the C code (protobuf-c's names), the gateway's and tests' full
    names, the web console's JavaScript."""

    def __init__(self, repo, proto_dir):
        self.files = []
        if not repo:
            return
        try:
            out = subprocess.run(["git", "-C", repo, "ls-files", "-z"], check=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        except (OSError, subprocess.CalledProcessError):
            return
        for rel in out.decode().split("\0"):
            if not rel or rel.startswith(proto_dir.rstrip("/") + "/"):
                continue
            try:
                with open(os.path.join(repo, rel), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if b"\0" not in data[:8192]:
                self.files.append((rel, data.decode("utf-8", "replace")))

    def find(self, words):
        """The first (file, line) where one of `words` appears as a whole
        name, or None."""
        pats = [re.compile(r"(?<![\w.])" + re.escape(w) + (r"(?![\w])" if not w.endswith("__")
                                                             else "")) for w in words]
        for rel, text in self.files:
            for p in pats:
                m = p.search(text)
                if m:
                    return rel, text.count("\n", 0, m.start()) + 1
        return None


# ---- the rules --------------------------------------------------------------


class Checker:
    def __init__(self, base, new, label, refs, proto_dir):
        self.base = base
        self.new = new
        self.label = label
        self.refs = refs
        self.dir = proto_dir.rstrip("/")
        self.problems = []

    def say(self, file, line, what, fix):
        where = f"{self.dir}/{file}" + (f":{line}" if line else "")
        self.problems.append(f"{where}: {what}: {fix}")

    def was(self, line):
        return f" (line {line} at {self.label})" if line else f" (at {self.label})"

    def run(self):
        self.packages()
        for name, old in sorted(self.base.messages.items()):
            if name in self.new.messages:
                self.message(old, self.new.messages[name])
            else:
                self.removed("message", name, old.file, old.line)
        for name, old in sorted(self.base.enums.items()):
            if name in self.new.enums:
                self.enum(old, self.new.enums[name])
            else:
                self.removed("enum", name, old.file, old.line)
        for name, old in sorted(self.base.services.items()):
            if name in self.new.services:
                self.service(old, self.new.services[name])
            else:
                self.removed("service", name, old.file, old.line)
        return self.problems

    def packages(self):
        for file, pkg in sorted(self.base.packages.items()):
            now = self.new.packages.get(file)
            if now is not None and now != pkg:
                self.say(file, 0, f"package changed from `{pkg}` to `{now}`",
                         "every type's full name changes with it, so old peers' messages no "
                         "longer match: keep the package (a new package is a new file)")

    def removed(self, kind, name, file, line):
        pkg = self.base.packages.get(file, "")
        words = [name]
        if kind in ("message", "enum"):
            words += c_names(name, pkg)
        hit = self.refs.find(words)
        if hit:
            self.say(file, 0, f"{kind} {name}{self.was(line)} removed, but {hit[0]}:{hit[1]} "
                     f"still refers to it", f"keep the {kind} until nothing uses it "
                     "(proto/README.md rule 5: a new version is published beside the old one)")

    def message(self, old, new):
        m = f"message {old.name}"
        by_name = {f.name: f for f in new.fields.values()}
        for num, of in sorted(old.fields.items()):
            nf = new.fields.get(num)
            what = f"{m} field {num} `{of.name}`"
            if nf is None:
                moved = by_name.get(of.name)
                if moved is not None:
                    self.say(new.file, moved.line, f"{what} renumbered to {moved.number}",
                             f"give it back number {num}: old peers read number {num} "
                             "(proto/README.md rule 1)")
                elif not (new.is_reserved(num) and of.name in new.reserved_names):
                    missing = []
                    if not new.is_reserved(num):
                        missing.append(f"reserved {num};")
                    if of.name not in new.reserved_names:
                        missing.append(f'reserved "{of.name}";')
                    self.say(new.file, new.line, f"{what}{self.was(of.line)} removed",
                             f"add `{' '.join(missing)}` to {new.name.rsplit('.', 1)[-1]} so "
                             "that neither is used again (proto/README.md rule 1)")
                continue
            if nf.name != of.name:
                self.say(new.file, nf.line, f"{what} renamed to `{nf.name}`",
                         "the gateway's JSON names fields and refuses unknown ones "
                         "(common/ccip_pbjson.h): keep the name; a new meaning is a new field "
                         "with a new number (proto/README.md rule 2)")
            if nf.type != of.type:
                self.say(new.file, nf.line, f"{what}: type changed from {of.type} to {nf.type}",
                         "old peers decode it as the old type: add a new field with a new "
                         "number and reserve this one (proto/README.md rule 2)")
            if nf.label != of.label:
                self.say(new.file, nf.line,
                         f"{what}: label changed from `{of.label or 'singular'}` to "
                         f"`{nf.label or 'singular'}`",
                         "old peers read one value where there are many, or lose presence: "
                         "add a new field instead (proto/README.md rule 2)")
            if nf.oneof != of.oneof:
                self.say(new.file, nf.line,
                         f"{what}: oneof changed from {of.oneof or 'none'} to "
                         f"{nf.oneof or 'none'}",
                         "setting a member clears the others, so old and new peers disagree "
                         "on what is set: add a new field instead (proto/README.md rule 2)")
        for num, nf in sorted(new.fields.items()):
            if num in old.fields:
                continue
            if old.is_reserved(num):
                self.say(new.file, nf.line,
                         f"{m} field {num} `{nf.name}` uses number {num}, reserved at "
                         f"{self.label}", "reserved numbers belonged to removed fields that "
                         "old peers still send: take a number never used "
                         "(proto/README.md rule 1)")
            if nf.name in old.reserved_names:
                self.say(new.file, nf.line,
                         f"{m} field {num} `{nf.name}` reuses the name `{nf.name}`, reserved "
                         f"at {self.label}", "JSON clients still send the removed field by "
                         "that name: choose another name (proto/README.md rule 1)")
        for a, b in old.reserved:
            for n in range(a, min(b, a + 1000) + 1):
                if not new.is_reserved(n) and n not in new.fields:
                    self.say(new.file, new.line, f"{m}: number {n} no longer reserved",
                             f"keep `reserved {n};` (proto/README.md rule 1)")
                    break
        for name in sorted(old.reserved_names - new.reserved_names):
            if name not in by_name:
                self.say(new.file, new.line, f"{m}: name `{name}` no longer reserved",
                         f'keep `reserved "{name}";` (proto/README.md rule 1)')

    def enum(self, old, new):
        e = f"enum {old.name}"
        by_number = {}
        for name, (num, line) in new.values.items():
            by_number.setdefault(num, name)
        for name, (num, line) in sorted(old.values.items(), key=lambda v: v[1][0]):
            now = new.values.get(name)
            if now is None:
                other = by_number.get(num)
                if other is not None:
                    self.say(new.file, new.values[other][1],
                             f"{e} value {num} renamed from {name} to {other}",
                             "the name is what JSON and the database carry: keep it "
                             "(proto/README.md rule 6)")
                else:
                    self.say(new.file, new.line, f"{e} value {name} = {num}{self.was(line)} "
                             "removed", "enum values are only ever added; keep it and refuse "
                             "it in the handler (proto/README.md rule 6)")
            elif now[0] != num:
                self.say(new.file, now[1], f"{e} value {name} renumbered from {num} to "
                         f"{now[0]}", f"give it back {num}: old peers send {num} "
                         "(proto/README.md rule 6)")
        for name, (num, line) in sorted(new.values.items()):
            if name in old.values:
                continue
            if old.is_reserved(num):
                self.say(new.file, line, f"{e} value {name} uses number {num}, reserved at "
                         f"{self.label}", "take a number never used (proto/README.md rule 6)")
            if name in old.reserved_names:
                self.say(new.file, line, f"{e} value {name} reuses a name reserved at "
                         f"{self.label}", "choose another name (proto/README.md rule 6)")

    def service(self, old, new):
        for name, (inp, out, cs, ss, line) in sorted(old.methods.items()):
            what = f"service {old.name} rpc {name}"
            now = new.methods.get(name)
            if now is None:
                hit = self.refs.find([f"{old.name}.{name}", f"/{old.name}/{name}"])
                if hit:
                    self.say(new.file, new.line, f"{what}{self.was(line)} removed, but "
                             f"{hit[0]}:{hit[1]} still refers to it",
                             "keep the rpc until nothing calls it (proto/README.md rule 5)")
                continue
            if (now[0], now[1]) != (inp, out):
                self.say(new.file, now[4], f"{what}: changed from ({inp}) -> ({out}) to "
                         f"({now[0]}) -> ({now[1]})", "a different request or reply is a new "
                         "rpc (proto/README.md rule 5)")
            if (now[2], now[3]) != (cs, ss):
                self.say(new.file, now[4], f"{what}: streaming changed",
                         "a different call shape is a new rpc (proto/README.md rule 5)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="FileDescriptorSet of the baseline")
    ap.add_argument("--new", required=True, help="FileDescriptorSet of the current protos")
    ap.add_argument("--base-label", required=True, help="the baseline's revision, for messages")
    ap.add_argument("--repo", help="work tree searched for references to removed types")
    ap.add_argument("--proto-dir", default="proto", help="proto/'s path in the repository")
    a = ap.parse_args()
    base, new = Schema(a.base), Schema(a.new)
    problems = Checker(base, new, a.base_label, References(a.repo, a.proto_dir),
                       a.proto_dir).run()
    for p in problems:
        print(f"check-proto-compat: {p}")
    counts = (f"{len(new.packages)} files, {len(new.messages)} messages, {len(new.enums)} enums, "
              f"{len(new.services)} services")
    if problems:
        print(f"check-proto-compat: {len(problems)} rule(s) of proto/README.md broken against "
              f"{a.base_label} ({counts} now)")
        return 1
    print(f"check-proto-compat: {counts} compatible with {a.base_label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
