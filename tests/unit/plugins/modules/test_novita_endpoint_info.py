# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils import endpoint
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import endpoint_result, hidden_env_names
from ansible_collections.novita.cloud.plugins.modules import novita_endpoint_info
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data

LIMITS = {
    "minRootfsSize": 10, "maxRootfsSize": 500, "freeRootfsSize": 100,
    "minWorkerNum": 0, "maxWorkerNum": "50",
    "minGPUNum": 1, "maxGPUNum": 8,
    "minQueueWaitTime": 1, "maxQueueWaitTime": 300,
    "cudaVersionList": ["12.4", 12.8],
}


def api_endpoint(endpoint_id, name, **overrides):
    """An endpoint with workers, a health check and a secret among its variables."""
    data = dict(url="https://%s.example.invalid" % endpoint_id, state={"state": "serving", "error": "", "message": ""},
                workerConfig={"minNum": 1, "maxNum": 2, "freeTimeout": "300", "maxConcurrent": "4", "gpuNum": 1},
                policy={"type": "queue", "value": "60"}, volumeMounts=[{"type": "local", "size": 30, "id": "", "mountPath": "/data"}],
                envs=[{"key": "hfHome", "value": "/models"}, {"key": "HF_TOKEN", "value": "t0p-secret"}],
                workers=[{"id": endpoint_id + "-worker-0", "state": {"state": "running"}, "healthy": True}],
                healthy={"path": "/health", "initialDelay": 60, "successThreshold": 1})
    data.update(overrides)
    return endpoint_data(endpoint_id, name, **data)


def fake(endpoints, **kwargs):
    """The fake API with the account limits above; the info module writes nothing."""
    return FakeClient(endpoints, limits=LIMITS, read_only=True, **kwargs)


TWINS = [api_endpoint("a1", "chat"), api_endpoint("b2", "embed"), api_endpoint("c3", "chat", envs=[])]


def test_by_id_is_one_get_and_the_shape_of_novita_endpoint(run_module):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, {"id": "b2"}, client)
    assert failed is False
    assert result["changed"] is False
    assert client.calls == [("GET", "/endpoint")] and client.queries == [("/endpoint", {"id": "b2"})]
    assert result["endpoints"] == [endpoint_result(TWINS[1], hidden_env_names((), TWINS[1]["envs"]))]
    assert "limits" not in result


def test_the_returned_endpoint_is_snake_case_with_names_and_values_verbatim(run_module):
    failed, result = run_module(novita_endpoint_info.main, {"id": "a1", "show_envs": ["hfHome", "HF_TOKEN"]}, fake(TWINS))
    endpoint = result["endpoints"][0]
    assert endpoint["worker_config"]["free_timeout"] == 300
    assert endpoint["policy"] == {"type": "queue", "value": 60}
    assert endpoint["port"] == 8000
    assert endpoint["envs"] == {"hfHome": "/models", "HF_TOKEN": "t0p-secret"}
    assert endpoint["healthy"] == {"path": "/health", "initial_delay": 60, "success_threshold": 1}
    assert endpoint["volume_mounts"] == [{"type": "local", "size": 30, "mount_path": "/data"}]


@pytest.mark.parametrize("not_found", [404, 400])
def test_an_unknown_id_returns_no_endpoint(run_module, not_found):
    client = fake(TWINS, not_found=not_found)
    failed, result = run_module(novita_endpoint_info.main, {"id": "zz"}, client)
    assert failed is False
    assert result["endpoints"] == []
    assert client.calls == [("GET", "/endpoint")] and client.queries == [("/endpoint", {"id": "zz"})]


def test_by_name_returns_every_endpoint_with_that_name(run_module):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, {"name": "chat"}, client)
    assert failed is False
    assert [e["id"] for e in result["endpoints"]] == ["a1", "c3"]
    assert client.calls == [("LIST", "/endpoints")]


def test_an_empty_name_matches_endpoints_without_a_name(run_module):
    nameless = api_endpoint("d4", None)
    failed, result = run_module(novita_endpoint_info.main, {"name": ""}, fake(TWINS + [nameless]))
    assert [e["id"] for e in result["endpoints"]] == ["d4"]


def test_without_a_filter_every_endpoint_in_list_order(run_module):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, {}, client)
    assert [e["id"] for e in result["endpoints"]] == ["a1", "b2", "c3"]
    assert result["endpoints"] == [endpoint_result(e, hidden_env_names((), e["envs"])) for e in TWINS]
    assert client.calls == [("LIST", "/endpoints")]


def test_env_values_are_masked_unless_named_in_show_envs(run_module):
    failed, result = run_module(novita_endpoint_info.main, {}, fake(TWINS))
    assert result["endpoints"][0]["envs"] == {"hfHome": "********", "HF_TOKEN": "********"}
    assert "t0p-secret" not in json.dumps(result)
    failed, result = run_module(novita_endpoint_info.main, {"show_envs": ["hfHome", "NOT_SET"]}, fake(TWINS))
    assert result["endpoints"][0]["envs"] == {"hfHome": "/models", "HF_TOKEN": "********"}
    assert result["endpoints"][2]["envs"] == {}
    assert "t0p-secret" not in json.dumps(result)


def test_gather_limits_adds_one_read_with_snake_case_integers(run_module):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, {"id": "a1", "gather_limits": True}, client)
    assert client.calls == [("GET", "/endpoint"), ("GET", "/endpoint/limit")]
    assert client.queries == [("/endpoint", {"id": "a1"}), ("/endpoint/limit", None)]
    assert result["limits"] == {
        "min_rootfs_size": 10, "max_rootfs_size": 500, "free_rootfs_size": 100,
        "min_worker_num": 0, "max_worker_num": 50,
        "min_gpu_num": 1, "max_gpu_num": 8,
        "min_queue_wait_time": 1, "max_queue_wait_time": 300,
        "cuda_version_list": ["12.4", "12.8"],
    }


def test_check_mode_makes_the_same_reads(run_module):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, {"name": "embed", "gather_limits": True}, client, check_mode=True)
    assert failed is False
    assert result["changed"] is False
    assert [e["id"] for e in result["endpoints"]] == ["b2"]
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint/limit")] and client.queries == [("/endpoint/limit", None)]


@pytest.mark.parametrize("args, message", [
    ({"id": "a1", "name": "chat"}, "parameters are mutually exclusive: id|name"),
    ({"id": " "}, "id must not be empty; leave it out to list every endpoint"),
])
def test_bad_input_fails_before_any_request(run_module, args, message):
    client = fake(TWINS)
    failed, result = run_module(novita_endpoint_info.main, args, client)
    assert failed is True
    assert result["msg"] == message
    assert client.calls == []


def test_an_api_error_fails_with_its_details(run_module):
    error = NovitaAPIError("Novita API request GET /endpoints failed with HTTP 503: busy", status=503, method="GET", path="/endpoints",
                           api_message="busy")
    client = fake(TWINS, fail_reads={"/endpoints": 0}, read_error=error)
    failed, result = run_module(novita_endpoint_info.main, {}, client)
    assert failed is True
    assert result["msg"] == "Novita API request GET /endpoints failed with HTTP 503: busy"
    assert result["failure"] == {"status": 503, "method": "GET", "path": "/endpoints", "url": None, "api_code": None, "api_reason": None,
                                 "api_message": "busy", "request_id": None, "body_excerpt": None, "reason": None, "attempts": 1}
    assert result["endpoints"] == []


def test_a_limits_error_keeps_the_endpoints_already_read(run_module):
    error = NovitaAPIError("Novita API request GET /endpoint/limit failed with HTTP 500", status=500, method="GET", path="/endpoint/limit")
    client = fake(TWINS, fail_reads={"/endpoint/limit": 0}, read_error=error)
    failed, result = run_module(novita_endpoint_info.main, {"id": "a1", "gather_limits": True}, client)
    assert failed is True
    assert result["failure"]["path"] == "/endpoint/limit"
    assert [e["id"] for e in result["endpoints"]] == ["a1"]


@pytest.mark.parametrize("name, expected", [
    ("minGPUNum", "min_gpu_num"),
    ("maxGPUNum", "max_gpu_num"),
    ("cudaVersionList", "cuda_version_list"),
    ("minQueueWaitTime", "min_queue_wait_time"),
    ("clusterID", "cluster_id"),
    ("already_snake", "already_snake"),
])
def test_snake_case(name, expected):
    assert endpoint.snake_case(name) == expected


def test_output_declaration_returns_declarations_the_shared_name_and_the_credentials_without_passwords(run_module, monkeypatch):
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warned.append(text))
    auths = [{"id": "auth-1", "name": "hub", "username": "bot", "password": "hub-pw-9"}]
    using = api_endpoint("b2", "embed", image={"image": "img", "authId": "auth-1", "command": ""})
    client = fake([TWINS[0], using, TWINS[2]], auths=auths)
    failed, result = run_module(novita_endpoint_info.main, {"output": "declaration"}, client)
    assert failed is False
    assert "endpoints" not in result
    assert [d["name"] for d in result["declarations"]] == ["embed"]
    assert result["declarations"][0]["image"] == {"image": "img", "auth_name": "hub"}
    assert result["declarations"][0]["envs"] == {"hfHome": "/models", "HF_TOKEN": "t0p-secret"}
    assert "id" not in result["declarations"][0] and "workers" not in result["declarations"][0]
    assert result["duplicate_names"] == [{"name": "chat", "ids": ["a1", "c3"]}]
    assert [(n["id"], n["declared"]) for n in result["export_notes"]] == [("a1", False), ("c3", False)]
    assert result["registry_auths"] == [{"name": "hub", "username": "bot", "password": '{{ vault_novita_registry_passwords["hub"] }}'}]
    assert "hub-pw-9" not in json.dumps(result)
    assert len(warned) == 1 and "2 endpoints have no declaration because their name is not unique: chat (a1, c3)" in warned[0]
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/repository/auths"), ("GET", "/networkstorages/list")]
