# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/architecture.md stays true: every file it names exists, every name it gives is defined there, the layers import
only downwards, and adding a resource is at most eight files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
UTILS = os.path.join(ROOT, "plugins", "module_utils")
# The layers of docs/architecture.md, bottom first: a file may import only files of lower layers.
LAYERS = [("api",), ("schema",), ("endpoint",), ("module", "secrets"), ("resource",), ("endpoint_api",),
          ("registry_auth", "network_storage"), ("converge",), ("fleet",)]


def page():
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        return handle.read()


def test_every_path_the_page_names_exists():
    paths = set(re.findall(r"`((?:plugins|tests|tools|meta|docs)/[^`<>]+?)`", page()))
    assert paths, "the page names no file"
    missing = [path for path in sorted(paths) if not os.path.exists(os.path.join(ROOT, path.rstrip("/")))]
    assert missing == []


def test_every_module_utils_name_the_page_gives_is_defined_there():
    names = set(found for found in re.findall(r"`(api|resource|module)\.(\w+)`", page()) if found[1] != "py")
    assert len(names) >= 6
    for module, name in sorted(names):
        with open(os.path.join(UTILS, module + ".py"), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        defined = set(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)))
        assert name in defined, "%s.%s" % (module, name)


def test_each_layer_imports_only_the_layers_below():
    rank = dict((name, level) for level, layer in enumerate(LAYERS) for name in layer)
    assert sorted(rank) == sorted(name[:-3] for name in os.listdir(UTILS) if name.endswith(".py") and name != "__init__.py")
    for name, level in rank.items():
        with open(os.path.join(UTILS, name + ".py"), encoding="utf-8") as handle:
            text = handle.read()
        imported = set(re.findall(r"ansible_collections\.novita\.cloud\.plugins\.module_utils\.(\w+)", text))
        above = [other for other in imported if rank[other] >= level and other != name]
        assert above == [], "%s imports %s" % (name, above)


def test_adding_a_resource_is_at_most_eight_files():
    steps = page().split("## How to add a resource", 1)[1]
    numbered = re.findall(r"^(\d+)\. ", steps, re.M)
    assert 1 <= len(numbered) <= 8 and numbered == [str(n) for n in range(1, len(numbered) + 1)]
