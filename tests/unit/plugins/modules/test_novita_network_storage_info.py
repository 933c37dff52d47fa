# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.modules import novita_network_storage_info
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data, mounting, storage

STORAGES = [storage("ns-1", "models", "100"), storage("ns-2", "models-old", 20, "c2", "eu-west"), storage("ns-3", "models", 10)]
ENDPOINTS = [mounting("ep-1", "chat", "ns-1"), mounting("ep-2", "embed", "ns-3"), mounting("ep-3", "batch", "ns-1"), endpoint_data("ep-4", "x")]


def test_every_storage_in_list_order(run_module):
    client = FakeClient(storages=STORAGES)
    failed, result = run_module(novita_network_storage_info.main, {}, client)
    assert failed is False and result["changed"] is False
    assert [s["id"] for s in result["network_storages"]] == ["ns-1", "ns-2", "ns-3"]
    assert result["network_storages"][0] == {"id": "ns-1", "name": "models", "size": 100, "cluster_id": "c1", "cluster_name": "us-east",
                                             "price": "0.07"}
    assert client.queries_of("/networkstorages/list") == [{"pageNo": 1, "pageSize": 100}]


def test_by_name_keeps_exact_matches(run_module):
    client = FakeClient(storages=STORAGES)
    failed, result = run_module(novita_network_storage_info.main, {"name": "models"}, client, check_mode=True)
    assert [s["id"] for s in result["network_storages"]] == ["ns-1", "ns-3"]
    assert client.queries_of("/networkstorages/list") == [{"pageNo": 1, "pageSize": 100, "storageName": "models"}]


def test_by_id_and_an_unknown_id(run_module):
    client = FakeClient(storages=STORAGES)
    failed, result = run_module(novita_network_storage_info.main, {"id": "ns-2"}, client)
    assert [s["name"] for s in result["network_storages"]] == ["models-old"]
    failed, result = run_module(novita_network_storage_info.main, {"id": "ns-404"}, client)
    assert failed is False and result["network_storages"] == []
    assert [q.get("storageId") for q in client.queries_of("/networkstorages/list")] == ["ns-2", "ns-404"]


def test_used_by_reads_the_endpoints_once(run_module):
    client = FakeClient(ENDPOINTS, storages=STORAGES)
    failed, result = run_module(novita_network_storage_info.main, {"used_by": True}, client)
    assert [s["used_by"] for s in result["network_storages"]] == [
        [{"id": "ep-3", "name": "batch"}, {"id": "ep-1", "name": "chat"}], [], [{"id": "ep-2", "name": "embed"}]]
    assert client.calls == [("GET", "/networkstorages/list"), ("LIST", "/endpoints")]
    client.calls = []
    failed, result = run_module(novita_network_storage_info.main, {"used_by": True, "name": "nothing"}, client)
    assert result["network_storages"] == [] and client.calls == [("GET", "/networkstorages/list")]


@pytest.mark.parametrize("args, message", [
    ({"id": "ns-1", "name": "models"}, "parameters are mutually exclusive: id|name"),
    ({"name": " "}, "name must not be empty; leave it out to list every network storage"),
])
def test_bad_input_fails_before_any_request(run_module, args, message):
    client = FakeClient(storages=STORAGES)
    failed, result = run_module(novita_network_storage_info.main, args, client)
    assert failed is True and result["msg"] == message and client.calls == []


def test_an_api_error_fails_with_its_details(run_module):
    client = FakeClient(storages=STORAGES)

    def get(path, query=None):
        raise NovitaAPIError("Novita API returned HTTP 503 on GET /networkstorages/list", status=503, method="GET", path=path)
    client.get = get
    failed, result = run_module(novita_network_storage_info.main, {}, client)
    assert failed is True and result["failure"]["status"] == 503 and result["network_storages"] == []
