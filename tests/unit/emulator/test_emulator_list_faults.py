# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the emulator's list faults (short_page, repeat_page, a malformed 200) and of the storage list's page base."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import API_PREFIX
from ansible_collections.novita.cloud.tests.unit.helpers import EMULATOR_KEY, EmulatorClient, emulator_module

novita_emulator = emulator_module()
EMULATOR_PATH = novita_emulator.__file__


def seed_endpoints(client, count):
    return client.admin("POST", "/seed", {"endpoints": [{"name": "e%d" % index} for index in range(count)]})["ids"]


def seed_storages(client, count):
    """``count`` storages named cache-0, cache-1, ... after the two seeded ones (ns-1, ns-2); their IDs."""
    storages = [{"storageId": "ns-%d" % (10 + index), "storageName": "cache-%d" % index} for index in range(count)]
    return client.admin("POST", "/seed", {"storages": storages})["storage_ids"]


def endpoint_page(client, query):
    payload = client.ok("GET", "/endpoints?" + query)
    return [item["id"] for item in payload["endpoints"]], payload["total"]


def storage_page(client, query):
    payload = client.ok("GET", "/networkstorages/list?" + query)
    return [item["storageId"] for item in payload["data"]], payload["total"]


# ---------------------------------------------------------------- short_page


def test_short_page_loses_every_item_and_keeps_the_total(client):
    ids = seed_endpoints(client, 3)
    fault = client.fault(kind="short_page", method="GET", path=API_PREFIX + "/endpoints")
    assert fault == {"id": 1, "kind": "short_page", "method": "GET", "path": "/endpoints", "count": 1, "skip": 0, "process": True,
                     "status": None, "retry_after": None, "body": None, "content_type": None, "delay_ms": 0, "drop_items": None}
    assert client.ok("GET", "/endpoints?pageSize=10&pageNum=1") == {"endpoints": [], "total": 3}
    assert endpoint_page(client, "pageSize=10&pageNum=1") == (ids, 3)  # count 1: the next list is whole
    assert client.log() == [("GET", "/endpoints", 200, "short_page", True), ("GET", "/endpoints", 200, None, True)]


def test_short_page_drop_items_cuts_the_end_of_the_page(client):
    ids = seed_storages(client, 3)
    everything = ["ns-1", "ns-2"] + ids
    client.fault(kind="short_page", method="GET", path="/networkstorages/list", drop_items=2, count=2)
    assert storage_page(client, "pageNo=1&pageSize=10") == (everything[:3], 5)
    assert storage_page(client, "pageNo=2&pageSize=4") == ([], 5)  # the page holds 1 item: all of it is lost
    assert storage_page(client, "pageNo=1&pageSize=10") == (everything, 5)

    endpoint_ids = seed_endpoints(client, 5)
    client.fault(kind="short_page", method="GET", path="/endpoints", drop_items=1, skip=1)
    assert endpoint_page(client, "pageSize=2&pageNum=1") == (endpoint_ids[0:2], 5)  # skipped
    assert endpoint_page(client, "pageSize=2&pageNum=2") == (endpoint_ids[2:3], 5)


def test_short_page_gives_the_credential_list_a_total(client):
    full = client.ok("GET", "/repository/auths")
    assert "total" not in full and len(full["data"]) == 2
    client.fault(kind="short_page", method="GET", path="/repository/auths")
    assert client.ok("GET", "/repository/auths") == {"data": [], "total": 2}
    client.fault(kind="short_page", method="GET", path="/repository/auths", drop_items=1)
    assert client.ok("GET", "/repository/auths") == {"data": full["data"][:1], "total": 2}
    assert client.ok("GET", "/repository/auths") == full


def test_short_page_passes_an_error_reply_through(client):
    client.fault(kind="short_page", method="GET", path="/endpoints")
    status, payload = client.answer("GET", "/endpoints?pageNum=1")
    assert (status, payload) == (400, {"code": 400, "message": "missing required parameter: pageSize"})
    assert client.admin("GET", "/faults") == {"faults": []}  # the rule was used up
    assert client.log() == [("GET", "/endpoints", 400, "short_page", True)]


def test_short_page_holds_its_answer_for_delay_ms(client):
    client.fault(kind="short_page", method="GET", path="/repository/auths", delay_ms=300)
    started = time.monotonic()
    assert client.ok("GET", "/repository/auths")["data"] == []
    assert time.monotonic() - started >= 0.3


# ---------------------------------------------------------------- repeat_page


def test_repeat_page_answers_the_first_page(client):
    ids = seed_endpoints(client, 5)
    client.admin("POST", "/config", {"max_page_size": 2})
    client.fault(kind="repeat_page", method="GET", path="/endpoints", count=2)
    assert endpoint_page(client, "pageSize=100&pageNum=2") == (ids[0:2], 5)
    assert endpoint_page(client, "pageSize=100&pageNum=3") == (ids[0:2], 5)
    assert endpoint_page(client, "pageSize=100&pageNum=3") == (ids[4:5], 5)
    log = client.admin("GET", "/requests")["requests"]
    assert [entry["query"]["pageNum"] for entry in log] == ["2", "3", "3"]  # the log shows the page asked for
    assert [(entry["fault_kind"], entry["processed"]) for entry in log] == [("repeat_page", True), ("repeat_page", True), (None, True)]

    # zero-based pages: page 1 is the second page, and is answered with page 0's items
    client.admin("POST", "/config", {"page_base": 0})
    client.fault(kind="repeat_page", method="GET", path="/endpoints")
    assert endpoint_page(client, "pageSize=2&pageNum=1") == (ids[0:2], 5)
    assert endpoint_page(client, "pageSize=2&pageNum=1") == (ids[2:4], 5)


def test_repeat_page_on_the_storage_list(client):
    ids = seed_storages(client, 3)
    client.fault(kind="repeat_page", method="GET", path="/networkstorages/list", count=20)
    assert storage_page(client, "pageNo=2&pageSize=2") == (["ns-1", "ns-2"], 5)
    assert storage_page(client, "pageNo=3&pageSize=2&storageName=cache") == (ids[0:2], 3)  # the filter still applies
    assert storage_page(client, "pageSize=2") == (["ns-1", "ns-2"], 5)  # no pageNo: the first page anyway


# ---------------------------------------------------------------- a malformed reply at status 200


@pytest.mark.parametrize("path, query, items_key", [
    ("/endpoints", "?pageSize=10&pageNum=1", "endpoints"),
    ("/networkstorages/list", "?pageNo=1&pageSize=10", "data"),
    ("/repository/auths", "", "data"),
])
def test_malformed_200_on_every_list(client, path, query, items_key):
    seed_endpoints(client, 1)
    bodies = (
        {"code": 500, "message": "internal error"},
        {items_key: "x"},
        {items_key: [], "total": "abc"},
    )
    for body in bodies:
        client.fault(method="GET", path=path, status=200, body=body)
    for body in bodies:
        assert client.answer("GET", path + query) == (200, body)
    assert client.answer("GET", path + query)[1][items_key]  # the real list again
    assert client.log() == [("GET", path, 200, "status", False)] * 3 + [("GET", path, 200, None, True)]


# ---------------------------------------------------------------- the storage list's pages


def test_storage_list_page_base_and_below_base(client):
    ids = ["ns-1", "ns-2"] + seed_storages(client, 3)
    # page 1 first by default; below it, a 400 (storage_below_base: error)
    assert client.admin("GET", "/config")["storage_below_base"] == "error"
    assert storage_page(client, "pageSize=2") == (ids[0:2], 5)
    assert client.answer("GET", "/networkstorages/list?pageNo=0&pageSize=2") == (
        400, {"code": 400, "message": "pageNo: 0 is below the first page 1"})
    client.admin("POST", "/config", {"storage_below_base": "clamp"})
    assert storage_page(client, "pageNo=0&pageSize=2") == (ids[0:2], 5)
    client.admin("POST", "/config", {"storage_below_base": "empty"})
    assert storage_page(client, "pageNo=0&pageSize=2") == ([], 5)

    client.admin("POST", "/config", {"page_base": 0, "storage_below_base": "error"})
    assert storage_page(client, "pageNo=0&pageSize=2") == (ids[0:2], 5)
    assert storage_page(client, "pageNo=1&pageSize=2") == (ids[2:4], 5)
    assert storage_page(client, "pageNo=2&pageSize=2") == (ids[4:5], 5)
    assert storage_page(client, "pageSize=2") == (ids[0:2], 5)  # no pageNo: the first page
    assert client.answer("GET", "/networkstorages/list?pageNo=-1&pageSize=2") == (
        400, {"code": 400, "message": "pageNo: -1 is below the first page 0"})
    # below_base is the endpoint list's own setting
    client.admin("POST", "/config", {"below_base": "clamp"})
    assert client.answer("GET", "/networkstorages/list?pageNo=-1")[0] == 400


def test_storage_list_pages_are_capped_by_max_page_size(client):
    ids = ["ns-1", "ns-2"] + seed_storages(client, 3)
    assert storage_page(client, "pageNo=1&pageSize=100") == (ids, 5)
    client.admin("POST", "/config", {"max_page_size": 2})
    assert storage_page(client, "pageNo=1&pageSize=100") == (ids[0:2], 5)
    assert storage_page(client, "pageNo=3&pageSize=100") == (ids[4:5], 5)


def test_storage_below_base_config_and_flag(client, tmp_path):
    status, payload = client.answer("POST", "/_emulator/config", {"storage_below_base": "x"}, admin=True)
    assert (status, payload["message"]) == (400, "storage_below_base: must be one of clamp, empty, error")
    with pytest.raises(ValueError):
        novita_emulator.Emulator(storage_below_base="wrap")
    url_file = tmp_path / "url"
    args = ["--url-file", str(url_file), "--api-key", EMULATOR_KEY, "--page-base", "0", "--storage-below-base", "empty", "--quiet"]
    with subprocess.Popen([sys.executable, EMULATOR_PATH] + args, stdout=subprocess.PIPE) as process:
        try:
            api = EmulatorClient(process.stdout.readline().decode("utf-8").strip())
            config = api.admin("GET", "/config")
            assert (config["page_base"], config["storage_below_base"], config["below_base"]) == (0, "empty", "clamp")
            assert storage_page(api, "pageNo=-1&pageSize=2") == ([], 2)
        finally:
            process.terminate()
            process.wait(timeout=5)


# ---------------------------------------------------------------- rule validation


def test_list_fault_rule_validation(client):
    cases = (
        ({"kind": "short_page", "method": "POST", "path": "/endpoints"},
         "path: kind short_page works on a list only: GET /endpoints, /networkstorages/list, /repository/auths, not POST /endpoints"),
        ({"kind": "short_page", "method": "GET", "path": "/endpoint"},
         "path: kind short_page works on a list only: GET /endpoints, /networkstorages/list, /repository/auths, not GET /endpoint"),
        ({"kind": "repeat_page", "method": "GET", "path": "/repository/auths"},
         "path: kind repeat_page works on a paged list only: GET /endpoints, /networkstorages/list, not GET /repository/auths"),
        ({"kind": "short_page", "method": "GET", "path": "/endpoints", "drop_items": 0}, "drop_items: 0 is out of range [1, 1000000000]"),
        ({"kind": "short_page", "method": "GET", "path": "/endpoints", "drop_items": "2"}, "drop_items: expected an integer, got string"),
        ({"kind": "repeat_page", "method": "GET", "path": "/endpoints", "drop_items": 1}, "drop_items: not used by kind repeat_page (only by short_page)"),
        ({"method": "GET", "path": "/endpoints", "status": 200, "drop_items": 1}, "drop_items: not used by kind status (only by short_page)"),
        ({"kind": "short_page", "method": "GET", "path": "/endpoints", "process": False}, "process: kind short_page always processes the request"),
        ({"kind": "repeat_page", "method": "GET", "path": "/endpoints", "process": False}, "process: kind repeat_page always processes the request"),
        ({"kind": "short_page", "method": "GET", "path": "/endpoints", "status": 200},
         "status: not used by kind short_page (only by status and non_json)"),
        ({"kind": "repeat_page", "method": "GET", "path": "/endpoints", "body": {"endpoints": []}},
         "body: not used by kind repeat_page (only by status and non_json)"),
        ({"kind": "page", "method": "GET", "path": "/endpoints"},
         "kind: page is not one of status, latency, timeout, drop, truncate, non_json, echo, short_page, repeat_page"),
    )
    for rule, message in cases:
        status, payload = client.answer("POST", "/_emulator/faults", rule, admin=True)
        assert (status, payload["message"]) == (400, message)
    assert client.admin("GET", "/faults") == {"faults": []}


def test_stale_list_reads_show_the_view_before_an_update_in_the_list_only(client):
    client.admin("POST", "/config", {"stale_list_reads": 2})
    seed_endpoints(client, 1)
    endpoint = client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]

    def whole(values):
        return dict((key, int(value) if isinstance(value, str) and value.isdigit() else value) for key, value in values.items())

    update = {"id": endpoint["id"], "workerConfig": whole(dict(endpoint["workerConfig"], maxNum=5)),
              "ports": [{"port": int(endpoint["ports"][0]["port"])}], "policy": whole(endpoint["policy"]), "image": endpoint["image"]}
    client.ok("POST", "/endpoint/update", update)
    # a read by ID shows the update at once; the list shows the endpoint as before it for two list reads
    assert int(client.ok("GET", "/endpoint?id=" + endpoint["id"])["endpoint"]["workerConfig"]["maxNum"]) == 5
    listed = [int(client.ok("GET", "/endpoints?pageSize=10&pageNum=1")["endpoints"][0]["workerConfig"]["maxNum"]) for dummy in range(3)]
    assert listed == [int(endpoint["workerConfig"]["maxNum"])] * 2 + [5]
    client.admin("POST", "/config", {"stale_list_reads": 0})
