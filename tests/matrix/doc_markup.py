# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Broken markup in what ansible-doc shows: every module's documentation rendered as text, then checked.

For every module in plugins/modules the driver runs ``ansible-doc -t module novita.cloud.<name>`` (text output,
no colour) and reads the rendered text, section by section. ansible-doc's text renderer handles the classic
macros (C(), I(), B(), M(), L(), U(), R()) with a plain regular expression that ends at the first ``)``, with no
escapes, and the semantic ones (O(), V(), RV(), E()) with backslash escapes, so markup that the docs site renders
well can come out broken in a terminal: C(\\(changed\\)) becomes a stray backslash and an unclosed parenthesis.

In the prose (descriptions, notes, see also; not the EXAMPLES, not sample values) it reports:
  - a markup macro left unconverted (``O(``, ``V(``, ``RV(``, ``E(``, ``C(``, ``I(``, ``B(``, ``M(``, ``L(``,
    ``U(``, ``P(``, ``R(``) and ``HORIZONTALLINE``;
  - any backslash (an escape the renderer did not take, a literal ``\\n``);
  - parentheses that do not pair up within one entry's text, and a rendered code quote (`...') left open;
  - an empty code quote, a masked value (``********``) that is not a code quote of its own, RST or HTML leftovers;
  - a module named twice, ``(of module X) of [X]``, as ``O(X#module:opt) of M(X)`` renders;
and in the RETURN sample values, anything of the test set-up rather than the real API (the emulator, an injected
fault, loopback or .invalid addresses, placeholders).
A module whose ansible-doc fails or writes to stderr (a warning) is a problem too.

Usage (dev venv python, from anywhere):
    python tests/matrix/doc_markup.py [--collections-path DIR] [--show]

DIR contains ansible_collections/novita/cloud; without it the work tree holding this script is used. --show prints
every rendered text. Each problem is printed with the module, the section, the entry and the line of the rendered
text. Exits 1 on any problem.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import ansible_env, collections_path  # noqa: E402

SECTION = re.compile(r"^([A-Z][A-Z ]+[A-Z])(?: \([^)]*\))?:")
ENTRY = re.compile(r"^(\s*)[-=] (\S+)(?:\s|$)")
ITEM = re.compile(r"^\s*(?:[-=*] )")
# Keys ansible-doc prints under an entry; what follows them (more indented) is data, not prose.
METADATA = re.compile(r"^\s*(?:default|type|choices|elements|returned|sample|contains|suboptions|required|aliases|version_added"
                      r"|description|support|membership|added in|platforms|details|conflicts|version_added_collection):(?:\s|$)")
ATTRIBUTE_NAME = re.compile(r"^\s*`[\w.-]+:`\s*$")
PROSE_CHECKS = (
    (re.compile(r"\b(?:RV|[OVECIBMLUPR])\((?=\S)"), "markup macro left unconverted"),
    (re.compile(r"HORIZONTALLINE"), "HORIZONTALLINE left unconverted"),
    (re.compile(r"\\"), "backslash in the rendered text (an escape the renderer did not take, or a literal \\n)"),
    (re.compile(r"`'"), "empty code quote"),
    (re.compile(r"``|:[a-z]+:`|\.\. [a-z]+::"), "RST markup left over"),
    (re.compile(r"</?(?:br|p|b|i|em|strong|code|tt)\s*/?>", re.I), "HTML tag left over"),
    (re.compile(r"\(of module ([\w.]+)\) of \[\1\]"), "module named twice: write O(fqcn#module:option) without 'of M(fqcn)'"),
    (re.compile(r"\[([\w.]+)\] returns (?:its |as )?`[^']*' \(of module \1\)"), "module named twice: drop the M(fqcn) next to RV/O(fqcn#module:...)"),
)
CODE_QUOTE = re.compile(r"`[^`]*?'")
MASK = re.compile(r"\*{3,}")
MASK_QUOTE = re.compile(r"`\*+'")
SAMPLE_JUNK = re.compile(r"injected|emulator|\bfault\b|\.invalid\b|127\.0\.0\.1|\blocalhost\b|placeholder|\bTODO\b|\bFIXME\b|\bXXX\b|lorem|"
                         r"\bfoo\b|\bbar\b|changeme", re.I)


def ansible_doc():
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    found = beside if os.access(beside, os.X_OK) else shutil.which("ansible-doc")
    if not found:
        raise SystemExit("ansible-doc not found: run with the dev venv's python or put it on PATH")
    return found


def render(collections, name):
    env = ansible_env(collections, {"ANSIBLE_NOCOLOR": "1", "PAGER": "cat", "ANSIBLE_PAGER": "cat"})
    done = subprocess.run([ansible_doc(), "-t", "module", "novita.cloud." + name], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return done.returncode, done.stdout, done.stderr


class Block:
    """Consecutive rendered lines of one kind: ``prose`` (one entry's or one note's text) or ``sample`` (a sample value)."""

    def __init__(self, kind, section, entry, number):
        self.kind, self.section, self.entry, self.number = kind, section, entry, number
        self.lines = []  # (number, text)

    @property
    def text(self):
        return " ".join(text.strip() for dummy, text in self.lines)


def blocks(text):
    """The rendered text cut into prose and sample blocks, each knowing its section, entry (option or return key) and lines."""
    found, section, stack, current, data_indent, collect = [], "DESCRIPTION", [], None, None, None
    for number, line in enumerate(text.splitlines(), 1):
        if number == 1 and line.startswith("> "):
            continue  # "> MODULE novita.cloud.x (path)"
        header = SECTION.match(line)
        if header:
            section, stack, current, data_indent = header.group(1), [], None, None
            continue
        if section == "EXAMPLES" or not line.strip():
            current = None
            continue
        indent = len(line) - len(line.lstrip())
        if data_indent is not None and indent > data_indent:
            if collect is not None:
                collect.lines.append((number, line))
            continue
        data_indent = collect = None
        if METADATA.match(line) or ATTRIBUTE_NAME.match(line):
            data_indent, current = indent, None
            key, value = line.strip().split(":", 1)
            if key in ("sample", "description"):
                # A sample value, or an attribute's description (prose, continued on more indented lines).
                collect = Block("sample" if key == "sample" else "prose", section, "/".join(n for dummy, n in stack), number)
                collect.lines.append((number, value))
                found.append(collect)
            continue
        entry = ENTRY.match(line) if section in ("OPTIONS", "RETURN VALUES") else None
        if entry:
            while stack and stack[-1][0] >= len(entry.group(1)):
                stack.pop()
            stack.append((len(entry.group(1)), entry.group(2)))
        if current is None or ITEM.match(line):
            current = Block("prose", section, "/".join(n for dummy, n in stack), number)
            found.append(current)
        current.lines.append((number, line))
    return found


def problems_in(name, text):
    problems = []

    def report(block, number, what, line):
        where = "%s %s%s line %d" % (name, block.section, (" " + block.entry) if block.entry else "", number)
        problem = "%s: %s: %s" % (where, what, line.strip())
        if problem not in problems:
            problems.append(problem)

    for block in blocks(text):
        if block.kind == "sample":
            for number, line in block.lines:
                junk = SAMPLE_JUNK.search(line)
                if junk:
                    report(block, number, "sample mentions %r, not what the real API returns" % junk.group(0), line)
            continue
        # The checks read the entry's text joined into one line, since rendering wraps a quote or a sentence over lines;
        # a problem is shown with the line it starts on.
        joined = block.text
        starts, offset = [], 0
        for number, line in block.lines:
            starts.append((offset, number, line))
            offset += len(line.strip()) + 1

        def at(position, what):
            dummy, number, line = [s for s in starts if s[0] <= position][-1]
            report(block, number, what, line)

        for pattern, what in PROSE_CHECKS:
            for match in pattern.finditer(joined):
                at(match.start(), what)
        if joined.count("(") != joined.count(")"):
            report(block, block.number, "%d '(' but %d ')' in this text" % (joined.count("("), joined.count(")")), block.lines[0][1])
        if "`" in CODE_QUOTE.sub("", joined):
            report(block, block.number, "a code quote (`...') is not closed", block.lines[0][1])
        for mask in MASK.finditer(joined):
            quoted = [m for m in MASK_QUOTE.finditer(joined) if m.start() < mask.start() < m.end()]
            if not quoted or quoted[0].group(0) != "`********'":
                at(mask.start(), "broken masked-value display near %r" % joined[max(0, mask.start() - 12):mask.end() + 14])
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--show", action="store_true", help="print every module's rendered text")
    options = parser.parse_args()

    work_dir = tempfile.mkdtemp(prefix="doc-markup-")
    try:
        collections = collections_path(options.collections_path, work_dir)
        root = os.path.join(collections, "ansible_collections", "novita", "cloud")
        names = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(root, "plugins", "modules", "*.py")))
        names = [n for n in names if not n.startswith("_")]
        problems = []
        for name in names:
            returncode, text, errors = render(collections, name)
            if options.show:
                print(text)
            if returncode != 0 or not text.strip():
                problems.append("%s: ansible-doc exited %s: %s" % (name, returncode, errors.strip()[-2000:]))
                continue
            if errors.strip():
                problems.append("%s: ansible-doc wrote to stderr: %s" % (name, errors.strip()[-2000:]))
            found = problems_in(name, text)
            print("%-24s %4d lines  %d problems" % (name, len(text.splitlines()), len(found)))
            problems.extend(found)
        for problem in problems:
            print("PROBLEM " + problem)
        print("ansible-doc markup: %d modules, %d problems" % (len(names), len(problems)))
        return 1 if problems else 0
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
