# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of how tests/clients/real_clients.py judges a real client's call (pure functions: no network, no client package)."""

from __future__ import annotations

import importlib.util
import os

import pytest

REAL_CLIENTS_PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "real_clients.py"))
_SPEC = importlib.util.spec_from_file_location("real_clients", REAL_CLIENTS_PATH)
rc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rc)

CLI_UPDATE_DROPS = ["name", "workerConfig.requestTimeout", "workerConfig.cudaVersion", "envs", "volumeMounts", "healthy.path", "clusterID"]


def entry(method, path, status=200, body=None, query=None):
    """One entry of the emulator's request log."""
    return {"method": method, "path": path, "status": status, "body": body, "query": query or {}}


def test_a_call_answered_2xx_with_its_effect_is_accepted():
    verdict = rc.classify(rc.CLI, "endpoint delete", None, [entry("POST", "/endpoint/delete", body={"name": "e1"})])
    assert verdict == (rc.ACCEPTED, "")


@pytest.mark.parametrize("status", [400, 404, 500, None])
def test_a_refused_request_without_a_known_bug_is_a_failure(status):
    verdict, detail = rc.classify(rc.CLI, "endpoint delete", "exit 1: Error: refused",
                                  [entry("POST", "/endpoint/delete", status=status, body={"name": "e1"})])
    assert verdict == rc.FAILED
    assert "POST /endpoint/delete answered %s" % ("nothing" if status is None else status) in detail
    assert "client error: exit 1: Error: refused" in detail


def test_a_2xx_call_without_its_effect_is_a_failure():
    verdict, detail = rc.classify(rc.CLI, "endpoint delete", None, [entry("POST", "/endpoint/delete", body={"name": "e1"})],
                                  effect_problem="endpoint e1 still exists after the delete")
    assert (verdict, detail) == (rc.FAILED, "endpoint e1 still exists after the delete")


def test_a_client_error_after_2xx_answers_is_a_failure():
    verdict, detail = rc.classify(rc.CLI, "endpoint get", "KeyError: 'state'", [entry("GET", "/endpoint", query={"id": "e1"})])
    assert (verdict, detail) == (rc.FAILED, "client error: KeyError: 'state'")


def test_a_call_that_sent_nothing_is_a_failure():
    verdict, detail = rc.classify(rc.SDK, "clusters list", None, [])
    assert (verdict, detail) == (rc.FAILED, "no request reached the emulator")


def test_a_refusal_showing_the_clients_known_bug_is_listed_as_that_bug():
    verdict, detail = rc.classify(rc.SDK, "endpoint delete", "BadRequestError: Bad request: missing required field: name",
                                  [entry("POST", "/endpoint/delete", status=400, body={"endpoint_id": "e1"})])
    assert verdict == rc.KNOWN_BUG
    assert detail.startswith('sends {"endpoint_id"} instead of {"name"} (')
    assert "POST /endpoint/delete answered 400" in detail


def test_a_refusal_of_a_call_whose_known_bug_does_not_show_is_a_failure():
    # The SDK's delete is known to send endpoint_id; had it sent {"name"} and been refused, the emulator is at fault.
    verdict, _detail = rc.classify(rc.SDK, "endpoint delete", "BadRequestError: Bad request",
                                   [entry("POST", "/endpoint/delete", status=400, body={"name": "e1"})])
    assert verdict == rc.FAILED


def test_a_known_bug_of_another_call_or_client_does_not_count():
    requests = [entry("POST", "/endpoint/delete", status=400, body={"endpoint_id": "e1"})]
    assert rc.classify(rc.CLI, "endpoint delete", "exit 1", requests)[0] == rc.FAILED
    assert rc.classify(rc.SDK, "endpoint update", "BadRequestError", requests)[0] == rc.FAILED


def test_every_sign_that_shows_is_listed():
    body = {"endpoint_id": "e1", "workerConfig": [{"minNum": 1}], "ports": [{"port": "8000"}]}
    verdict, detail = rc.classify(rc.SDK, "endpoint update", "BadRequestError", [entry("POST", "/endpoint/update", status=400, body=body)])
    assert verdict == rc.KNOWN_BUG
    assert detail.startswith("sends the ID as endpoint_id instead of id; sends workerConfig, policy and image as lists (")


def test_a_known_bug_shown_by_the_missing_effect_of_a_2xx_call():
    # The SDK saves the password masked: the emulator answers 200, the stored credential has the wrong password.
    requests = [entry("POST", "/repository/auth/save", body={"name": "n", "username": "u", "password": rc.MASKED_PASSWORD})]
    verdict, detail = rc.classify(rc.SDK, "registry save", None, requests, effect_problem="a password other than the one given")
    assert verdict == rc.KNOWN_BUG
    assert "masked" in detail
    same_call_right_password = [entry("POST", "/repository/auth/save", body={"name": "n", "username": "u", "password": "p"})]
    assert rc.classify(rc.SDK, "registry save", None, same_call_right_password, effect_problem="not saved")[0] == rc.FAILED


def test_a_text_sign_matches_the_client_error_or_the_missing_effect():
    requests = [entry("GET", "/endpoint", query={"id": "e1"})]
    by_effect = rc.classify(rc.SDK, "endpoint get", None, requests,
                            effect_problem="the client's answer has id and name None: {\"endpoint\": {...}} read unwrapped")
    assert by_effect[0] == rc.KNOWN_BUG
    assert "reads the answer unwrapped" in by_effect[1]
    crash = "AttributeError: 'str' object has no attribute 'get'"
    assert rc.classify(rc.CLI, "storage create", crash, [entry("POST", "/networkstorage/create")])[0] == rc.KNOWN_BUG
    assert rc.classify(rc.CLI, "storage create", "AttributeError: 'list' object", [entry("POST", "/networkstorage/create")])[0] == rc.FAILED


def test_an_update_losing_exactly_its_known_fields_is_accepted_with_drops():
    requests = [entry("GET", "/endpoint", query={"id": "e1"}), entry("POST", "/endpoint/update", body={"id": "e1"})]
    verdict, detail = rc.classify(rc.CLI, "endpoint update", None, requests, dropped=CLI_UPDATE_DROPS)
    assert verdict == rc.ACCEPTED_DROPS
    assert detail == ", ".join(CLI_UPDATE_DROPS)
    assert rc.format_line(rc.CLI, "endpoint update", verdict, detail).endswith("accepted, drops fields " + detail)


@pytest.mark.parametrize("dropped, lost", [
    ([], "nothing"),  # the emulator no longer replaces in full: not what the documented API does
    (CLI_UPDATE_DROPS[:-1], ", ".join(CLI_UPDATE_DROPS[:-1])),
    (CLI_UPDATE_DROPS + ["ports"], ", ".join(CLI_UPDATE_DROPS + ["ports"])),
])
def test_an_update_losing_other_fields_than_its_known_ones_is_a_failure(dropped, lost):
    requests = [entry("POST", "/endpoint/update", body={"id": "e1"})]
    verdict, detail = rc.classify(rc.CLI, "endpoint update", None, requests, dropped=dropped)
    assert verdict == rc.FAILED
    assert detail.startswith("lost %s; expected to lose name" % lost)


def test_a_call_with_no_known_drops_that_loses_a_field_is_a_failure():
    verdict, detail = rc.classify(rc.SDK, "endpoint update", None, [entry("POST", "/endpoint/update", body={"id": "e1"})], dropped=["envs"])
    assert (verdict, detail) == (rc.FAILED, "lost envs; expected to lose nothing")


@pytest.mark.parametrize("sign, shows", [
    (("path", "GET", "/networkstorages"), True),
    (("path", "GET", "/networkstorages/list"), False),
    (("path", "POST", "/networkstorages"), False),
    (("query_key", "GET", "/networkstorages", "pageNo"), True),
    (("query_key", "GET", "/networkstorages", "pageNum"), False),
    (("body_key", "POST", "/endpoint/create", "endpoint.ports"), True),
    (("body_key", "POST", "/endpoint/create", "endpoint.envs"), False),
    (("body_type", "POST", "/endpoint/create", "endpoint.ports", "object"), True),
    (("body_type", "POST", "/endpoint/create", "endpoint.ports", "array"), False),
    (("body_type", "POST", "/endpoint/create", "endpoint.name", "string"), True),
    (("body_value", "POST", "/endpoint/create", "endpoint.name", "x"), True),
    (("body_value", "POST", "/endpoint/create", "endpoint.name", "y"), False),
    (("text", "valid dictionary", "metrics"), True),
    (("text", "valid dictionary", "ports"), False),
])
def test_sign_shows(sign, shows):
    requests = [entry("GET", "/networkstorages", status=404, query={"pageNo": "0"}),
                entry("POST", "/endpoint/create", status=400, body={"endpoint": {"name": "x", "ports": {"port": "8000"}}})]
    assert rc.sign_shows(sign, "workers.0.metrics: Input should be a valid dictionary", requests) is shows


def test_a_text_sign_does_not_show_without_text_and_an_unknown_sign_is_an_error():
    assert rc.sign_shows(("text", "anything"), "", []) is False
    with pytest.raises(ValueError):
        rc.sign_shows(("header", "GET", "/x"), "", [])


def test_every_known_bug_names_a_client_and_has_a_sign_the_classifier_reads():
    for (client, _call), bugs in rc.KNOWN_BUGS.items():
        assert client in rc.CLIENT_VERSIONS
        for what, sign in bugs:
            assert what
            assert rc.sign_shows(sign, "", []) is False


def test_changed_fields_ignores_type_drift_and_intended_changes():
    before = {"name": "a", "workerConfig": {"maxNum": 1, "freeTimeout": "300"}, "ports": [{"port": "8000"}], "envs": [{"key": "A", "value": "1"}],
              "image": {"image": "i:1"}, "clusterID": "c1"}
    after = {"name": "a", "workerConfig": {"maxNum": 3, "freeTimeout": 300}, "ports": [{"port": 8000}], "envs": [],
             "image": {"image": "i:2"}}
    assert rc.changed_fields(before, after, intended=("workerConfig.maxNum", "image.image")) == ["envs", "clusterID"]
    assert rc.changed_fields(before, after) == ["image.image", "workerConfig.maxNum", "envs", "clusterID"]
    assert rc.changed_fields(before, before) == []


def test_one_line_drops_pydantic_links_and_cuts_long_errors():
    text = "1 validation error for X\n  Input should be a valid dictionary [type=dict_type]\n    For further information visit https://errors.pydantic.dev"
    assert rc.one_line(text) == "1 validation error for X | Input should be a valid dictionary [type=dict_type]"
    cut = rc.one_line("x" * 500, limit=50)
    assert len(cut) == 50 and cut.endswith("...")


def test_summary_lines_count_per_client_and_end_with_the_figures():
    verdicts = [(rc.CLI, rc.ACCEPTED), (rc.CLI, rc.ACCEPTED_DROPS), (rc.CLI, rc.KNOWN_BUG),
                (rc.SDK, rc.ACCEPTED), (rc.SDK, rc.KNOWN_BUG), (rc.SDK, rc.KNOWN_BUG), (rc.SDK, rc.FAILED)]
    lines = rc.summary_lines(verdicts)
    assert lines == [
        "novita-cli 0.1.0: 2/3 calls accepted (1 of them drop fields), 1 known client bugs, 0 failed",
        "novita-sdk 0.5.0: 1/4 calls accepted, 2 known client bugs, 1 failed",
        "real clients: novita-cli 0.1.0 2/3 calls accepted (1 known client bugs); novita-sdk 0.5.0 1/4 calls accepted (2 known client bugs)",
    ]
