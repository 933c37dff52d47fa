# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the emulator's registry credential, network storage and cluster calls (tests/emulator/novita_emulator.py)."""

from __future__ import annotations

import io
import urllib.error

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import API_PREFIX
from ansible_collections.novita.cloud.tests.unit.helpers import EMULATOR_KEY, EmulatorClient, emulator_module

novita_emulator = emulator_module()

PROFILES = ("strict", "documented")

ENDPOINT = {
    "name": "stack",
    "products": [{"id": "1"}],
    "rootfsSize": 100,
    "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
    "ports": [{"port": 8000}],
    "policy": {"type": "queue", "value": 60},
    "image": {"image": "nginx:latest"},
    "volumeMounts": [],
    "healthy": {"path": "/health"},
}
UPDATE = {
    "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
    "ports": [{"port": 8000}],
    "policy": {"type": "queue", "value": 60},
}


@pytest.fixture(name="profile", params=PROFILES)
def fixture_profile(request, client):
    client.admin("POST", "/config", {"profile": request.param})
    return request.param


# Names of Novita's error table that both profiles put in the body.
ALWAYS_REASONS = ("IMAGE_AUTH_IN_USE", "NETWORK_STORAGE_IN_USE", "CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT", "NETWORK_STORAGE_TOO_LARGE")


def error(profile, status, message, reason=None):
    """The error body the profile answers: {"code", "message"} (strict) or with a reason (documented, and both profiles
    for the names of ALWAYS_REASONS)."""
    if reason in ALWAYS_REASONS:
        return status, {"code": status, "reason": reason, "message": message}
    if profile == "documented":
        if reason and reason.endswith("_NOT_FOUND"):
            status = 400
        return status, {"code": status, "reason": reason or novita_emulator.DEFAULT_REASONS[status], "message": message}
    return status, {"code": status, "message": message}


def auth(name="registry", username="robot", password="s3cret"):
    return {"name": name, "username": username, "password": password}


def storage(name="scratch", size=10, cluster="cluster-1"):
    return {"clusterId": cluster, "storageName": name, "storageSize": size}


# ------------------------------------------------------------------ registry credentials


def test_auth_save_answers_no_id_then_lists_it(client, profile):
    assert client.ok("POST", "/repository/auth/save", auth("private-hub")) == {}
    listed = client.auths()
    assert [item["id"] for item in listed] == ["auth-1", "auth-2", "auth-3"]
    assert listed[-1] == {"id": "auth-3", "name": "private-hub", "username": "robot", "password": "s3cret"}
    assert client.admin("GET", "/auths")["auths"] == listed


def test_auth_names_repeat(client, profile):
    client.ok("POST", "/repository/auth/save", auth("same", password="one"))
    client.ok("POST", "/repository/auth/save", auth("same", password="two"))
    same = [item for item in client.auths() if item["name"] == "same"]
    assert [(item["id"], item["password"]) for item in same] == [("auth-3", "one"), ("auth-4", "two")]


@pytest.mark.parametrize("body, message", [
    ({"username": "u", "password": "p"}, "missing required field: name"),
    ({"name": "n", "password": "p"}, "missing required field: username"),
    ({"name": "n", "username": "u"}, "missing required field: password"),
    ({"name": None, "username": "u", "password": "p"}, "missing required field: name"),
    (auth(name=""), "name: length 0 is out of range [1, 255]"),
    (auth(name="n" * 256), "name: length 256 is out of range [1, 255]"),
    (auth(username="u" * 512), "username: length 512 is out of range [1, 511]"),
    (auth(password="p" * 1025), "password: length 1025 is out of range [1, 1024]"),
    (auth(password=""), "password: length 0 is out of range [1, 1024]"),
    (auth(name=7), "name: expected a string, got integer"),
    (auth(password=["x"]), "password: expected a string, got array"),
])
def test_auth_save_validation(client, profile, body, message):
    assert client.answer("POST", "/repository/auth/save", body) == error(profile, 400, message)
    assert len(client.auths()) == 2


def test_auth_save_longest_values(client):
    body = auth(name="n" * 255, username="u" * 511, password="p" * 1024)
    assert client.ok("POST", "/repository/auth/save", body) == {}
    assert client.auths()[-1] == dict(body, id="auth-3")


def test_auth_save_body_must_be_an_object(client, profile):
    assert client.answer("POST", "/repository/auth/save", ["x"]) == error(profile, 400, "request body must be a JSON object")


def test_auth_delete(client, profile):
    assert client.ok("POST", "/repository/auth/delete", {"id": "auth-2"}) == {}
    assert [item["id"] for item in client.auths()] == ["auth-1"]
    assert client.answer("POST", "/repository/auth/delete", {"id": "auth-2"}) == error(
        profile, 404, "registry auth auth-2 not found", "RESOURCE_NOT_FOUND")
    assert client.answer("POST", "/repository/auth/delete", {}) == error(profile, 400, "missing required field: id")
    assert client.answer("POST", "/repository/auth/delete", {"id": 1}) == error(profile, 400, "id: expected a string, got integer")


def test_auth_ids_are_never_reused(client):
    client.ok("POST", "/repository/auth/save", auth("a"))
    client.ok("POST", "/repository/auth/delete", {"id": "auth-3"})
    client.ok("POST", "/repository/auth/save", auth("b"))
    assert [item["id"] for item in client.auths()] == ["auth-1", "auth-2", "auth-4"]


def test_auth_in_use_delete_is_refused(client, profile):
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, image={"image": "x", "authId": "auth-1"})})["id"]
    assert client.answer("POST", "/repository/auth/delete", {"id": "auth-1"}) == error(
        profile, 400, "registry auth auth-1 is in use by endpoint " + endpoint_id, "IMAGE_AUTH_IN_USE")
    assert [item["id"] for item in client.auths()] == ["auth-1", "auth-2"]
    # Once the endpoint is gone, the credential can go.
    client.ok("POST", "/endpoint/delete", {"name": endpoint_id})
    assert client.ok("POST", "/repository/auth/delete", {"id": "auth-1"}) == {}


def test_auth_in_use_can_be_deleted_when_allowed(client, profile):
    client.admin("POST", "/config", {"in_use_deletes": "allow"})
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, image={"image": "x", "authId": "auth-1"})})["id"]
    assert client.ok("POST", "/repository/auth/delete", {"id": "auth-1"}) == {}
    # The endpoint keeps the ID; an update that sends it again is refused.
    assert client.ok("GET", "/endpoint?id=" + endpoint_id)["endpoint"]["image"]["authId"] == "auth-1"
    body = dict(UPDATE, id=endpoint_id, image={"image": "x", "authId": "auth-1"})
    assert client.answer("POST", "/endpoint/update", body) == error(profile, 404, "registry auth auth-1 not found", "RESOURCE_NOT_FOUND")


def test_saved_auth_usable_by_an_endpoint(client):
    client.ok("POST", "/repository/auth/save", auth("for-endpoint"))
    auth_id = [item["id"] for item in client.auths() if item["name"] == "for-endpoint"][0]
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, image={"image": "x", "authId": auth_id})})["id"]
    assert client.ok("GET", "/endpoint?id=" + endpoint_id)["endpoint"]["image"]["authId"] == auth_id


# ------------------------------------------------------------------ network storage


def test_seeded_reference_data(client):
    clusters = {item["id"]: item for item in client.ok("GET", "/clusters")["data"]}
    assert {key: value["supportNetworkStorage"] for key, value in clusters.items()} == {
        "cluster-1": True, "cluster-2": True, "cluster-3": False}
    assert set(clusters["cluster-3"]) == {"id", "name", "availableGpuType", "supportNetworkStorage", "supportInstanceNetwork"}
    listed = client.storages()
    assert listed["total"] == 2
    assert listed["data"][0] == {"storageId": "ns-1", "storageName": "models", "storageSize": 100, "clusterId": "cluster-1",
                                 "clusterName": "us-east", "price": "0.07"}


def test_storage_create_reply_by_profile(client, profile):
    reply = client.ok("POST", "/networkstorage/create", storage("cache-1", 25))
    created = client.storage_named("cache-1")
    assert created == [{"storageId": "ns-3", "storageName": "cache-1", "storageSize": 25, "clusterId": "cluster-1",
                        "clusterName": "us-east", "price": "0.07"}]
    # Novita's docs: the bare storage ID as a JSON string (documented); strict answers {}.
    assert reply == ({} if profile == "strict" else "ns-3")
    assert client.storages()["total"] == 3
    assert client.admin("GET", "/storages")["storages"][-1] == created[0]


def test_storage_names_repeat(client):
    client.ok("POST", "/networkstorage/create", storage("twin"))
    client.ok("POST", "/networkstorage/create", storage("twin", cluster="cluster-2"))
    assert [(item["storageId"], item["clusterId"]) for item in client.storage_named("twin")] == [("ns-3", "cluster-1"), ("ns-4", "cluster-2")]


@pytest.mark.parametrize("body, status, message, reason", [
    (storage(size=9), 400, "storageSize: 9 is below the minimum of 10 GB", None),
    (storage(size=0), 400, "storageSize: 0 is below the minimum of 10 GB", None),
    (storage(size=10.5), 400, "storageSize: expected an integer, got number", None),
    (storage(size="20"), 400, "storageSize: expected an integer, got string", None),  # create takes no numeric strings
    (storage(size=True), 400, "storageSize: expected an integer, got boolean", None),
    (storage(name="my_data"), 400, "storageName: my_data may contain only letters, digits and hyphens", None),
    (storage(name="my data"), 400, "storageName: my data may contain only letters, digits and hyphens", None),
    (storage(name="données"), 400, "storageName: données may contain only letters, digits and hyphens", None),
    (storage(name=""), 400, "storageName: length 0 is out of range [1, 255]", None),
    (storage(name="a" * 256), 400, "storageName: length 256 is out of range [1, 255]", None),
    (storage(name=5), 400, "storageName: expected a string, got integer", None),
    (storage(cluster="cluster-3"), 400, "clusterId: cluster cluster-3 does not support network storage", "CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT"),
    (storage(size=10241), 400, "storageSize: 10241 GB is above the maximum of 10240 GB", "NETWORK_STORAGE_TOO_LARGE"),
    (storage(cluster="cluster-9"), 404, "cluster cluster-9 not found", "RESOURCE_NOT_FOUND"),
    (storage(cluster=""), 400, "missing required field: clusterId", None),
    ({"storageName": "a", "storageSize": 10}, 400, "missing required field: clusterId", None),
    ({"clusterId": "cluster-1", "storageSize": 10}, 400, "missing required field: storageName", None),
    ({"clusterId": "cluster-1", "storageName": "a"}, 400, "missing required field: storageSize", None),
])
def test_storage_create_rules(client, profile, body, status, message, reason):
    assert client.answer("POST", "/networkstorage/create", body) == error(profile, status, message, reason)
    assert client.storages()["total"] == 2


def test_storage_create_accepts_the_limits(client):
    client.ok("POST", "/networkstorage/create", storage("A-Z-0-9-" + "x" * 247, 10))
    assert client.storages()["data"][-1]["storageSize"] == 10
    assert len(client.storages()["data"][-1]["storageName"]) == 255


def test_storage_update_grows_keeps_and_renames(client, profile):
    client.ok("POST", "/networkstorage/create", storage("grow", 20))
    assert client.ok("POST", "/networkstorage/update", {"storageId": "ns-3", "storageSize": 30}) == {}
    assert client.storages("storageId=ns-3")["data"][0]["storageSize"] == 30
    assert client.ok("POST", "/networkstorage/update", {"storageId": "ns-3", "storageSize": 30}) == {}  # equal: fine
    assert client.ok("POST", "/networkstorage/update", {"storageId": "ns-3", "storageSize": 30, "storageName": "grown"}) == {}
    assert client.storages("storageId=ns-3")["data"] == [{"storageId": "ns-3", "storageName": "grown", "storageSize": 30,
                                                          "clusterId": "cluster-1", "clusterName": "us-east", "price": "0.07"}]
    # Absent, null or "": the name is kept.
    for name in (None, ""):
        client.ok("POST", "/networkstorage/update", {"storageId": "ns-3", "storageSize": 40, "storageName": name})
        assert client.storages("storageId=ns-3")["data"][0]["storageName"] == "grown"


def test_storage_update_refuses_to_shrink(client, profile):
    expected = error(profile, 400, "storageSize: 99 is smaller than the current size 100 of network storage ns-1 "
                                   "(a network storage can only grow)")
    assert client.answer("POST", "/networkstorage/update", {"storageId": "ns-1", "storageSize": 99, "storageName": "renamed"}) == expected
    assert client.storages("storageId=ns-1")["data"][0]["storageName"] == "models"  # nothing changed


@pytest.mark.parametrize("body, message", [
    ({"storageSize": 100}, "missing required field: storageId"),
    ({"storageId": "ns-1"}, "missing required field: storageSize"),
    ({"storageId": "ns-1", "storageSize": 5}, "storageSize: 5 is below the minimum of 10 GB"),
    ({"storageId": "ns-1", "storageSize": 100.0}, "storageSize: expected an integer, got number"),
    ({"storageId": "ns-1", "storageSize": 100, "storageName": "bad/name"}, "storageName: bad/name may contain only letters, digits and hyphens"),
    ({"storageId": 1, "storageSize": 100}, "storageId: expected a string, got integer"),
])
def test_storage_update_validation(client, profile, body, message):
    assert client.answer("POST", "/networkstorage/update", body) == error(profile, 400, message)


def test_storage_update_numeric_string_by_profile(client, profile):
    status, payload = client.answer("POST", "/networkstorage/update", {"storageId": "ns-1", "storageSize": "150"})
    if profile == "documented":
        assert (status, payload) == (200, {})
        assert client.storages("storageId=ns-1")["data"][0]["storageSize"] == 150
    else:
        assert (status, payload) == error(profile, 400, "storageSize: expected an integer, got string")


def test_storage_update_and_delete_unknown(client, profile):
    expected = error(profile, 404, "network storage ns-9 not found", "NETWORK_STORAGE_NOT_FOUND")
    assert client.answer("POST", "/networkstorage/update", {"storageId": "ns-9", "storageSize": 10}) == expected
    assert client.answer("POST", "/networkstorage/delete", {"storageId": "ns-9"}) == expected
    assert client.answer("POST", "/networkstorage/delete", {}) == error(profile, 400, "missing required field: storageId")


def test_storage_delete(client, profile):
    client.ok("POST", "/networkstorage/create", storage("gone"))
    assert client.ok("POST", "/networkstorage/delete", {"storageId": "ns-3"}) == {}
    assert client.storage_named("gone") == []
    assert client.storages()["total"] == 2
    assert client.answer("POST", "/networkstorage/delete", {"storageId": "ns-3"})[0] == (404 if profile == "strict" else 400)
    client.ok("POST", "/networkstorage/create", storage("next"))
    assert client.storage_named("next")[0]["storageId"] == "ns-4"  # IDs are not reused


def test_storage_list_filters_and_pages(client):
    for index in range(3):
        client.ok("POST", "/networkstorage/create", storage(f"model-cache-{index}"))
    assert client.storages("storageId=ns-4")["data"][0]["storageName"] == "model-cache-1"
    assert client.storages("storageId=ns-4")["total"] == 1
    assert client.storages("storageId=ns-99") == {"data": [], "total": 0}
    assert client.storages("storageId=ns-4&storageName=cache-2") == {"data": [], "total": 0}
    by_name = client.storages("storageName=model")  # a substring: models, model-cache-0..2
    assert [item["storageId"] for item in by_name["data"]] == ["ns-1", "ns-3", "ns-4", "ns-5"]
    first = client.storages("pageNo=1&pageSize=2")
    second = client.storages("pageNo=2&pageSize=2")
    third = client.storages("pageNo=3&pageSize=2")
    assert (first["total"], second["total"], third["total"]) == (5, 5, 5)
    assert [item["storageId"] for item in first["data"] + second["data"] + third["data"]] == ["ns-1", "ns-2", "ns-3", "ns-4", "ns-5"]
    assert client.storages("pageNo=4&pageSize=2") == {"data": [], "total": 5}
    assert len(client.storages("")["data"]) == 5  # pageNo 1 and pageSize 10 by default
    assert client.answer("GET", "/networkstorages/list?pageNo=0")[0] == 400


def test_storage_size_as_string(client):
    client.admin("POST", "/config", {"storage_size_as_string": True})
    assert client.storages("storageId=ns-1")["data"][0]["storageSize"] == "100"
    assert client.admin("GET", "/storages")["storages"][0]["storageSize"] == 100  # the store keeps integers
    status, payload = client.answer("POST", "/_emulator/config", {"storage_size_as_string": "yes"}, admin=True)
    assert (status, payload["message"]) == (400, "storage_size_as_string: expected a boolean, got string")


def test_created_storage_mounts_on_an_endpoint(client, profile):
    client.ok("POST", "/networkstorage/create", storage("weights", 50, "cluster-2"))
    storage_id = client.storage_named("weights")[0]["storageId"]
    mount = [{"type": "network", "id": storage_id, "mountPath": "/weights"}]
    status, payload = client.answer("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, volumeMounts=mount, clusterID="cluster-1")})
    assert (status, payload["message"]) == (400, f"clusterID: cluster-1 does not match the cluster cluster-2 of network storage {storage_id}")
    endpoint_id = client.ok("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, volumeMounts=mount, clusterID="cluster-2")})["id"]
    # Deleting a mounted storage is refused (the error table's NETWORK_STORAGE_IN_USE) ...
    assert client.answer("POST", "/networkstorage/delete", {"storageId": storage_id}) == error(
        profile, 400, f"network storage {storage_id} is in use by endpoint {endpoint_id}", "NETWORK_STORAGE_IN_USE")
    # ... unless allowed: then the endpoint keeps the mount, and an update that sends it again is refused.
    client.admin("POST", "/config", {"in_use_deletes": "allow"})
    assert client.ok("POST", "/networkstorage/delete", {"storageId": storage_id}) == {}
    assert client.ok("GET", "/endpoint?id=" + endpoint_id)["endpoint"]["volumeMounts"][0]["id"] == storage_id
    body = dict(UPDATE, id=endpoint_id, image={"image": "x"}, volumeMounts=mount, clusterID="cluster-2")
    assert client.answer("POST", "/endpoint/update", body) == error(
        profile, 404, f"network storage {storage_id} not found", "NETWORK_STORAGE_NOT_FOUND")


# ------------------------------------------------------------------ what applies to every API call

WRITES = (
    ("/repository/auth/save", auth()),
    ("/repository/auth/delete", {"id": "auth-1"}),
    ("/networkstorage/create", storage()),
    ("/networkstorage/update", {"storageId": "ns-1", "storageSize": 500}),
    ("/networkstorage/delete", {"storageId": "ns-2"}),
)


def store(client):
    return client.admin("GET", "/auths"), client.admin("GET", "/storages")


@pytest.mark.parametrize("path, body", WRITES)
def test_api_key_is_checked(client, profile, path, body):
    before = store(client)
    wrong = client.answer("POST", path, body, key="wrong")
    missing = client.answer("POST", path, body, key="")
    if profile == "strict":
        assert wrong == missing == (401, {"code": 401, "message": "invalid or missing API key"})
    else:
        assert wrong == (403, {"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"})
        assert missing == (400, {"code": 400, "reason": "MISSING_API_KEY", "message": "missing api-key"})
    assert store(client) == before
    log = client.admin("GET", "/requests")["requests"]
    assert [(entry["path"], entry["auth"], entry["processed"]) for entry in log] == [(path, "invalid", False), (path, "missing", False)]


def test_fault_on_storage_create(client):
    fault = client.admin("POST", "/faults", {"method": "POST", "path": "/networkstorage/create", "status": 503, "retry_after": "1"})["fault"]
    assert client.answer("POST", "/networkstorage/create", storage("faulty")) == (503, {"code": 503, "message": "injected fault"})
    assert client.storage_named("faulty") == []  # not processed
    assert client.ok("POST", "/networkstorage/create", storage("faulty")) == {}  # the fault is used up
    assert len(client.storage_named("faulty")) == 1
    log = client.admin("GET", "/requests")["requests"]
    assert [(entry["status"], entry["fault_id"], entry["processed"]) for entry in log[:2]] == [(503, fault["id"], False), (200, None, True)]


def test_fault_processed_write_still_happens(client):
    client.admin("POST", "/faults", {"method": "POST", "path": "/repository/auth/save", "status": 504, "process": True})
    client.admin("POST", "/faults", {"method": "POST", "path": "/gpu-instance/openapi/v1/networkstorage/update", "kind": "drop"})
    assert client.answer("POST", "/repository/auth/save", auth("written-anyway"))[0] == 504
    assert client.auths()[-1]["name"] == "written-anyway"
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        client.answer("POST", "/networkstorage/update", {"storageId": "ns-1", "storageSize": 120})
    assert client.storages("storageId=ns-1")["data"][0]["storageSize"] == 120


def test_faults_match_each_new_path(client):
    for path, _body in WRITES:
        client.admin("POST", "/faults", {"method": "POST", "path": path, "status": 500})
    for path, body in WRITES:
        assert client.answer("POST", path, body)[0] == 500
    assert len(client.auths()) == 2 and client.storages()["total"] == 2


def test_rate_limit_applies(client):
    client.admin("POST", "/config", {"rate_limit": 0.001, "rate_burst": 1})
    assert client.ok("POST", "/networkstorage/create", storage("first")) == {}
    status, payload = client.answer("POST", "/repository/auth/save", auth("limited"))
    assert (status, payload) == (429, {"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "rate limit exceeded"})
    assert client.admin("GET", "/auths")["auths"][-1]["name"] != "limited"
    assert client.admin("GET", "/requests")["requests"][-1]["fault_kind"] == "rate_limit"


def test_request_log_keeps_the_password_the_access_log_does_not():
    stream = io.StringIO()
    emu = novita_emulator.Emulator(api_key=EMULATOR_KEY)
    emu.start(access_log=stream)
    try:
        api = EmulatorClient(emu.url)
        api.ok("POST", "/repository/auth/save", auth("logged", "robot-user", "very-secret-password"))
        api.ok("POST", "/networkstorage/create", storage("logged"))
        api.admin("GET", "/auths")
        log = api.admin("GET", "/requests")["requests"]
    finally:
        emu.stop()
    # A test double's request log: tests may check the password that was sent.
    assert log[0]["path"] == "/repository/auth/save"
    assert log[0]["body"] == {"name": "logged", "username": "robot-user", "password": "very-secret-password"}
    assert len(log) == 2  # admin calls are not logged
    lines = stream.getvalue().splitlines()
    assert [line.split(" ")[1:4] for line in lines] == [
        ["POST", API_PREFIX + "/repository/auth/save", "200"], ["POST", API_PREFIX + "/networkstorage/create", "200"],
        ["GET", "/_emulator/auths", "200"], ["GET", "/_emulator/requests", "200"]]
    text = stream.getvalue()
    for secret in ("very-secret-password", "robot-user", EMULATOR_KEY, "logged"):
        assert secret not in text


# ------------------------------------------------------------------ admin interface


def test_seed_reference_data(client):
    payload = client.admin("POST", "/seed", {
        "clusters": [{"id": "cluster-9", "name": "lab", "supportNetworkStorage": False}, {"name": "partial"}],
        "storages": [{"storageName": "seeded"}, {"storageId": "ns-77", "storageName": "in-lab", "storageSize": 5, "clusterId": "cluster-9"}],
        "auths": [{"name": "seeded-auth"}, {"id": "auth-2", "name": "replaced", "username": "u2", "password": "p2"}],
    })
    assert payload == {"ids": [], "auth_ids": ["auth-3", "auth-2"], "storage_ids": ["ns-3", "ns-77"], "cluster_ids": ["cluster-9", "cluster-10"]}
    assert client.admin("GET", "/requests") == {"requests": []}
    assert client.auths() == [
        novita_emulator.SEED_AUTHS[0],
        {"id": "auth-2", "name": "replaced", "username": "u2", "password": "p2"},  # replaced in place
        {"id": "auth-3", "name": "seeded-auth", "username": "emulator", "password": "emulator-password"},
    ]
    clusters = client.ok("GET", "/clusters")["data"]
    assert clusters[-2:] == [
        {"id": "cluster-9", "name": "lab", "availableGpuType": [], "supportNetworkStorage": False, "supportInstanceNetwork": False},
        {"id": "cluster-10", "name": "partial", "availableGpuType": [], "supportNetworkStorage": True, "supportInstanceNetwork": False},
    ]
    assert client.admin("GET", "/clusters")["clusters"] == clusters
    listed = client.storages()["data"]
    assert listed[-2:] == [
        {"storageId": "ns-3", "storageName": "seeded", "storageSize": 10, "clusterId": "cluster-1", "clusterName": "us-east", "price": "0.07"},
        # Seeding skips validation: a size below 10 and a cluster without network storage are kept.
        {"storageId": "ns-77", "storageName": "in-lab", "storageSize": 5, "clusterId": "cluster-9", "clusterName": "lab", "price": "0.07"},
    ]
    # New IDs go on after the highest one given.
    client.ok("POST", "/networkstorage/create", storage("after-seed"))
    assert client.storage_named("after-seed")[0]["storageId"] == "ns-78"
    assert client.answer("POST", "/networkstorage/create", storage("lab", cluster="cluster-9"))[0] == 400
    # A seeded storage and cluster serve an endpoint's network mount.
    mount = [{"type": "network", "id": "ns-77", "mountPath": "/lab"}]
    client.ok("POST", "/endpoint/create", {"endpoint": dict(ENDPOINT, volumeMounts=mount, clusterID="cluster-9")})
    client.admin("POST", "/reset")
    assert client.auths() == novita_emulator.SEED_AUTHS
    assert client.ok("GET", "/clusters")["data"] == novita_emulator.SEED_CLUSTERS
    assert client.storages()["data"] == novita_emulator.SEED_NETWORK_STORAGES
    client.ok("POST", "/repository/auth/save", auth("after-reset"))
    assert client.auths()[-1]["id"] == "auth-3"


def test_seed_endpoints_reply_keeps_its_shape(client):
    payload = client.admin("POST", "/seed", {"endpoints": [{"name": "e"}]})
    assert set(payload) == {"ids", "auth_ids", "storage_ids", "cluster_ids"}
    assert len(payload["ids"]) == 1 and payload["auth_ids"] == payload["storage_ids"] == payload["cluster_ids"] == []


@pytest.mark.parametrize("body, message", [
    ({"storage": []}, "unknown seed key: storage"),
    ({"auths": {}}, "auths: expected an array, got object"),
    ({"auths": ["x"]}, "auths[0]: expected an object, got string"),
    ({"auths": [{"name": "ok"}, {"secret": "x"}]}, "auths[1]: unknown field secret"),
    ({"auths": [{"password": 1}]}, "auths[0].password: expected a string, got integer"),
    ({"storages": [{"storageSize": "10"}]}, "storages[0].storageSize: expected an integer, got string"),
    ({"clusters": [{"supportNetworkStorage": "yes"}]}, "clusters[0].supportNetworkStorage: expected a boolean, got string"),
    ({"clusters": [{"availableGpuType": [1]}]}, "clusters[0].availableGpuType[0]: expected a string, got integer"),
    ({"auths": [{"name": "ok"}], "endpoints": "x"}, "endpoints: expected an array, got string"),
])
def test_seed_refuses_bad_items_and_seeds_nothing(client, body, message):
    before = (store(client), client.admin("GET", "/clusters"))
    status, payload = client.answer("POST", "/_emulator/seed", body, admin=True)
    assert (status, payload) == (400, {"code": 400, "message": message})
    assert (store(client), client.admin("GET", "/clusters")) == before
