# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.novita.cloud.plugins.modules import novita_endpoint_fleet
from ansible_collections.novita.cloud.tests.unit.helpers import FakeOpener

NEW = {"product_id": "1", "image": {"image": "img"}, "port": 8000}


@pytest.mark.parametrize("args, message", [
    ({"endpoints": [{"name": "a"}, {"name": "a"}]}, "endpoints[1].name: a is already declared by endpoints[0]"),
    ({"endpoints": [{"name": "a"}], "concurrency": 100}, "concurrency: 100 is outside the allowed range 1 to 16"),
    ({"endpoints": [{"name": "a"}], "exclusive": True}, "exclusive is True but all of the following are missing: exclusive_match"),
    ({"endpoints": [{"product_id": "1"}]}, "endpoints[0]: missing required arguments: name"),
])
def test_bad_input_fails_before_any_request(run_module, args, message):
    failed, result = run_module(novita_endpoint_fleet.main, args)
    assert failed is True
    assert message in result["msg"]


@pytest.mark.parametrize("pattern", ["", ".*", "^", ".*?", "(?:)", "$|", ".+", ".", "team-a-|", "(?!team-b-)"])
def test_an_exclusive_scope_that_matches_every_name_is_refused_before_any_request(run_module, pattern):
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [{"name": "team-a-chat"}], "exclusive": True, "exclusive_match": pattern})
    assert failed is True and result["changed"] is False and result["deleted"] == []
    assert result["msg"] == ("exclusive_match: %s matches every endpoint name (even 'a', 'Z', '0', '-' and 'zz-other-team-9'): with"
                             " exclusive=true, every endpoint of the account that is not declared would be deleted, other teams' too."
                             " Set exclusive_match to a pattern of the names this task owns, for example team-a- (if it comes from a"
                             " variable, check that the variable is set)" % ("'' (empty)" if pattern == "" else repr(pattern)))
    assert result["errors"] == [result["msg"]]


@pytest.mark.parametrize("pattern", ["team-a-", "b", "(team-a-|team-b-)", r"\w+-prod$"])
def test_an_exclusive_scope_of_some_names_is_accepted(run_module, pattern):
    fake = fake_api()
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [], "exclusive": True, "exclusive_match": pattern}, opener=fake)
    assert failed is False, result["msg"]
    assert [p for m, p, b in fake.requests] == ["/endpoints"]


def test_an_all_matching_scope_without_exclusive_deletes_nothing_and_is_accepted(run_module):
    fake = fake_api()
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [], "exclusive": False, "exclusive_match": ""}, opener=fake)
    assert failed is False and result["deleted"] == [] and [m for m, p, b in fake.requests] == ["GET"]


@pytest.mark.parametrize("endpoints, errors", [
    ([{"name": "a", "id": "x"}], ["endpoints[0].id: not an option of an endpoints item; an item takes "]),
    ([{"name": "a"}, {"name": "b", "worker_config": {"max_num": "many", "bogus": 1}}, {"name": "c", "state": "gone"}], [
        "endpoints[1].worker_config.bogus: not an option of worker_config; worker_config takes cuda_version, free_timeout, gpu_num,"
        " max_concurrent, max_num, min_num, request_timeout",
        # ansible-core names the value ("'many'", 2.19 and later) or its type (2.16); either way the path comes first.
        "endpoints[1].worker_config.max_num: ",
        "endpoints[2].state: gone is not one of present, absent"]),
    (["just-a-name"], ["endpoints[0]: an item must be a dictionary of endpoint options, not a str"]),
])
def test_argument_spec_errors_name_the_item(run_module, endpoints, errors):
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": endpoints})
    assert failed is True
    assert len(result.get("errors", [])) == len(errors), result["msg"]
    assert all(got.startswith(want) for got, want in zip(result["errors"], errors)), result["errors"]
    assert all(error.endswith("cannot be converted to an int (expected int)") for error in result["errors"]
               if error.startswith("endpoints[1].worker_config.max_num:"))
    assert result["msg"] == (result["errors"][0] if len(errors) == 1 else "%d problems in endpoints: %s" % (len(errors), "; ".join(result["errors"])))


def test_a_misspelt_item_option_names_the_closest_one_once(run_module):
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [{"name": "a", "worker_config": {"max_nmu": 2}}]})
    assert failed is True
    assert result["msg"] == ("endpoints[0].worker_config.max_nmu: not an option of worker_config; worker_config takes cuda_version, free_timeout,"
                             " gpu_num, max_concurrent, max_num, min_num, request_timeout; did you mean worker_config.max_num?")


def test_a_declaration_with_bad_options_is_reported_by_its_path_and_nothing_is_written(run_module):
    fake = fake_api()
    args = {"endpoints": [{"name": "a", "worker_config": {"max_num": 2}}, dict(NEW, name="new", port=2223)], "wait": False}
    failed, result = run_module(novita_endpoint_fleet.main, args, opener=fake)
    assert failed is True
    assert result["msg"] == ("1 of 2 endpoints failed before any write: new: endpoints[1].port: 2223 is not allowed; use 1-65535 except"
                             " 2222, 2223 and 2224. Written: none. Not attempted: a")
    assert [m for m, p, b in fake.requests if m != "GET"] == []


ENDPOINT = {"id": "e1", "name": "a", "state": {"state": "serving"}, "ports": [{"port": 8000}], "products": [{"id": "1"}],
            "image": {"image": "img"}, "envs": [{"key": "TOKEN", "value": "old-secret"}]}


def one_endpoint(method, path, body):
    """Answers the module's HTTP calls: one existing endpoint, creates of 'bad' fail with HTTP 400."""
    if path == "/endpoints":
        return {"endpoints": [ENDPOINT], "total": 1}
    if path == "/endpoint/limit":
        return {}
    if path == "/endpoint":
        return {"endpoint": ENDPOINT}
    if path == "/endpoint/create":
        if body["endpoint"]["name"] == "bad":
            return (400, '{"code": 400, "message": "no capacity"}', {})
        return {"id": "e2"}
    if path == "/endpoint/update":
        return {}
    raise AssertionError(path)


def fake_api():
    return FakeOpener(route=one_endpoint)


def test_one_failure_fails_the_module_with_every_result_and_no_secret(run_module):
    fake = fake_api()
    args = {"endpoints": [dict(NEW, name="bad"), {"name": "a", "secret_envs": {"TOKEN": "new-secret"}}, dict(NEW, name="good")],
            "wait": False}
    failed, result = run_module(novita_endpoint_fleet.main, args, opener=fake)
    assert failed is True
    assert result["msg"] == ("1 of 3 endpoints failed: bad: Novita API returned HTTP 400 on POST /endpoint/create: no capacity."
                             " Written: a (updated), good (created)")
    assert [(r["name"], r["action"], r["changed"], r["failed"]) for r in result["endpoints"]] == [
        ("bad", "none", False, True), ("a", "updated", True, False), ("good", "created", True, False)]
    assert result["changed"] is True
    assert sorted(p for m, p, b in fake.requests if m == "POST") == ["/endpoint/create", "/endpoint/create", "/endpoint/update"]
    # the list, the limits, the endpoint to update read by ID (for the plan, and again right before the update), and after the one
    # successful create the check for a concurrent create of its name
    assert sorted(p for m, p, b in fake.requests if m == "GET") == ["/endpoint", "/endpoint", "/endpoint/limit", "/endpoints", "/endpoints"]
    assert "new-secret" not in repr(result) and "old-secret" not in repr(result)
    update = [b for m, p, b in fake.requests if p == "/endpoint/update"][0]
    assert update["envs"] == [{"key": "TOKEN", "value": "new-secret"}]


@pytest.mark.parametrize("secret_envs", ['{"TOKEN": "fleet-unit-secret"}', "TOKEN=fleet-unit-secret"], ids=["json", "key=value"])
def test_secret_envs_given_as_a_string_are_hidden_in_the_invocation(run_module, secret_envs):
    fake = fake_api()
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [{"name": "a", "secret_envs": secret_envs}], "wait": False}, opener=fake)
    assert failed is False and result["endpoints"][0]["action"] == "updated"
    update = [b for m, p, b in fake.requests if p == "/endpoint/update"][0]
    assert update["envs"] == [{"key": "TOKEN", "value": "fleet-unit-secret"}]
    assert result["invocation"]["module_args"]["endpoints"][0]["secret_envs"] == {"TOKEN": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert "fleet-unit-secret" not in repr(result)


@pytest.mark.parametrize("secret_envs", ['{"TOKEN": "fleet-unit-secret"}', "TOKEN=fleet-unit-secret"], ids=["json", "key=value"])
def test_secret_envs_given_as_a_string_are_hidden_when_the_task_is_refused(run_module, secret_envs):
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [{"name": "a", "secret_envs": secret_envs}, {"name": "b", "bogus": 1}]})
    assert failed is True and result["errors"][0].startswith("endpoints[1].bogus: not an option")
    assert "fleet-unit-secret" not in repr(result)
