# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils.converge import NameLookups
from ansible_collections.novita.cloud.plugins.module_utils.fleet import (
    FleetConverger,
    FleetEndpointAPI,
    FleetReads,
    declaration_argument_spec,
    in_item,
    run_bounded,
    validate_fleet,
)
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data

AUTHS = [{"id": "auth-1", "name": "hub", "username": "u", "password": "p"}]


def existing(endpoint_id, name, **overrides):
    return endpoint_data(endpoint_id, name, **overrides)


def item(name, **given):
    values = dict((key, None) for key in declaration_argument_spec())
    values.update(purge_envs=True, recreate=False, state="present", name=name)
    values.update(given)
    return values


def new_item(name, **given):
    return item(name, product_id="1", image={"image": "img", "auth_id": None, "command": None}, port=8000, **given)


def fleet_params(items, **given):
    values = dict(endpoints=items, exclusive=False, exclusive_match=None, concurrency=4, wait=True, wait_timeout=60)
    values.update(given)
    return values


def run_fleet(client, items, check_mode=False, want_diff=False, problems=None, **given):
    fleet = FleetConverger(client, fleet_params(items, **given), check_mode=check_mode, want_diff=want_diff, sleep=lambda s: None,
                           problems=problems)
    return fleet, fleet.run()


def by_name(result):
    return dict((r["name"], r) for r in result["endpoints"])


def test_unchanged_fleet_reads_the_list_once_and_nothing_else():
    client = FakeClient([existing("e%d" % i, "n%d" % i) for i in range(20)])
    fleet, result = run_fleet(client, [item("n%d" % i, worker_config={"max_num": 1}) for i in range(20)])
    assert client.calls == [("LIST", "/endpoints")]
    assert result["changed"] is False
    assert [r["name"] for r in result["endpoints"]] == ["n%d" % i for i in range(20)]
    assert all(r["action"] == "unchanged" and r["id"] == "e%d" % i for i, r in enumerate(result["endpoints"]))
    assert fleet.failure_message() is None
    assert result["deleted"] == []
    assert "diff" not in result


def test_changes_read_limits_once_and_write_each_endpoint_once():
    client = FakeClient([existing("e1", "a"), existing("e2", "b"), existing("e3", "c")])
    items = [item("a", worker_config={"max_num": 3}), item("b"), new_item("d"), item("c", state="absent")]
    fleet, result = run_fleet(client, items)
    assert client.count("LIST") == 2  # the plan's read, and the check for a concurrent create of d's name after the create
    assert client.count("GET", "/endpoint/limit") == 1
    assert sorted(client.writes()) == [("POST", "/endpoint/create"), ("POST", "/endpoint/delete"), ("POST", "/endpoint/update")]
    results = by_name(result)
    assert [r["name"] for r in result["endpoints"]] == ["a", "b", "d", "c"]
    assert [r["action"] for r in result["endpoints"]] == ["updated", "unchanged", "created", "deleted"]
    assert [r["changed"] for r in result["endpoints"]] == [True, False, True, True]
    assert results["d"]["id"] == "new1" and results["d"]["endpoint"]["state"]["state"] == "serving"
    assert results["c"]["id"] == "e3" and "e3" not in client.endpoints
    # the update is a full payload: what the task left out is kept
    assert client.endpoints["e1"]["workerConfig"]["maxNum"] == 3
    assert client.endpoints["e1"]["envs"] == [{"key": "A", "value": "1"}]
    assert client.endpoints["e1"]["healthy"] == {"path": "/ready"} and client.endpoints["e1"]["image"]["command"] == "run"
    assert result["changed"] is True and fleet.failure_message() is None


def test_check_mode_writes_nothing_and_predicts_each_endpoint():
    client = FakeClient([existing("e1", "a"), existing("e2", "b")])
    items = [item("a", worker_config={"max_num": 3}), item("b"), new_item("d")]
    dummy, result = run_fleet(client, items, check_mode=True)
    assert client.writes() == []
    # the endpoint about to change is read again by ID: its full replace is never built from the list
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/endpoint"), ("GET", "/endpoint/limit")]
    assert [r["changed"] for r in result["endpoints"]] == [True, False, True]
    assert result["endpoints"][0]["endpoint"]["worker_config"]["max_num"] == 3
    assert result["endpoints"][2]["id"] is None and result["endpoints"][2]["action"] == "created"
    assert client.endpoints["e1"]["workerConfig"]["maxNum"] == 1


def test_a_limits_violation_stops_every_write():
    client = FakeClient([existing("e1", "a")])
    items = [item("a", worker_config={"max_num": 3}), new_item("d", worker_config={"max_num": 99})]
    fleet, result = run_fleet(client, items)
    assert client.writes() == []
    results = by_name(result)
    assert results["d"]["failed"] is True
    assert results["d"]["msg"] == ("endpoints[1].worker_config.max_num: 99 is outside the allowed range 0 to 10"
                                   " (account limits minWorkerNum/maxWorkerNum)")
    assert results["d"]["errors"] == [results["d"]["msg"]]
    # a needed a change, which was not attempted: nothing was done, and planned says what would have been
    assert results["a"]["failed"] is False and results["a"]["changed"] is False and results["a"]["action"] == "none"
    assert results["a"]["planned"] == "updated"
    assert results["a"]["msg"] == "not attempted: d failed before any write"
    # d failed its own checks: nothing was done either, and it was to be created
    assert results["d"]["action"] == "none" and results["d"]["planned"] == "created" and results["d"]["id"] is None
    # the endpoint as it is, not as the plan predicted it
    assert results["a"]["endpoint"]["worker_config"]["max_num"] == 1 and results["a"]["id"] == "e1"
    assert result["changed"] is False
    assert fleet.failure_message() == ("1 of 2 endpoints failed before any write: d: " + results["d"]["msg"]
                                       + ". Written: none. Not attempted: a")


def test_duplicate_names_in_the_api_stop_every_write():
    client = FakeClient([existing("e1", "a"), existing("e2", "a"), existing("e3", "b")])
    fleet, result = run_fleet(client, [item("a", worker_config={"max_num": 2}), item("b", worker_config={"max_num": 2})])
    assert client.writes() == []
    assert "2 endpoints are named a (IDs: e1, e2)" in by_name(result)["a"]["msg"]
    assert "a: 2 endpoints are named a" in fleet.failure_message()


def test_a_write_failure_is_reported_and_the_others_converge():
    client = FakeClient([existing("e1", "a")], fail_create_for=["bad"])
    items = [new_item("good"), new_item("bad"), item("a", worker_config={"max_num": 2})]
    fleet, result = run_fleet(client, items)
    results = by_name(result)
    assert results["good"]["changed"] is True and results["good"]["failed"] is False
    assert results["a"]["changed"] is True and client.endpoints["e1"]["workerConfig"]["maxNum"] == 2
    assert results["bad"]["failed"] is True and results["bad"]["changed"] is False and results["bad"]["action"] == "none"
    assert results["bad"]["planned"] == "created"
    assert results["bad"]["failure"]["status"] == 400
    assert results["bad"]["endpoint"] == {} and results["bad"]["id"] is None
    assert "no capacity" in results["bad"]["msg"]
    assert result["changed"] is True
    assert fleet.failure_message() == "1 of 3 endpoints failed: bad: %s. Written: good (created), a (updated)" % results["bad"]["msg"]


def test_exclusive_deletes_only_undeclared_endpoints_in_scope_and_masks_their_envs():
    client = FakeClient([existing("e1", "team-a"), existing("e2", "team-b", envs=[{"key": "TOKEN", "value": "s3cret"}]),
                         existing("e3", "other"), existing("e4", "xteam-c")])
    fleet, result = run_fleet(client, [item("team-a")], exclusive=True, exclusive_match="team-", want_diff=True)
    assert sorted(client.endpoints) == ["e1", "e3", "e4"]
    assert [(r["name"], r["id"], r["action"], r["changed"]) for r in result["deleted"]] == [("team-b", "e2", "deleted", True)]
    assert result["deleted"][0]["endpoint"]["envs"] == {"TOKEN": "********"}
    assert "s3cret" not in repr(result)
    assert [d["before_header"] for d in result["diff"]] == ["endpoint team-b (e2)"]
    assert result["diff"][0]["after"] == {}
    assert result["changed"] is True and fleet.failure_message() is None


def test_exclusive_in_check_mode_deletes_nothing():
    client = FakeClient([existing("e1", "team-a"), existing("e2", "team-b")])
    dummy, result = run_fleet(client, [], check_mode=True, exclusive=True, exclusive_match="team-")
    assert client.calls == [("LIST", "/endpoints")]
    assert [r["name"] for r in result["deleted"]] == ["team-a", "team-b"]
    assert result["changed"] is True


def test_diff_lists_only_changed_endpoints_with_headers_and_masked_secrets():
    client = FakeClient([existing("e1", "a", envs=[{"key": "T", "value": "old"}]), existing("e2", "b")])
    items = [item("a", secret_envs={"T": "new"}), item("b"), new_item("c")]
    dummy, result = run_fleet(client, items, check_mode=True, want_diff=True)
    assert [(d["before_header"], d["after_header"]) for d in result["diff"]] == [
        ("endpoint a (e1)", "endpoint a (e1)"), ("endpoint c", "endpoint c")]
    assert result["diff"][0]["before"]["envs"] == {"T": "********"}
    assert result["diff"][0]["after"]["envs"] == {"T": "******** (changed)"}
    assert result["diff"][1]["before"] == {}
    assert "old" not in repr(result["diff"]) and "new" not in repr(result["diff"][0])


def test_recreate_is_reported_as_such():
    client = FakeClient([existing("e1", "a")])
    dummy, result = run_fleet(client, [item("a", product_id="2", recreate=True)])
    record = result["endpoints"][0]
    assert record["action"] == "recreated" and record["replaced_endpoint_id"] == "e1" and record["id"] == "new1"
    # the replacement first (no app name to share), then the old endpoint goes
    assert client.writes() == [("POST", "/endpoint/create"), ("POST", "/endpoint/delete")]


def test_writes_are_bounded_by_concurrency():
    client = FakeClient(delay=0.05)
    run_fleet(client, [new_item("n%d" % i) for i in range(8)], concurrency=3, wait=False)
    assert client.count("POST") == 8
    assert 1 < client.max_active <= 3


def test_the_shared_list_is_not_modified():
    client = FakeClient([existing("e1", "a")])
    fleet, dummy = run_fleet(client, [item("a", worker_config={"max_num": 4}, envs={"B": "2"})], wait=False)
    assert client.endpoints["e1"]["workerConfig"]["maxNum"] == 4
    assert fleet.reads.endpoints() == [existing("e1", "a")]


class _ListOnly:
    def __init__(self, client):
        self.client = client

    def list(self):
        return self.client.list_all("/endpoints", "endpoints")

    def limits(self):
        return self.client.get("/endpoint/limit")


def test_after_a_write_the_list_is_read_again():
    client = FakeClient([existing("e1", "a")])
    reads = FleetReads(_ListOnly(client), NameLookups(client))
    api = FleetEndpointAPI(client, reads)
    assert api.find_by_name("b") is None and api.find_by_name("a")["id"] == "e1"
    assert client.count("LIST") == 1
    api.create({"name": "b"})
    assert api.find_by_name("b")["id"] == "new1"
    assert client.count("LIST") == 2


def test_limits_are_read_once_across_threads():
    client = FakeClient()
    reads = FleetReads(_ListOnly(client), NameLookups(client))
    run_bounded([(None, lambda dummy: reads.limits()) for dummy in range(10)], 4)
    assert client.count("GET", "/endpoint/limit") == 1


def test_run_bounded_reraises_an_unexpected_error_after_all_jobs():
    done = []

    def boom(arg):
        raise ValueError("boom %s" % arg)

    with pytest.raises(ValueError, match="boom 1"):
        run_bounded([(1, boom), (2, done.append), (3, done.append)], 1)
    assert done == [2, 3]


@pytest.mark.parametrize("items, given, message", [
    ([item("a"), item("a")], {}, "endpoints[1].name: a is already declared by endpoints[0]"),
    ([item("")], {}, "endpoints[0].name must not be empty"),
    ([item("a")], {"concurrency": 0}, "concurrency: 0 is outside the allowed range 1 to 16"),
    ([item("a")], {"concurrency": 17}, "concurrency: 17 is outside the allowed range 1 to 16"),
    ([item("a")], {"wait_timeout": 0}, "wait_timeout: 0 must be a positive number of seconds"),
    ([item("a")], {"exclusive": True, "exclusive_match": "team-("}, "exclusive_match: 'team-(' is not a valid regular expression"),
])
def test_validation_before_any_request(items, given, message):
    errors, dummy = validate_fleet(fleet_params(items, **given))
    assert any(message in error for error in errors), errors


def test_the_problems_of_a_declaration_are_kept_for_its_plan():
    errors, items = validate_fleet(fleet_params([item("a"), item("b", port=2222, worker_config={"min_num": 3, "max_num": 1})]))
    assert errors == []
    assert items == {1: ["port: 2222 is not allowed; use 1-65535 except 2222, 2223 and 2224",
                         "worker_config.min_num: 3 is greater than worker_config.max_num 1"]}
    assert [in_item(1, problem) for problem in items[1]] == [
        "endpoints[1].port: 2222 is not allowed; use 1-65535 except 2222, 2223 and 2224",
        "endpoints[1].worker_config.min_num: 3 is greater than worker_config.max_num 1"]
    assert [(problem.option, problem.text) for problem in items[1]] == [
        ("port", "2222 is not allowed; use 1-65535 except 2222, 2223 and 2224"),
        ("worker_config.min_num", "3 is greater than worker_config.max_num 1")]
    assert in_item(0, "3 endpoints are named a") == "endpoints[0]: 3 endpoints are named a"


def test_a_problem_names_its_option_by_value_not_by_the_shape_of_its_sentence():
    dummy, items = validate_fleet(fleet_params([item("a", envs={"K": "1"}, secret_envs={"K": "2"},
                                                     volume_mounts=[{"type": "local", "mount_path": "", "size": 5}])]))
    assert [in_item(0, problem) for problem in items[0]] == [
        "endpoints[0].envs and secret_envs both set K; give each variable in one of them only",
        "endpoints[0].volume_mounts[0].mount_path must not be empty"]
    # A sentence that happens to start with an option's name is not about that option unless its problem says so.
    assert in_item(0, "image reference refused by the API") == "endpoints[0]: image reference refused by the API"


def test_a_declaration_with_bad_options_fails_its_plan_with_every_problem_and_nothing_is_written():
    client = FakeClient([existing("e1", "a"), existing("e2", "b")])
    items = [item("a", worker_config={"max_num": 2}), item("b", port=2222, product_id="2", worker_config={"max_num": 99})]
    errors, problems = validate_fleet(fleet_params(items))
    fleet, result = run_fleet(client, items, problems=problems)
    assert client.writes() == []
    b = by_name(result)["b"]
    assert b["errors"] == [
        "endpoints[1].port: 2222 is not allowed; use 1-65535 except 2222, 2223 and 2224",
        "endpoints[1].product_id: endpoint e2 cannot change product_id from '1' to '2': it is set at creation only; set recreate=true"
        " to delete the endpoint and create it anew",
        "endpoints[1].worker_config.max_num: 99 is outside the allowed range 0 to 10 (account limits minWorkerNum/maxWorkerNum)"]
    assert b["msg"] == "3 problems, nothing was written: " + "; ".join(b["errors"])
    assert fleet.failure_message() == "1 of 2 endpoints failed before any write: b: %s. Written: none. Not attempted: a" % b["msg"]


def test_the_failure_message_lists_unchanged_endpoints_apart_from_the_ones_not_attempted():
    client = FakeClient([existing("e1", "a"), existing("e2", "b"), existing("e3", "c")])
    items = [item("a"), item("b", worker_config={"max_num": 2}), item("c", worker_config={"max_num": 99})]
    fleet, result = run_fleet(client, items)
    assert fleet.failure_message().endswith(". Written: none. Not attempted: b. Unchanged: a")


def test_valid_fleet_has_no_errors():
    assert validate_fleet(fleet_params([new_item("a"), item("b", state="absent")], exclusive=True, exclusive_match="x")) == ([], {})


def test_declarations_take_no_id_and_require_a_name():
    spec = declaration_argument_spec()
    assert "id" not in spec and "wait" not in spec and "wait_timeout" not in spec
    assert spec["name"]["required"] is True
    assert spec["secret_envs"]["no_log"] is True


def test_a_name_lookup_is_read_once_for_the_whole_fleet():
    client = FakeClient([existing("e1", "a")], auths=AUTHS)
    items = [item("a", image={"auth_name": "hub"}), item("d", product_id="1", port=8000, image={"image": "img", "auth_name": "hub"})]
    dummy, result = run_fleet(client, items)
    assert client.count("GET", "/repository/auths") == 1
    assert [r["endpoint"]["image"]["auth_id"] for r in result["endpoints"]] == ["auth-1", "auth-1"]


def test_a_worker_that_raises_something_unexpected_still_leaves_every_record():
    class Broken(FakeClient):
        def post(self, path, body, retry=False):
            answer = FakeClient.post(self, path, body, retry)
            if path == "/endpoint/update" and body["name"] == "b":
                raise TypeError("unexpected reply")  # after the write was made
            return answer

    client = Broken([existing("e1", "a"), existing("e2", "b")])
    fleet, result = run_fleet(client, [item("a", worker_config={"max_num": 2}), item("b", worker_config={"max_num": 2}), new_item("c")])
    results = by_name(result)
    assert results["a"]["failed"] is False and results["a"]["changed"] is True
    assert results["c"]["failed"] is False and results["c"]["changed"] is True and results["c"]["id"] == "new1"
    assert results["b"]["failed"] is True and results["b"]["id"] == "e2"
    assert results["b"]["msg"] == "unexpected error (a bug in novita.cloud, please report it): TypeError: unexpected reply"
    assert fleet.failure_message().startswith("1 of 3 endpoints failed: b: unexpected error")


def test_a_refused_exclusive_delete_is_not_changed():
    class Refuses(FakeClient):
        def post(self, path, body, retry=False):
            if path == "/endpoint/delete":
                raise NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/delete", status=400, method="POST", path=path)
            return FakeClient.post(self, path, body, retry)

    client = Refuses([existing("e1", "team-old")])
    fleet, result = run_fleet(client, [], exclusive=True, exclusive_match="team-")
    assert result["deleted"][0]["failed"] is True and result["deleted"][0]["changed"] is False
    assert result["deleted"][0]["action"] == "none" and result["deleted"][0]["planned"] == "deleted"
    assert result["changed"] is False
    assert fleet.failure_message().endswith("Written: none")


def test_env_values_of_endpoints_deleted_in_exclusive_mode_are_scrubbed_from_messages():
    client = FakeClient([existing("e1", "team-old", envs=[{"key": "TOKEN", "value": "very-secret-value"}])])
    run_fleet(client, [], exclusive=True, exclusive_match="team-", check_mode=True)
    # masked where the API may echo it, not in the module's own sentences
    assert client.scrub_echo("echo: very-secret-value") == "echo: ********"
    assert client.scrub("echo: very-secret-value") == "echo: very-secret-value"


def test_declarations_not_attempted_say_what_they_would_have_done():
    """One declaration fails its checks: every other one that needed a change reports action none and its planned action."""
    client = FakeClient([existing("e1", "keep"), existing("e2", "scale"), existing("e3", "gone"), existing("e4", "swap"),
                         existing("e5", "bad"), existing("e6", "team-old")])
    items = [item("keep"), item("scale", worker_config={"max_num": 2}), new_item("fresh"), item("gone", state="absent"),
             item("swap", product_id="2", recreate=True), item("bad", worker_config={"max_num": 99})]
    fleet, result = run_fleet(client, items, exclusive=True, exclusive_match="team-", want_diff=True)
    assert client.writes() == [] and result["changed"] is False
    got = [(r["name"], r["action"], r.get("planned"), r["changed"], r["failed"], r["id"]) for r in result["endpoints"]]
    assert got == [
        ("keep", "unchanged", None, False, False, "e1"),
        ("scale", "none", "updated", False, False, "e2"),
        ("fresh", "none", "created", False, False, None),
        ("gone", "none", "deleted", False, False, "e3"),
        ("swap", "none", "recreated", False, False, "e4"),
        # its own checks failed: nothing was done, and it was to be updated; its ID is the endpoint it is about, as it is
        ("bad", "none", "updated", False, True, "e5"),
    ]
    assert [(r["name"], r["action"], r.get("planned"), r["changed"]) for r in result["deleted"]] == [("team-old", "none", "deleted", False)]
    assert all("endpoint_id" not in r for r in result["endpoints"] + result["deleted"])
    records = by_name(result)
    # what is reported is the endpoint as it is, not as the plan predicted it
    assert records["scale"]["endpoint"]["worker_config"]["max_num"] == 1 and records["bad"]["endpoint"]["worker_config"]["max_num"] == 1
    assert records["swap"]["endpoint"]["id"] == "e4" and "replaced_endpoint_id" not in records["swap"]
    assert records["keep"]["msg"] == ""
    assert records["scale"]["msg"] == "not attempted: bad failed before any write"
    assert "diff" not in result or result["diff"] == []
    assert fleet.failure_message() == ("1 of 7 endpoints failed before any write: bad: %s. Written: none. Not attempted: scale, fresh, gone, swap,"
                                       " team-old. Unchanged: keep" % records["bad"]["msg"])


def test_check_mode_with_a_failed_declaration_reports_the_others_as_not_attempted():
    client = FakeClient([existing("e1", "a")])
    dummy, result = run_fleet(client, [item("a", worker_config={"max_num": 2}), new_item("b", worker_config={"max_num": 99})], check_mode=True)
    assert [(r["action"], r.get("planned"), r["changed"], r["failed"]) for r in result["endpoints"]] == [
        ("none", "updated", False, False), ("none", "created", False, True)]


def test_a_declaration_that_fails_before_its_write_in_the_execution_reports_its_planned_action():
    """The plan held, then the API refused the update: nothing was done to the endpoint."""
    class RefusesA(FakeClient):
        def post(self, path, body, retry=False):
            if path == "/endpoint/update" and body["name"] == "a":
                self._record(("REFUSED", path))
                raise NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/update: locked", status=400, method="POST", path=path)
            return FakeClient.post(self, path, body, retry)

    client = RefusesA([existing("e1", "a"), existing("e2", "b")])
    fleet, result = run_fleet(client, [item("a", worker_config={"max_num": 2}), item("b", worker_config={"max_num": 2})])
    records = by_name(result)
    # each endpoint to update was read by ID for the plan and again before its update; then b's wait read it once more
    assert client.count("GET", "/endpoint") == 5
    assert records["a"]["failed"] is True and records["a"]["changed"] is False
    assert records["a"]["action"] == "none" and records["a"]["planned"] == "updated" and records["a"]["id"] == "e1"
    assert records["b"]["action"] == "updated" and records["b"]["changed"] is True and "planned" not in records["b"]
    assert client.writes() == [("POST", "/endpoint/update")]
    assert fleet.failure_message().startswith("1 of 2 endpoints failed: a: ")
    assert fleet.failure_message().endswith(". Written: b (updated)")


def test_a_write_that_took_effect_before_the_failure_keeps_its_action():
    client = FakeClient([existing("e1", "a")], states={"e1": ["serving", "failed", "failed", "failed"]})
    fleet, result = run_fleet(client, [item("a", worker_config={"max_num": 2})], wait_timeout=1)
    record = result["endpoints"][0]
    assert record["failed"] is True and record["changed"] is True and record["action"] == "updated" and "planned" not in record
    assert fleet.failure_message().endswith("Written: a (updated, then failed)")


def refused_create():
    return NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/create: BILLING_BALANCE_NOT_ENOUGH", status=400, method="POST",
                          path="/endpoint/create", api_reason="BILLING_BALANCE_NOT_ENOUGH")


def test_a_refused_recreate_reports_the_restored_endpoint():
    """The old endpoint keeps its app name, so it goes first; the replacement is refused and the old one is created again."""
    client = FakeClient([existing("e1", "a", appName="chat-app")], faults={"/endpoint/create": [(refused_create(), False)]})
    fleet, result = run_fleet(client, [item("a", product_id="2", recreate=True)])
    record = result["endpoints"][0]
    assert client.writes() == [("POST", "/endpoint/delete"), ("POST", "/endpoint/create"), ("POST", "/endpoint/create")]
    assert record["failed"] is True and record["changed"] is True
    # deleted and created again (with the old settings): a recreate was done
    assert record["action"] == "recreated" and "planned" not in record
    # the old endpoint exists again under a new ID: the result names that one
    assert record["restored_endpoint_id"] == "new1" and record["id"] == "new1" and "new1" in client.endpoints
    assert record["failure"]["status"] == 400 and "lost_endpoint" not in record


def test_a_recreate_that_cannot_restore_the_old_endpoint_returns_its_declaration():
    client = FakeClient([existing("e1", "a", appName="chat-app", envs=[{"key": "TOKEN", "value": "kept-secret"}])],
                        faults={"/endpoint/create": [(refused_create(), False), (refused_create(), False)]})
    fleet, result = run_fleet(client, [item("a", product_id="2", recreate=True)])
    record = result["endpoints"][0]
    assert record["failed"] is True and record["changed"] is True and client.endpoints == {}
    assert record["action"] == "deleted"
    assert record["lost_endpoint"]["app_name"] == "chat-app" and record["lost_endpoint"]["product_id"] == "1"
    assert record["lost_endpoint"]["envs"] == {"TOKEN": "********"} and "kept-secret" not in repr(result)
    assert "restored_endpoint_id" not in record and record["id"] is None
