# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA
from ansible_collections.novita.cloud.plugins.module_utils.converge import EndpointConverger, NameLookups, resolve_names
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI, EndpointError
from ansible_collections.novita.cloud.plugins.module_utils.module import ProblemsError, reported
from ansible_collections.novita.cloud.plugins.module_utils.resource import created_at
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import endpoint_argument_spec
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data, failure_of

AUTHS = [{"id": "a1", "name": "hub", "username": "u", "password": "pw-secret"},
         {"id": "a2", "name": "twice", "username": "u", "password": "p"},
         {"id": "a3", "name": "twice", "username": "u", "password": "p"}]
STORAGES = ([{"storageId": "ns-%d" % i, "storageName": "store-%d" % i, "clusterId": "c%d" % (i % 2)} for i in range(5)]
            + [{"storageId": "ns-x", "storageName": "store-1-copy", "clusterId": "c9"}])


def existing(**overrides):
    data = endpoint_data("ep1", "chat", envs=[{"key": "A", "value": "1"}, {"key": "TOKEN", "value": "t0p"}])
    data.update(overrides)
    return data


def params(**given):
    values = dict((key, None) for key in endpoint_argument_spec())
    values.update(purge_envs=True, recreate=False, wait=True, wait_timeout=60, state="present")
    values.update(given)
    return values


def converge(client, check_mode=False, want_diff=False, **given):
    api = EndpointAPI(client, sleep=lambda s: None)
    return EndpointConverger(api, params(**given), check_mode=check_mode, want_diff=want_diff).run()


def test_unchanged_by_id_is_one_read():
    client = FakeClient([existing()])
    result = converge(client, id="ep1", worker_config={"max_num": 1}, envs={"A": "1"}, secret_envs={"TOKEN": "t0p"})
    assert result["changed"] is False
    assert client.calls == [("GET", "/endpoint")]
    assert result["endpoint"]["envs"] == {"A": "1", "TOKEN": "********"}


def test_update_sends_full_body_after_limits():
    client = FakeClient([existing()])
    result = converge(client, name="chat", worker_config={"max_num": 3})
    assert result["changed"] is True
    # found in the list, read again by ID before the full replace is built
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint"), ("GET", "/endpoint/limit"), ("POST", "/endpoint/update"),
                            ("GET", "/endpoint")]
    stored = client.endpoints["ep1"]
    assert stored["workerConfig"]["maxNum"] == 3
    assert stored["envs"] == [{"key": "A", "value": "1"}, {"key": "TOKEN", "value": "t0p"}]
    assert stored["healthy"] == {"path": "/ready"} and stored["image"]["command"] == "run" and stored["name"] == "chat"
    assert result["endpoint"]["worker_config"]["max_num"] == 3


def test_check_mode_update_makes_no_write_and_predicts_the_endpoint():
    client = FakeClient([existing()])
    result = converge(client, check_mode=True, want_diff=True, id="ep1", worker_config={"max_num": 3})
    assert result["changed"] is True
    assert client.writes() == []
    assert client.calls == [("GET", "/endpoint"), ("GET", "/endpoint/limit")]
    assert result["endpoint"]["worker_config"]["max_num"] == 3
    assert result["diff"]["before"]["worker_config"]["max_num"] == 1
    assert result["diff"]["after"]["worker_config"]["max_num"] == 3


def test_no_diff_unless_asked():
    client = FakeClient([existing()])
    assert "diff" not in converge(client, id="ep1", worker_config={"max_num": 3})


def test_check_mode_create_returns_null_id():
    client = FakeClient()
    result = converge(client, check_mode=True, name="new", product_id="1", image={"image": "img"}, port=80)
    assert result["changed"] is True and result["endpoint"]["id"] is None
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint/limit")]


def test_create_waits_through_initializing():
    client = FakeClient(states={"new1": ["initializing", "initializing", "serving"]})
    result = converge(client, name="new", product_id="1", image={"image": "img"}, port=80)
    assert result["endpoint"]["id"] == "new1" and result["endpoint"]["state"]["state"] == "serving"
    assert client.calls.count(("GET", "/endpoint")) == 3


def test_wait_timeout_names_endpoint_and_last_state():
    client = FakeClient(states={"new1": ["initializing"] * 100})
    clock = iter(range(0, 1000, 10))
    api = EndpointAPI(client, sleep=lambda s: None, clock=lambda: next(clock))
    with pytest.raises(EndpointError) as exc:
        EndpointConverger(api, params(name="n", product_id="1", image={"image": "i"}, port=80, wait_timeout=30)).run()
    assert exc.value.msg == "created endpoint new1, then: timed out waiting for endpoint new1 to serve; last state: initializing"


def test_failed_state_stops_the_wait():
    client = FakeClient(states={"new1": ["initializing", "failed"]})
    with pytest.raises(EndpointError, match="created endpoint new1, then: endpoint new1 reports state failed"):
        converge(client, name="n", product_id="1", image={"image": "i"}, port=80)


def test_immutable_change_refused_before_any_write():
    client = FakeClient([existing()])
    with pytest.raises(ProblemsError) as exc:
        converge(client, id="ep1", product_id="2")
    assert "cannot change product_id from '1' to '2'" in exc.value.msg and "recreate=true" in exc.value.msg
    assert client.writes() == []


def test_recreate_creates_the_replacement_first_then_deletes_keeping_settings():
    client = FakeClient([existing()])
    result = converge(client, id="ep1", product_id="2", recreate=True)
    assert client.writes() == [("POST", "/endpoint/create"), ("POST", "/endpoint/delete")]
    new = client.endpoints["new1"]
    assert new["products"] == [{"id": "2"}] and new["healthy"] == {"path": "/ready"} and len(new["envs"]) == 2
    assert "appName" not in new
    assert result["endpoint"]["id"] == "new1" and result["replaced_endpoint_id"] == "ep1"


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_diff_headers_name_the_endpoint_and_after_a_recreate_both_ids(check_mode):
    client = FakeClient([existing()])
    result = converge(client, check_mode=check_mode, want_diff=True, id="ep1", product_id="2", recreate=True)
    assert result["diff"]["before_header"] == "endpoint chat (ep1)"
    assert result["diff"]["after_header"] == ("endpoint chat" if check_mode else "endpoint chat (new1)")
    renamed = converge(FakeClient([existing()]), check_mode=True, want_diff=True, id="ep1", name="chat-2")
    assert (renamed["diff"]["before_header"], renamed["diff"]["after_header"]) == ("endpoint chat (ep1)", "endpoint chat-2 (ep1)")
    created = converge(FakeClient(), check_mode=True, want_diff=True, name="fresh", product_id="1", image={"image": "i"}, port=80)
    assert (created["diff"]["before_header"], created["diff"]["after_header"]) == ("endpoint fresh", "endpoint fresh")
    deleted = converge(FakeClient([existing()]), want_diff=True, id="ep1", state="absent")
    assert (deleted["diff"]["before_header"], deleted["diff"]["after_header"]) == ("endpoint chat (ep1)", "endpoint chat (ep1)")
    assert deleted["diff"]["after"] == {}


def test_duplicate_names_refused_listing_ids():
    client = FakeClient([existing(), existing(id="ep2")])
    with pytest.raises(EndpointError, match=r"2 endpoints are named chat \(IDs: ep1, ep2\)"):
        converge(client, name="chat", worker_config={"max_num": 2})


def test_unknown_id_fails():
    with pytest.raises(ProblemsError, match="no endpoint with id nope exists"):
        converge(FakeClient(), id="nope", name="x")


def test_delete_and_delete_again():
    client = FakeClient([existing()])
    result = converge(client, name="chat", state="absent")
    assert result["changed"] is True and result["endpoint"]["id"] == "ep1"
    assert client.calls == [("LIST", "/endpoints"), ("POST", "/endpoint/delete"), ("GET", "/endpoint")]
    again = converge(client, name="chat", state="absent")
    assert again == {"changed": False, "action": "unchanged", "endpoint": {}}


def test_limits_violation_refused_without_write():
    client = FakeClient([existing()])
    with pytest.raises(ProblemsError) as exc:
        converge(client, id="ep1", worker_config={"max_num": 11})
    assert exc.value.details["errors"] == ["worker_config.max_num: 11 is outside the allowed range 0 to 10 (account limits minWorkerNum/maxWorkerNum)"]
    assert client.writes() == []


def test_secret_change_detected_and_masked_in_diff():
    client = FakeClient([existing()])
    result = converge(client, check_mode=True, want_diff=True, id="ep1", envs={"A": "1"}, secret_envs={"TOKEN": "n3w"})
    assert result["changed"] is True
    assert result["diff"]["before"]["envs"] == {"A": "1", "TOKEN": "********"}
    assert result["diff"]["after"]["envs"] == {"A": "1", "TOKEN": "******** (changed)"}
    assert "n3w" not in repr(result) and "t0p" not in repr(result)


def test_failure_after_update_says_what_was_done():
    class Failing(FakeClient):
        def get(self, path, query=None):
            if path == "/endpoint" and self.writes():
                raise NovitaAPIError("Novita API request GET /endpoint failed with HTTP 500", status=500)
            return FakeClient.get(self, path, query)

    client = Failing([existing()])
    api = EndpointAPI(client, sleep=lambda s: None)
    converger = EndpointConverger(api, params(id="ep1", worker_config={"max_num": 2}))
    with pytest.raises(EndpointError, match="updated endpoint ep1, then: Novita API request GET /endpoint failed with HTTP 500"):
        converger.run()
    assert converger.result["changed"] is True


def test_without_wait_the_create_returns_what_was_sent_and_polls_nothing():
    client = FakeClient()
    result = converge(client, name="n", product_id="1", image={"image": "i"}, port=80, wait=False)
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint/limit"), ("POST", "/endpoint/create"), ("LIST", "/endpoints")]
    assert result["endpoint"]["id"] == "new1" and result["endpoint"]["name"] == "n" and result["endpoint"]["port"] == 80


def test_without_wait_the_delete_polls_nothing():
    client = FakeClient([existing()])
    result = converge(client, id="ep1", state="absent", wait=False)
    assert result["changed"] is True
    assert client.calls == [("GET", "/endpoint"), ("POST", "/endpoint/delete")]


def ambiguous(status=None, message="Novita API request POST /endpoint/create failed: no reply within the 30 s timeout"):
    return NovitaAPIError(message, status=status, method="POST", path="/endpoint/create", transient=True, ambiguous=True)


CREATE = dict(name="chat", product_id="1", image={"image": "img"}, port=8000, wait=False)


def test_create_adopts_the_endpoint_an_unanswered_create_made():
    client = FakeClient()
    client.faults = {"/endpoint/create": [(ambiguous(), True)]}
    result = converge(client, **CREATE)
    assert [e["name"] for e in client.endpoints.values()] == ["chat"]
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint/limit"), ("POST", "/endpoint/create"), ("LIST", "/endpoints")]
    assert result["changed"] is True and result["endpoint"]["id"] == "new1"
    assert result["warnings"] == ["the create request for chat got no clear reply; the endpoint it created (new1) was found by name and adopted"]


def test_create_is_sent_again_only_when_the_name_is_certainly_absent():
    client = FakeClient()
    client.faults = {"/endpoint/create": [(ambiguous(503, "Novita API returned HTTP 503 on POST /endpoint/create"), False)]}
    result = converge(client, **CREATE)
    assert client.calls[2:] == [("POST", "/endpoint/create"), ("LIST", "/endpoints"), ("POST", "/endpoint/create"), ("LIST", "/endpoints")]
    assert len(client.endpoints) == 1 and result["endpoint"]["id"] == "new1" and "warnings" not in result


def test_create_rate_limited_is_repeated_without_a_lookup():
    client = FakeClient()
    limited = NovitaAPIError("Novita API rate limit (429) on POST /endpoint/create", status=429, transient=True, retry_after=2.0)
    client.faults = {"/endpoint/create": [(limited, False)]}
    converge(client, **CREATE)
    assert client.calls[2:] == [("POST", "/endpoint/create"), ("POST", "/endpoint/create"), ("LIST", "/endpoints")]
    assert len(client.endpoints) == 1


def test_create_refused_is_not_repeated():
    client = FakeClient()
    client.faults = {"/endpoint/create": [(NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/create: bad", status=400), False)]}
    with pytest.raises(NovitaAPIError, match="HTTP 400"):
        converge(client, **CREATE)
    assert client.writes() == [("POST", "/endpoint/create")] and not client.endpoints


def test_create_that_keeps_failing_says_nothing_was_created():
    client = FakeClient()
    client.faults = {"/endpoint/create": [(ambiguous(502, "Novita API returned HTTP 502 on POST /endpoint/create"), False)] * 6}
    with pytest.raises(EndpointError) as exc:
        converge(client, **CREATE)
    assert exc.value.msg == ("Novita API returned HTTP 502 on POST /endpoint/create; no endpoint named chat exists, so none was created"
                             " (gave up after 6 attempts)")
    assert exc.value.details["failure"]["status"] == 502 and exc.value.details["failure"]["attempts"] == 6
    assert len(client.writes()) == 6 and not client.endpoints


def test_create_whose_outcome_cannot_be_checked_says_so():
    class ListFails(FakeClient):
        def list_all(self, path, items_key, **kwargs):
            if self.writes():
                raise NovitaAPIError("Novita API returned HTTP 503 on GET /endpoints", status=503)
            return FakeClient.list_all(self, path, items_key, **kwargs)

    client = ListFails()
    client.faults = {"/endpoint/create": [(ambiguous(), True)]}
    with pytest.raises(EndpointError, match="whether endpoint chat was created is unknown: looking it up failed too: "
                                            "Novita API returned HTTP 503 on GET /endpoints. Check before running again"):
        converge(client, **CREATE)


def test_update_failure_says_whether_it_may_have_applied():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/update": [(NovitaAPIError("Novita API returned HTTP 500 on POST /endpoint/update (gave up after 6 attempts)",
                                                          status=500, transient=True, ambiguous=True), False)]}
    with pytest.raises(EndpointError) as exc:
        converge(client, id="ep1", worker_config={"max_num": 2})
    assert exc.value.msg.startswith("updating endpoint ep1 failed: Novita API returned HTTP 500 on POST /endpoint/update (gave up after 6 attempts);"
                                    " it may or may not have been applied")
    assert exc.value.details["endpoint_id"] == "ep1" and exc.value.details["failure"]["status"] == 500


def test_delete_of_an_endpoint_already_gone_counts_as_done():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/delete": [(NovitaAPIError("Novita API returned HTTP 404 on POST /endpoint/delete", status=404), True)]}
    result = converge(client, id="ep1", state="absent")
    assert result["changed"] is True and not client.endpoints


def test_names_resolve_to_ids_and_fill_the_cluster():
    client = FakeClient(auths=AUTHS, storages=STORAGES)
    result = converge(client, name="n", product_id="1", image={"image": "i", "auth_name": "hub"}, port=80, wait=False,
                      volume_mounts=[{"type": "network", "storage_name": "store-1", "mount_path": "/m"}])
    assert client.calls[:2] == [("GET", "/repository/auths"), ("GET", "/networkstorages/list")]
    created = client.endpoints["new1"]
    assert created["image"]["authId"] == "a1"
    assert created["volumeMounts"] == [{"type": "network", "id": "ns-1", "mountPath": "/m"}]
    assert created["clusterID"] == "c1"
    assert result["endpoint"]["image"]["auth_id"] == "a1" and "pw-secret" not in repr(result)


def test_no_lookup_requests_unless_names_are_used():
    client = FakeClient([existing()], auths=AUTHS, storages=STORAGES)
    converge(client, id="ep1", image={"auth_id": ""})
    assert [c for c in client.calls if c[1] in ("/repository/auths", "/networkstorages/list")] == []


@pytest.mark.parametrize("given, message", [
    (dict(image={"auth_name": "nope"}), "image.auth_name: no registry credential is named nope"),
    (dict(image={"auth_name": "twice"}), "image.auth_name: 2 registry credentials are named twice (IDs: a2, a3); set image.auth_id instead"),
    (dict(volume_mounts=[{"type": "network", "storage_name": "store-7", "mount_path": "/m"}]),
     "volume_mounts[0].storage_name: no network storage is named store-7"),
    (dict(cluster_id="c0", volume_mounts=[{"type": "network", "storage_name": "store-1", "mount_path": "/m"}]),
     "volume_mounts[0].storage_name: network storage store-1 is in cluster c1, but cluster_id is c0"),
    (dict(volume_mounts=[{"type": "network", "storage_name": "store-1", "mount_path": "/m"},
                         {"type": "network", "storage_name": "store-2", "mount_path": "/n"}]),
     "volume_mounts[1].storage_name: network storage store-2 is in cluster c0, but the cluster of volume_mounts[0] is c1"),
])
def test_unknown_ambiguous_or_conflicting_names_fail_before_any_write(given, message):
    client = FakeClient([existing()], auths=AUTHS, storages=STORAGES)
    with pytest.raises(ProblemsError) as exc:
        converge(client, id="ep1", **given)
    assert exc.value.msg == message
    assert exc.value.details["errors"] == [message]
    assert client.writes() == []


def test_storage_lookup_reads_every_page():
    class SmallPages(FakeClient):
        def get(self, path, query=None):
            if path == "/networkstorages/list":
                query = dict(query, pageSize=1)
            return FakeClient.get(self, path, query)

    client = SmallPages(storages=STORAGES)
    problems = []
    resolved = resolve_names(NameLookups(client), params(volume_mounts=[{"type": "network", "storage_name": "store-1", "mount_path": "/m"}]), problems)
    assert problems == []
    assert client.calls == [("GET", "/networkstorages/list")] * 2
    assert resolved["volume_mounts"][0]["id"] == "ns-1" and resolved["cluster_id"] == "c1"


def test_env_values_the_task_does_not_declare_plain_are_masked():
    client = FakeClient([existing()])
    result = converge(client, want_diff=True, id="ep1", worker_config={"max_num": 2})
    assert result["endpoint"]["envs"] == {"A": "********", "TOKEN": "********"}
    assert result["diff"]["before"]["envs"] == {"A": "********", "TOKEN": "********"}
    assert result["diff"]["after"]["envs"] == {"A": "********", "TOKEN": "********"}
    assert "t0p" not in repr(result)
    result = converge(FakeClient([existing()]), id="ep1", state="absent")
    assert "t0p" not in repr(result) and result["endpoint"]["envs"] == {"A": "********", "TOKEN": "********"}


# -- "not found" as Novita documents it (HTTP 400, reason SERVERLESS_ENDPOINT_NOT_FOUND) as well as 404

@pytest.mark.parametrize("not_found", [404, 400])
def test_delete_waits_until_gone_whichever_status_not_found_has(not_found):
    client = FakeClient([existing()], not_found=not_found)
    result = converge(client, id="ep1", state="absent")
    assert result["changed"] is True and not client.endpoints
    assert client.calls == [("GET", "/endpoint"), ("POST", "/endpoint/delete"), ("GET", "/endpoint")]


@pytest.mark.parametrize("not_found", [404, 400])
def test_get_by_deleted_id_and_delete_of_a_gone_endpoint(not_found):
    with pytest.raises(ProblemsError, match="no endpoint with id gone exists"):
        converge(FakeClient(not_found=not_found), id="gone", name="x")
    assert EndpointAPI(FakeClient(not_found=not_found)).get("gone") is None
    client = FakeClient([existing()], not_found=not_found)
    client.faults = {"/endpoint/delete": [(client.missing("POST", "/endpoint/delete"), True)]}
    result = converge(client, id="ep1", state="absent")
    assert result["changed"] is True and not client.endpoints


@pytest.mark.parametrize("not_found", [404, 400])
def test_recreate_waits_for_the_old_endpoint_to_be_gone(not_found):
    client = FakeClient([existing()], not_found=not_found)
    result = converge(client, id="ep1", product_id="2", recreate=True, wait=False)
    assert result["replaced_endpoint_id"] == "ep1" and list(client.endpoints) == ["new1"]


def test_a_validation_400_is_not_taken_for_not_found():
    class Invalid(FakeClient):
        def get(self, path, query=None):
            if path == "/endpoint":
                raise NovitaAPIError("Novita API returned HTTP 400 INVALID_PARAMETER on GET /endpoint: id not found in request", status=400,
                                     api_code=400, api_reason="INVALID_PARAMETER", api_message="id not found in request")
            return FakeClient.get(self, path, query)

    with pytest.raises(NovitaAPIError, match="INVALID_PARAMETER"):
        converge(Invalid([existing()]), id="ep1", state="absent")


# -- endpoint states

def create_with_states(states, **given):
    client = FakeClient(states={"new1": list(states)})
    options = dict(name="n", product_id="1", image={"image": "i"}, port=80)
    options.update(given)
    return client, converge(client, **options)


@pytest.mark.parametrize("states", [
    ["pending", "creating", "serving"],
    ["initializing", "something-new", "serving"],
    ["", "stopped", "serving"],
])
def test_any_state_other_than_serving_means_not_ready_yet(states):
    client, result = create_with_states(states, worker_config={"min_num": 1})
    assert result["endpoint"]["state"]["state"] == "serving"
    assert client.calls.count(("GET", "/endpoint")) == 3


@pytest.mark.parametrize("state, text", [
    ({"state": {"state": "failed", "error": "", "message": ""}}, "reports state failed"),
    ({"state": {"state": "error", "error": "", "message": ""}}, "reports state error"),
    ({"state": {"state": "serving", "error": "image pull failed", "message": ""}}, "reports state serving (image pull failed)"),
    ({"state": {"state": "creating", "error": "quota exceeded", "message": "no GPU"}}, "reports state creating (quota exceeded; no GPU)"),
])
def test_failed_error_or_a_state_error_fail_at_once(state, text):
    client = FakeClient(states={"new1": [state] + ["serving"] * 5})
    with pytest.raises(EndpointError) as exc:
        converge(client, name="n", product_id="1", image={"image": "i"}, port=80)
    assert text in exc.value.msg and exc.value.msg.startswith("created endpoint new1, then: endpoint new1")
    assert client.calls.count(("GET", "/endpoint")) == 1


def test_a_stale_serving_read_after_an_update_does_not_end_the_wait():
    stale = copy.deepcopy(existing())  # the endpoint as it was before the update, still reported as serving

    class Stale(FakeClient):
        def _apply(self, path, body):
            answer = FakeClient._apply(self, path, body)
            if path == "/endpoint/update":
                self.states["ep1"] = [stale, "updating"]
            return answer

    client = Stale([existing()])
    result = converge(client, id="ep1", worker_config={"max_num": 3})
    assert client.calls == [("GET", "/endpoint"), ("GET", "/endpoint/limit"), ("POST", "/endpoint/update")] + [("GET", "/endpoint")] * 3
    assert result["endpoint"]["worker_config"]["max_num"] == 3 and "warnings" not in result


def test_a_read_back_that_differs_from_both_old_and_new_settings_ends_the_wait_with_a_warning():
    class Other(FakeClient):
        def _apply(self, path, body):
            answer = FakeClient._apply(self, path, body)
            if path == "/endpoint/update":
                self.endpoints["ep1"]["workerConfig"] = dict(self.endpoints["ep1"]["workerConfig"], maxNum=4)
            return answer

    client = Other([existing()])
    result = converge(client, id="ep1", worker_config={"max_num": 3})
    assert client.calls.count(("GET", "/endpoint")) == 2
    assert result["warnings"] == ["endpoint ep1 serves, but reads back worker_config differently from what was sent"]


def test_a_scaled_to_zero_endpoint_that_never_serves_ends_the_wait_once_stable():
    client, result = create_with_states(["creating"] + ["stopped"] * 10, worker_config={"min_num": 0})
    assert client.calls.count(("GET", "/endpoint")) == 4  # creating, then stopped three times in a row
    assert result["endpoint"]["state"]["state"] == "stopped"
    assert result["warnings"] == ["endpoint new1 has min_num 0 and reports state stopped, not serving; its settings read back and the state held"
                                  " for 3 reads, so the wait ended"]


def test_an_endpoint_with_workers_that_never_serves_times_out_naming_its_state():
    client = FakeClient(states={"new1": ["stopped"] * 100})
    clock = iter(range(0, 1000, 10))
    api = EndpointAPI(client, sleep=lambda s: None, clock=lambda: next(clock))
    with pytest.raises(EndpointError, match="timed out waiting for endpoint new1 to serve; last state: stopped"):
        EndpointConverger(api, params(name="n", product_id="1", image={"image": "i"}, port=80, wait_timeout=30,
                                      worker_config={"min_num": 1})).run()


# -- app names

def test_a_taken_app_name_names_the_option_and_the_value():
    client = FakeClient()
    taken = NovitaAPIError("Novita API returned HTTP 400 SERVERLESS_APP_NAME_IS_EXIST on POST /endpoint/create: app name exists", status=400,
                           api_code=400, api_reason="SERVERLESS_APP_NAME_IS_EXIST", api_message="app name exists")
    client.faults = {"/endpoint/create": [(taken, False)]}
    with pytest.raises(EndpointError) as exc:
        converge(client, app_name="chat-app", **CREATE)
    assert exc.value.msg.startswith("app_name: chat-app is already used by another endpoint of this account (SERVERLESS_APP_NAME_IS_EXIST)")
    assert "Nothing was created" in exc.value.msg and not client.endpoints and len(client.writes()) == 1


# -- changed only once a write succeeded

def test_a_refused_delete_is_not_changed():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/delete": [(NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/delete", status=400), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", state="absent"))
    with pytest.raises(NovitaAPIError):
        converger.run()
    assert converger.result["changed"] is False and client.endpoints


def refused_create():
    return NovitaAPIError("Novita API returned HTTP 400 BILLING_BALANCE_NOT_ENOUGH on POST /endpoint/create: balance", status=400,
                          api_reason="BILLING_BALANCE_NOT_ENOUGH")


def test_a_recreate_whose_create_is_refused_leaves_the_old_endpoint_untouched():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/create": [(refused_create(), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", product_id="2", recreate=True))
    exc = failure_of(converger, EndpointError)
    # as the module reports it: nothing written, action none, and what was planned
    shown = reported(converger.result)
    assert shown["changed"] is False and shown["action"] == "none" and shown["planned"] == "recreated"
    assert exc.msg == ("creating the replacement failed: Novita API returned HTTP 400 BILLING_BALANCE_NOT_ENOUGH on POST"
                       " /endpoint/create: balance; nothing was changed: the old endpoint ep1 is untouched")
    assert client.writes() == [("POST", "/endpoint/create")] and client.endpoints["ep1"] == existing()


def with_app_name():
    return existing(appName="chat-app", clusterID="c1", image={"image": "img", "authId": "auth-1", "command": "run"},
                    volumeMounts=[{"type": "network", "id": "ns-1", "size": 80, "mountPath": "/models"}])


def test_a_recreate_that_keeps_its_app_name_deletes_first_and_restores_the_old_endpoint_when_the_create_is_refused():
    client = FakeClient([with_app_name()])
    client.faults = {"/endpoint/create": [(refused_create(), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", product_id="2", recreate=True))
    exc = failure_of(converger, EndpointError)
    assert client.writes() == [("POST", "/endpoint/delete"), ("POST", "/endpoint/create"), ("POST", "/endpoint/create")]
    assert exc.msg == ("deleted endpoint ep1 to recreate it, then creating its replacement failed: Novita API returned HTTP 400"
                       " BILLING_BALANCE_NOT_ENOUGH on POST /endpoint/create: balance; the old endpoint was created again with"
                       " its complete settings as new1 (a new ID). Fix the cause and run the task again")
    assert converger.result["changed"] is True and exc.details["restored_endpoint_id"] == "new1"
    assert converger.result["action"] == "recreated" and "planned" not in converger.result
    # every setting of the old endpoint, the network mount's size and the credential included
    assert ENDPOINT_SCHEMA.model_from_api(client.endpoints["new1"]) == ENDPOINT_SCHEMA.model_from_api(with_app_name())


def test_a_recreate_whose_restore_fails_too_returns_the_complete_declaration_masked():
    client = FakeClient([with_app_name()])
    client.faults = {"/endpoint/create": [(refused_create(), False), (refused_create(), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", product_id="2", recreate=True,
                                                                                    secret_envs={"TOKEN": "t0p"}))
    exc = failure_of(converger, EndpointError)
    assert "restoring the old endpoint failed too" in exc.msg and "lost_endpoint" in exc.msg
    lost = exc.details["lost_endpoint"]
    # values the task does not declare plain are masked, as everywhere in the module's output
    assert lost["envs"] == {"A": "********", "TOKEN": "********"} and lost["app_name"] == "chat-app" and lost["image"]["auth_id"] == "auth-1"
    assert lost["volume_mounts"] == [{"type": "network", "id": "ns-1", "size": 80, "mount_path": "/models"}]
    assert lost["healthy"]["path"] == "/ready" and lost["product_id"] == "1" and "t0p" not in repr(exc.details)
    assert converger.result["changed"] is True and not client.endpoints
    assert converger.result["action"] == "deleted" and "planned" not in converger.result


# -- concurrent creates of one name

class Racing(FakeClient):
    """Another run creates the same name (``rival``) right when this run's create is processed."""

    def __init__(self, rival, **kwargs):
        FakeClient.__init__(self, **kwargs)
        self.rival = rival

    def _apply(self, path, body):
        answer = FakeClient._apply(self, path, body)
        if path == "/endpoint/create" and self.rival is not None:
            mine = self.endpoints[answer["id"]]
            mine["createdAt"] = "2026-11-27T20:00:00.500000Z"
            self.endpoints[self.rival["id"]] = self.rival
            self.rival = None
        return answer


def test_a_create_that_raced_a_later_one_keeps_its_endpoint():
    client = Racing(existing(id="zz-later", name="chat", createdAt="2026-11-27T20:00:00.700000Z"))
    result = converge(client, **CREATE)
    assert result["endpoint"]["id"] == "new1" and set(client.endpoints) == {"new1", "zz-later"}
    assert client.writes() == [("POST", "/endpoint/create")]
    assert "another run created it at the same time, after this one; this run keeps new1" in result["warnings"][0]


def test_a_create_that_raced_an_earlier_one_deletes_its_own_and_adopts_the_first():
    client = Racing(existing(id="aa-first", name="chat", createdAt=1795809600000, image={"image": "img", "authId": "", "command": ""},
                             ports=[{"port": 8000}], envs=[]))  # epoch milliseconds, earlier than new1's 20:00:00.5
    result = converge(client, **CREATE)
    assert set(client.endpoints) == {"aa-first"}
    assert client.writes() == [("POST", "/endpoint/create"), ("POST", "/endpoint/delete")]
    assert result["changed"] is True and result["endpoint"]["id"] == "aa-first" and result["duplicate_deleted_id"] == "new1"
    assert "this run deleted the endpoint it had created (new1) and adopted aa-first" in result["warnings"][0]


def test_a_create_that_adopts_an_earlier_rival_and_updates_it_still_reports_created():
    client = Racing(existing(id="aa-first", name="chat", createdAt=1795809600000))
    result = converge(client, **dict(CREATE, worker_config={"max_num": 5}))
    assert client.endpoints["aa-first"]["workerConfig"]["maxNum"] == 5
    assert client.writes() == [("POST", "/endpoint/create"), ("POST", "/endpoint/delete"), ("POST", "/endpoint/update")]
    assert result["action"] == "created" and result["changed"] is True and result["endpoint"]["id"] == "aa-first"


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("endpoints, given, action, changed", [
    ([], dict(CREATE), "created", True),
    ([existing()], dict(name="chat", worker_config={"max_num": 3}, wait=False), "updated", True),
    ([existing()], dict(name="chat", product_id="2", recreate=True, wait=False), "recreated", True),
    ([existing()], dict(name="chat", state="absent", wait=False), "deleted", True),
    ([existing()], dict(name="chat", worker_config={"max_num": 1}), "unchanged", False),
    ([], dict(name="chat", state="absent"), "unchanged", False),
])
def test_the_result_says_what_was_done(check_mode, endpoints, given, action, changed):
    client = FakeClient(endpoints)
    result = converge(client, check_mode=check_mode, **given)
    assert result["action"] == action and result["changed"] is changed
    assert len(client.writes()) == (0 if check_mode or not changed else 2 if action == "recreated" else 1)


def test_a_failed_write_says_what_it_was_doing_and_that_nothing_changed():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/update": [(NovitaAPIError("refused", status=400, method="POST", path="/endpoint/update"), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(name="chat", worker_config={"max_num": 3}))
    exc = failure_of(converger, EndpointError)
    shown = reported(converger.result)
    assert shown["action"] == "none" and shown["planned"] == "updated" and shown["changed"] is False
    assert exc.details["failure"]["status"] == 400 and "endpoint_id" not in exc.details
    assert exc.msg == "updating endpoint ep1 failed: refused; it was not applied"


def ambiguous_update():
    return NovitaAPIError("Novita API returned HTTP 502 on POST /endpoint/update", status=502, method="POST", path="/endpoint/update",
                          transient=True, ambiguous=True)


def test_an_update_answered_unclearly_but_applied_is_changed_and_goes_on():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/update": [(ambiguous_update(), True)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", worker_config={"max_num": 3}))
    result = converger.run()
    assert result["changed"] is True and result["action"] == "updated" and client.endpoints["ep1"]["workerConfig"]["maxNum"] == 3
    assert "reading it back shows it was applied" in result["warnings"][0]


def test_an_update_answered_unclearly_is_read_back_past_a_stale_read():
    class StaleOnce(FakeClient):
        stale = None

        def get(self, path, query=None):
            answer = FakeClient.get(self, path, query)
            if path == "/endpoint" and self.writes() and self.stale is None:
                self.stale = True
                answer["endpoint"]["workerConfig"] = dict(answer["endpoint"]["workerConfig"], maxNum=1)  # as before the update
            return answer

    client = StaleOnce([existing()])
    client.faults = {"/endpoint/update": [(ambiguous_update(), True)]}
    result = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", worker_config={"max_num": 3}, wait=False)).run()
    assert result["changed"] is True and result["action"] == "updated"
    assert client.count("GET", "/endpoint") == 3  # the lookup, the stale read, the read that shows the update


def test_an_update_answered_unclearly_and_not_shown_is_changed_in_doubt():
    client = FakeClient([existing()])
    client.faults = {"/endpoint/update": [(ambiguous_update(), False)]}
    converger = EndpointConverger(EndpointAPI(client, sleep=lambda s: None), params(id="ep1", worker_config={"max_num": 3}))
    exc = failure_of(converger, EndpointError)
    assert converger.result["changed"] is True and converger.result["action"] == "updated"
    assert "it may or may not have been applied" in exc.msg and "so changed is true" in exc.msg


def test_an_update_by_name_is_built_from_a_read_by_id_not_from_a_stale_list():
    class StaleList(FakeClient):
        def list_all(self, path, items_key, **kwargs):
            listed = FakeClient.list_all(self, path, items_key, **kwargs)
            for endpoint in listed:
                endpoint["workerConfig"] = dict(endpoint["workerConfig"], maxNum=1)  # before the last update
            return listed

    client = StaleList([existing(workerConfig=dict(existing()["workerConfig"], maxNum=5))])
    converge(client, name="chat", image={"image": "img:2"})
    update = client.endpoints["ep1"]
    assert update["workerConfig"]["maxNum"] == 5 and update["image"]["image"] == "img:2"


def test_a_race_without_creation_times_keeps_both_and_fails_naming_the_other():
    client = Racing(existing(id="other", name="chat"))
    client.rival["createdAt"] = None
    with pytest.raises(EndpointError) as exc:
        converge(client, **CREATE)
    assert exc.value.msg.startswith("created endpoint new1, then: endpoint other is also named chat")
    assert set(client.endpoints) == {"new1", "other"}


@pytest.mark.parametrize("value, seconds", [
    ("2026-11-27T20:00:00Z", 1795809600.0),
    ("2026-11-27T20:00:00.250000Z", 1795809600.25),
    ("2026-11-27 21:00:00+01:00", 1795809600.0),
    ("2026-11-27T20:00:00", 1795809600.0),
    (1795809600, 1795809600.0),
    ("1795809600000", 1795809600.0),
    (None, None), ("", None), ("yesterday", None), (True, None),
])
def test_created_at_reads_iso_and_epoch_values(value, seconds):
    assert created_at(value) == seconds
