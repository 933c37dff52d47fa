# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Novita API emulator (tests/emulator/novita_emulator.py), run in-process."""

from __future__ import annotations

import copy
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import API_PREFIX
from ansible_collections.novita.cloud.tests.unit.helpers import EMULATOR_ENDPOINT, EMULATOR_KEY, EmulatorClient, emulator_module

novita_emulator = emulator_module()
EMULATOR_PATH = novita_emulator.__file__


def update_body(endpoint_id, **changes):
    body = {
        "id": endpoint_id,
        "workerConfig": {"minNum": 0, "maxNum": 3, "freeTimeout": 120, "maxConcurrent": 2, "gpuNum": 1},
        "ports": [{"port": 9000}],
        "policy": {"type": "concurrency", "value": 5},
        "image": {"image": "nginx:1.27"},
    }
    body.update(changes)
    return body


def test_auth_required(client):
    status, payload, _headers = client.call("GET", "/endpoint/limit", key="")
    assert status == 401
    assert payload == {"code": 401, "message": "invalid or missing API key"}
    status, _payload, _headers = client.call("GET", "/endpoint/limit", key="wrong")
    assert status == 401
    status, _payload, _headers = client.call("GET", "/endpoint/limit", headers={"Authorization": "Basic " + EMULATOR_KEY}, key="")
    assert status == 401
    auths = [entry["auth"] for entry in client.admin("GET", "/requests")["requests"]]
    assert auths == ["missing", "invalid", "invalid"]


def test_create_and_get_with_type_drift(client):
    endpoint_id = client.create()
    assert len(endpoint_id) == 16 and all(char in "0123456789abcdef" for char in endpoint_id)
    endpoint = client.get(endpoint_id)
    assert endpoint["id"] == endpoint_id
    assert endpoint["name"] == "demo"
    assert endpoint["appName"] == endpoint_id
    assert endpoint["url"] == f"https://{endpoint_id}.serverless.emulator.invalid"
    assert endpoint["state"] == {"state": "serving", "error": "", "message": ""}
    assert endpoint["workerConfig"] == {"minNum": 1, "maxNum": 2, "freeTimeout": "300", "maxConcurrent": "4", "gpuNum": 1}
    assert endpoint["policy"] == {"type": "queue", "value": "60"}
    assert endpoint["ports"] == [{"port": "8000"}]
    assert endpoint["image"] == {"image": "nginx:latest", "authId": "auth-1", "command": "run"}
    assert endpoint["rootfsSize"] == 100
    assert endpoint["products"] == [{"id": "1"}]
    assert endpoint["volumeMounts"] == [{"type": "local", "size": 30, "id": "", "mountPath": "/data"}]
    assert endpoint["envs"] == [{"key": "B", "value": "2"}, {"key": "A", "value": "1"}]
    assert endpoint["healthy"] == {"path": "/health", "initialDelay": 60, "period": 10, "timeout": 5, "successThreshold": 1, "failureThreshold": 3}
    assert "clusterID" not in endpoint
    assert len(endpoint["workers"]) == 1 and endpoint["workers"][0]["state"]["state"] == "running"
    assert endpoint["log"] == "" and endpoint["createdAt"] and endpoint["updatedAt"]

    client.admin("POST", "/config", {"port_as_string": False})
    assert client.get(endpoint_id)["ports"] == [{"port": 8000}]


def test_create_is_wrapped_and_validated(client):
    status, payload, _headers = client.call("POST", "/endpoint/create", EMULATOR_ENDPOINT)
    assert (status, payload["message"]) == (400, "missing required field: endpoint")

    spec = copy.deepcopy(EMULATOR_ENDPOINT)
    del spec["workerConfig"]["maxNum"]
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": spec})
    assert (status, payload) == (400, {"code": 400, "message": "missing required field: workerConfig.maxNum"})

    cases = [
        ({"workerConfig": dict(EMULATOR_ENDPOINT["workerConfig"], maxNum=99)}, 400, "workerConfig.maxNum: 99 is out of range [0, 50]"),
        ({"workerConfig": dict(EMULATOR_ENDPOINT["workerConfig"], freeTimeout="300")}, 400, "workerConfig.freeTimeout: expected an integer, got string"),
        ({"workerConfig": dict(EMULATOR_ENDPOINT["workerConfig"], minNum=3)}, 400, "workerConfig.minNum: 3 is greater than workerConfig.maxNum 2"),
        ({"workerConfig": dict(EMULATOR_ENDPOINT["workerConfig"], cudaVersion="10.0")}, 400,
         "workerConfig.cudaVersion: 10.0 is not one of 11.8, 12.1, 12.2, 12.4, 12.6, 12.8"),
        ({"policy": {"type": "concurrency", "value": 101}}, 400, "policy.value: 101 is out of range [1, 100]"),
        ({"policy": {"type": "fifo", "value": 1}}, 400, "policy.type: fifo is not one of queue, concurrency"),
        ({"ports": [{"port": 2222}]}, 400, "ports[0].port: 2222 is reserved (2222, 2223 and 2224 are not allowed)"),
        ({"ports": [{"port": 70000}]}, 400, "ports[0].port: 70000 is out of range [1, 65535]"),
        ({"ports": [{"port": 80}, {"port": 81}]}, 400, "ports: expected exactly one port, got 2"),
        ({"rootfsSize": 5}, 400, "rootfsSize: 5 is out of range [10, 500]"),
        ({"name": "x" * 221}, 400, "name: length 221 is out of range [0, 220]"),
        ({"volumeMounts": [{"type": "local", "size": 1, "mountPath": "/d"}]}, 400, "volumeMounts[0].size: 1 is out of range [10, 500]"),
        ({"products": [{"id": "9"}]}, 404, "product 9 not found"),
        ({"image": {"image": "x", "authId": "auth-9"}}, 404, "registry auth auth-9 not found"),
        ({"clusterID": "cluster-9"}, 404, "cluster cluster-9 not found"),
    ]
    for changes, status_wanted, message in cases:
        spec = dict(copy.deepcopy(EMULATOR_ENDPOINT), **changes)
        status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": spec})
        assert (status, payload) == (status_wanted, {"code": status_wanted, "message": message}), changes
    assert client.admin("GET", "/endpoints")["endpoints"] == []

    client.admin("POST", "/limits", {"maxWorkerNum": 100})
    assert client.create(workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], maxNum=99))
    assert client.ok("GET", "/endpoint/limit")["maxWorkerNum"] == 100


def test_create_defaults_and_duplicate_names(client):
    first = client.create(appName="my-app", ports=[{"port": 8080}], workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], requestTimeout=30, cudaVersion="12.4"))
    second = client.create()
    assert first != second
    endpoint = client.get(first)
    assert endpoint["appName"] == "my-app"
    assert endpoint["url"] == "https://my-app.serverless.emulator.invalid"
    assert endpoint["workerConfig"]["requestTimeout"] == 30
    assert endpoint["workerConfig"]["cudaVersion"] == "12.4"
    assert [item["name"] for item in client.admin("GET", "/endpoints")["endpoints"]] == ["demo", "demo"]


def test_network_mount_cluster_rules(client):
    network = [{"type": "network", "id": "ns-1", "mountPath": "/models"}]
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, volumeMounts=network)})
    assert (status, payload["message"]) == (400, "clusterID: required when network storage ns-1 is mounted")
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, volumeMounts=network, clusterID="cluster-2")})
    assert (status, payload["message"]) == (400, "clusterID: cluster-2 does not match the cluster cluster-1 of network storage ns-1")
    bad = [{"type": "network", "id": "ns-9", "mountPath": "/x"}]
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, volumeMounts=bad, clusterID="cluster-1")})
    assert (status, payload["message"]) == (404, "network storage ns-9 not found")
    endpoint_id = client.create(volumeMounts=network, clusterID="cluster-1")
    endpoint = client.get(endpoint_id)
    assert endpoint["clusterID"] == "cluster-1"
    assert endpoint["volumeMounts"] == [{"type": "network", "size": 0, "id": "ns-1", "mountPath": "/models"}]


def test_get_errors(client):
    status, payload, _headers = client.call("GET", "/endpoint?id=0123456789abcdef")
    assert (status, payload) == (404, {"code": 404, "message": "endpoint 0123456789abcdef not found"})
    status, payload, _headers = client.call("GET", "/endpoint")
    assert (status, payload["message"]) == (400, "missing required parameter: id")
    status, payload, _headers = client.call("GET", "/nope")
    assert status == 404
    status, payload, _headers = client.call("POST", "/endpoint/create", raw=b"{not json")
    assert status == 400 and payload["message"].startswith("invalid JSON body")


def test_list_paging(client):
    ids = client.admin("POST", "/seed", {"endpoints": [{"name": f"e{index}"} for index in range(5)]})["ids"]

    def page(size, number):
        payload = client.ok("GET", f"/endpoints?pageSize={size}&pageNum={number}")
        return [item["id"] for item in payload["endpoints"]], payload["total"]

    assert page(2, 1) == (ids[0:2], 5)
    assert page(2, 2) == (ids[2:4], 5)
    assert page(2, 3) == (ids[4:5], 5)
    assert page(2, 4) == ([], 5)
    assert page(2, 0) == (ids[0:2], 5)  # below the base: clamp

    client.admin("POST", "/config", {"below_base": "empty"})
    assert page(2, 0) == ([], 5)
    client.admin("POST", "/config", {"below_base": "error"})
    status, payload, _headers = client.call("GET", "/endpoints?pageSize=2&pageNum=0")
    assert (status, payload["message"]) == (400, "pageNum: 0 is below the first page 1")

    client.admin("POST", "/config", {"page_base": 0, "below_base": "clamp", "max_page_size": 3})
    assert page(10, 0) == (ids[0:3], 5)
    assert page(10, 1) == (ids[3:5], 5)
    assert page(2, -1) == (ids[0:2], 5)

    for query, missing in (("pageNum=1", "pageSize"), ("pageSize=1", "pageNum")):
        status, payload, _headers = client.call("GET", "/endpoints?" + query)
        assert (status, payload["message"]) == (400, "missing required parameter: " + missing)


def test_update_is_a_full_replace(client):
    endpoint_id = client.create(volumeMounts=[{"type": "network", "id": "ns-1", "mountPath": "/m"}], clusterID="cluster-1",
                                workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], requestTimeout=30, cudaVersion="12.4"))
    before = client.get(endpoint_id)
    assert client.ok("POST", "/endpoint/update", update_body(endpoint_id)) == {}
    after = client.get(endpoint_id)
    assert after["name"] == ""
    assert after["envs"] == []
    assert after["volumeMounts"] == []
    assert after["healthy"]["path"] == "" and after["healthy"]["initialDelay"] == 60
    assert after["image"] == {"image": "nginx:1.27", "authId": "", "command": ""}
    assert "clusterID" not in after
    assert after["workerConfig"] == {"minNum": 0, "maxNum": 3, "freeTimeout": "120", "maxConcurrent": "2", "gpuNum": 1}
    assert after["policy"] == {"type": "concurrency", "value": "5"}
    assert after["ports"] == [{"port": "9000"}]
    for key in ("id", "appName", "products", "rootfsSize", "createdAt", "url"):
        assert after[key] == before[key], key

    full = update_body(endpoint_id, name="kept", envs=[{"key": "K", "value": "V"}], healthy={"path": "/ok"}, appName=endpoint_id,
                       products=[{"id": "1"}], rootfsSize=100, volumeMounts=[{"type": "local", "size": 20, "mountPath": "/d"}])
    client.ok("POST", "/endpoint/update", full)
    after = client.get(endpoint_id)
    assert (after["name"], after["envs"], after["healthy"]["path"]) == ("kept", [{"key": "K", "value": "V"}], "/ok")
    assert after["volumeMounts"] == [{"type": "local", "size": 20, "id": "", "mountPath": "/d"}]


def test_update_errors(client):
    endpoint_id = client.create()
    body = update_body(endpoint_id)
    del body["policy"]["type"]
    status, payload, _headers = client.call("POST", "/endpoint/update", body)
    assert (status, payload["message"]) == (400, "missing required field: policy.type")
    body = update_body(endpoint_id)
    del body["id"]
    status, payload, _headers = client.call("POST", "/endpoint/update", body)
    assert (status, payload["message"]) == (400, "missing required field: id")
    status, payload, _headers = client.call("POST", "/endpoint/update", {"endpoint": update_body(endpoint_id)})
    assert (status, payload["message"]) == (400, "missing required field: id")

    for field, value in (("appName", "other"), ("products", [{"id": "2"}]), ("rootfsSize", 200)):
        status, payload, _headers = client.call("POST", "/endpoint/update", update_body(endpoint_id, **{field: value}))
        assert (status, payload["message"]) == (400, field + " is immutable")

    body = update_body(endpoint_id, workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], gpuNum=9))
    status, payload, _headers = client.call("POST", "/endpoint/update", body)
    assert (status, payload["message"]) == (400, "workerConfig.gpuNum: 9 is out of range [1, 8]")
    status, payload, _headers = client.call("POST", "/endpoint/update", update_body("ffffffffffffffff"))
    assert (status, payload["message"]) == (404, "endpoint ffffffffffffffff not found")
    assert client.get(endpoint_id)["name"] == "demo"  # nothing above changed it


def test_delete(client):
    endpoint_id = client.create()
    status, payload, _headers = client.call("POST", "/endpoint/delete", {"id": endpoint_id})
    assert (status, payload["message"]) == (400, "missing required field: name (the endpoint ID goes under the key name; id is not read)")
    assert client.ok("POST", "/endpoint/delete", {"name": endpoint_id}) == {}
    status, payload, _headers = client.call("GET", "/endpoint?id=" + endpoint_id)
    assert status == 404
    status, payload, _headers = client.call("POST", "/endpoint/delete", {"name": endpoint_id})
    assert (status, payload["message"]) == (404, f"endpoint {endpoint_id} not found")


def test_delete_reads_terminating(client):
    client.admin("POST", "/config", {"delete_reads": 2})
    endpoint_id = client.create()
    client.ok("POST", "/endpoint/delete", {"name": endpoint_id})
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")
    assert listed["total"] == 1 and listed["endpoints"][0]["state"]["state"] == "terminating"
    assert client.get(endpoint_id)["state"]["state"] == "terminating"
    assert client.get(endpoint_id)["state"]["state"] == "terminating"
    status, _payload, _headers = client.call("GET", "/endpoint?id=" + endpoint_id)
    assert status == 404
    assert client.ok("GET", "/endpoints?pageSize=10&pageNum=1") == {"endpoints": [], "total": 0}


def test_init_and_update_reads(client):
    client.admin("POST", "/config", {"init_reads": 2, "update_reads": 1})
    endpoint_id = client.create()
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]
    assert listed["state"]["state"] == "initializing"
    assert listed["workers"] == []
    assert [client.get(endpoint_id)["state"]["state"] for _read in range(3)] == ["initializing", "initializing", "serving"]
    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    assert [client.get(endpoint_id)["state"]["state"] for _read in range(2)] == ["initializing", "serving"]


def test_reference_data(client):
    auths = client.ok("GET", "/repository/auths")["data"]
    assert [(auth["id"], auth["name"]) for auth in auths] == [("auth-1", "dockerhub-private"), ("auth-2", "ghcr-team")]
    assert set(auths[0]) == {"id", "name", "username", "password"}
    clusters = client.ok("GET", "/clusters")["data"]
    assert [(cluster["id"], cluster["name"], cluster["supportNetworkStorage"]) for cluster in clusters] == [
        ("cluster-1", "us-east", True), ("cluster-2", "eu-west", True), ("cluster-3", "ap-southeast", False)]
    storages = client.ok("GET", "/networkstorages/list?pageNo=1&pageSize=10")
    assert storages["total"] == 2
    summary = [(item["storageId"], item["storageName"], item["clusterId"]) for item in storages["data"]]
    assert summary == [("ns-1", "models", "cluster-1"), ("ns-2", "datasets", "cluster-2")]
    assert client.ok("GET", "/networkstorages/list?pageNo=1&pageSize=10&storageName=datasets")["data"][0]["storageId"] == "ns-2"
    assert client.ok("GET", "/networkstorages/list?pageNo=2&pageSize=1") == {"data": [storages["data"][1]], "total": 2}
    limits = client.ok("GET", "/endpoint/limit")
    assert limits == novita_emulator.DEFAULT_LIMITS


def test_request_log(client):
    endpoint_id = client.create()
    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    client.admin("GET", "/endpoints")  # admin calls are not logged
    log = client.admin("GET", "/requests")["requests"]
    assert [entry["seq"] for entry in log] == [1, 2]
    assert log[0] == {"seq": 1, "method": "POST", "path": "/endpoint/create", "query": {}, "body": {"endpoint": EMULATOR_ENDPOINT},
                      "status": 200, "auth": "ok", "user_agent": "emulator-tests", "fault": False, "fault_id": None,
                      "fault_kind": None, "processed": True}
    assert log[1]["path"] == "/endpoint/update" and log[1]["body"]["id"] == endpoint_id
    client.get(endpoint_id)
    assert client.admin("GET", "/requests")["requests"][-1]["query"] == {"id": endpoint_id}
    assert EMULATOR_KEY not in json.dumps(client.admin("GET", "/requests"))
    client.admin("DELETE", "/requests")
    assert client.admin("GET", "/requests") == {"requests": []}


def test_reset_restores_everything(client):
    client.create()
    client.admin("POST", "/config", {"page_base": 0, "latency_ms": 1})
    client.admin("POST", "/limits", {"maxGPUNum": 2})
    client.admin("POST", "/faults", {"method": "GET", "path": "/clusters", "status": 500})
    client.admin("POST", "/reset")
    assert client.admin("GET", "/endpoints") == {"endpoints": []}
    assert client.admin("GET", "/requests") == {"requests": []}
    assert client.admin("GET", "/faults") == {"faults": []}
    assert client.admin("GET", "/config") == novita_emulator.DEFAULT_CONFIG
    assert client.admin("GET", "/limits") == novita_emulator.DEFAULT_LIMITS


def test_seed(client):
    payload = client.admin("POST", "/seed", {"endpoints": [
        {"id": "00000000000000aa", "name": "seeded", "workerConfig": {"minNum": 2}, "envs": [{"key": "X", "value": "y"}]},
        {"name": "broken", "state": {"state": "failed", "error": "boom", "message": "image pull failed"}},
    ]})
    assert payload["ids"][0] == "00000000000000aa" and len(payload["ids"][1]) == 16
    assert client.admin("GET", "/requests") == {"requests": []}
    seeded = client.get("00000000000000aa")
    assert seeded["state"]["state"] == "serving"
    assert seeded["workerConfig"] == {"minNum": 2, "maxNum": 1, "freeTimeout": "300", "maxConcurrent": "1", "gpuNum": 1}
    assert seeded["envs"] == [{"key": "X", "value": "y"}]
    assert seeded["appName"] == "00000000000000aa"
    assert len(seeded["workers"]) == 2
    broken = client.get(payload["ids"][1])
    assert broken["state"] == {"state": "failed", "error": "boom", "message": "image pull failed"}
    assert client.get(payload["ids"][1])["state"]["state"] == "failed"


def test_config_validation(client):
    config = client.admin("POST", "/config", {"max_page_size": 7, "products": ["a"]})
    assert config["max_page_size"] == 7 and config["products"] == ["a"]
    assert client.admin("GET", "/config") == config
    for body, message in (({"nope": 1}, "unknown config key: nope"), ({"below_base": "x"}, "below_base: must be one of clamp, empty, error"),
                          ({"page_base": 2}, "page_base: 2 is out of range [0, 1]")):
        status, payload, _headers = client.call("POST", "/_emulator/config", body, admin=True)
        assert (status, payload["message"]) == (400, message)
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert (status, payload["message"]) == (404, "product 1 not found")
    with pytest.raises(ValueError):
        novita_emulator.Emulator(page_base=5)


def add_fault(client, **rule):
    return client.admin("POST", "/faults", rule)["fault"]


def raw_request(url, method, path, body=None, key=EMULATOR_KEY, timeout=5):
    """Send one API request with http.client; return (status, headers, body bytes) or raise what the client sees."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Authorization": "Bearer " + key}
        if data is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, API_PREFIX + path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_status_faults(client):
    endpoint_id = client.create()
    fault = add_fault(client, method="get", path="/endpoint", status=429, retry_after="1", count=2)
    assert fault == {"id": 1, "kind": "status", "method": "GET", "path": "/endpoint", "count": 2, "skip": 0, "process": False,
                     "status": 429, "retry_after": "1", "body": None, "content_type": None, "delay_ms": 0, "drop_items": None}
    add_fault(client, method="POST", path=API_PREFIX + "/endpoint/delete", status=503, body="upstream down")
    assert len(client.admin("GET", "/faults")["faults"]) == 2

    for _attempt in range(2):
        status, payload, headers = client.call("GET", "/endpoint?id=" + endpoint_id)
        assert (status, payload, headers["Retry-After"]) == (429, {"code": 429, "message": "injected fault"}, "1")
    assert client.get(endpoint_id)["id"] == endpoint_id

    status, payload, headers = client.call("POST", "/endpoint/delete", {"name": endpoint_id})
    assert (status, payload, headers.get("Retry-After"), headers["Content-Type"]) == (503, "upstream down", None, "text/plain; charset=utf-8")
    assert client.get(endpoint_id)["id"] == endpoint_id  # the faulted delete was not processed
    assert client.admin("GET", "/faults") == {"faults": []}

    log = client.admin("GET", "/requests")["requests"]
    assert [(entry["status"], entry["fault"], entry["fault_id"], entry["fault_kind"], entry["processed"]) for entry in log[1:]] == [
        (429, True, 1, "status", False), (429, True, 1, "status", False), (200, False, None, None, True),
        (503, True, 2, "status", False), (200, False, None, None, True)]

    add_fault(client, method="GET", path="/clusters", status=500, count=5)
    client.admin("DELETE", "/faults")
    assert client.ok("GET", "/clusters")["data"]


def test_status_fault_bodies_and_processing(client):
    html = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
    add_fault(client, method="GET", path="/clusters", status=503, body=html, content_type="text/html")
    status, headers, payload = raw_request(client.url, "GET", "/clusters")
    assert (status, headers["Content-Type"], payload) == (503, "text/html", html.encode("utf-8"))
    add_fault(client, method="GET", path="/clusters", status=502, body="")
    status, headers, payload = raw_request(client.url, "GET", "/clusters")
    assert (status, headers["Content-Length"], payload) == (502, "0", b"")
    add_fault(client, method="GET", path="/clusters", status=500, body={"error": {"message": "boom"}})
    assert client.call("GET", "/clusters")[:2] == (500, {"error": {"message": "boom"}})

    # process=true: the create happens although the client gets a 500
    add_fault(client, method="POST", path="/endpoint/create", status=500, process=True)
    status, _payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert status == 500
    assert [endpoint["name"] for endpoint in client.admin("GET", "/endpoints")["endpoints"]] == ["demo"]
    assert client.admin("GET", "/requests")["requests"][-1]["processed"] is True


def test_skip(client):
    add_fault(client, method="GET", path="/clusters", status=500, skip=2, count=1)
    assert [client.call("GET", "/clusters")[0] for _attempt in range(4)] == [200, 200, 500, 200]
    add_fault(client, method="GET", path="/clusters", status=500, skip=1, count=2)
    assert client.admin("GET", "/faults")["faults"][0]["skip"] == 1
    client.call("GET", "/clusters")
    assert client.admin("GET", "/faults")["faults"][0]["skip"] == 0
    assert [client.call("GET", "/clusters")[0] for _attempt in range(3)] == [500, 500, 200]


def test_latency_fault(client):
    add_fault(client, kind="latency", method="POST", path="/endpoint/create", delay_ms=300)
    started = time.monotonic()
    endpoint_id = client.create()
    assert time.monotonic() - started >= 0.3
    assert client.get(endpoint_id)["name"] == "demo"
    entry = client.admin("GET", "/requests")["requests"][0]
    assert (entry["status"], entry["fault_kind"], entry["processed"]) == (200, "latency", True)


def test_timeout_fault_processes_then_holds_without_blocking_the_server(client):
    add_fault(client, kind="timeout", method="POST", path="/endpoint/create", delay_ms=1500)
    started = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        raw_request(client.url, "POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT}, timeout=0.5)
    # the create happened, and the server answers others while that response is held
    assert [endpoint["name"] for endpoint in client.admin("GET", "/endpoints")["endpoints"]] == ["demo"]
    assert client.ok("GET", "/endpoint/limit")["maxGPUNum"] == 8
    assert time.monotonic() - started < 1.4
    entry = client.admin("GET", "/requests")["requests"][0]
    assert (entry["path"], entry["status"], entry["fault_kind"], entry["processed"]) == ("/endpoint/create", 200, "timeout", True)

    # a patient client gets the real answer late
    add_fault(client, kind="timeout", method="GET", path="/clusters", delay_ms=300)
    started = time.monotonic()
    assert client.ok("GET", "/clusters")["data"]
    assert time.monotonic() - started >= 0.3

    # process=false: held, then closed; nothing happens
    add_fault(client, kind="timeout", method="POST", path="/endpoint/create", delay_ms=200, process=False)
    with pytest.raises(http.client.RemoteDisconnected):
        raw_request(client.url, "POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 1
    entry = client.admin("GET", "/requests")["requests"][-1]
    assert (entry["status"], entry["fault_kind"], entry["processed"]) == (None, "timeout", False)


def test_drop_fault(client):
    add_fault(client, kind="drop", method="POST", path="/endpoint/create")
    with pytest.raises(http.client.RemoteDisconnected):
        raw_request(client.url, "POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert [endpoint["name"] for endpoint in client.admin("GET", "/endpoints")["endpoints"]] == ["demo"]
    add_fault(client, kind="drop", method="POST", path="/endpoint/create", process=False)
    with pytest.raises(http.client.RemoteDisconnected):  # urllib passes it through: a ConnectionResetError
        client.call("POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 1
    log = client.admin("GET", "/requests")["requests"]
    assert [(entry["status"], entry["fault_kind"], entry["processed"]) for entry in log] == [(None, "drop", True), (None, "drop", False)]
    assert client.ok("GET", "/clusters")["data"]  # the next request is served


def test_truncate_fault(client):
    endpoint_id = client.create()
    full = client.ok("GET", "/endpoint?id=" + endpoint_id)
    add_fault(client, kind="truncate", method="GET", path="/endpoint")
    with pytest.raises(http.client.IncompleteRead) as caught:
        raw_request(client.url, "GET", "/endpoint?id=" + endpoint_id)
    assert 0 < len(caught.value.partial) < len(json.dumps(full))
    add_fault(client, kind="truncate", method="POST", path="/endpoint/update")
    with pytest.raises(http.client.IncompleteRead):
        raw_request(client.url, "POST", "/endpoint/update", update_body(endpoint_id))
    assert client.get(endpoint_id)["image"]["image"] == "nginx:1.27"  # the update was processed
    entry = client.admin("GET", "/requests")["requests"][-2]
    assert (entry["status"], entry["fault_kind"], entry["processed"]) == (200, "truncate", True)


def test_non_json_fault(client):
    add_fault(client, kind="non_json", method="POST", path="/endpoint/create")
    status, headers, payload = raw_request(client.url, "POST", "/endpoint/create", {"endpoint": EMULATOR_ENDPOINT})
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert payload.startswith(b"<!DOCTYPE html>")
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 1
    add_fault(client, kind="non_json", method="GET", path="/endpoints", body="garbage{", status=502, process=False)
    status, headers, payload = raw_request(client.url, "GET", "/endpoints?pageSize=10&pageNum=1")
    assert (status, headers["Content-Type"], payload) == (502, "text/plain; charset=utf-8", b"garbage{")


def test_fault_rule_validation(client):
    cases = (
        ({"kind": "bogus", "method": "GET", "path": "/x"},
         "kind: bogus is not one of status, latency, timeout, drop, truncate, non_json, echo, short_page, repeat_page"),
        ({"method": "GET", "path": "/x"}, "missing required field: status"),
        ({"kind": "timeout", "method": "GET", "path": "/x"}, "missing required field: delay_ms"),
        ({"kind": "latency", "method": "GET", "path": "/x", "delay_ms": 0}, "delay_ms: kind latency needs a delay above 0"),
        ({"kind": "drop", "method": "GET", "path": "/x", "status": 500}, "status: not used by kind drop (only by status and non_json)"),
        ({"kind": "truncate", "method": "GET", "path": "/x", "process": False}, "process: kind truncate always processes the request"),
        ({"kind": "drop", "method": "GET", "path": "/x", "process": "yes"}, "process: expected a boolean, got string"),
        ({"kind": "non_json", "method": "GET", "path": "/x", "body": {"a": 1}}, "body: expected a string, got object"),
        ({"method": "GET", "path": "/x", "status": 500, "skip": -1}, "skip: -1 is out of range [0, 1000000000]"),
        ({"method": "GET", "path": "/x", "status": 500, "times": 2}, "unknown fault key: times"),
    )
    for rule, message in cases:
        status, payload, _headers = client.call("POST", "/_emulator/faults", rule, admin=True)
        assert (status, payload["message"]) == (400, message)
    assert client.admin("GET", "/faults") == {"faults": []}


def test_latency(client):
    client.admin("POST", "/config", {"latency_ms": 50})
    started = time.monotonic()
    client.ok("GET", "/clusters")
    assert time.monotonic() - started >= 0.05


def test_command_line(tmp_path):
    url_file = tmp_path / "url"
    env = dict(os.environ, NOVITA_EMULATOR_API_KEY="env-key")
    with subprocess.Popen([sys.executable, EMULATOR_PATH, "--url-file", str(url_file), "--page-base", "0", "--max-page-size", "5"],
                          stdout=subprocess.PIPE, env=env) as process:
        try:
            url = process.stdout.readline().decode("utf-8").strip()
            assert url.startswith("http://127.0.0.1:")
            assert url_file.read_text() == url
            api = EmulatorClient(url, key="env-key")
            assert api.admin("GET", "/config")["page_base"] == 0
            assert api.ok("GET", "/clusters")["data"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert process.stdout.read() == b""
        finally:
            if process.poll() is None:
                process.kill()


# ---------------------------------------------------------------- profiles

def documented(client, **config):
    return client.admin("POST", "/config", dict(config, profile="documented"))


def test_profile_config(client):
    config = client.admin("GET", "/config")
    assert (config["profile"], config["stale_reads"], config["zero_worker_state"], config["created_at"]) == ("strict", 0, "serving", "iso")
    assert (config["rate_limit"], config["rate_burst"]) == (0, None)
    assert documented(client)["stale_reads"] == 1  # the profile's default
    assert client.admin("POST", "/config", {"stale_reads": 3})["stale_reads"] == 3
    assert documented(client)["stale_reads"] == 3  # same profile: nothing reset
    assert client.admin("POST", "/config", {"profile": "strict"})["stale_reads"] == 0
    assert documented(client, stale_reads=2)["stale_reads"] == 2
    status, payload, _headers = client.call("POST", "/_emulator/config", {"profile": "lenient"}, admin=True)
    assert (status, payload["message"]) == (400, "profile: must be one of strict, documented")
    with pytest.raises(ValueError):
        novita_emulator.Emulator(profile="lenient")
    assert novita_emulator.Emulator(profile="documented")._initial_config["stale_reads"] == 1  # pylint: disable=protected-access
    assert novita_emulator.Emulator(profile="documented", stale_reads=0)._initial_config["stale_reads"] == 0  # pylint: disable=protected-access


def test_profile_switch_and_reset_to_the_started_profile():
    with novita_emulator.Emulator(api_key=EMULATOR_KEY, profile="documented") as emu:
        api = EmulatorClient(emu.url)
        assert api.admin("GET", "/config")["profile"] == "documented"
        assert api.call("GET", "/endpoint?id=0000000000000000")[0] == 400
        api.admin("POST", "/config", {"profile": "strict"})
        assert api.call("GET", "/endpoint?id=0000000000000000")[0] == 404  # the next request already
        api.admin("POST", "/reset")
        assert api.admin("GET", "/config")["profile"] == "documented"
        assert api.call("GET", "/endpoint?id=0000000000000000")[0] == 400


def test_not_found_by_profile(client):
    unknown = "0123456789abcdef"
    calls = (("GET", "/endpoint?id=" + unknown, None), ("POST", "/endpoint/update", update_body(unknown)), ("POST", "/endpoint/delete", {"name": unknown}))
    for method, path, body in calls:
        status, payload, _headers = client.call(method, path, body)
        assert (status, payload) == (404, {"code": 404, "message": f"endpoint {unknown} not found"}), path
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, products=[{"id": "9"}])})
    assert (status, payload) == (404, {"code": 404, "message": "product 9 not found"})

    documented(client)
    for method, path, body in calls:
        status, payload, _headers = client.call(method, path, body)
        assert (status, payload) == (400, {"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND", "message": f"endpoint {unknown} not found"}), path
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, products=[{"id": "9"}])})
    assert (status, payload) == (400, {"code": 400, "reason": "SERVERLESS_PRODUCT_NOT_FOUND", "message": "product 9 not found"})
    bad = [{"type": "network", "id": "ns-9", "mountPath": "/x"}]
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, volumeMounts=bad, clusterID="cluster-1")})
    assert (status, payload["reason"]) == (400, "NETWORK_STORAGE_NOT_FOUND")
    status, payload, _headers = client.call("GET", "/nope")
    assert (status, payload) == (404, {"code": 404, "message": "no route for GET /nope"})  # a wrong path is still a plain 404


def test_auth_by_profile(client):
    documented(client)
    status, payload, _headers = client.call("GET", "/endpoint/limit", key="")
    assert (status, payload) == (400, {"code": 400, "reason": "MISSING_API_KEY", "message": "missing api-key"})
    for key, headers in (("wrong", None), ("", {"Authorization": "Basic " + EMULATOR_KEY})):
        status, payload, _headers = client.call("GET", "/endpoint/limit", key=key, headers=headers)
        assert (status, payload) == (403, {"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"})
    assert [entry["auth"] for entry in client.admin("GET", "/requests")["requests"]] == ["missing", "invalid", "invalid"]
    assert client.call("GET", "/endpoint/limit")[0] == 200


def test_validation_errors_carry_a_reason_under_documented(client):
    spec = copy.deepcopy(EMULATOR_ENDPOINT)
    del spec["workerConfig"]["maxNum"]
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": spec})
    assert (status, payload) == (400, {"code": 400, "message": "missing required field: workerConfig.maxNum"})
    documented(client)
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": spec})
    assert (status, payload) == (400, {"code": 400, "reason": "VALIDATOR_PARAM", "message": "missing required field: workerConfig.maxNum"})
    status, payload, _headers = client.call("POST", "/endpoint/create", raw=b"{not json")
    assert (status, payload["reason"]) == (400, "VALIDATOR_PARAM")
    endpoint_id = client.create()
    for body in (update_body(endpoint_id, workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], gpuNum=9)), update_body(endpoint_id, appName="other")):
        status, payload, _headers = client.call("POST", "/endpoint/update", body)
        assert status == 400 and payload["reason"] == "VALIDATOR_PARAM"
        assert "NOT_FOUND" not in json.dumps(payload)


def test_numeric_strings_in_update(client):
    endpoint_id = client.create()
    strings = update_body(endpoint_id, rootfsSize="100", workerConfig={"minNum": "0", "maxNum": "3", "freeTimeout": "300", "maxConcurrent": "2",
                                                                       "gpuNum": "1", "requestTimeout": "30"},
                          policy={"type": "queue", "value": "60"}, volumeMounts=[{"type": "local", "size": "20", "mountPath": "/d"}])
    status, payload, _headers = client.call("POST", "/endpoint/update", strings)
    assert (status, payload["message"]) == (400, "rootfsSize: expected an integer, got string")
    status, payload, _headers = client.call("POST", "/endpoint/update", dict(strings, rootfsSize=100))
    assert (status, payload["message"]) == (400, "workerConfig.minNum: expected an integer, got string")

    documented(client, stale_reads=0)
    assert client.ok("POST", "/endpoint/update", strings) == {}
    stored = client.admin("GET", "/endpoints")["endpoints"][0]
    assert stored["workerConfig"] == {"minNum": 0, "maxNum": 3, "freeTimeout": "300", "maxConcurrent": "2", "gpuNum": 1, "requestTimeout": 30}
    assert stored["policy"] == {"type": "queue", "value": "60"}
    assert stored["volumeMounts"] == [{"type": "local", "size": 20, "id": "", "mountPath": "/d"}]
    # Stored as integers: the type drift applies as to any other, and a read-back sends them back unchanged.
    assert client.ok("POST", "/endpoint/update", dict(strings, workerConfig=stored["workerConfig"], policy=stored["policy"])) == {}
    for changes, message in (({"policy": {"type": "queue", "value": "sixty"}}, "policy.value: expected an integer, got string"),
                             ({"policy": {"type": "queue", "value": "-1"}}, "policy.value: -1 is out of range [1, 300]"),
                             ({"policy": {"type": "queue", "value": "1.5"}}, "policy.value: expected an integer, got string")):
        status, payload, _headers = client.call("POST", "/endpoint/update", dict(strings, **changes))
        assert (status, payload["message"]) == (400, message)
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, rootfsSize="100")})
    assert (status, payload["message"]) == (400, "rootfsSize: expected an integer, got string")  # create stays strict


def test_list_default_page(client):
    ids = client.admin("POST", "/seed", {"endpoints": [{"name": f"e{index}"} for index in range(12)]})["ids"]
    status, payload, _headers = client.call("GET", "/endpoints")
    assert (status, payload["message"]) == (400, "missing required parameter: pageSize")
    documented(client)
    listed = client.ok("GET", "/endpoints")
    assert ([item["id"] for item in listed["endpoints"]], listed["total"]) == (ids[:10], 12)
    assert [item["id"] for item in client.ok("GET", "/endpoints?pageNum=2")["endpoints"]] == ids[10:]
    assert [item["id"] for item in client.ok("GET", "/endpoints?pageSize=5")["endpoints"]] == ids[:5]
    client.admin("POST", "/config", {"page_base": 0})
    assert [item["id"] for item in client.ok("GET", "/endpoints?pageNum=1")["endpoints"]] == ids[10:]


def _is_int_port(endpoint):
    port = endpoint["ports"][0]["port"]
    return isinstance(port, int) and not isinstance(port, bool)


def test_documented_states_and_stale_read(client):
    documented(client, init_reads=1, update_reads=2, delete_reads=1)
    endpoint_id = client.create()
    assert client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]["state"]["state"] == "creating"
    assert [client.get(endpoint_id)["state"]["state"] for _read in range(2)] == ["creating", "serving"]
    before = client.get(endpoint_id)

    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]
    # list shows the stale read too, without using it up (the port as a string there, an integer in get)
    assert listed == dict(before, ports=[{"port": str(before["ports"][0]["port"])}])
    assert _is_int_port(before)
    stale = client.get(endpoint_id)
    assert stale == before  # old settings, serving, workers of the old minNum
    assert stale["state"]["state"] == "serving" and stale["image"]["image"] == "nginx:latest"
    reads = [client.get(endpoint_id) for _read in range(3)]
    assert [(read["state"]["state"], read["image"]["image"]) for read in reads] == [
        ("updating", "nginx:1.27"), ("updating", "nginx:1.27"), ("serving", "nginx:1.27")]
    assert client.admin("GET", "/endpoints")["endpoints"][0]["image"]["image"] == "nginx:1.27"

    client.ok("POST", "/endpoint/update", update_body(endpoint_id, image={"image": "nginx:2"}))
    assert client.admin("GET", "/endpoints")["endpoints"][0]["image"]["image"] == "nginx:2"  # the admin view is the store
    client.ok("POST", "/endpoint/delete", {"name": endpoint_id})  # a delete ends the stale read
    status, payload, _headers = client.call("POST", "/endpoint/update", update_body(endpoint_id))
    assert (status, payload["message"]) == (400, f"endpoint {endpoint_id} is deleting")
    assert client.get(endpoint_id)["state"]["state"] == "deleting"
    status, payload, _headers = client.call("GET", "/endpoint?id=" + endpoint_id)
    assert (status, payload["reason"]) == (400, "SERVERLESS_ENDPOINT_NOT_FOUND")


def test_stale_reads_under_strict(client):
    client.admin("POST", "/config", {"stale_reads": 2, "update_reads": 1})
    endpoint_id = client.create()
    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    reads = [client.get(endpoint_id) for _read in range(4)]
    assert [(read["state"]["state"], read["image"]["image"]) for read in reads] == [
        ("serving", "nginx:latest"), ("serving", "nginx:latest"), ("initializing", "nginx:1.27"), ("serving", "nginx:1.27")]


def test_app_name_unique_and_format(client):
    first = client.create(appName="chat-1")
    for profile, reasons in (("strict", False), ("documented", True)):
        client.admin("POST", "/config", {"profile": profile})
        status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, appName="chat-1")})
        assert (status, payload) == (400, {"code": 400, "reason": "SERVERLESS_APP_NAME_IS_EXIST", "message": "app name chat-1 already exists"})
        for bad in ("Chat", "chat_1", "chat.1", "chät"):
            status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, appName=bad)})
            assert (status, payload["message"]) == (400, f"appName: {bad} may contain only lowercase letters, digits and hyphens")
            assert ("reason" in payload) is reasons
    default_named = client.create(appName="")  # empty: defaults to the ID, which is taken as well
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(EMULATOR_ENDPOINT, appName=default_named)})
    assert (status, payload["reason"]) == (400, "SERVERLESS_APP_NAME_IS_EXIST")
    client.ok("POST", "/endpoint/delete", {"name": first})
    assert client.create(appName="chat-1")  # free again once the endpoint is gone
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 2


# ------------------------------------------------------------------ states

def test_zero_worker_state(client):
    scaled = client.create(workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], minNum=0))
    running = client.create()
    assert client.get(scaled)["state"]["state"] == "serving"
    client.admin("POST", "/config", {"zero_worker_state": "stopped", "init_reads": 1})
    assert (client.get(scaled)["state"]["state"], client.get(running)["state"]["state"]) == ("stopped", "serving")
    fresh = client.create(workerConfig=dict(EMULATOR_ENDPOINT["workerConfig"], minNum=0))
    assert [client.get(fresh)["state"]["state"] for _read in range(2)] == ["initializing", "stopped"]  # once settled
    client.admin("POST", "/config", {"zero_worker_state": ""})
    assert client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]["state"] == {"state": "", "error": "", "message": ""}
    status, payload, _headers = client.call("POST", "/_emulator/config", {"zero_worker_state": 0}, admin=True)
    assert (status, payload["message"]) == (400, "zero_worker_state: expected a string, got integer")


def test_forced_state(client):
    endpoint_id = client.create()
    forced = client.admin("POST", "/endpoint_state", {"id": endpoint_id, "state": "failed", "error": "image pull failed", "message": "pull", "reads": 2})
    assert forced["forced"] == {"state": "failed", "error": "image pull failed", "message": "pull", "reads": 2}
    assert forced["endpoint"]["state"] == {"state": "failed", "error": "image pull failed", "message": "pull"}
    assert forced["endpoint"]["workers"] == []
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]  # list does not use up a read
    assert listed["state"]["state"] == "failed"
    states = [client.get(endpoint_id)["state"] for _read in range(3)]
    assert states == [{"state": "failed", "error": "image pull failed", "message": "pull"}] * 2 + [{"state": "serving", "error": "", "message": ""}]

    # without reads: until cleared, updated or deleted; any string is a state
    client.admin("POST", "/endpoint_state", {"id": endpoint_id, "state": "mystery"})
    assert [client.get(endpoint_id)["state"]["state"] for _read in range(3)] == ["mystery"] * 3
    client.admin("POST", "/endpoint_state", {"id": endpoint_id})
    assert client.get(endpoint_id)["state"]["state"] == "serving"
    client.admin("POST", "/endpoint_state", {"id": endpoint_id, "state": "pending"})
    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    assert client.get(endpoint_id)["state"]["state"] == "serving"

    # a forced state pauses the create/update/delete progress
    client.admin("POST", "/config", {"update_reads": 1})
    client.ok("POST", "/endpoint/update", update_body(endpoint_id))
    client.admin("POST", "/endpoint_state", {"id": endpoint_id, "state": "stopped", "reads": 1})
    assert [client.get(endpoint_id)["state"]["state"] for _read in range(3)] == ["stopped", "initializing", "serving"]

    for body, status_wanted, message in (({"state": "failed"}, 400, "give exactly one of id and name"),
                                         ({"id": endpoint_id, "name": "x", "state": "failed"}, 400, "give exactly one of id and name"),
                                         ({"id": "ffffffffffffffff", "state": "failed"}, 404, "endpoint ffffffffffffffff not found"),
                                         ({"id": endpoint_id, "state": "failed", "reads": 0}, 400, "reads: 0 is out of range [1, 1000000000]"),
                                         ({"id": endpoint_id, "state": 3}, 400, "state: expected a string, got integer"),
                                         ({"id": endpoint_id, "status": "failed"}, 400, "unknown key: status")):
        status, payload, _headers = client.call("POST", "/_emulator/endpoint_state", body, admin=True)
        assert (status, payload["message"]) == (status_wanted, message)


def test_forced_state_armed_by_name_for_the_next_create(client):
    armed = client.admin("POST", "/endpoint_state", {"name": "doomed", "state": "failed", "error": "image pull failed"})
    assert armed == {"endpoint": None, "forced": {"state": "failed", "error": "image pull failed", "message": "", "reads": None},
                     "armed_for_name": "doomed"}
    other = client.create(name="fine")
    assert client.get(other)["state"]["state"] == "serving"
    doomed = client.create(name="doomed")
    assert client.get(doomed)["state"] == {"state": "failed", "error": "image pull failed", "message": ""}
    again = client.create(name="doomed", appName="doomed-2")  # armed once: the next create of the name is normal
    assert client.get(again)["state"]["state"] == "serving"
    client.admin("POST", "/endpoint_state", {"name": "later", "state": "failed"})
    client.admin("POST", "/endpoint_state", {"name": "later"})  # disarmed
    assert client.get(client.create(name="later", appName="later-1"))["state"]["state"] == "serving"


# --------------------------------------------------------------- createdAt

ISO_MICROS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_created_at_formats(client):
    ids = [client.create() for _index in range(3)]
    endpoint = client.get(ids[0])
    assert re.fullmatch(ISO_MICROS, endpoint["createdAt"]) and re.fullmatch(ISO_MICROS, endpoint["updatedAt"])
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"]
    stamps = [item["createdAt"] for item in listed]
    assert all(re.fullmatch(ISO_MICROS, stamp) for stamp in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 3

    client.admin("POST", "/config", {"created_at": "epoch_ms"})
    endpoint = client.get(ids[0])
    assert isinstance(endpoint["createdAt"], int) and abs(endpoint["createdAt"] / 1000 - time.time()) < 600
    client.admin("POST", "/config", {"created_at": "none"})
    assert "createdAt" not in client.get(ids[0]) and "updatedAt" not in client.get(ids[0])
    assert all("createdAt" not in item for item in client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"])
    status, payload, _headers = client.call("POST", "/_emulator/config", {"created_at": "rfc"}, admin=True)
    assert (status, payload["message"]) == (400, "created_at: must be one of iso, epoch_ms, none")


def test_created_at_strictly_increasing_within_one_microsecond(monkeypatch):
    monkeypatch.setattr(novita_emulator, "_now_us", lambda: 1795810311123456)  # a clock that does not move
    with novita_emulator.Emulator(api_key=EMULATOR_KEY) as emu:
        api = EmulatorClient(emu.url)
        ids = [api.create() for _index in range(3)]
        ids += api.admin("POST", "/seed", {"endpoints": [{}, {}]})["ids"]
        stamps = [api.get(endpoint_id)["createdAt"] for endpoint_id in ids]
    assert stamps[0] == "2026-11-27T20:11:51.123456Z"
    assert stamps[1:] == [f"2026-11-27T20:11:51.12345{digit}Z" for digit in (7, 8, 9)] + ["2026-11-27T20:11:51.123460Z"]


def test_seed_created_at(client):
    ids = client.admin("POST", "/seed", {"endpoints": [{"createdAt": "2025-01-02T03:04:05Z"}, {"createdAt": "2025-01-02T03:04:05.5+01:00"},
                                                       {"createdAt": 1735787045123, "updatedAt": "2025-02-01T00:00:00.000001Z"}]})["ids"]
    client.admin("POST", "/seed", {"endpoints": [{"createdAt": "2025-01-02T03:04:05.500000+01:00"}]})
    stamps = [(client.get(endpoint_id)["createdAt"], client.get(endpoint_id)["updatedAt"]) for endpoint_id in ids]
    assert stamps == [("2025-01-02T03:04:05.000000Z", "2025-01-02T03:04:05.000000Z"),
                      ("2025-01-02T02:04:05.500000Z", "2025-01-02T02:04:05.500000Z"),
                      ("2025-01-02T03:04:05.123000Z", "2025-02-01T00:00:00.000001Z")]
    for value, message in (("yesterday", "endpoints[0].createdAt: 'yesterday' is not an ISO 8601 time"),
                           (1.5, "endpoints[0].createdAt: expected an ISO 8601 string or integer epoch milliseconds, got number")):
        status, payload, _headers = client.call("POST", "/_emulator/seed", {"endpoints": [{"createdAt": value}]}, admin=True)
        assert (status, payload["message"]) == (400, message)
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 4


# -------------------------------------------------------------- echo fault

def test_echo_fault_quotes_body_and_headers(client):
    secret = 'pa"ss\\word'
    add_fault(client, kind="echo", method="POST", path="/endpoint/create")
    body = {"endpoint": dict(EMULATOR_ENDPOINT, envs=[{"key": "TOKEN", "value": secret}])}
    status, headers, raw = raw_request(client.url, "POST", "/endpoint/create", body)
    assert (status, headers["Content-Type"]) == (400, "application/json")
    sent = json.dumps(body)
    payload = json.loads(raw)
    assert (payload["code"], payload["reason"]) == (400, "VALIDATOR_PARAM")
    assert payload["message"].startswith("invalid request: " + sent + " headers: {")
    quoted = json.loads(payload["message"].split(" headers: ", 1)[1])
    assert quoted["Authorization"] == "Bearer " + EMULATOR_KEY and quoted["Content-Type"] == "application/json"
    # on the wire the body is JSON-escaped inside the message: the secret appears escaped twice
    assert json.dumps(sent)[1:-1].encode("utf-8") in raw
    assert json.dumps(json.dumps(secret)[1:-1])[1:-1].encode("utf-8") in raw
    assert client.admin("GET", "/endpoints")["endpoints"] == []  # not processed
    entry = client.admin("GET", "/requests")["requests"][-1]
    assert (entry["status"], entry["fault_kind"], entry["processed"]) == (400, "echo", False)

    add_fault(client, kind="echo", method="POST", path="/endpoint/create", process=True)
    assert raw_request(client.url, "POST", "/endpoint/create", body)[0] == 400
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 1
    status, payload, _headers = client.call("POST", "/_emulator/faults", {"kind": "echo", "method": "GET", "path": "/x", "status": 500}, admin=True)
    assert (status, payload["message"]) == (400, "status: not used by kind echo (only by status and non_json)")


# -------------------------------------------------------------- rate limit

def test_rate_limit_burst_then_429_then_refill(client):
    client.admin("POST", "/config", {"rate_limit": 1, "rate_burst": 3})
    endpoint_id = client.admin("POST", "/seed", {"endpoints": [{}]})["ids"][0]
    assert [client.call("GET", "/endpoint?id=" + endpoint_id)[0] for _attempt in range(3)] == [200, 200, 200]
    status, payload, headers = client.call("POST", "/endpoint/delete", {"name": endpoint_id})
    assert (status, payload, headers["Retry-After"]) == (429, {"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "rate limit exceeded"}, "1")
    assert len(client.admin("GET", "/endpoints")["endpoints"]) == 1  # not processed; admin calls are not limited
    entry = client.admin("GET", "/requests")["requests"][-1]
    assert (entry["path"], entry["status"], entry["fault"], entry["fault_id"], entry["fault_kind"], entry["processed"]) == (
        "/endpoint/delete", 429, True, None, "rate_limit", False)
    time.sleep(1.1)
    assert client.call("GET", "/clusters")[0] == 200
    assert client.admin("GET", "/stats") == {"requests": 5, "by_status": {"200": 4, "429": 1}, "rate_limited": 1}

    client.admin("POST", "/config", {"rate_limit": 0.25, "rate_burst": None})  # bucket of 1, a token every 4 s
    assert client.call("GET", "/clusters")[0] == 200
    status, _payload, headers = client.call("GET", "/clusters")
    assert (status, headers["Retry-After"]) == (429, "4")
    client.admin("POST", "/config", {"rate_limit": 0})
    assert [client.call("GET", "/clusters")[0] for _attempt in range(5)] == [200] * 5
    for body, message in (({"rate_limit": -1}, "rate_limit: -1 is out of range [0, 1000000]"),
                          ({"rate_burst": 0.5}, "rate_burst: 0.5 is out of range [1, 1000000000]"),
                          ({"rate_limit": "10"}, "rate_limit: expected a number, got string")):
        status, payload, _headers = client.call("POST", "/_emulator/config", body, admin=True)
        assert (status, payload["message"]) == (400, message)
    client.admin("DELETE", "/stats")
    assert client.admin("GET", "/stats") == {"requests": 0, "by_status": {}, "rate_limited": 0}


def test_rate_limit_under_concurrent_clients(client):
    client.admin("POST", "/config", {"rate_limit": 5})
    results = []

    def worker():
        for _attempt in range(3):
            results.append(client.call("GET", "/endpoint/limit")[0])

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    passed = results.count(200)
    assert len(results) == 48 and set(results) <= {200, 429}
    assert 5 <= passed <= 5 + 5 * elapsed + 1
    stats = client.admin("GET", "/stats")
    assert stats == {"requests": 48, "by_status": {key: value for key, value in (("200", passed), ("429", 48 - passed)) if value},
                     "rate_limited": 48 - passed}
    assert len(client.admin("GET", "/requests")["requests"]) == 48


def test_stats_and_reset(client):
    client.call("GET", "/endpoint?id=x")
    client.call("GET", "/clusters", key="wrong")
    add_fault(client, kind="drop", method="GET", path="/clusters", process=False)
    with pytest.raises(http.client.RemoteDisconnected):
        raw_request(client.url, "GET", "/clusters")
    assert client.admin("GET", "/stats") == {"requests": 3, "by_status": {"404": 1, "401": 1, "none": 1}, "rate_limited": 0}
    client.admin("POST", "/reset")
    assert client.admin("GET", "/stats") == {"requests": 0, "by_status": {}, "rate_limited": 0}


def test_command_line_new_flags(tmp_path):
    url_file = tmp_path / "url"
    args = ["--url-file", str(url_file), "--api-key", EMULATOR_KEY, "--profile", "documented", "--rate-limit", "10", "--rate-burst", "20",
            "--created-at", "epoch_ms", "--zero-worker-state", "stopped"]
    with subprocess.Popen([sys.executable, EMULATOR_PATH] + args, stdout=subprocess.PIPE) as process:
        try:
            api = EmulatorClient(process.stdout.readline().decode("utf-8").strip())
            config = api.admin("GET", "/config")
            assert (config["profile"], config["stale_reads"], config["rate_limit"], config["rate_burst"]) == ("documented", 1, 10.0, 20.0)
            assert (config["created_at"], config["zero_worker_state"]) == ("epoch_ms", "stopped")
            assert api.call("GET", "/endpoint?id=x")[:2] == (400, {"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND", "message": "endpoint x not found"})
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            if process.poll() is None:
                process.kill()


# ---------------------------------------------------------------- access log

ACCESS_LINE = re.compile(r"^(?P<client>\S+) (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}|-) (?P<ms>\d+)ms$")


class _Lines:
    """A text stream that keeps what is written to it (the emulator writes under its own lock)."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def lines(self):
        return self.text.splitlines()


@pytest.fixture(name="logged")
def fixture_logged():
    """An emulator writing its access log to a _Lines stream: (emulator, stream)."""
    stream = _Lines()
    emu = novita_emulator.Emulator(api_key=EMULATOR_KEY)
    emu.start(access_log=stream)
    yield emu, stream
    emu.stop()


def test_access_log_line_format(logged):
    emu, stream = logged
    client = EmulatorClient(emu.url)
    secret_body = dict(copy.deepcopy(EMULATOR_ENDPOINT), envs=[{"key": "TOKEN", "value": "body-secret-value"}])
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": secret_body})["id"]
    client.get(endpoint_id)
    client.call("GET", "/endpoint/limit", key="wrong")
    client.admin("GET", "/requests")
    add_fault(client, kind="drop", method="GET", path="/clusters")
    with pytest.raises(http.client.RemoteDisconnected):
        raw_request(emu.url, "GET", "/clusters")
    lines = stream.lines()
    parsed = [ACCESS_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["client"], m["method"], m["path"], m["status"]) for m in parsed] == [
        ("127.0.0.1", "POST", API_PREFIX + "/endpoint/create", "200"),
        ("127.0.0.1", "GET", API_PREFIX + "/endpoint?id=" + endpoint_id, "200"),
        ("127.0.0.1", "GET", API_PREFIX + "/endpoint/limit", "401"),
        ("127.0.0.1", "GET", "/_emulator/requests", "200"),
        ("127.0.0.1", "POST", "/_emulator/faults", "200"),
        ("127.0.0.1", "GET", API_PREFIX + "/clusters", "-"),  # closed without an answer
    ]
    assert EMULATOR_KEY not in stream.text and "wrong" not in stream.text and "body-secret-value" not in stream.text


def test_access_log_control_characters(logged):
    emu, stream = logged
    parts = urllib.parse.urlsplit(emu.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(("GET " + API_PREFIX + "/endpoint?id=a\x1b[31mb HTTP/1.0\r\nAuthorization: Bearer " + EMULATOR_KEY + "\r\n\r\n").encode("latin-1"))
        assert sock.recv(64).startswith(b"HTTP/1.0 404 ")
    assert len(stream.lines()) == 1
    assert "\x1b" not in stream.text
    assert " GET " + API_PREFIX + "/endpoint?id=a\\x1b[31mb 404 " in stream.text


def _run_command_line(tmp_path, *flags):
    """Start the emulator script with flags, send one API request, stop it; return its stderr."""
    url_file = tmp_path / "url"
    with subprocess.Popen([sys.executable, EMULATOR_PATH, "--url-file", str(url_file), "--api-key", EMULATOR_KEY] + list(flags),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        try:
            api = EmulatorClient(process.stdout.readline().decode("utf-8").strip())
            assert api.ok("GET", "/clusters")["data"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert process.stdout.read() == b""  # stdout: the URL line only
            return process.stderr.read().decode("utf-8")
        finally:
            if process.poll() is None:
                process.kill()


def test_command_line_access_log(tmp_path):
    stderr = _run_command_line(tmp_path)
    match = ACCESS_LINE.match(stderr.strip())
    assert match, stderr
    assert (match["client"], match["method"], match["path"], match["status"]) == ("127.0.0.1", "GET", API_PREFIX + "/clusters", "200")
    assert EMULATOR_KEY not in stderr


def test_command_line_quiet(tmp_path):
    assert _run_command_line(tmp_path, "--quiet") == ""


# -------------------------------------------------------------- what real clients meet (documented profile)

def test_documented_get_answers_the_port_as_an_integer_and_list_as_a_string(client):
    documented(client, stale_reads=0)
    endpoint_id = client.create()
    port = client.get(endpoint_id)["ports"][0]["port"]
    listed = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]["ports"][0]["port"]
    assert (port, listed) == (8000, "8000") and not isinstance(port, bool)
    client.admin("POST", "/config", {"profile": "strict"})
    assert client.get(endpoint_id)["ports"][0]["port"] == "8000"  # strict keeps the string everywhere
    status, payload, _headers = client.call("POST", "/_emulator/config", {"port_as_string": "get"}, admin=True)
    assert (status, payload["message"]) == (400, 'port_as_string: must be true, false or "list" (a string in the list, an integer in get)')


@pytest.mark.parametrize("path, param", [("/endpoints", "pageNum"), ("/networkstorages/list", "pageNo")])
def test_documented_lists_take_page_zero_as_the_first_page(client, path, param):
    documented(client)
    client.create()
    first = client.ok("GET", f"{path}?pageSize=10&{param}=1")
    assert client.ok("GET", f"{path}?pageSize=10&{param}=0") == first
    client.admin("POST", "/config", {"profile": "strict"})
    status, _payload, _headers = client.call("GET", f"{path}?pageSize=10&{param}=0")
    assert status == (400 if param == "pageNo" else 200)  # strict refuses pageNo=0 on storages, clamps pageNum=0


def test_documented_update_takes_the_zero_values_real_clients_send(client):
    documented(client, stale_reads=0)
    endpoint_id = client.create(workerConfig=dict(client.endpoint["workerConfig"], requestTimeout=60, cudaVersion="12.4"))
    body = update_body(endpoint_id)
    body["workerConfig"] = dict(body["workerConfig"], cudaVersion="", requestTimeout=0)
    client.ok("POST", "/endpoint/update", body)
    worker_config = client.admin("GET", "/endpoints")["endpoints"][0]["workerConfig"]
    assert "cudaVersion" not in worker_config and "requestTimeout" not in worker_config  # unset, as a Go backend reads zero values
    body["workerConfig"] = dict(body["workerConfig"], cudaVersion="any")
    client.ok("POST", "/endpoint/update", body)
    assert client.admin("GET", "/endpoints")["endpoints"][0]["workerConfig"]["cudaVersion"] == "any"
    client.admin("POST", "/config", {"profile": "strict"})
    status, payload, _headers = client.call("POST", "/endpoint/update", body)
    assert (status, payload["message"]) == (400, "workerConfig.requestTimeout: 0 is out of range [1, 3600]")
    body["workerConfig"] = dict(body["workerConfig"], requestTimeout=60)
    status, payload, _headers = client.call("POST", "/endpoint/update", body)
    assert (status, payload["message"]) == (400, "workerConfig.cudaVersion: any is not one of 11.8, 12.1, 12.2, 12.4, 12.6, 12.8")


def test_documented_create_takes_no_volume_mounts_and_delete_by_id_is_refused_with_the_reason(client):
    documented(client)
    spec = {key: value for key, value in client.endpoint.items() if key != "volumeMounts"}
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": spec})["id"]
    assert client.admin("GET", "/endpoints")["endpoints"][0]["volumeMounts"] == []
    status, payload, _headers = client.call("POST", "/endpoint/delete", {"id": endpoint_id})
    assert (status, payload) == (400, {"code": 400, "reason": "VALIDATOR_PARAM",
                                       "message": "missing required field: name (the endpoint ID goes under the key name; id is not read)"})
    client.admin("POST", "/config", {"profile": "strict"})
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": spec})
    assert (status, payload["message"]) == (400, "missing required field: volumeMounts")


def test_documented_limits_health_and_clusters_follow_the_notes(client):
    documented(client, stale_reads=0)
    limits = client.ok("GET", "/endpoint/limit")
    integer_keys = [key for key in limits if key != "cudaVersionList"]
    assert len(integer_keys) == 18 and "minRequestTimeout" not in limits and "maxRequestTimeout" not in limits
    assert limits["maxRootfsSize"] == 130
    # No request timeout range: any positive value is taken.
    endpoint_id = client.create(workerConfig=dict(client.endpoint["workerConfig"], requestTimeout=86400))
    healthy = client.get(endpoint_id)["healthy"]
    assert {key: healthy[key] for key in ("initialDelay", "period", "timeout", "successThreshold", "failureThreshold")} == {
        "initialDelay": 10, "period": 10, "timeout": 10, "successThreshold": 1, "failureThreshold": 3}
    status, payload, _headers = client.call("POST", "/endpoint/create", {"endpoint": dict(client.endpoint, rootfsSize=131)})
    assert (status, payload["message"]) == (400, "rootfsSize: 131 is out of range [10, 130]")
    client.admin("POST", "/reset")
    # The strict profile keeps its 20 keys; the documented one, started as such, seeds clusters with Novita-style IDs.
    assert len(client.ok("GET", "/endpoint/limit")) == 21
    with novita_emulator.Emulator(api_key=EMULATOR_KEY, profile="documented", limits={"maxWorkerNum": 7}) as emu:
        api = EmulatorClient(emu.url)
        assert [cluster["id"] for cluster in api.ok("GET", "/clusters")["data"]] == [
            "cluster-1", "cluster-2", "cluster-3", "us-dallas-nas-2", "us-ca-nas-2"]
        assert api.ok("GET", "/endpoint/limit")["maxWorkerNum"] == 7 and "maxRequestTimeout" not in api.ok("GET", "/endpoint/limit")
        api.admin("POST", "/config", {"profile": "strict"})
        assert api.ok("GET", "/endpoint/limit")["maxRequestTimeout"] == 3600  # the strict profile's limits, the given one kept
        assert api.ok("GET", "/endpoint/limit")["maxWorkerNum"] == 7
