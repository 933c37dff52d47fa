# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source novita.cloud.endpoint_events: every event type, the baseline, poll errors, scoping and masking, with a
list queue and the fake client (the watcher in plugins/module_utils/events.py, the source's main in extensions/eda)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import asyncio
import copy
import json
import os
import textwrap

import pytest
import yaml

from ansible_collections.novita.cloud.plugins.module_utils import events
from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaClient, NovitaConfigError
from ansible_collections.novita.cloud.plugins.module_utils.converge import EndpointConverger
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.tests.unit.helpers import ROOT, FakeClient, FakeOpener, endpoint_data, load_file, module_docs

SOURCE_PATH = os.path.join("extensions", "eda", "plugins", "event_source", "endpoint_events.py")
SOURCE = load_file("endpoint_events", SOURCE_PATH)
NOW = "2026-01-02T03:04:05.000000Z"
API_KEY = "unit-key-6f1d2c9a"
SECRET = "declared-secret-4b7e"
HIDDEN = "undeclared-value-91ac"


def watcher(client, declarations=(), names=None, name_match=None, **settings):
    scope = events.Scope(names, name_match)
    return events.EndpointWatcher(client, scope, events.declarations_from(list(declarations), scope) if declarations else [],
                                  clock=lambda: NOW, **settings)


def kinds(found):
    return [(event["novita"]["type"], event["novita"]["name"]) for event in found]


def declaration(name, **options):
    return dict({"name": name, "image": {"image": "img", "command": "run"}, "worker_config": {"max_num": 1}}, **options)


def baseline(client, **kwargs):
    source = watcher(client, **kwargs)
    assert source.poll() == []
    return source


# ---------------------------------------------------------------------------
# the baseline


def test_the_first_poll_is_the_baseline_and_an_unchanged_list_emits_nothing():
    client = FakeClient([endpoint_data("e1", "one"), endpoint_data("e2", "two", state={"state": "failed", "error": "boom"})])
    source = watcher(client, [declaration("one", worker_config={"max_num": 5})])
    assert source.poll() == []  # a failed endpoint and a drifted one at the start are the baseline, not events
    assert source.poll() == []
    assert client.count("LIST", "/endpoints") == 2
    assert client.count("GET") == 0  # each poll costs the list, nothing else


def test_emit_initial_reports_every_endpoint_and_the_drift_at_the_first_poll():
    client = FakeClient([endpoint_data("e1", "one"), endpoint_data("e2", "two")])
    source = watcher(client, [declaration("one", worker_config={"max_num": 5})], emit_initial=True)
    assert sorted(kinds(source.poll())) == [("appeared", "one"), ("appeared", "two"), ("drift", "one")]
    assert source.poll() == []


# ---------------------------------------------------------------------------
# each event type


def test_state_changed_to_failed_carries_the_error_and_message():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client)
    client.endpoints["e1"]["state"] = {"state": "failed", "error": "image pull failed", "message": "back-off pulling image"}
    found = source.poll()
    assert kinds(found) == [("state_changed", "one")]
    event = found[0]["novita"]
    assert event["id"] == "e1"
    assert event["from"] == {"state": "serving", "error": "", "message": ""}
    assert event["to"] == {"state": "failed", "error": "image pull failed", "message": "back-off pulling image"}
    assert event["endpoint"]["state"]["state"] == "failed"
    assert event["observed_at"] == NOW
    assert sorted(event) == ["diff", "endpoint", "error", "from", "id", "name", "observed_at", "to", "type"]
    assert source.poll() == []  # on the transition only


def test_scaled_on_worker_settings_and_on_the_worker_count():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client)
    client.endpoints["e1"]["workerConfig"] = dict(client.endpoints["e1"]["workerConfig"], maxNum=4)
    event = source.poll()[0]["novita"]
    assert event["type"] == "scaled"
    assert event["from"]["worker_config"]["max_num"] == 1 and event["to"]["worker_config"]["max_num"] == 4
    assert "workers" not in event["to"]  # only what changed
    client.endpoints["e1"]["workers"] = [{"id": "w1"}, {"id": "w2"}]
    event = source.poll()[0]["novita"]
    assert (event["type"], event["from"], event["to"]) == ("scaled", {"workers": 0}, {"workers": 2})


def test_config_changed_shows_the_settings_that_changed_and_the_whole_diff():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client)
    client.endpoints["e1"]["image"] = {"image": "img:2", "authId": "", "command": "run"}
    found = source.poll()
    assert kinds(found) == [("config_changed", "one")]
    event = found[0]["novita"]
    assert event["from"] == {"image": {"image": "img", "auth_id": "", "command": "run"}}
    assert event["to"] == {"image": {"image": "img:2", "auth_id": "", "command": "run"}}
    assert event["diff"]["before"]["port"] == event["diff"]["after"]["port"] == 8000


def test_appeared_and_deleted():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client)
    client.endpoints["e2"] = endpoint_data("e2", "two")
    assert kinds(source.poll()) == [("appeared", "two")]
    del client.endpoints["e1"]
    found = source.poll()
    assert kinds(found) == [("deleted", "one")]
    assert found[0]["novita"]["id"] == "e1" and found[0]["novita"]["endpoint"]["name"] == "one"


def test_a_renamed_endpoint_is_config_changed_not_deleted_and_appeared():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client)
    client.endpoints["e1"]["name"] = "uno"
    assert kinds(source.poll()) == [("config_changed", "uno")]


# ---------------------------------------------------------------------------
# drift


def test_drift_is_the_module_check_mode_diff_and_is_emitted_once_per_difference():
    declared = declaration("one", worker_config={"max_num": 1}, envs={"A": "1"})
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client, declarations=[declared])
    client.endpoints["e1"]["workerConfig"] = dict(client.endpoints["e1"]["workerConfig"], maxNum=3)
    found = source.poll()
    assert sorted(kinds(found)) == [("drift", "one"), ("scaled", "one")]
    drift = [e["novita"] for e in found if e["novita"]["type"] == "drift"][0]
    # What novita_endpoint reports in check mode with --diff for the same declaration.
    params = dict(source.declarations[0], id=None, wait=True, wait_timeout=600)
    module = EndpointConverger(EndpointAPI(FakeClient([client.endpoints["e1"]])), params, check_mode=True, want_diff=True).run()
    assert drift["diff"]["before"] == module["diff"]["before"] and drift["diff"]["after"] == module["diff"]["after"]
    assert drift["from"] == {"worker_config": module["diff"]["before"]["worker_config"]}
    assert drift["to"]["worker_config"]["max_num"] == 1
    assert source.poll() == []  # the same drift again: no event
    client.endpoints["e1"]["image"] = {"image": "other", "authId": "", "command": "run"}
    assert sorted(kinds(source.poll())) == [("config_changed", "one"), ("drift", "one")]  # what differs changed
    client.endpoints["e1"] = endpoint_data("e1", "one")
    assert sorted(kinds(source.poll())) == [("config_changed", "one"), ("scaled", "one")]  # back in line: no drift event


def test_a_declared_endpoint_that_is_missing_is_drift_to_be_created():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client, declarations=[declaration("one")])
    del client.endpoints["e1"]
    found = source.poll()
    assert sorted(kinds(found)) == [("deleted", "one"), ("drift", "one")]
    drift = [e["novita"] for e in found if e["novita"]["type"] == "drift"][0]
    assert drift["id"] is None and drift["diff"]["before"] == {} and drift["diff"]["after"]["name"] == "one"


def test_a_declared_name_held_by_two_endpoints_is_drift_with_an_error_naming_them():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client, declarations=[declaration("one")])
    client.endpoints["e2"] = endpoint_data("e2", "one")
    drift = [e["novita"] for e in source.poll() if e["novita"]["type"] == "drift"][0]
    assert drift["diff"] is None and "e1" in drift["error"]["message"] and "e2" in drift["error"]["message"]


def test_declarations_are_checked_like_the_fleet_items_before_any_poll():
    scope = events.Scope()
    with pytest.raises(NovitaConfigError) as failure:
        events.declarations_from({"endpoints": [{"name": "a", "worker_config": {"min_num": 3, "max_num": 1}}, {"name": "a", "colour": 1}]},
                                 scope)
    assert "endpoints[1].colour: not an option" in failure.value.msg
    with pytest.raises(NovitaConfigError) as failure:
        events.declarations_from([{"name": "a", "worker_config": {"min_num": 3, "max_num": 1}}, {"name": "a"}], scope)
    assert "endpoints[0].worker_config.min_num: 3 is greater" in failure.value.msg
    assert "endpoints[1].name: a is already declared by endpoints[0]" in failure.value.msg
    with pytest.raises(NovitaConfigError):
        events.declarations_from("not a list", scope)
    assert events.declarations_from({"endpoints": [{"name": "a"}]}, scope)[0]["purge_envs"] is True


# ---------------------------------------------------------------------------
# poll errors


def failing(client, error=None):
    client.fail_reads["/endpoints"] = 0
    client.read_error = error


def test_poll_error_after_n_failed_polls_once_per_run_and_the_changes_meanwhile_after():
    client = FakeClient([endpoint_data("e1", "one")])
    source = baseline(client, poll_error_after=2)
    failing(client)
    assert source.poll() == []
    found = source.poll()
    assert kinds(found) == [("poll_error", None)]
    error = found[0]["novita"]["error"]
    assert error["failed_polls"] == 2 and error["status"] == 503 and error["auth_failure"] is False
    assert source.poll() == []  # the same run of failures: no second event
    client.endpoints["e1"]["state"] = {"state": "failed"}
    del client.fail_reads["/endpoints"]
    assert kinds(source.poll()) == [("state_changed", "one")]  # what happened during the outage
    failing(client)
    assert source.poll() == [] and kinds(source.poll()) == [("poll_error", None)]  # a new run of failures


def test_a_short_list_is_a_failed_poll_never_a_deletion():
    client = FakeClient([endpoint_data("e1", "one"), endpoint_data("e2", "two")])
    source = baseline(client, poll_error_after=1)
    client.bad_replies["/endpoints"] = {"endpoints": [endpoint_data("e1", "one")], "total": 2}
    found = source.poll()
    assert kinds(found) == [("poll_error", None)]
    del client.bad_replies["/endpoints"]
    assert source.poll() == []


def test_poll_errors_go_through_the_client_with_its_retries_and_never_show_the_key():
    key_echo = json.dumps({"code": 400, "reason": "INVALID_PARAMETER", "message": "bad request, headers: Authorization: Bearer " + API_KEY})
    opener = FakeOpener(*([(400, key_echo, {})] * 2))
    client = NovitaClient(API_KEY, "https://api.example.invalid", opener=opener, sleep=lambda s: None)
    source = events.EndpointWatcher(client, poll_error_after=2, clock=lambda: NOW)
    assert source.poll() == []
    found = source.poll()
    assert found[0]["novita"]["error"]["reason"] == "INVALID_PARAMETER"
    assert API_KEY not in json.dumps(found) and "********" in found[0]["novita"]["error"]["message"]
    assert [call["url"].split("/v1")[1] for call in opener.calls] == ["/endpoints?pageSize=100&pageNum=1"] * 2


def test_the_source_reads_every_page_and_repeats_a_503_as_the_modules_do():
    pages = {"1": {"endpoints": [endpoint_data("e%d" % n, "n%d" % n) for n in range(100)], "total": 101},
             "2": {"endpoints": [endpoint_data("e100", "n100")], "total": 101}}
    answers = [(503, "{}", {"Retry-After": "0"})]

    def route(method, path, body):
        return answers.pop(0) if answers else None

    opener = FakeOpener(route=lambda method, path, body: route(method, path, body) or pages[opener.calls[-1]["url"][-1]])
    client = NovitaClient(API_KEY, "https://api.example.invalid", opener=opener, sleep=lambda s: None)
    source = events.EndpointWatcher(client, clock=lambda: NOW, emit_initial=True)
    assert len(source.poll()) == 101
    assert [call["url"][-1] for call in opener.calls] == ["1", "1", "2"]


# ---------------------------------------------------------------------------
# scoping


def test_names_and_name_match_scope_every_event():
    client = FakeClient([endpoint_data("e1", "team-a-chat"), endpoint_data("e2", "team-b-chat"), endpoint_data("e3", "shared")])
    source = baseline(client, name_match="team-a-", names=["shared"])
    for endpoint in client.endpoints.values():
        endpoint["state"] = {"state": "failed"}
    client.endpoints["e4"] = endpoint_data("e4", "team-b-new")
    client.endpoints["e5"] = endpoint_data("e5", "team-a-new")
    assert sorted(kinds(source.poll())) == [("appeared", "team-a-new"), ("state_changed", "shared"), ("state_changed", "team-a-chat")]


def test_name_match_is_matched_at_the_start_of_the_name():
    scope = events.Scope(name_match="chat")
    assert scope.covers("chat-1") and not scope.covers("team-chat")
    assert events.Scope().covers("anything")


def test_a_declared_name_outside_the_scope_is_refused():
    with pytest.raises(NovitaConfigError) as failure:
        events.declarations_from([{"name": "other"}], events.Scope(names=["mine"]))
    assert "endpoints[0].name: other is outside" in failure.value.msg


# ---------------------------------------------------------------------------
# masking


def test_no_event_holds_a_secret_env_value_or_the_key():
    with_secrets = endpoint_data("e1", "one", envs=[{"key": "A", "value": "1"}, {"key": "TOKEN", "value": SECRET}])
    other = endpoint_data("e2", "two", envs=[{"key": "HIDDEN", "value": HIDDEN}])
    client = FakeClient([with_secrets, other])
    client.add_secrets(API_KEY)
    declared = declaration("one", envs={"A": "1"}, secret_envs={"TOKEN": SECRET})
    source = watcher(client, [declared], emit_initial=True)
    found = source.poll()
    client.endpoints["e1"]["envs"] = [{"key": "A", "value": "2"}, {"key": "TOKEN", "value": SECRET + "-new"}]
    client.endpoints["e2"]["envs"] = [{"key": "HIDDEN", "value": HIDDEN + "-new"}]
    # The platform's message quotes a value (as an error from a failing container may).
    client.endpoints["e2"]["state"] = {"state": "failed", "error": "bad HIDDEN=%s-new" % HIDDEN, "message": "key " + API_KEY}
    found += source.poll()
    assert sorted(set(kinds(found))) == [("appeared", "one"), ("appeared", "two"), ("config_changed", "one"), ("config_changed", "two"),
                                         ("drift", "one"), ("state_changed", "two")]
    text = json.dumps(found)
    assert SECRET not in text and HIDDEN not in text and API_KEY not in text
    changed = [e["novita"] for e in found if e["novita"]["type"] == "config_changed" and e["novita"]["name"] == "one"][0]
    assert changed["to"]["envs"] == {"A": "2", "TOKEN": "******** (changed)"}  # declared plain: shown; secret: masked
    assert changed["diff"]["after"]["env_changes"] == {"A": "changed", "TOKEN": "changed"}
    failed = [e["novita"] for e in found if e["novita"]["type"] == "state_changed"][0]
    assert failed["to"]["error"] == "bad HIDDEN=********" and failed["to"]["message"] == "key ********"


def test_the_declared_secret_values_are_added_to_the_client_scrubber():
    client = FakeClient([])
    watcher(client, [declaration("one", secret_envs={"TOKEN": SECRET})])
    assert client.scrub("x %s y" % SECRET) == "x ******** y"


# ---------------------------------------------------------------------------
# the source plugin: options, main, documentation


class ListQueue:
    """The queue ansible-rulebook gives a source: ``put`` is awaited; stops the source after ``limit`` events."""

    def __init__(self, limit):
        self.items = []
        self.limit = limit

    async def put(self, item):
        self.items.append(item)
        if len(self.items) >= self.limit:
            raise asyncio.CancelledError()


def run_source(args, queue, client):
    original = events.NovitaClient
    events.NovitaClient = lambda *a, **k: client
    try:
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(SOURCE.main(queue, args))
    finally:
        events.NovitaClient = original


def test_main_polls_until_stopped_and_puts_events_on_the_queue(tmp_path):
    client = FakeClient([endpoint_data("e1", "one")])
    declarations = tmp_path / "declared.yml"
    declarations.write_text(yaml.safe_dump({"endpoints": [declaration("one", worker_config={"max_num": 7})]}))
    queue = ListQueue(2)
    run_source({"api_key": API_KEY, "interval": 0.1, "emit_initial": True, "declarations": str(declarations)}, queue, client)
    assert sorted(kinds(queue.items)) == [("appeared", "one"), ("drift", "one")]


def test_main_keeps_polling_through_api_errors(tmp_path):
    client = FakeClient([endpoint_data("e1", "one")])
    failing(client)
    queue = ListQueue(1)
    run_source({"api_key": API_KEY, "interval": 0.1, "poll_error_after": 3}, queue, client)
    assert kinds(queue.items) == [("poll_error", None)] and client.count("LIST") == 3


def test_main_refuses_bad_options_naming_every_problem_and_never_the_key(monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    with pytest.raises(ValueError) as failure:
        asyncio.run(SOURCE.main(ListQueue(1), {"interval": 0, "colour": "red", "name_match": "("}))
    assert "unknown option colour" in str(failure.value)
    with pytest.raises(ValueError) as failure:
        asyncio.run(SOURCE.main(ListQueue(1), {"interval": 0, "name_match": "("}))
    text = str(failure.value)
    assert "api_key is not set" in text and "interval: 0.0 is not allowed" in text and "name_match" in text
    with pytest.raises(ValueError) as failure:
        asyncio.run(SOURCE.main(ListQueue(1), {"api_key": API_KEY, "declarations": "/nonexistent/declared.yml"}))
    assert "/nonexistent/declared.yml cannot be read" in str(failure.value) and API_KEY not in str(failure.value)


def test_the_connection_options_come_from_the_modules_environment_variables(monkeypatch):
    monkeypatch.setenv("NOVITA_API_KEY", API_KEY)
    monkeypatch.setenv("NOVITA_API_BASE_URL", "http://127.0.0.1:8787")
    monkeypatch.setenv("NOVITA_RETRIES", "2")
    settings = events.source_settings({})
    assert (settings["api_key"], settings["api_base_url"], settings["retries"], settings["interval"]) == (API_KEY, "http://127.0.0.1:8787", 2, 30)
    client = events.watcher_from_settings(settings).client
    assert isinstance(client, NovitaClient) and client.base_url == "http://127.0.0.1:8787" and client.retries == 2


def test_documentation_lists_exactly_the_options_the_source_takes():
    docs = module_docs(open(os.path.join(ROOT, SOURCE_PATH), encoding="utf-8").read())
    options = docs["DOCUMENTATION"]["options"]
    spec = events.source_argument_spec()
    assert sorted(options) == sorted(spec)
    for name, option in options.items():
        assert option["type"] == spec[name]["type"], name
        assert option.get("default") == spec[name].get("default"), name
        assert option.get("elements") == spec[name].get("elements"), name
        # Every paragraph is text: an unquoted line with ": " in it would be read as a mapping.
        assert all(isinstance(text, str) for text in option["description"]), name
    for section in ("description", "notes"):
        assert all(isinstance(text, str) for text in docs["DOCUMENTATION"][section]), section
    for play in docs["EXAMPLES"]:
        assert "novita.cloud.endpoint_events" in play["sources"][0]


def test_the_rulebooks_use_the_source_and_files_that_exist():
    folder = os.path.join(ROOT, "extensions", "eda", "rulebooks")
    rulebooks = sorted(os.listdir(folder))
    assert rulebooks == ["page_on_failure.yml", "reconverge_drift.yml"]
    for name in rulebooks:
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            plays = yaml.safe_load(handle)
        source = plays[0]["sources"][0]["novita.cloud.endpoint_events"]
        assert set(source) <= set(events.source_argument_spec())
        if "declarations" in source:
            assert os.path.exists(os.path.join(ROOT, source["declarations"]))
        for rule in plays[0]["rules"]:
            playbook = rule["action"].get("run_playbook", {}).get("name")
            assert playbook is None or os.path.exists(os.path.join(ROOT, playbook))


def test_the_guide_shows_the_rulebooks_exactly_as_the_files_are():
    with open(os.path.join(ROOT, "docs", "docsite", "rst", "events.rst"), encoding="utf-8") as handle:
        guide = handle.read()
    for name in ("page_on_failure.yml", "reconverge_drift.yml"):
        with open(os.path.join(ROOT, "extensions", "eda", "rulebooks", name), encoding="utf-8") as handle:
            text = handle.read()
        shown = "``extensions/eda/rulebooks/%s``:\n\n.. code-block:: yaml\n\n%s\n" % (name, textwrap.indent(text.rstrip("\n"), "    "))
        assert shown in guide, name


def test_the_example_declarations_are_valid_declarations():
    with open(os.path.join(ROOT, "examples", "watched_endpoints.yml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert [item["name"] for item in events.declarations_from(copy.deepcopy(data), events.Scope())] == ["eda-chat", "eda-embeddings"]
