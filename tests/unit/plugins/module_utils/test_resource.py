# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.novita.cloud.plugins.module_utils.module import reported
from ansible_collections.novita.cloud.plugins.module_utils.resource import Named, diff_header
from ansible_collections.novita.cloud.plugins.module_utils.schema import Codec, Option, Schema


def test_named_picks_exactly_one_by_name_and_names_several_with_their_sorted_ids():
    items = [{"n": "a", "k": 10}, {"n": "b", "k": 2}, {"n": "a", "k": 9}, {"n": "ab", "k": 1}]
    one = Named(items, "b", "things", name_key="n", id_key="k")
    assert one.one is items[1] and one.matches == [items[1]] and one.several is None
    none = Named(items, "c", "things", name_key="n", id_key="k")
    assert none.one is None and none.matches == [] and none.several is None
    several = Named(items, "a", "things", name_key="n", id_key="k")
    assert several.one is None and several.matches == [items[0], items[2]]
    assert several.ids == ["10", "9"] and several.several == "2 things are named a (IDs: 10, 9)"


def test_diff_header_names_the_resource_and_its_id_once_it_has_one():
    assert diff_header("network storage", "models", "ns-1") == "network storage models (ns-1)"
    assert diff_header("registry credential", "hub", None) == "registry credential hub"


def test_the_create_only_sentence_belongs_to_the_schema():
    row = Option("zone", "str", ["Where it runs."], api=["zone"], codec=Codec("str"), immutable=True)
    assert Schema([row], noun="a thing").option_docs("s")["zone"]["description"] == ["Where it runs.", "Set at creation only, see O(recreate)."]
    assert Schema([row], noun="a thing", create_only=None).option_docs("s")["zone"]["description"] == ["Where it runs."]


def test_a_failed_run_that_wrote_nothing_reports_action_none_and_what_was_planned():
    assert reported({"changed": False, "action": "updated"}) == {"changed": False, "action": "none", "planned": "updated"}
    # once a write was made, the action that was done stays
    assert reported({"changed": True, "action": "recreated"}) == {"changed": True, "action": "recreated"}
    assert reported({"changed": False, "action": "unchanged"}) == {"changed": False, "action": "unchanged"}
