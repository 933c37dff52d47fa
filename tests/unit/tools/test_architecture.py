# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/architecture.md stays true: every file it names exists, every name it gives is defined there, the layers import
only downwards, adding a resource is at most eight files, and no function of plugins/ is long or deeply nested."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
UTILS = os.path.join(ROOT, "plugins", "module_utils")
# The layers of docs/architecture.md, bottom first: a file may import only files of lower layers.
LAYERS = [("api",), ("schema",), ("endpoint",), ("secrets",), ("module",), ("resource",), ("endpoint_api",),
          ("registry_auth", "network_storage"), ("converge", "export"), ("fleet",), ("events",)]


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


# A function of plugins/ is at most this many lines (its docstring not counted) and nests blocks at most this deep.
MAX_FUNCTION_LINES, MAX_NESTING = 40, 3
BLOCKS = (ast.If, ast.For, ast.While, ast.Try, ast.With)


def _nesting(node, depth=0):
    """The deepest block nesting under ``node``; an ``elif`` is at the depth of its ``if``, nested functions apart."""
    deepest = depth
    for field, value in ast.iter_fields(node):
        for child in value if isinstance(value, list) else [value]:
            if not isinstance(child, ast.AST) or isinstance(child, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            is_elif = isinstance(node, ast.If) and field == "orelse" and len(node.orelse) == 1
            inner = depth + 1 if isinstance(child, BLOCKS) and not is_elif else depth
            deepest = max(deepest, _nesting(child, inner))
    return deepest


def _function_sizes(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            has_docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            first = body[1].lineno if has_docstring and len(body) > 1 else body[0].lineno
            yield node.name, node.end_lineno - first + 1, _nesting(node)


def test_no_function_of_the_plugins_is_long_or_deeply_nested():
    found = []
    for folder in ("module_utils", "modules"):
        for name in sorted(os.listdir(os.path.join(ROOT, "plugins", folder))):
            if name.endswith(".py"):
                found += ["%s %s: %d lines, nesting %d" % (name, function, lines, nesting)
                          for function, lines, nesting in _function_sizes(os.path.join(ROOT, "plugins", folder, name))
                          if lines > MAX_FUNCTION_LINES or nesting > MAX_NESTING]
    assert found == []


def test_the_size_rule_sees_length_and_nesting():
    source = "def f():\n    '''doc'''\n    for a in b:\n        if a:\n            while a:\n                if c:\n                    pass\n"
    tree = ast.parse(source)
    assert _nesting(tree.body[0]) == 4
    assert _nesting(ast.parse("def f():\n    if a:\n        pass\n    elif b:\n        pass\n    else:\n        pass\n").body[0]) == 1
