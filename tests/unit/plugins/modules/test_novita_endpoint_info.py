# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils import endpoint
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import endpoint_result, hidden_env_names
from ansible_collections.novita.cloud.plugins.modules import novita_endpoint_info
from ansible_collections.novita.cloud.tests.unit.plugins.modules import module_runner

LIMITS = {
    "minRootfsSize": 10, "maxRootfsSize": 500, "freeRootfsSize": 100,
    "minWorkerNum": 0, "maxWorkerNum": "50",
    "minGPUNum": 1, "maxGPUNum": 8,
    "minQueueWaitTime": 1, "maxQueueWaitTime": 300,
    "cudaVersionList": ["12.4", 12.8],
}


def api_endpoint(endpoint_id, name, **overrides):
    data = {
        "id": endpoint_id, "name": name, "appName": endpoint_id, "url": "https://%s.example.invalid" % endpoint_id,
        "state": {"state": "serving", "error": "", "message": ""},
        "workerConfig": {"minNum": 1, "maxNum": 2, "freeTimeout": "300", "maxConcurrent": "4", "gpuNum": 1},
        "policy": {"type": "queue", "value": "60"}, "image": {"image": "img", "authId": "", "command": "run"},
        "rootfsSize": 100, "volumeMounts": [{"type": "local", "size": 30, "id": "", "mountPath": "/data"}],
        "envs": [{"key": "hfHome", "value": "/models"}, {"key": "HF_TOKEN", "value": "t0p-secret"}],
        "ports": [{"port": "8000"}], "products": [{"id": "1"}],
        "workers": [{"id": endpoint_id + "-worker-0", "state": {"state": "running"}, "healthy": True}],
        "healthy": {"path": "/health", "initialDelay": 60, "successThreshold": 1},
    }
    data.update(overrides)
    return data


class FakeClient:
    """Stands in for NovitaClient: answers get, list and limits from memory and records each call."""

    def __init__(self, endpoints=(), fail=None, not_found=404):
        self.endpoints = [copy.deepcopy(e) for e in endpoints]
        self.not_found = not_found  # 404, or Novita's documented 400 SERVERLESS_ENDPOINT_NOT_FOUND
        self.fail = fail  # (method, path) -> NovitaAPIError to raise
        self.calls = []

    def scrub(self, text):
        return text

    scrub_echo = scrub

    def scrub_failure(self, message, failure):
        return message, failure

    def add_trace(self, result):
        return result

    def _maybe_fail(self, method, path):
        if self.fail and self.fail[0] == (method, path):
            raise self.fail[1]

    def get(self, path, query=None):
        self.calls.append(("GET", path, query))
        self._maybe_fail("GET", path)
        if path == "/endpoint/limit":
            return copy.deepcopy(LIMITS)
        if path == "/endpoint":
            for endpoint in self.endpoints:
                if endpoint["id"] == query["id"]:
                    return {"endpoint": copy.deepcopy(endpoint)}
            if self.not_found == 404:
                raise NovitaAPIError("Novita API request GET /endpoint failed with HTTP 404", status=404, method="GET", path=path)
            raise NovitaAPIError("Novita API returned HTTP 400 SERVERLESS_ENDPOINT_NOT_FOUND on GET /endpoint", status=400, method="GET",
                                 path=path, api_code=400, api_reason="SERVERLESS_ENDPOINT_NOT_FOUND", api_message="endpoint not found")
        raise AssertionError("unexpected GET %s" % path)

    def list_all(self, path, items_key, page_size=100):
        self.calls.append(("LIST", path, items_key))
        self._maybe_fail("LIST", path)
        return copy.deepcopy(self.endpoints)

    def post(self, path, body):
        raise AssertionError("the info module wrote: POST %s" % path)


def run_module(monkeypatch, args, client, check_mode=False):
    """Run main() with ``client`` as the API; return (failed, result)."""
    return module_runner.run_module(monkeypatch, novita_endpoint_info.main, dict(args, _ansible_check_mode=check_mode), client=client)


TWINS = [api_endpoint("a1", "chat"), api_endpoint("b2", "embed"), api_endpoint("c3", "chat", envs=[])]


def test_by_id_is_one_get_and_the_shape_of_novita_endpoint(monkeypatch):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, {"id": "b2"}, client)
    assert failed is False
    assert result["changed"] is False
    assert client.calls == [("GET", "/endpoint", {"id": "b2"})]
    assert result["endpoints"] == [endpoint_result(TWINS[1], hidden_env_names((), TWINS[1]["envs"]))]
    assert "limits" not in result


def test_the_returned_endpoint_is_snake_case_with_names_and_values_verbatim(monkeypatch):
    failed, result = run_module(monkeypatch, {"id": "a1", "show_envs": ["hfHome", "HF_TOKEN"]}, FakeClient(TWINS))
    endpoint = result["endpoints"][0]
    assert endpoint["worker_config"]["free_timeout"] == 300
    assert endpoint["policy"] == {"type": "queue", "value": 60}
    assert endpoint["port"] == 8000
    assert endpoint["envs"] == {"hfHome": "/models", "HF_TOKEN": "t0p-secret"}
    assert endpoint["healthy"] == {"path": "/health", "initial_delay": 60, "success_threshold": 1}
    assert endpoint["volume_mounts"] == [{"type": "local", "size": 30, "mount_path": "/data"}]


@pytest.mark.parametrize("not_found", [404, 400])
def test_an_unknown_id_returns_no_endpoint(monkeypatch, not_found):
    client = FakeClient(TWINS, not_found=not_found)
    failed, result = run_module(monkeypatch, {"id": "zz"}, client)
    assert failed is False
    assert result["endpoints"] == []
    assert client.calls == [("GET", "/endpoint", {"id": "zz"})]


def test_by_name_returns_every_endpoint_with_that_name(monkeypatch):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, {"name": "chat"}, client)
    assert failed is False
    assert [e["id"] for e in result["endpoints"]] == ["a1", "c3"]
    assert client.calls == [("LIST", "/endpoints", "endpoints")]


def test_an_empty_name_matches_endpoints_without_a_name(monkeypatch):
    nameless = api_endpoint("d4", None)
    failed, result = run_module(monkeypatch, {"name": ""}, FakeClient(TWINS + [nameless]))
    assert [e["id"] for e in result["endpoints"]] == ["d4"]


def test_without_a_filter_every_endpoint_in_list_order(monkeypatch):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, {}, client)
    assert [e["id"] for e in result["endpoints"]] == ["a1", "b2", "c3"]
    assert result["endpoints"] == [endpoint_result(e, hidden_env_names((), e["envs"])) for e in TWINS]
    assert client.calls == [("LIST", "/endpoints", "endpoints")]


def test_env_values_are_masked_unless_named_in_show_envs(monkeypatch):
    failed, result = run_module(monkeypatch, {}, FakeClient(TWINS))
    assert result["endpoints"][0]["envs"] == {"hfHome": "********", "HF_TOKEN": "********"}
    assert "t0p-secret" not in json.dumps(result)
    failed, result = run_module(monkeypatch, {"show_envs": ["hfHome", "NOT_SET"]}, FakeClient(TWINS))
    assert result["endpoints"][0]["envs"] == {"hfHome": "/models", "HF_TOKEN": "********"}
    assert result["endpoints"][2]["envs"] == {}
    assert "t0p-secret" not in json.dumps(result)


def test_gather_limits_adds_one_read_with_snake_case_integers(monkeypatch):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, {"id": "a1", "gather_limits": True}, client)
    assert client.calls == [("GET", "/endpoint", {"id": "a1"}), ("GET", "/endpoint/limit", None)]
    assert result["limits"] == {
        "min_rootfs_size": 10, "max_rootfs_size": 500, "free_rootfs_size": 100,
        "min_worker_num": 0, "max_worker_num": 50,
        "min_gpu_num": 1, "max_gpu_num": 8,
        "min_queue_wait_time": 1, "max_queue_wait_time": 300,
        "cuda_version_list": ["12.4", "12.8"],
    }


def test_check_mode_makes_the_same_reads(monkeypatch):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, {"name": "embed", "gather_limits": True}, client, check_mode=True)
    assert failed is False
    assert result["changed"] is False
    assert [e["id"] for e in result["endpoints"]] == ["b2"]
    assert client.calls == [("LIST", "/endpoints", "endpoints"), ("GET", "/endpoint/limit", None)]


@pytest.mark.parametrize("args, message", [
    ({"id": "a1", "name": "chat"}, "parameters are mutually exclusive: id|name"),
    ({"id": " "}, "id must not be empty; leave it out to list every endpoint"),
])
def test_bad_input_fails_before_any_request(monkeypatch, args, message):
    client = FakeClient(TWINS)
    failed, result = run_module(monkeypatch, args, client)
    assert failed is True
    assert result["msg"] == message
    assert client.calls == []


def test_an_api_error_fails_with_its_details(monkeypatch):
    error = NovitaAPIError("Novita API request GET /endpoints failed with HTTP 503: busy", status=503, method="GET", path="/endpoints",
                           api_message="busy")
    client = FakeClient(TWINS, fail=(("LIST", "/endpoints"), error))
    failed, result = run_module(monkeypatch, {}, client)
    assert failed is True
    assert result["msg"] == "Novita API request GET /endpoints failed with HTTP 503: busy"
    assert result["failure"] == {"status": 503, "method": "GET", "path": "/endpoints", "url": None, "api_code": None, "api_reason": None,
                                 "api_message": "busy", "request_id": None, "body_excerpt": None, "reason": None, "attempts": 1}
    assert result["endpoints"] == []


def test_a_limits_error_keeps_the_endpoints_already_read(monkeypatch):
    error = NovitaAPIError("Novita API request GET /endpoint/limit failed with HTTP 500", status=500, method="GET", path="/endpoint/limit")
    failed, result = run_module(monkeypatch, {"id": "a1", "gather_limits": True}, FakeClient(TWINS, fail=(("GET", "/endpoint/limit"), error)))
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
