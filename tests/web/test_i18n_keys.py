#!/usr/bin/env python3
"""The console's two message catalogues against each other and the code.

Usage: test_i18n_keys.py WEB_DIR PROTO_DIR

Fails (exit 1, naming each problem) when
  - a key is in one catalogue (i18n/zh-CN.json, i18n/en.json) and not the other;
  - a message is empty, or its {placeholders} differ between the languages;
  - the code (js/**/*.js) uses a key, t('a.b'), that a catalogue lacks;
  - the code names an enum, te('CallKind', v), one of whose values in
    proto/ccip/*.proto has no key enum.CallKind.<VALUE>;
  - the code calls t() with anything but a literal key (the test could not
    check it: use a literal, or te() for enum values);
  - a catalogue holds a key nothing uses (it would rot untranslated).
"""
import json
import os
import re
import sys

T_CALL = re.compile(r"""(?<![\w.])t\(\s*(['"])([^'"]+)\1""")
T_ANY = re.compile(r"""(?<![\w.])t\(\s*([^\s)])""")
TE_CALL = re.compile(r"""(?<![\w.])te\(\s*(['"])([\w.]+)\1""")
ENUM = re.compile(r"enum\s+(\w+)\s*\{([^}]*)\}", re.S)
ENUM_VALUE = re.compile(r"^\s*(\w+)\s*=\s*\d+", re.M)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[^:\\])//[^\n]*", r"\1", text)


def main(web, proto):
    problems = []
    cats = {}
    for lang in ("zh-CN", "en"):
        with open(os.path.join(web, "i18n", lang + ".json"), encoding="utf-8") as f:
            cats[lang] = json.load(f)
    zh, en = cats["zh-CN"], cats["en"]
    for k in sorted(set(zh) - set(en)):
        problems.append(f"key {k} is in zh-CN.json but not in en.json")
    for k in sorted(set(en) - set(zh)):
        problems.append(f"key {k} is in en.json but not in zh-CN.json")
    for k in sorted(set(zh) & set(en)):
        for lang in ("zh-CN", "en"):
            v = cats[lang][k]
            if not isinstance(v, str) or not v.strip():
                problems.append(f"key {k} has an empty message in {lang}")
        if set(PLACEHOLDER.findall(zh[k])) != set(PLACEHOLDER.findall(en[k])):
            problems.append(f"key {k}: placeholders differ: zh-CN {sorted(set(PLACEHOLDER.findall(zh[k])))}, "
                            f"en {sorted(set(PLACEHOLDER.findall(en[k])))}")

    # Every enum as "<file>.<Enum>" (stats.ReportStatus), and as "<Enum>"
    # alone when no other file has one of that name.
    enums, seen = {}, {}
    for name in sorted(os.listdir(proto)):
        if name.endswith(".proto"):
            with open(os.path.join(proto, name), encoding="utf-8") as f:
                for m in ENUM.finditer(f.read()):
                    values = ENUM_VALUE.findall(m.group(2))
                    enums[f"{name[:-6]}.{m.group(1)}"] = values
                    seen.setdefault(m.group(1), []).append(values)
    for enum, lists in seen.items():
        if len(lists) == 1:
            enums[enum] = lists[0]

    used = set()
    files = 0
    for root, _, names in os.walk(os.path.join(web, "js")):
        for name in sorted(names):
            if not name.endswith(".js"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, web)
            files += 1
            with open(path, encoding="utf-8") as f:
                code = strip_comments(f.read())
            for m in T_CALL.finditer(code):
                used.add(m.group(2))
            if name != "i18n.js":
                for m in T_ANY.finditer(code):
                    if m.group(1) not in "'\"":
                        line = code[: m.start()].count("\n") + 1
                        problems.append(f"{rel}:{line}: t() with a key that is not a literal; "
                                        "use a literal key (or te() for an enum value)")
            for m in TE_CALL.finditer(code):
                enum = m.group(2)
                if enum not in enums:
                    problems.append(f"{rel}: te('{enum}', ...) names no enum of proto/ (an enum "
                                    "two files define is named <file>.<Enum>, e.g. stats.ReportStatus)")
                    continue
                for v in enums[enum]:
                    used.add(f"enum.{enum}.{v}")
    if files == 0:
        problems.append(f"no JavaScript found under {web}/js")
    for k in sorted(used):
        for lang in ("zh-CN", "en"):
            if k not in cats[lang]:
                problems.append(f"key {k} is used by the code but missing from {lang}.json")
    for k in sorted((set(zh) | set(en)) - used):
        problems.append(f"key {k} is in the catalogues but nothing uses it")

    for p in problems:
        print(p)
    print(f"{len(used)} keys used by {files} files, {len(zh)} in zh-CN, {len(en)} in en: "
          f"{'ok' if not problems else str(len(problems)) + ' problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
