# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.secrets import dict_values, endpoint_secret_values, register_secret_values, secret_strings


class Module:
    def __init__(self):
        self.no_log_values = set()


@pytest.mark.parametrize("value, texts", [
    ("s3cret", ["s3cret"]),
    ("", []),
    (None, []),
    (True, []),  # never "true": that word would be masked everywhere
    (1234, ["1234"]),
    (1.5, ["1.5"]),
    ({"A": "x", "B": ["y", {"C": 7}], "D": None}, ["x", "y", "7"]),
])
def test_secret_strings_are_what_ansible_hides_for_a_no_log_value(value, texts):
    assert secret_strings(value) == texts


@pytest.mark.parametrize("given", [{"T": "tok", "U": "u2"}, '{"T": "tok", "U": "u2"}', "T=tok U=u2", "T=tok, U=u2"])
def test_a_dict_option_is_read_as_ansible_converts_it(given):
    assert sorted(dict_values(given)) == ["tok", "u2"]


def test_a_string_that_does_not_convert_is_itself_the_value():
    assert dict_values("not a dict") == ["not a dict"] and dict_values(None) == []


def test_the_secret_values_of_declarations_skip_items_that_are_not_dictionaries():
    items = [{"name": "a", "secret_envs": "T=tok"}, "just-a-name", {"name": "b"}, {"name": "c", "secret_envs": {"U": "u2"}}]
    assert endpoint_secret_values(items) == ["tok", "u2"]
    module = Module()
    register_secret_values(module, endpoint_secret_values(items) + [None, False])
    assert module.no_log_values == set(["tok", "u2"])
