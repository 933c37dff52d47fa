# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the reference page of the Event-Driven Ansible source from its own DOCUMENTATION and EXAMPLES.

antsibull-docs renders the modules' pages but reads no plugin under extensions/eda, and ansible-doc does not know
event sources either. This script renders extensions/eda/plugins/event_source/endpoint_events.py's DOCUMENTATION and
EXAMPLES into docs/docsite/rst/endpoint_events_source.rst in the shape of a module page: synopsis, requirements,
parameters, notes, see also, examples. The semantic markup (O(), M(), C(), E(), V()) is converted by
antsibull-docs-parser, the library antsibull-docs converts the modules' markup with, so links to the modules' options
and pages resolve on the docs site, and every option has a label of its own.

    tools/eda_docs.py          rewrite the page
    tools/eda_docs.py --check  exit 1 and show the difference when the page is not what the source documents
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import sys

import yaml
from antsibull_docs_parser import dom
from antsibull_docs_parser.parser import Context, parse
from antsibull_docs_parser.rst import AntsibullRSTFormatter, rst_escape, to_rst

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join("extensions", "eda", "plugins", "event_source", "endpoint_events.py")
PAGE = os.path.join("docs", "docsite", "rst", "endpoint_events_source.rst")
FQCN = "novita.cloud.endpoint_events"
PLUGIN = dom.PluginIdentifier(fqcn=FQCN, type="event_source")
# The page is one of the collection's extra docs, whose labels antsibull-docs wants under the docsite prefix; the
# guides link to the page and its options by these.
PAGE_LABEL = "ansible_collections.novita.cloud.docsite.endpoint_events_source"
OPTION_LABEL = PAGE_LABEL + ".parameter-%s"


class SourceFormatter(AntsibullRSTFormatter):
    """antsibull-docs' RST, except that O() of the source's own options links to the option on this page: the
    :ansopt: role knows the plugin types ansible-doc documents, and event_source is not one of them."""

    def format_option_name(self, part, url):
        if part.plugin != PLUGIN:
            return super().format_option_name(part, url)
        text = part.name if part.value is None else "%s=%s" % (part.name, part.value)
        return "\\ :ref:`%s <%s>`\\ " % (rst_escape(text, escape_ending_whitespace=True), OPTION_LABEL % part.name)


def source_docs(path):
    """DOCUMENTATION (parsed) and EXAMPLES (text) of the source file, read without importing it."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "EXAMPLES"):
                found[node.targets[0].id] = node.value.value
    missing = [name for name in ("DOCUMENTATION", "EXAMPLES") if name not in found]
    if missing:
        raise ValueError("%s has no %s" % (path, " and no ".join(missing)))
    return yaml.safe_load(found["DOCUMENTATION"]), found["EXAMPLES"].strip("\n")


def markup(text, where):
    """Semantic markup (a string or a list of paragraphs) as reStructuredText, paragraphs separated by a blank line."""
    paragraphs = [text] if isinstance(text, str) else list(text)
    odd = [item for item in paragraphs if not isinstance(item, str)]
    if odd:
        raise ValueError("%s: %r is not text (a YAML line with ': ' in it needs quotes)" % (where, odd[0]))
    return to_rst(parse(paragraphs, Context(current_plugin=PLUGIN), errors="exception"), formatter=SourceFormatter(),
                  current_plugin=PLUGIN)


def indented(text, pad):
    return "\n".join((pad + line) if line else "" for line in text.split("\n"))


def heading(title, char):
    return [title, char * len(title), ""]


def value_text(value):
    """A value as YAML writes it (true, not True), escaped for a role's text."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    if text.endswith("\n..."):
        text = text[:-len("\n...")]
    return rst_escape(text, escape_ending_whitespace=True)


def type_line(option):
    kind = option.get("type", "str")
    if kind == "list" and option.get("elements"):
        kind = "list / elements=%s" % option["elements"]
    return kind + (" / required" if option.get("required") else "")


def option_rows(options):
    """The rows of the parameter table: name, type and label; description, choices and default."""
    rows = []
    for name in sorted(options):
        option = options[name]
        left = [".. _%s:" % (OPTION_LABEL % name), "", "**%s**" % name, "", ":ansible-option-type:`%s`" % type_line(option)]
        right = [markup(option.get("description", []), "options.%s.description" % name)]
        if option.get("choices"):
            right.append("Choices: %s" % ", ".join(":ansval:`%s`" % value_text(choice) for choice in option["choices"]))
        if "default" in option:
            right.append(":ansible-option-default-bold:`Default:` :ansible-option-default:`%s`" % value_text(option["default"]))
        rows.append("  * - %s\n    - %s" % (indented("\n".join(left), "      ").lstrip(), indented("\n\n".join(right), "      ").lstrip()))
    return rows


def render(docs, examples):
    title = "%s event source -- %s" % (FQCN, docs["short_description"])
    lines = [
        ".. Written by tools/eda_docs.py from %s's DOCUMENTATION and EXAMPLES; edit there, not here." % SOURCE.replace(os.sep, "/"),
        "",
        ".. _%s:" % PAGE_LABEL,
        "",
    ] + heading(title, "=") + [
        "This event source is part of the novita.cloud collection. It runs in ansible-rulebook (or in an Event-Driven",
        "Ansible controller) and is named :code:`%s` in a rulebook's :code:`sources`." % FQCN,
        "",
        ".. contents::",
        "   :local:",
        "   :depth: 1",
        "",
    ]
    lines += heading("Synopsis", "-") + ["- " + indented(markup(item, "description"), "  ").lstrip() for item in docs["description"]] + [""]
    if docs.get("requirements"):
        lines += heading("Requirements", "-") + ["- " + markup(item, "requirements") for item in docs["requirements"]] + [""]
    lines += heading("Parameters", "-") + [
        ".. list-table::",
        "  :widths: auto",
        "  :header-rows: 1",
        "",
        "  * - Parameter",
        "    - Comments",
    ] + option_rows(docs.get("options", {})) + [""]
    if docs.get("notes"):
        lines += heading("Notes", "-") + ["- " + indented(markup(item, "notes"), "  ").lstrip() for item in docs["notes"]] + [""]
    if docs.get("seealso"):
        lines += heading("See Also", "-")
        for item in docs["seealso"]:
            if set(item) - {"module", "description"}:
                raise ValueError("seealso item %r: only module and description are rendered" % (item,))
            lines += ["- :ref:`%s <ansible_collections.%s_module>`" % (item["module"], item["module"]), "",
                      "  " + indented(markup(item["description"], "seealso"), "  ").lstrip(), ""]
    lines += heading("Examples", "-") + [".. code-block:: yaml", "", indented(examples, "    "), ""]
    if docs.get("author"):
        lines += heading("Authors", "-") + ["- " + author for author in docs["author"]] + [""]
    return "\n".join(lines)


def expected():
    docs, examples = source_docs(os.path.join(ROOT, SOURCE))
    return render(docs, examples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is not what the source documents")
    args = parser.parse_args(argv)
    want = expected()
    path = os.path.join(ROOT, PAGE)
    have = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    if args.check:
        if have != want:
            sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), want.splitlines(True), PAGE, PAGE + " (expected)"))
            print("%s is not what %s documents: run tools/eda_docs.py (or make generate)" % (PAGE, SOURCE))
            return 1
        print("%s matches %s's DOCUMENTATION and EXAMPLES" % (PAGE, SOURCE))
        return 0
    if have != want:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(want)
        print("wrote %s" % PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
