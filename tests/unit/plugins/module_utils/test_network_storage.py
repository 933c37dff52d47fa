# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaListError
from ansible_collections.novita.cloud.plugins.module_utils.module import ProblemsError
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import (
    NETWORK_STORAGE_SCHEMA,
    NetworkStorageAPI,
    NetworkStorageConverger,
    NetworkStorageError,
    _reply_id,
    cluster_result,
    mounting_endpoints,
    network_storage_argument_spec,
    storage_result,
    validate_options,
)
from ansible_collections.novita.cloud.tests.unit.helpers import CLUSTERS, FakeClient, failure_of, endpoint_data, mounting, storage


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


def problems(client, **given):
    """The problems a run found before any write (one ProblemsError listing them all)."""
    with pytest.raises(ProblemsError) as exc:
        converge(client, **given)
    return exc.value


LIST = ("GET", "/networkstorages/list")
CLUSTERS_READ = ("GET", "/clusters")


# ---------------------------------------------------------------------------
# create


@pytest.mark.parametrize("reply_id", [True, False, "string"], ids=["reply-with-id", "empty-reply", "bare-string-reply"])
def test_create_sends_cluster_name_size_and_returns_the_storage_read_back(reply_id):
    client = FakeClient(storages=[storage("ns-1", "team-models-old")], reply_id=reply_id)
    result = converge(client, name="team-models", cluster_name="us-east", size=50)
    assert result["changed"] is True and result["action"] == "created"
    assert client.sent("/networkstorage/create") == [{"clusterId": "c1", "storageName": "team-models", "storageSize": 50}]
    assert client.calls == [LIST, CLUSTERS_READ, ("POST", "/networkstorage/create"), LIST]
    # The lookup filters by name; so does the read back, which also shows any other storage a concurrent run created.
    queries = client.queries_of("/networkstorages/list")
    assert queries[0] == queries[1] == {"pageNo": 1, "pageSize": 100, "storageName": "team-models"}
    assert result["network_storage"] == {"id": "ns-11", "name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east",
                                         "price": "0.07"}
    assert "warnings" not in result


@pytest.mark.parametrize("reply, expected", [
    ("ns-7", "ns-7"),  # Novita's docs: the bare ID as a JSON string
    (" ns-7 ", "ns-7"),
    ({"storageId": "ns-7"}, "ns-7"),
    ({"storageId": 7}, "7"),
    ({"data": {"storageId": "ns-7"}}, "ns-7"),
    ({}, None),  # then the storage is looked up by name
    ("", None),
    ("not an id", None),
    (None, None),
    (["ns-7"], None),
])
def test_the_create_answer_gives_the_new_id_in_each_shape(reply, expected):
    assert _reply_id(reply) == expected


def test_create_check_mode_reads_the_same_and_writes_nothing():
    client = FakeClient()
    result = converge(client, check_mode=True, want_diff=True, name="team-models", cluster_name="us-east", size=50)
    assert result["changed"] is True and result["action"] == "created"
    assert client.calls == [LIST, CLUSTERS_READ]
    assert result["network_storage"] == {"id": None, "name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east",
                                         "price": None}
    assert result["diff"] == {"before": {}, "after": {"name": "team-models", "size": 50, "cluster_id": "c1", "cluster_name": "us-east"},
                              "before_header": "network storage team-models", "after_header": "network storage team-models"}


def test_create_needs_size_and_cluster():
    client = FakeClient()
    error = problems(client, name="team-models")
    assert error.details["errors"] == ["size is required to create network storage team-models",
                                       "cluster_id or cluster_name is required to create network storage team-models"]
    assert client.writes() == []


def test_unsupported_cluster_bad_name_and_small_size_are_reported_together_before_any_write():
    client = FakeClient()
    error = problems(client, name="team_models!", cluster_name="ap-south", size=5)
    assert error.details["errors"] == [
        "name: 'team_models!' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only",
        "size: 5 GB is less than the allowed minimum of 10 GB",
        "cluster_name: cluster c3 (ap-south) does not support network storage (supportNetworkStorage is false); clusters that do:"
        " c1 (us-east), c2 (eu-west)",
    ]
    assert error.msg.startswith("3 problems, nothing was written: name: ")
    assert client.writes() == []


def test_unknown_cluster_bad_name_and_small_size_are_reported_together_before_any_write():
    client = FakeClient()
    error = problems(client, name="bad.name", cluster_id="c9", size=9)
    assert error.details["errors"][2] == "cluster_id: no cluster has the ID c9; clusters that support network storage: c1 (us-east), c2 (eu-west)"
    assert len(error.details["errors"]) == 3
    assert client.writes() == [] and client.calls == [LIST, CLUSTERS_READ]


def test_a_cluster_name_two_clusters_have_is_an_error():
    client = FakeClient(clusters=CLUSTERS + [dict(CLUSTERS[0], id="c4")])
    error = problems(client, name="team-models", cluster_name="us-east", size=10)
    assert error.msg == "cluster_name: 2 clusters are named us-east (IDs: c1, c4); set cluster_id instead"


def test_a_failed_cluster_read_still_reports_the_task_problems():
    client = FakeClient()
    original = client.get

    def get(path, query=None):
        if path == "/clusters":
            raise NovitaAPIError("Novita API returned HTTP 503 on GET /clusters", status=503, method="GET", path=path)
        return original(path, query)
    client.get = get
    error = problems(client, name="bad_name", cluster_name="us-east", size=50)
    assert error.details["errors"] == [
        "name: 'bad_name' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only",
        "the checks that need the API could not be made: Novita API returned HTTP 503 on GET /clusters",
    ]


def test_an_unknown_id_is_not_created():
    client = FakeClient(storages=[storage("ns-1", "models")])
    error = problems(client, id="ns-404", name="models-2", size=10, cluster_id="c1")
    assert error.msg == ("id: no network storage has the ID ns-404; a storage cannot be created with a chosen ID: give name without id"
                         " to create one")
    assert client.writes() == []


def test_an_ambiguous_create_adopts_the_storage_the_api_made():
    client = FakeClient(reply_id=True, faults={"/networkstorage/create": [
        (NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/networkstorage/create", transient=True, ambiguous=True), True)]})
    result = converge(client, name="team-models", cluster_id="c1", size=10)
    assert client.count("POST") == 1
    assert result["network_storage"]["id"] == "ns-11"
    assert "found by name and adopted" in result["warnings"][0]


def test_an_ambiguous_create_that_made_nothing_is_sent_again():
    client = FakeClient(faults={"/networkstorage/create": [
        (NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/networkstorage/create", transient=True, ambiguous=True), False)]})
    result = converge(client, name="team-models", cluster_id="c1", size=10)
    assert client.count("POST") == 2 and len(client.storages) == 1
    assert result["changed"] is True and "warnings" not in result


# ---------------------------------------------------------------------------
# update


@pytest.mark.parametrize("size_type", [int, str], ids=["int-size", "string-size"])
def test_rerun_unchanged_is_one_read(size_type):
    client = FakeClient(storages=[storage("ns-1", "models", 100), storage("ns-2", "models-old", 10)], size_type=size_type)
    result = converge(client, want_diff=True, name="models", cluster_name="us-east", size=100)
    assert result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [LIST]
    assert result["network_storage"]["size"] == 100
    assert result["diff"]["before"] == result["diff"]["after"]


def test_rerun_by_id_with_cluster_id_is_one_read():
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    result = converge(client, id="ns-1", name="models", cluster_id="c1", size=100)
    assert result["changed"] is False and client.calls == [LIST]
    assert client.queries_of("/networkstorages/list") == [{"pageNo": 1, "pageSize": 100, "storageId": "ns-1"}]


def test_grow_sends_the_complete_body():
    client = FakeClient(storages=[storage("ns-1", "models", "100")], size_type=str)
    result = converge(client, want_diff=True, name="models", size=150)
    assert result["changed"] is True and result["action"] == "updated"
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-1", "storageName": "models", "storageSize": 150}]
    assert client.calls == [LIST, ("POST", "/networkstorage/update"), LIST]
    assert result["network_storage"]["size"] == 150
    assert result["diff"]["before"]["size"] == 100 and result["diff"]["after"]["size"] == 150
    assert result["diff"]["before_header"] == result["diff"]["after_header"] == "network storage models (ns-1)"


def test_grow_in_check_mode_writes_nothing():
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    result = converge(client, check_mode=True, name="models", size=150)
    assert result["changed"] is True and result["action"] == "updated" and result["network_storage"]["size"] == 150
    assert client.writes() == [] and client.calls == [LIST]


def test_shrink_is_refused_before_any_write_naming_both_sizes():
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    error = problems(client, name="models", size=50)
    assert error.msg == "size: network storage models (ns-1) has 100 GB; 50 GB is smaller, and a network storage can only grow"
    assert error.details["network_storage_id"] == "ns-1"
    assert client.writes() == []


def test_rename_by_id_keeps_the_size():
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    result = converge(client, want_diff=True, id="ns-1", name="models-v2")
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-1", "storageName": "models-v2", "storageSize": 100}]
    assert result["network_storage"]["name"] == "models-v2"
    assert result["diff"]["before_header"] == "network storage models (ns-1)"
    assert result["diff"]["after_header"] == "network storage models-v2 (ns-1)"


def test_cluster_change_is_refused_naming_both_together_with_a_shrink():
    client = FakeClient(storages=[storage("ns-1", "models", 100)])
    error = problems(client, name="models", cluster_id="c2", size=20)
    assert error.details["errors"] == [
        "cluster_id: network storage models (ns-1) is in cluster c1; its cluster cannot change to c2 (create a new storage in that cluster instead)",
        "size: network storage models (ns-1) has 100 GB; 20 GB is smaller, and a network storage can only grow",
    ]
    error = problems(client, name="models", cluster_name="eu-west")
    assert error.msg == ("cluster_name: network storage models (ns-1) is in cluster us-east (c1); its cluster cannot change to eu-west"
                         " (create a new storage in that cluster instead)")
    assert client.writes() == [] and client.count("GET", "/clusters") == 0


def test_duplicate_names_fail_before_any_write_listing_the_ids_and_id_picks_one():
    client = FakeClient(storages=[storage("ns-1", "models"), storage("ns-2", "models", cluster="c2"), storage("ns-3", "models-x")])
    error = problems(client, name="models", size=200)
    assert error.msg == "name: 2 network storages are named models (IDs: ns-1, ns-2); set id to choose the one to manage"
    assert error.details["network_storage_ids"] == ["ns-1", "ns-2"]
    error = failure(client, name="models", state="absent")
    assert error.details["network_storage_ids"] == ["ns-1", "ns-2"]
    assert client.writes() == []
    result = converge(client, id="ns-2", size=200)
    assert result["changed"] is True and client.sent("/networkstorage/update") == [{"storageId": "ns-2", "storageName": "models", "storageSize": 200}]


def test_a_failed_update_says_it_was_not_applied():
    client = FakeClient(storages=[storage("ns-1", "models", 100)], faults={"/networkstorage/update": [
        (NovitaAPIError("Novita API returned HTTP 400 on POST /networkstorage/update: too big", status=400, method="POST",
                        path="/networkstorage/update"), False)]})
    error = failure(client, name="models", size=5000)
    assert error.msg.endswith("; it was not applied") and error.details["failure"]["status"] == 400


# ---------------------------------------------------------------------------
# delete


def test_a_check_mode_teardown_refusal_says_an_earlier_simulated_delete_leaves_the_endpoint():
    client = FakeClient(storages=[storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1")])
    with pytest.raises(NetworkStorageError) as exc:
        converge(client, check_mode=True, name="models", state="absent")
    assert exc.value.msg.endswith("(check mode: if an earlier task of this play deletes chat (ep-1), that delete was only simulated, so the"
                                  " endpoint still exists here; a run without --check deletes it first and then this one)")
    assert client.writes() == []


def test_delete_is_refused_while_an_endpoint_mounts_it_naming_the_endpoint():
    client = FakeClient(storages=[storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1"), endpoint_data("ep-2", "other")])
    error = failure(client, name="models", state="absent")
    assert error.msg == ("network storage models (ns-1) is mounted by 1 endpoint(s): chat (ep-1); nothing was deleted. Remove the mount"
                         " from those endpoints first, or set force=true to delete it anyway")
    assert error.details["used_by"] == [{"id": "ep-1", "name": "chat"}]
    assert client.writes() == []


def test_forced_delete_warns_naming_the_endpoints():
    client = FakeClient(storages=[storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1")])
    result = converge(client, want_diff=True, name="models", state="absent", force=True)
    assert result["changed"] is True and result["action"] == "deleted"
    assert client.sent("/networkstorage/delete") == [{"storageId": "ns-1"}]
    assert "chat (ep-1)" in result["warnings"][0] and result["used_by"] == [{"id": "ep-1", "name": "chat"}]
    assert result["diff"]["after"] == {} and result["diff"]["before"]["name"] == "models"
    assert result["network_storage"]["id"] == "ns-1"


def in_use(path, reason, message):
    return {path: [(NovitaAPIError("Novita API returned HTTP 400 %s on POST %s: %s" % (reason, path, message), status=400, method="POST",
                                   path=path, api_code=400, api_reason=reason, api_message=message), False)]}


def test_a_forced_delete_the_api_refuses_as_in_use_says_who_uses_it():
    client = FakeClient(storages=[storage("ns-1", "models")], endpoints=[mounting("ep-1", "chat", "ns-1")],
                        faults=in_use("/networkstorage/delete", "NETWORK_STORAGE_IN_USE", "network storage ns-1 is in use by endpoint ep-1"))
    error = failure(client, name="models", state="absent", force=True)
    assert error.msg == ("the API refused to delete network storage models (ns-1) because it is in use (NETWORK_STORAGE_IN_USE: network storage"
                         " ns-1 is in use by endpoint ep-1); endpoints that use it: chat (ep-1). It was not deleted. force=true cannot"
                         " override that refusal. Remove the volume mount from those endpoints or delete them first, then run the task again")
    assert error.details["failure"]["api_reason"] == "NETWORK_STORAGE_IN_USE" and error.details["network_storage_id"] == "ns-1"
    assert [s["storageId"] for s in client.storages] == ["ns-1"]


def test_a_delete_the_api_refuses_as_in_use_without_a_known_user_still_says_so():
    # The endpoint list showed no user (a mount made after the read), but the API knows better.
    client = FakeClient(storages=[storage("ns-1", "models")],
                        faults=in_use("/networkstorage/delete", "NETWORK_STORAGE_IN_USE", "network storage ns-1 is in use by endpoint ep-9"))
    error = failure(client, name="models", state="absent")
    assert error.msg.startswith("the API refused to delete network storage models (ns-1) because it is in use (NETWORK_STORAGE_IN_USE:"
                                " network storage ns-1 is in use by endpoint ep-9). It was not deleted. Remove the volume mount")


def test_delete_then_delete_again_is_unchanged():
    client = FakeClient(storages=[storage("ns-1", "models")])
    result = converge(client, name="models", state="absent")
    assert result["changed"] is True and client.calls == [LIST, ("LIST", "/endpoints"), ("POST", "/networkstorage/delete")]
    client.calls = []
    result = converge(client, name="models", state="absent")
    assert result == {"changed": False, "action": "unchanged", "network_storage": {}}
    assert client.calls == [LIST]


def test_delete_in_check_mode_reads_the_endpoints_and_writes_nothing():
    client = FakeClient(storages=[storage("ns-1", "models")])
    result = converge(client, check_mode=True, id="ns-1", state="absent")
    assert result["changed"] is True and result["action"] == "deleted"
    assert client.writes() == [] and client.calls == [LIST, ("LIST", "/endpoints")]


def test_absent_ignores_the_create_rules():
    client = FakeClient(storages=[storage("ns-1", "old_style")])
    result = converge(client, name="old_style", size=1, state="absent")
    assert result["changed"] is True


# ---------------------------------------------------------------------------
# bad reads and writes with no clear answer

GATEWAY_ERROR = {"code": 500, "message": "internal error"}
CREATE, UPDATE, DELETE = ("POST", "/networkstorage/create"), ("POST", "/networkstorage/update"), ("POST", "/networkstorage/delete")
UNCLEAR = NovitaAPIError("Novita API returned HTTP 502", status=502, method="POST", path="/networkstorage", transient=True, ambiguous=True)


@pytest.mark.parametrize("reply", [GATEWAY_ERROR, {"data": [], "total": 3}, {"data": [storage("ns-1", "models")], "total": "many"}],
                         ids=["error-body-at-200", "short-of-total", "total-not-a-number"])
def test_a_bad_storage_list_creates_nothing_and_deletes_nothing(reply):
    client = FakeClient(storages=[storage("ns-1", "models")], bad_replies={"/networkstorages/list": reply})
    with pytest.raises(NovitaListError) as error:
        converge(client, name="models", cluster_id="c1", size=100)
    assert "/networkstorages/list" in error.value.msg and " cannot be trusted: " in error.value.msg
    with pytest.raises(NovitaListError):
        converge(client, name="models", state="absent")
    assert client.writes() == []


def test_a_bad_endpoint_list_deletes_no_storage():
    client = FakeClient([mounting("ep-1", "chat", "ns-1")], storages=[storage("ns-1", "models")], bad_replies={"/endpoints": GATEWAY_ERROR})
    with pytest.raises(NovitaListError):
        converge(client, name="models", state="absent")
    assert client.writes() == [] and len(client.storages) == 1


def test_a_bad_cluster_list_creates_nothing():
    client = FakeClient(bad_replies={"/clusters": GATEWAY_ERROR})
    with pytest.raises(NovitaListError) as error:
        converge(client, name="models", cluster_name="us-east", size=100)
    assert "/clusters cannot be trusted: the reply has no data list" in error.value.msg
    assert client.writes() == []


def test_a_create_without_an_id_whose_lookup_fails_reports_changed():
    client = FakeClient(reply_id=False, fail_reads={"/networkstorages/list": 1})
    task = params(name="models", cluster_id="c1", size=100)
    converger = NetworkStorageConverger(NetworkStorageAPI(client), task, problems=validate_options(task))
    error = failure_of(converger, NetworkStorageError)
    assert error.msg.startswith("the API accepted the create of network storage models without returning its ID, and looking it up"
                                " failed: Novita API returned HTTP 503 on GET /networkstorages/list")
    assert converger.result["changed"] is True and len(client.storages) == 1


def test_a_create_with_no_clear_reply_whose_lookup_fails_reports_changed():
    client = FakeClient(fail_reads={"/networkstorages/list": 1}, faults={"/networkstorage/create": [(UNCLEAR, True)]})
    task = params(name="models", cluster_id="c1", size=100)
    converger = NetworkStorageConverger(NetworkStorageAPI(client), task, problems=validate_options(task))
    error = failure_of(converger, NetworkStorageError)
    assert error.msg.startswith("Novita API returned HTTP 502; whether network storage models was created is unknown, and looking it up"
                                " failed")
    assert converger.result["changed"] is True and client.count(*CREATE) == 1


def test_an_update_with_no_clear_reply_that_took_effect_succeeds_with_a_warning():
    client = FakeClient(storages=[storage("ns-1", "models", 100)], faults={"/networkstorage/update": [(UNCLEAR, True)]})
    result = converge(client, name="models", size=150)
    assert result["changed"] is True and result["action"] == "updated" and result["network_storage"]["size"] == 150
    assert result["warnings"] == ["the update of network storage models (ns-1) got no clear reply (Novita API returned HTTP 502); reading it"
                                  " back shows it was applied"]


def test_an_update_with_no_clear_reply_that_does_not_read_back_reports_changed():
    client = FakeClient(storages=[storage("ns-1", "models", 100)], faults={"/networkstorage/update": [(UNCLEAR, False)]})
    task = params(name="models", size=150)
    converger = NetworkStorageConverger(NetworkStorageAPI(client), task, problems=validate_options(task))
    error = failure_of(converger, NetworkStorageError)
    assert error.msg == ("updating network storage models (ns-1) failed: Novita API returned HTTP 502; it may or may not have been"
                         " applied, so changed is true; run the task again to converge")
    assert converger.result["changed"] is True


def test_a_delete_with_no_clear_reply_is_read_back():
    client = FakeClient(storages=[storage("ns-1", "models")], faults={"/networkstorage/delete": [(UNCLEAR, True)]})
    result = converge(client, name="models", state="absent")
    assert result["changed"] is True and client.storages == []
    assert result["warnings"] == ["the delete of network storage models (ns-1) got no clear reply (Novita API returned HTTP 502); reading it"
                                  " back shows it is gone"]
    client = FakeClient(storages=[storage("ns-1", "models")], faults={"/networkstorage/delete": [(UNCLEAR, False)]})
    task = params(name="models", state="absent")
    converger = NetworkStorageConverger(NetworkStorageAPI(client), task, problems=validate_options(task))
    error = failure_of(converger, NetworkStorageError)
    assert error.msg == ("deleting network storage models (ns-1) failed: Novita API returned HTTP 502; it is still listed, so it was not"
                         " deleted")
    assert converger.result["changed"] is False


# ---------------------------------------------------------------------------
# two runs creating one storage at the same moment


class TwoRuns(FakeClient):
    """Runs A and B create one storage name at the same moment. This client receives A's create first; B's (``rival``: its
    size) lands right after it, with the createdAt stamps ``created`` (A's, B's) if given. ``as_run_b`` then replays B:
    its lookup by name sees the storages as before both creates, its create was made already (the reply carries B's ID
    when the client replies with IDs), and (``settled_late``) its list after the create sees both new storages, as when
    both runs list before either deletes."""

    def __init__(self, storages=(), rival=None, created=(None, None), **kwargs):
        super(TwoRuns, self).__init__(storages=storages, **kwargs)
        self.rival = rival
        self.created = created
        self.replayed = []
        self.skip_create = None

    def get(self, path, query=None):
        if path == "/networkstorages/list" and self.replayed and "storageName" in query:
            live, self.storages = self.storages, self.replayed.pop(0)
            try:
                return super(TwoRuns, self).get(path, query)
            finally:
                self.storages = live
        return super(TwoRuns, self).get(path, query)

    def _apply(self, path, body):
        if path != "/networkstorage/create":
            return super(TwoRuns, self)._apply(path, body)
        if self.skip_create is not None:
            answer, self.skip_create = self.skip_create, None
            return answer
        before = copy.deepcopy(self.storages)
        answer = super(TwoRuns, self)._apply(path, body)
        rival = super(TwoRuns, self)._apply(path, dict(body, storageSize=self.rival or body["storageSize"]))
        for item, stamp in zip(self.storages[-2:], self.created):
            if stamp is not None:
                item["createdAt"] = stamp
        self.before, self.after_creates, self.rival_answer = before, copy.deepcopy(self.storages), rival
        return answer

    def as_run_b(self, settled_late=True):
        self.replayed = [self.before] + ([self.after_creates] if settled_late else [])
        self.skip_create = self.rival_answer
        self.calls, self.bodies, self.queries = [], [], []


@pytest.mark.parametrize("reply_id", [True, False], ids=["reply-with-id", "empty-reply"])
@pytest.mark.parametrize("settled_late", [True, False], ids=["b-lists-before-a-deletes", "b-lists-after-a-finished"])
def test_two_runs_creating_one_storage_at_once_leave_one_and_both_report_it(reply_id, settled_late):
    client = TwoRuns(reply_id=reply_id)
    result = converge(client, name="models", cluster_id="c1", size=100)
    assert result["changed"] is True and result["action"] == "created" and result["network_storage"]["id"] == "ns-11"
    client.as_run_b(settled_late)
    result = converge(client, name="models", cluster_id="c1", size=100)
    assert result["changed"] is True and result["action"] == "created" and result["network_storage"]["id"] == "ns-11"
    assert [s["storageId"] for s in client.storages] == ["ns-11"]
    client.calls = []
    result = converge(client, name="models", cluster_id="c1", size=100)
    assert result["changed"] is False and client.calls == [LIST]


def test_the_run_whose_storage_is_not_kept_deletes_its_own_and_adopts_the_other_with_its_values():
    client = TwoRuns(rival=150)
    result = converge(client, name="models", cluster_id="c1", size=100)
    assert result["network_storage"]["id"] == "ns-11" and client.count(*DELETE) == 0
    assert result["warnings"] == ["created network storage models (ns-11); another run created one with the name at the same time (IDs: ns-11,"
                                  " ns-12), and ns-11 is kept, the first by ID"]
    client.as_run_b()
    result = converge(client, name="models", cluster_id="c1", size=150)
    assert result["changed"] is True and result["action"] == "created" and result["duplicate_deleted_ids"] == ["ns-12"]
    assert result["network_storage"]["id"] == "ns-11" and result["network_storage"]["size"] == 150
    assert client.sent("/networkstorage/delete") == [{"storageId": "ns-12"}]
    assert client.sent("/networkstorage/update") == [{"storageId": "ns-11", "storageName": "models", "storageSize": 150}]
    assert result["warnings"][0] == ("created network storage models (ns-12); another run created one with the name at the same time (IDs:"
                                     " ns-11, ns-12), and ns-11 is kept, the first by ID; this run deleted its own (ns-12) and adopted ns-11")
    assert [s["storageId"] for s in client.storages] == ["ns-11"]


def test_the_oldest_storage_by_created_at_is_kept():
    client = TwoRuns(created=("2025-03-01T10:00:02Z", "2025-03-01T10:00:01Z"))
    result = converge(client, name="models", cluster_id="c1", size=100)
    assert result["network_storage"]["id"] == "ns-12" and result["duplicate_deleted_ids"] == ["ns-11"]
    assert [s["storageId"] for s in client.storages] == ["ns-12"]


def test_a_new_duplicate_an_endpoint_already_mounts_is_not_deleted():
    client = TwoRuns(endpoints=[mounting("ep-1", "chat", "ns-11")], created=("2025-03-01T10:00:02Z", "2025-03-01T10:00:01Z"))
    task = params(name="models", cluster_id="c1", size=100)
    converger = NetworkStorageConverger(NetworkStorageAPI(client), task, problems=validate_options(task))
    error = failure_of(converger, NetworkStorageError)
    assert error.msg == ("created network storage models (ns-11); another run created one with the name at the same time (IDs: ns-11,"
                         " ns-12), and ns-12 is kept, the oldest; then network storage models (ns-11) is mounted by 1 endpoint(s)"
                         " already: chat (ep-1), so nothing was deleted: move them to one of the storages and delete the others")
    assert converger.result["changed"] is True and client.count(*DELETE) == 0


# ---------------------------------------------------------------------------
# the pieces


def test_list_reads_every_page_and_refuses_pages_that_repeat_short_of_the_total():
    client = FakeClient(storages=[storage("ns-%d" % i, "s%d" % i) for i in range(5)], page_size=2)
    assert [s["storageId"] for s in NetworkStorageAPI(client).list()] == ["ns-0", "ns-1", "ns-2", "ns-3", "ns-4"]
    assert [q["pageNo"] for q in client.queries_of("/networkstorages/list")] == [1, 2, 3]

    class IgnoresPages(FakeClient):
        def get(self, path, query=None):
            return super(IgnoresPages, self).get(path, dict(query, pageNo=1) if path == "/networkstorages/list" else query)
    client = IgnoresPages(storages=[storage("ns-%d" % i, "s%d" % i) for i in range(5)], page_size=2)
    with pytest.raises(NovitaListError) as error:
        NetworkStorageAPI(client).list()
    assert "2 of 5 data read: page 2 repeated data of earlier pages" in error.value.msg


def test_name_filter_keeps_exact_matches_only():
    client = FakeClient(storages=[storage("ns-1", "models"), storage("ns-2", "models-2"), storage("ns-3", "old-models")])
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
