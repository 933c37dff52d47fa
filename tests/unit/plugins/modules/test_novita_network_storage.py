# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.novita.cloud.plugins.module_utils import api, network_storage
from ansible_collections.novita.cloud.plugins.modules import novita_network_storage
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, load_file, module_docs, mounting, storage


def test_create_then_rerun_unchanged(run_module):
    client = FakeClient(reply_id=False)
    failed, result = run_module(novita_network_storage.main, {"name": "team-models", "cluster_name": "us-east", "size": 50}, client)
    assert failed is False and result["changed"] is True and result["action"] == "created"
    assert result["network_storage"] == {"id": "ns-11", "name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east",
                                         "price": "0.07"}
    assert "diff" not in result
    client.calls = []
    failed, result = run_module(novita_network_storage.main, {"name": "team-models", "cluster_name": "us-east", "size": 50}, client)
    assert failed is False and result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [("GET", "/networkstorages/list")]


def test_check_mode_and_diff_write_nothing(run_module):
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    failed, result = run_module(novita_network_storage.main, {"name": "models", "size": 120}, client, check_mode=True, diff=True)
    assert failed is False and result["changed"] is True and result["action"] == "updated"
    assert result["diff"]["before"]["size"] == 100 and result["diff"]["after"]["size"] == 120
    assert result["diff"]["before_header"] == "network storage models (ns-1)"
    assert client.writes() == []


def test_every_problem_of_the_task_is_reported_with_no_write(run_module):
    client = FakeClient()
    failed, result = run_module(novita_network_storage.main, {"name": "my storage", "cluster_name": "nowhere", "size": 0}, client)
    assert failed is True
    assert result["errors"] == [
        "name: 'my storage' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only",
        "size: 0 GB is less than the allowed minimum of 10 GB",
        "cluster_name: no cluster has the name nowhere; clusters that support network storage: c1 (us-east), c2 (eu-west)",
    ]
    assert result["msg"] == "3 problems, nothing was written: " + "; ".join(result["errors"])
    assert result["changed"] is False and result["action"] == "none" and result["planned"] == "created"
    assert client.writes() == []


def test_a_missing_api_key_is_reported_with_the_task_problems(run_module, monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run_module(novita_network_storage.main, {"api_key": "", "name": "bad_name", "size": 5, "cluster_id": "c1"})
    assert failed is True
    assert len(result["errors"]) == 3 and result["errors"][2] == api.KEY_MISSING_MESSAGE


@pytest.mark.parametrize("args, message", [
    ({"name": "a", "cluster_id": "c1", "cluster_name": "us-east"}, "parameters are mutually exclusive: cluster_id|cluster_name"),
    ({"size": 10}, "one of the following is required: id, name"),
])
def test_option_rules_of_the_argument_spec(run_module, args, message):
    client = FakeClient()
    failed, result = run_module(novita_network_storage.main, args, client)
    assert failed is True and result["msg"] == message and client.calls == []


def test_delete_refused_while_mounted_then_forced(run_module, monkeypatch):
    client = FakeClient(storages=[storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1")])
    failed, result = run_module(novita_network_storage.main, {"name": "models", "state": "absent"}, client)
    assert failed is True and result["changed"] is False and result["action"] == "none" and result["planned"] == "deleted"
    assert "mounted by 1 endpoint(s): chat (ep-1)" in result["msg"]
    assert result["used_by"] == [{"id": "ep-1", "name": "chat"}] and result["network_storage_id"] == "ns-1"
    assert client.writes() == []
    warnings = []
    monkeypatch.setattr(novita_network_storage.NovitaModule, "warn", lambda self, text: warnings.append(text))
    failed, result = run_module(novita_network_storage.main, {"name": "models", "state": "absent", "force": True}, client)
    assert failed is False and result["changed"] is True and result["action"] == "deleted"
    assert "warnings" not in result and "chat (ep-1)" in warnings[0]
    assert client.storages == []


@pytest.mark.parametrize("args", [{"size": 50}, {"cluster_id": "c2"}], ids=["shrink", "other-cluster"])
def test_a_refused_change_says_it_was_an_update(run_module, args):
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    failed, result = run_module(novita_network_storage.main, dict(args, name="models"), client)
    assert failed is True and result["action"] == "none" and result["planned"] == "updated" and result["changed"] is False
    assert result["network_storage_id"] == "ns-1" and client.writes() == []


def test_duplicate_names_fail_listing_the_ids(run_module):
    client = FakeClient(storages=[storage("ns-1", "models"), storage("ns-2", "models", size=50)])
    failed, result = run_module(novita_network_storage.main, {"name": "models", "size": 200}, client)
    assert failed is True and result["network_storage_ids"] == ["ns-1", "ns-2"]
    assert result["msg"] == "name: 2 network storages are named models (IDs: ns-1, ns-2); set id to choose the one to manage"
    assert client.writes() == []


def test_identical_duplicates_are_managed_through_the_first_by_id_with_a_warning(run_module, monkeypatch):
    client = FakeClient(storages=[storage("ns-10", "models"), storage("ns-9", "models")])
    warnings = []
    monkeypatch.setattr(novita_network_storage.NovitaModule, "warn", lambda self, text: warnings.append(text))
    failed, result = run_module(novita_network_storage.main, {"name": "models", "size": 100, "cluster_id": "c1"}, client)
    assert failed is False and result["changed"] is False and result["network_storage"]["id"] == "ns-9"
    assert warnings == ["2 network storages are named models, with the same size and cluster (IDs: ns-10, ns-9); this run manages ns-9,"
                        " the first by ID, and leaves ns-10 alone: delete it if nothing mounts it"]
    failed, result = run_module(novita_network_storage.main, {"name": "models", "size": 200}, client)
    assert failed is False and result["changed"] is True and result["network_storage"]["id"] == "ns-9"
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-9", "storageName": "models", "storageSize": 200}]
    # They differ now; the one with the task's values is still the one managed, and the rerun changes nothing.
    del warnings[:]
    failed, result = run_module(novita_network_storage.main, {"name": "models", "size": 200}, client)
    assert failed is False and result["changed"] is False and result["network_storage"]["id"] == "ns-9"
    assert warnings == ["2 network storages are named models (IDs: ns-10, ns-9); this run manages ns-9, the only one with the task's"
                        " values, and leaves ns-10 alone: delete it if nothing mounts it"]
    assert len(client.sent("/networkstorage/update")) == 1


# ---------------------------------------------------------------------------
# the documentation


SCHEMA = network_storage.NETWORK_STORAGE_SCHEMA
ALL = ("novita_network_storage", "novita_network_storage_info", "novita_cluster_info")
GENERATED = [
    ("novita_network_storage", "DOCUMENTATION", "network storage options", 2, SCHEMA.option_docs(network_storage.SCOPE)),
    ("novita_network_storage", "RETURN", "network storage keys", 4, SCHEMA.return_docs()),
    ("novita_network_storage_info", "RETURN", "network storage keys", 4, SCHEMA.return_docs()),
]
GENERATED += [(module, "RETURN", "failure keys", 4, api.FAILURE_DOCS) for module in ALL]
GENERATED += [(module, "RETURN", "api_requests", 0, api.API_REQUESTS_DOCS) for module in ALL]


@pytest.mark.parametrize("module, docstring, block, indent, data", GENERATED, ids=["%s-%s" % (g[0], g[2]) for g in GENERATED])
def test_generated_doc_blocks_match_the_schema(module, docstring, block, indent, data):
    """The blocks between the BEGIN/END generated markers are what tools/schema_docs.py renders from the rows."""
    text = module_docs(module, parse=False)[docstring]
    assert load_file("schema_docs", "tools/schema_docs.py").replace_block(text, block, indent, data) == text


def test_documented_options_match_the_argument_spec():
    options = module_docs("novita_network_storage")["DOCUMENTATION"]["options"]
    spec = network_storage.network_storage_argument_spec()
    assert sorted(options) == sorted(spec)
    for name, data in options.items():
        assert data["type"] == spec[name]["type"] and data.get("default") == spec[name].get("default"), name
