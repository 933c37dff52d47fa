# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import (
    NETWORK_STORAGE_SCHEMA,
    NetworkStorageAPI,
    NetworkStorageConverger,
    NetworkStorageError,
    cluster_result,
    mounting_endpoints,
    network_storage_argument_spec,
    storage_result,
    validate_options,
)
from ansible_collections.novita.cloud.tests.unit.plugins.module_utils.fake_api import FakeClient, endpoint_data

CLUSTERS = [
    {"id": "c1", "name": "us-east", "availableGpuType": ["RTX 4090 24GB"], "supportNetworkStorage": True, "supportInstanceNetwork": True},
    {"id": "c2", "name": "eu-west", "availableGpuType": ["A100 80GB"], "supportNetworkStorage": "true", "supportInstanceNetwork": 0},
    {"id": "c3", "name": "ap-south", "availableGpuType": [], "supportNetworkStorage": False, "supportInstanceNetwork": False},
]


def storage(storage_id, name, size=100, cluster="c1", cluster_name="us-east"):
    return {"storageId": storage_id, "storageName": name, "storageSize": size, "clusterId": cluster, "clusterName": cluster_name,
            "price": "0.07"}


def mounting(endpoint_id, name, storage_id):
    return endpoint_data(endpoint_id, name, volumeMounts=[{"type": "local", "size": 30, "mountPath": "/workspace"},
                                                          {"type": "network", "id": storage_id, "mountPath": "/models"}],
                         clusterID="c1")


class StorageClient(FakeClient):
    """FakeClient with the network storage and cluster calls: the list filters by name (a substring, as the API does) and by
    ID and pages by ``pageNo`` from 1; create answers ``{}`` or, with ``reply_id``, ``{"storageId": ...}``; sizes come back as
    ``size_type`` (int or str)."""

    def __init__(self, storages=(), clusters=tuple(CLUSTERS), reply_id=True, size_type=int, page_size=None, **kwargs):
        super(StorageClient, self).__init__(**kwargs)
        self.storages = [copy.deepcopy(s) for s in storages]
        self.clusters = copy.deepcopy(list(clusters))
        self.reply_id = reply_id
        self.size_type = size_type
        self.page_size = page_size  # the page size the server caps at, if any
        self.bodies = []  # (path, body) of every POST
        self.queries = []  # the query of every storage list read
        self.next_id = 10

    def get(self, path, query=None):
        if path == "/networkstorages/list":
            self._record(("GET", path))
            self.queries.append(dict(query))
            matched = [dict(s, storageSize=self.size_type(s["storageSize"])) for s in self.storages
                       if query.get("storageName", "") in s["storageName"] and query.get("storageId", s["storageId"]) == s["storageId"]]
            size = min(query["pageSize"], self.page_size or query["pageSize"])
            start = (query["pageNo"] - 1) * size
            return {"data": matched[start:start + size], "total": len(matched)}
        if path == "/clusters":
            self._record(("GET", path))
            return {"data": copy.deepcopy(self.clusters)}
        return super(StorageClient, self).get(path, query)

    def post(self, path, body, retry=False):
        self.bodies.append((path, copy.deepcopy(body)))
        return super(StorageClient, self).post(path, body, retry)

    def _apply(self, path, body):
        with self.lock:
            if path == "/networkstorage/create":
                self.next_id += 1
                cluster = [c for c in self.clusters if c["id"] == body["clusterId"]][0]
                new = storage("ns-%d" % self.next_id, body["storageName"], body["storageSize"], cluster["id"], cluster["name"])
                self.storages.append(new)
                return {"storageId": new["storageId"]} if self.reply_id else {}
            if path == "/networkstorage/update":
                target = [s for s in self.storages if s["storageId"] == body["storageId"]][0]
                target.update(storageName=body["storageName"], storageSize=body["storageSize"])
                return {}
            if path == "/networkstorage/delete":
                before = len(self.storages)
                self.storages = [s for s in self.storages if s["storageId"] != body["storageId"]]
                if len(self.storages) == before:
                    raise NovitaAPIError("Novita API returned HTTP 400 NETWORK_STORAGE_NOT_FOUND", status=400, method="POST", path=path,
                                         api_reason="NETWORK_STORAGE_NOT_FOUND")
                return {}
        return super(StorageClient, self)._apply(path, body)

    def sent(self, path):
        return [body for where, body in self.bodies if where == path]


def params(**given):
    values = dict((key, None) for key in network_storage_argument_spec())
    values.update(state="present", force=False)
    values.update(given)
    return values


def converge(client, check_mode=False, want_diff=False, **given):
    task = params(**given)
    return NetworkStorageConverger(NetworkStorageAPI(client), task, check_mode=check_mode, want_diff=want_diff,
                                   problems=validate_options(task)).run()


def failure(client, **given):
    with pytest.raises(NetworkStorageError) as exc:
        converge(client, **given)
    return exc.value


LIST = ("GET", "/networkstorages/list")
CLUSTERS_READ = ("GET", "/clusters")


# ---------------------------------------------------------------------------
# create


@pytest.mark.parametrize("reply_id", [True, False], ids=["reply-with-id", "empty-reply"])
def test_create_sends_cluster_name_size_and_returns_the_storage_read_back(reply_id):
    client = StorageClient([storage("ns-1", "team-models-old")], reply_id=reply_id)
    result = converge(client, name="team-models", cluster_name="us-east", size=50)
    assert result["changed"] is True and result["action"] == "created"
    assert client.sent("/networkstorage/create") == [{"clusterId": "c1", "storageName": "team-models", "storageSize": 50}]
    assert client.calls == [LIST, CLUSTERS_READ, ("POST", "/networkstorage/create"), LIST]
    # The lookup filters by name; the read back is by the new ID, or (no ID in the reply) by the name, which finds the new one.
    assert client.queries[0] == {"pageNo": 1, "pageSize": 100, "storageName": "team-models"}
    assert client.queries[1] == ({"pageNo": 1, "pageSize": 100, "storageId": "ns-11"} if reply_id else client.queries[0])
    assert result["network_storage"] == {"id": "ns-11", "name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east",
                                         "price": "0.07"}
    assert "warnings" not in result


def test_create_check_mode_reads_the_same_and_writes_nothing():
    client = StorageClient()
    result = converge(client, check_mode=True, want_diff=True, name="team-models", cluster_name="us-east", size=50)
    assert result["changed"] is True and result["action"] == "created"
    assert client.calls == [LIST, CLUSTERS_READ]
    assert result["network_storage"] == {"id": None, "name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east",
                                         "price": None}
    assert result["diff"] == {"before": {}, "after": {"name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east"},
                              "before_header": "network storage team-models", "after_header": "network storage team-models"}


def test_create_needs_size_and_cluster():
    client = StorageClient()
    error = failure(client, name="team-models")
    assert error.details["errors"] == ["size is required to create network storage team-models",
                                       "cluster_id or cluster_name is required to create network storage team-models"]
    assert client.writes() == []


def test_unsupported_cluster_bad_name_and_small_size_are_reported_together_before_any_write():
    client = StorageClient()
    error = failure(client, name="team_models!", cluster_name="ap-south", size=5)
    assert error.details["errors"] == [
        "name: 'team_models!' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only",
        "size: 5 GB is less than the allowed minimum of 10 GB",
        "cluster_name: cluster c3 (ap-south) does not support network storage (supportNetworkStorage is false); clusters that do:"
        " c1 (us-east), c2 (eu-west)",
    ]
    assert error.msg.startswith("3 problems, nothing was written: name: ")
    assert client.writes() == []


def test_unknown_cluster_bad_name_and_small_size_are_reported_together_before_any_write():
    client = StorageClient()
    error = failure(client, name="bad.name", cluster_id="c9", size=9)
    assert error.details["errors"][2] == "cluster_id: no cluster has the ID c9; clusters that support network storage: c1 (us-east), c2 (eu-west)"
    assert len(error.details["errors"]) == 3
    assert client.writes() == [] and client.calls == [LIST, CLUSTERS_READ]


def test_a_cluster_name_two_clusters_have_is_an_error():
    client = StorageClient(clusters=CLUSTERS + [dict(CLUSTERS[0], id="c4")])
    error = failure(client, name="team-models", cluster_name="us-east", size=10)
    assert error.msg == "cluster_name: 2 clusters are named us-east (IDs: c1, c4); set cluster_id instead"


def test_a_failed_cluster_read_still_reports_the_task_problems():
    client = StorageClient()
    original = client.get

    def get(path, query=None):
        if path == "/clusters":
            raise NovitaAPIError("Novita API returned HTTP 503 on GET /clusters", status=503, method="GET", path=path)
        return original(path, query)
    client.get = get
    error = failure(client, name="bad_name", cluster_name="us-east", size=50)
    assert error.details["errors"] == [
        "name: 'bad_name' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only",
        "the checks that need the API could not be made: Novita API returned HTTP 503 on GET /clusters",
    ]


def test_an_unknown_id_is_not_created():
    client = StorageClient([storage("ns-1", "models")])
    error = failure(client, id="ns-404", name="models-2", size=10, cluster_id="c1")
    assert error.msg == ("id: no network storage has the ID ns-404; a storage cannot be created with a chosen ID: give name without id"
                         " to create one")
    assert client.writes() == []


def test_an_ambiguous_create_adopts_the_storage_the_api_made():
    client = StorageClient(reply_id=True, faults={"/networkstorage/create": [
        (NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/networkstorage/create", transient=True, ambiguous=True), True)]})
    result = converge(client, name="team-models", cluster_id="c1", size=10)
    assert client.count("POST") == 1
    assert result["network_storage"]["id"] == "ns-11"
    assert "found by name and adopted" in result["warnings"][0]


def test_an_ambiguous_create_that_made_nothing_is_sent_again():
    client = StorageClient(faults={"/networkstorage/create": [
        (NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/networkstorage/create", transient=True, ambiguous=True), False)]})
    result = converge(client, name="team-models", cluster_id="c1", size=10)
    assert client.count("POST") == 2 and len(client.storages) == 1
    assert result["changed"] is True and "warnings" not in result


def test_an_empty_create_reply_with_two_storages_of_the_name_fails_naming_them():
    client = StorageClient(reply_id=False)
    original = client._apply

    def apply(path, body):
        answer = original(path, body)
        if path == "/networkstorage/create":
            client.storages.append(storage("ns-99", body["storageName"]))  # another run created the same name
        return answer
    client._apply = apply
    error = failure(client, name="team-models", cluster_id="c1", size=10)
    assert "2 storages now have the name (IDs: ns-11, ns-99)" in error.msg
    assert error.details["network_storage_ids"] == ["ns-11", "ns-99"]


# ---------------------------------------------------------------------------
# update


@pytest.mark.parametrize("size_type", [int, str], ids=["int-size", "string-size"])
def test_rerun_unchanged_is_one_read(size_type):
    client = StorageClient([storage("ns-1", "models", 100), storage("ns-2", "models-old", 10)], size_type=size_type)
    result = converge(client, want_diff=True, name="models", cluster_name="us-east", size=100)
    assert result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [LIST]
    assert result["network_storage"]["size"] == 100
    assert result["diff"]["before"] == result["diff"]["after"]


def test_rerun_by_id_with_cluster_id_is_one_read():
    client = StorageClient([storage("ns-1", "models", 100)])
    result = converge(client, id="ns-1", name="models", cluster_id="c1", size=100)
    assert result["changed"] is False and client.calls == [LIST]
    assert client.queries == [{"pageNo": 1, "pageSize": 100, "storageId": "ns-1"}]


def test_grow_sends_the_complete_body():
    client = StorageClient([storage("ns-1", "models", "100")], size_type=str)
    result = converge(client, want_diff=True, name="models", size=150)
    assert result["changed"] is True and result["action"] == "updated"
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-1", "storageName": "models", "storageSize": 150}]
    assert client.calls == [LIST, ("POST", "/networkstorage/update"), LIST]
    assert result["network_storage"]["size"] == 150
    assert result["diff"]["before"]["size"] == 100 and result["diff"]["after"]["size"] == 150
    assert result["diff"]["before_header"] == result["diff"]["after_header"] == "network storage models (ns-1)"


def test_grow_in_check_mode_writes_nothing():
    client = StorageClient([storage("ns-1", "models", 100)])
    result = converge(client, check_mode=True, name="models", size=150)
    assert result["changed"] is True and result["action"] == "updated" and result["network_storage"]["size"] == 150
    assert client.writes() == [] and client.calls == [LIST]


def test_shrink_is_refused_before_any_write_naming_both_sizes():
    client = StorageClient([storage("ns-1", "models", 100)])
    error = failure(client, name="models", size=50)
    assert error.msg == "size: network storage models (ns-1) has 100 GB; 50 GB is smaller, and a network storage can only grow"
    assert error.details["network_storage_id"] == "ns-1"
    assert client.writes() == []


def test_rename_by_id_keeps_the_size():
    client = StorageClient([storage("ns-1", "models", 100)])
    result = converge(client, want_diff=True, id="ns-1", name="models-v2")
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-1", "storageName": "models-v2", "storageSize": 100}]
    assert result["network_storage"]["name"] == "models-v2"
    assert result["diff"]["before_header"] == "network storage models (ns-1)"
    assert result["diff"]["after_header"] == "network storage models-v2 (ns-1)"


def test_cluster_change_is_refused_naming_both_together_with_a_shrink():
    client = StorageClient([storage("ns-1", "models", 100)])
    error = failure(client, name="models", cluster_id="c2", size=20)
    assert error.details["errors"] == [
        "cluster_id: network storage models (ns-1) is in cluster c1; its cluster cannot change to c2 (create a new storage in that cluster instead)",
        "size: network storage models (ns-1) has 100 GB; 20 GB is smaller, and a network storage can only grow",
    ]
    error = failure(client, name="models", cluster_name="eu-west")
    assert error.msg == ("cluster_name: network storage models (ns-1) is in cluster us-east (c1); its cluster cannot change to eu-west"
                         " (create a new storage in that cluster instead)")
    assert client.writes() == [] and client.count("GET", "/clusters") == 0


def test_duplicate_names_fail_before_any_write_listing_the_ids_and_id_picks_one():
    client = StorageClient([storage("ns-1", "models"), storage("ns-2", "models", cluster="c2"), storage("ns-3", "models-x")])
    error = failure(client, name="models", size=200)
    assert error.msg == "name: 2 network storages are named models (IDs: ns-1, ns-2); set id to choose the one to manage"
    assert error.details["network_storage_ids"] == ["ns-1", "ns-2"]
    error = failure(client, name="models", state="absent")
    assert error.details["network_storage_ids"] == ["ns-1", "ns-2"]
    assert client.writes() == []
    result = converge(client, id="ns-2", size=200)
    assert result["changed"] is True and client.sent("/networkstorage/update") == [{"storageId": "ns-2", "storageName": "models", "storageSize": 200}]


def test_a_failed_update_says_it_was_not_applied():
    client = StorageClient([storage("ns-1", "models", 100)], faults={"/networkstorage/update": [
        (NovitaAPIError("Novita API returned HTTP 400 on POST /networkstorage/update: too big", status=400, method="POST",
                        path="/networkstorage/update"), False)]})
    error = failure(client, name="models", size=5000)
    assert error.msg.endswith("; it was not applied") and error.details["failure"]["status"] == 400


# ---------------------------------------------------------------------------
# delete


def test_delete_is_refused_while_an_endpoint_mounts_it_naming_the_endpoint():
    client = StorageClient([storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1"), endpoint_data("ep-2", "other")])
    error = failure(client, name="models", state="absent")
    assert error.msg == ("network storage models (ns-1) is mounted by 1 endpoint(s): chat (ep-1); nothing was deleted. Remove the mount"
                         " from those endpoints first, or set force=true to delete it anyway")
    assert error.details["used_by"] == [{"id": "ep-1", "name": "chat"}]
    assert client.writes() == []


def test_forced_delete_warns_naming_the_endpoints():
    client = StorageClient([storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1")])
    result = converge(client, want_diff=True, name="models", state="absent", force=True)
    assert result["changed"] is True and result["action"] == "deleted"
    assert client.sent("/networkstorage/delete") == [{"storageId": "ns-1"}]
    assert "chat (ep-1)" in result["warnings"][0] and result["used_by"] == [{"id": "ep-1", "name": "chat"}]
    assert result["diff"]["after"] == {} and result["diff"]["before"]["name"] == "models"
    assert result["network_storage"]["id"] == "ns-1"


def test_delete_then_delete_again_is_unchanged():
    client = StorageClient([storage("ns-1", "models")])
    result = converge(client, name="models", state="absent")
    assert result["changed"] is True and client.calls == [LIST, ("LIST", "/endpoints"), ("POST", "/networkstorage/delete")]
    client.calls = []
    result = converge(client, name="models", state="absent")
    assert result == {"changed": False, "action": "unchanged", "network_storage": {}}
    assert client.calls == [LIST]


def test_delete_in_check_mode_reads_the_endpoints_and_writes_nothing():
    client = StorageClient([storage("ns-1", "models")])
    result = converge(client, check_mode=True, id="ns-1", state="absent")
    assert result["changed"] is True and result["action"] == "deleted"
    assert client.writes() == [] and client.calls == [LIST, ("LIST", "/endpoints")]


def test_absent_ignores_the_create_rules():
    client = StorageClient([storage("ns-1", "old_style")])
    result = converge(client, name="old_style", size=1, state="absent")
    assert result["changed"] is True


# ---------------------------------------------------------------------------
# the pieces


def test_list_reads_every_page_and_stops_when_pages_repeat():
    client = StorageClient([storage("ns-%d" % i, "s%d" % i) for i in range(5)], page_size=2)
    assert [s["storageId"] for s in NetworkStorageAPI(client).list()] == ["ns-0", "ns-1", "ns-2", "ns-3", "ns-4"]
    assert [q["pageNo"] for q in client.queries] == [1, 2, 3]

    class IgnoresPages(StorageClient):
        def get(self, path, query=None):
            return super(IgnoresPages, self).get(path, dict(query, pageNo=1) if path == "/networkstorages/list" else query)
    client = IgnoresPages([storage("ns-%d" % i, "s%d" % i) for i in range(5)], page_size=2)
    assert [s["storageId"] for s in NetworkStorageAPI(client).list()] == ["ns-0", "ns-1"]
    assert len(client.queries) == 2


def test_name_filter_keeps_exact_matches_only():
    client = StorageClient([storage("ns-1", "models"), storage("ns-2", "models-2"), storage("ns-3", "old-models")])
    assert [s["storageId"] for s in NetworkStorageAPI(client).by_name("models")] == ["ns-1"]


def test_results_and_clusters_are_snake_case_with_typed_values():
    assert storage_result(storage("ns-1", "models", "100")) == {
        "id": "ns-1", "name": "models", "size": 100, "cluster_id": "c1", "cluster_name": "us-east", "price": "0.07"}
    assert storage_result(None) == {}
    assert cluster_result(CLUSTERS[1]) == {"id": "c2", "name": "eu-west", "available_gpu_type": ["A100 80GB"],
                                           "support_network_storage": True, "support_instance_network": False}
    assert cluster_result({"id": 7, "name": "x", "supportNetworkStorage": "false", "zoneCode": "z1"}) == {
        "id": "7", "name": "x", "available_gpu_type": [], "support_network_storage": False, "support_instance_network": False,
        "zone_code": "z1"}


def test_mounting_endpoints_match_network_mounts_by_id():
    endpoints = [mounting("ep-2", "b", "ns-1"), mounting("ep-1", "a", "ns-1"), mounting("ep-3", "c", "ns-2"),
                 endpoint_data("ep-4", "d", volumeMounts=[{"type": "local", "id": "ns-1", "size": 30, "mountPath": "/x"}])]
    assert mounting_endpoints(endpoints, "ns-1") == [{"id": "ep-1", "name": "a"}, {"id": "ep-2", "name": "b"}]


def test_schema_maps_the_api_fields():
    model = NETWORK_STORAGE_SCHEMA.model_from_api(storage("ns-1", "models", "100"))
    assert model == {"name": "models", "size": 100, "cluster_id": "c1"}
    assert NETWORK_STORAGE_SCHEMA.build_payload(model, for_create=True) == {"storageName": "models", "storageSize": 100, "clusterId": "c1"}
    assert NETWORK_STORAGE_SCHEMA.build_payload(model, for_create=False) == {"storageName": "models", "storageSize": 100}
