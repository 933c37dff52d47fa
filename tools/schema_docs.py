# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write what the modules' files must hold and the schema knows: the generated parts of their docs, and the version.

ansible-doc and ansible-test read a module's DOCUMENTATION and RETURN from the module file, so the option
and return documentation derived from each resource's schema (the registry RESOURCES below: the endpoint,
the registry credential, the network storage) and the shared failure and api_requests documentation are
written into each module between two marker comments:

    # BEGIN generated <block>: ...
    # END generated <block>

A doc fragment cannot do this: fragments merge into a module's top-level ``options`` only, and the fleet
takes the endpoint options as the sub-options of ``endpoints``. The collection version is written from
galaxy.yml into module_utils/api.py (modules run on hosts where galaxy.yml does not exist).

    tools/schema_docs.py          rewrite the generated blocks and the version
    tools/schema_docs.py --check  exit 1 and show the difference when a file is not what the schema gives
"""

from __future__ import annotations

import argparse
import atexit
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH = 120
VERSION_PATTERN = re.compile(r'^COLLECTION_VERSION = "[^"]*"$', re.M)


def _import_collection():
    """The collection's endpoint and api modules: as already importable (unit tests), else from this checkout."""
    try:
        from ansible_collections.novita.cloud.plugins.module_utils import api, endpoint  # pylint: disable=import-outside-toplevel
        return api, endpoint
    except ImportError:
        pass
    # A throw-away collections root outside the checkout, holding a link to it.
    parent = tempfile.mkdtemp(prefix="novita-schema-docs-")
    atexit.register(shutil.rmtree, parent, True)  # removes the link, never what it points to
    link = os.path.join(parent, "ansible_collections", "novita", "cloud")
    os.makedirs(os.path.dirname(link))
    os.symlink(ROOT, link)
    sys.path.insert(0, parent)
    from ansible_collections.novita.cloud.plugins.module_utils import api, endpoint  # pylint: disable=import-outside-toplevel
    return api, endpoint


# ---------------------------------------------------------------------------
# YAML text in the style of the hand-written docs (indented sequences, flow-style samples)

def _plain_ok(text):
    if not text or text != text.strip() or "\n" in text:
        return False
    try:
        return yaml.safe_load("k: " + text) == {"k": text} and yaml.safe_load("- " + text) == [text]
    except yaml.YAMLError:
        return False


def _scalar(value):
    if isinstance(value, str):
        return value if _plain_ok(value) else json.dumps(value)
    return json.dumps(value)


def _wrapped(text, first, rest):
    """``text`` as a YAML scalar starting with ``first`` (``- `` or ``key: ``), continued at ``rest`` spaces, wrapped.

    Plain when that reads back as ``text``, else double-quoted; unwrapped when neither wrapping reads back.
    """
    width = max(WIDTH - len(rest), 40)
    for scalar in ([text] if _plain_ok(text) else []) + [json.dumps(text)]:
        lines = textwrap.wrap(scalar, width=width, break_long_words=False, break_on_hyphens=False)
        candidate = [first + lines[0]] + [rest + line for line in lines[1:]]
        if yaml.safe_load("\n".join(candidate)) in ([text], {first.strip(": -"): text}):
            return candidate
    return [first + json.dumps(text)]


def emit(data, indent):
    """Lines of YAML for a mapping of documentation data (options, suboptions, contains)."""
    lines = []
    pad = " " * indent
    for key, value in data.items():
        if key == "description" and isinstance(value, list) and len(value) == 1:
            lines.extend(_wrapped(value[0], "%s%s: " % (pad, key), pad + "  "))
        elif key == "description" and isinstance(value, list):
            lines.append("%s%s:" % (pad, key))
            for text in value:
                lines.extend(_wrapped(text, pad + "  - ", pad + "    "))
        elif key == "description":
            lines.extend(_wrapped(value, "%s%s: " % (pad, key), pad + "  "))
        elif key == "sample" and isinstance(value, list) and len("%s%s: %s" % (pad, key, _scalar(value))) > WIDTH:
            # A long list sample: one flow-style item per line.
            lines.append("%s%s:" % (pad, key))
            lines.extend("%s  - %s" % (pad, _scalar(item)) for item in value)
        elif key == "sample" or not isinstance(value, (dict, list)):
            lines.append("%s%s: %s" % (pad, key, _scalar(value)))
        elif isinstance(value, list):
            lines.append("%s%s: [%s]" % (pad, key, ", ".join(_scalar(v) for v in value)))
        elif not value:
            lines.append("%s%s: {}" % (pad, key))
        else:
            lines.append("%s%s:" % (pad, key))
            lines.extend(emit(value, indent + 2))
    return lines


# ---------------------------------------------------------------------------
# the generated blocks

# The registry of the collection's resources: for each, its schema (by module_utils file and attribute), the scope its
# options are documented for, the modules that document its options and the ones that return it, and the name of its blocks.
# Adding a resource is one entry here (see docs/architecture.md).
RESOURCES = (
    {"module_utils": "endpoint", "schema": "ENDPOINT_SCHEMA", "scope": "ENDPOINT_SCOPE", "block": "endpoint",
     "options_in": ("novita_endpoint",), "returned_by": ("novita_endpoint", "novita_endpoint_info")},
    {"module_utils": "registry_auth", "schema": "REGISTRY_AUTH_SCHEMA", "scope": "SCOPE", "block": "registry_auth",
     "options_in": ("novita_registry_auth",), "returned_by": ("novita_registry_auth", "novita_registry_auth_info")},
    {"module_utils": "network_storage", "schema": "NETWORK_STORAGE_SCHEMA", "scope": "SCOPE", "block": "network storage",
     "options_in": ("novita_network_storage",), "returned_by": ("novita_network_storage", "novita_network_storage_info")},
)
# Every module returns api_requests and failure; the fleet's failure is documented twice (the run's and each endpoint's).
MODULES = ("novita_endpoint", "novita_endpoint_fleet", "novita_endpoint_info", "novita_registry_auth", "novita_registry_auth_info",
           "novita_network_storage", "novita_network_storage_info", "novita_cluster_info")
FAILURE_INDENTS = {"novita_endpoint_fleet": (4, 8)}


def _module_path(module):
    return "plugins/modules/%s.py" % module


def _resource_blocks(resource, schema=None):
    """The option and returned-key blocks of one registered resource (``schema`` replaces the endpoint schema)."""
    import importlib  # pylint: disable=import-outside-toplevel
    source = importlib.import_module("ansible_collections.novita.cloud.plugins.module_utils." + resource["module_utils"])
    schema = (schema if resource["module_utils"] == "endpoint" else None) or getattr(source, resource["schema"])
    scope = getattr(source, resource["scope"])
    result = [(_module_path(module), "DOCUMENTATION", "%s options" % resource["block"], 2, schema.option_docs(scope))
              for module in resource["options_in"]]
    result += [(_module_path(module), "RETURN", "%s keys" % resource["block"], 4, schema.return_docs()) for module in resource["returned_by"]]
    return result


def blocks(schema=None):
    """(file, docstring, block name, indent, data) of every generated block; ``schema`` replaces the endpoint schema."""
    api, endpoint = _import_collection()
    result = []
    for resource in RESOURCES:
        result += _resource_blocks(resource, schema)
    fleet_schema = schema or endpoint.ENDPOINT_SCHEMA
    fleet_options = fleet_schema.option_docs(endpoint.FLEET_SCOPE, prefix="endpoints[].", return_rewrites={"endpoint.id": "endpoints[].id"})
    result.append((_module_path("novita_endpoint_fleet"), "DOCUMENTATION", "endpoint options", 6, fleet_options))
    for module in MODULES:
        result += [(_module_path(module), "RETURN", "failure keys", indent, api.FAILURE_DOCS) for indent in FAILURE_INDENTS.get(module, (4,))]
        result.append((_module_path(module), "RETURN", "api_requests", 0, api.API_REQUESTS_DOCS))
    return result


def render_block(name, indent, data):
    pad = " " * indent
    head = "%s# BEGIN generated %s: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here" % (pad, name)
    return "\n".join([head] + emit(data, indent) + ["%s# END generated %s" % (pad, name)])


def replace_block(text, name, indent, data):
    """``text`` with the block ``name`` at this indent rendered anew; ValueError when its markers are missing."""
    pad = " " * indent
    pattern = re.compile(r"^%s# BEGIN generated %s:.*?^%s# END generated %s$" % (pad, re.escape(name), pad, re.escape(name)), re.M | re.S)
    if not pattern.search(text):
        raise ValueError("no generated block %r at indent %d (its BEGIN and END marker comments are missing)" % (name, indent))
    return pattern.sub(lambda match: render_block(name, indent, data), text, count=1)


VERSION_FILE = "plugins/module_utils/api.py"


def read_files(schema=None, files=None):
    """path -> text of every file with generated parts: ``files`` where given, else as on disk."""
    files = dict(files or {})
    for path in set(block[0] for block in blocks(schema)) | {VERSION_FILE}:
        if path not in files:
            with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
                files[path] = handle.read()
    return files


def expected_files(schema=None, files=None):
    """path -> the text each file must have: ``files`` (see ``read_files``) with every block rendered and the version set."""
    result = read_files(schema, files)
    for path, dummy, name, indent, data in blocks(schema):
        result[path] = replace_block(result[path], name, indent, data)
    result[VERSION_FILE] = VERSION_PATTERN.sub('COLLECTION_VERSION = "%s"' % galaxy_version(), result[VERSION_FILE], count=1)
    return result


def galaxy_version():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return str(yaml.safe_load(handle)["version"])


def differences(files=None, schema=None):
    """Unified diffs of every file that differs from what the schema gives (empty when all agree)."""
    files = read_files(schema, files)
    diffs = []
    for path, text in sorted(expected_files(schema, files).items()):
        if files[path] != text:
            diffs.append("".join(difflib.unified_diff(files[path].splitlines(True), text.splitlines(True), path, path + " (from the schema)")))
    return diffs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 and show the difference when a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        diffs = differences()
        if diffs:
            sys.stdout.write("".join(diffs))
            print("\nThe files above differ from what plugins/module_utils gives; run tools/schema_docs.py (make generate) to rewrite them.")
            return 1
        print("generated docs and version: up to date")
        return 0
    current = read_files()
    written = 0
    for path, text in expected_files(files=current).items():
        if current[path] == text:
            continue
        with open(os.path.join(ROOT, path), "w", encoding="utf-8") as handle:
            handle.write(text)
        written += 1
        print("wrote %s" % path)
    if not written:
        print("generated docs and version: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
