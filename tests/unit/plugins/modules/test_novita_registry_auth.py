# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic

from ansible_collections.novita.cloud.plugins.module_utils import api
from ansible_collections.novita.cloud.plugins.module_utils import module as actions
from ansible_collections.novita.cloud.plugins.module_utils import registry_auth
from ansible_collections.novita.cloud.plugins.modules import novita_registry_auth, novita_registry_auth_info
from ansible_collections.novita.cloud.tests.unit.helpers import HUB_PASSWORD, OTHER_PASSWORD, FakeClient, FakeOpener, auths, echoing_auths, module_docs, using


# ---------------------------------------------------------------- before any request

@pytest.mark.parametrize("args, message", [
    ({"name": "n" * 256, "username": "u", "password": "secret-pw"}, "name: 256 characters is longer than the allowed 255"),
    ({"name": "x", "username": "u" * 512, "password": "secret-pw"}, "username: 512 characters is longer than the allowed 511"),
    ({"name": "x", "username": "u", "password": "q" * 1025}, "password: 1025 characters is longer than the allowed 1024"),
    ({"name": "x", "username": "u", "password": ""}, "password: must not be empty"),
    ({"name": "", "state": "absent"}, "name: must not be empty"),
    ({"username": "u"}, "missing required arguments: name"),
    ({"name": "x", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
])
def test_bad_input_fails_before_any_request(run_module, args, message):
    failed, result = run_module(novita_registry_auth.main, args)
    assert failed is True
    assert result["msg"] == message
    assert "q" * 20 not in json.dumps(result)


def test_every_problem_is_reported_together_and_with_a_missing_key(run_module, monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run_module(novita_registry_auth.main, {"name": "n" * 256, "password": "q" * 1025, "api_key": ""})
    assert failed is True
    assert result["errors"] == ["name: 256 characters is longer than the allowed 255", "password: 1025 characters is longer than the allowed 1024",
                                api.KEY_MISSING_MESSAGE]


# ---------------------------------------------------------------- runs through main()

def test_create_then_rerun_through_main(run_module):
    client = FakeClient(auths=auths())
    args = {"name": "ghcr", "username": "ci-bot", "password": "ghcr-token-value"}
    failed, result = run_module(novita_registry_auth.main, args, client=client)
    assert failed is False and result["changed"] is True and result["action"] == "created"
    assert result["registry_auth"] == {"id": "auth-new1", "name": "ghcr", "username": "ci-bot"}
    client.calls = []
    failed, result = run_module(novita_registry_auth.main, args, client=client)
    assert failed is False and result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [("GET", "/repository/auths")]


def test_a_refused_rotation_fails_naming_the_endpoint_with_used_by(run_module):
    client = FakeClient([using("ep1", "chat")], auths=auths())
    failed, result = run_module(novita_registry_auth.main, {"name": "hub", "password": "a-new-password"}, client=client)
    assert failed is True and result["changed"] is False and result["action"] == "none" and result["planned"] == "replaced"
    assert "is used by endpoint chat (ep1)" in result["msg"] and result["errors"] == [result["msg"]]
    assert result["used_by"] == [{"id": "ep1", "name": "chat"}] and "replaced_auth_id" not in result
    assert client.writes() == []


def test_a_forced_delete_warns(run_module, monkeypatch):
    client = FakeClient([using("ep1", "chat")], auths=auths())
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    failed, result = run_module(novita_registry_auth.main, {"name": "hub", "state": "absent", "force": True}, client=client)
    assert failed is False and result["action"] == "deleted" and "warnings" not in result
    assert warnings and warnings[0].startswith("deleted registry credential hub (a1) although endpoint chat (ep1) uses it")


def test_an_api_error_that_echoes_passwords_is_masked_by_the_module(run_module):
    """state=absent gives no password option, so Ansible's no_log cannot hide the listed passwords: the module must."""
    opener = FakeOpener(route=echoing_auths)
    failed, result = run_module(novita_registry_auth.main, {"name": "hub", "state": "absent", "trace_requests": True}, opener=opener)
    assert failed is True and result["changed"] is False and result["action"] == "none" and result["planned"] == "deleted"
    assert [(m, p) for m, p, b in opener.requests] == [("GET", "/repository/auths"), ("GET", "/endpoints"), ("POST", "/repository/auth/delete")]
    assert result["msg"].startswith("Novita API returned HTTP 400 INVALID_ARGUMENT on POST /repository/auth/delete: cannot delete")
    assert '"password": "********"' in result["msg"] and result["failure"]["status"] == 400
    traced = [item["path"] for item in result["api_requests"]]
    assert traced == ["/repository/auths", "/endpoints?pageSize=100&pageNum=1", "/repository/auth/delete"]
    text = json.dumps(result)
    assert HUB_PASSWORD not in text and OTHER_PASSWORD not in text


# ---------------------------------------------------------------- docs

def test_the_documented_options_are_the_argument_spec():
    """Names, types, defaults, choices, required and no_log of every option agree with DOCUMENTATION (the doc fragment's
    connection options come from api.novita_argument_spec())."""
    spec = registry_auth.registry_auth_argument_spec()
    options = module_docs(novita_registry_auth)["DOCUMENTATION"]["options"]
    assert sorted(options) == sorted(spec)
    for name, entry in spec.items():
        doc = options[name]
        assert doc["type"] == entry["type"], name
        assert doc.get("default") == entry.get("default"), name
        assert doc.get("choices") == entry.get("choices"), name
        assert bool(doc.get("required")) == bool(entry.get("required")), name
    assert spec["password"]["no_log"] is True


def test_the_returned_keys_are_documented():
    docs = module_docs(novita_registry_auth)["RETURN"]
    assert sorted(docs["registry_auth"]["contains"]) == ["id", "name", "username"]
    assert set(("action", "registry_auth", "replaced_auth_id", "used_by", "repointed_endpoints", "duplicate_deleted_ids", "deleted_auth_ids", "diff", "errors",
                "auth_ids", "endpoint_id", "failure", "api_requests", "planned")) == set(docs)
    assert docs["action"]["choices"] == [actions.CREATED, actions.REPLACED, actions.DELETED, actions.UNCHANGED, actions.NONE]
    assert docs["planned"]["choices"] == [actions.CREATED, actions.REPLACED, actions.DELETED]
    info = module_docs(novita_registry_auth_info)["RETURN"]
    assert sorted(info["registry_auths"]["contains"]) == ["id", "name", "used_by", "username"]


def test_the_password_is_hidden_as_the_module_uses_it(run_module):
    """A password given as a YAML boolean is the text True once converted; Ansible hides no boolean, the module hides the text."""
    client = FakeClient(auths=auths())
    failed, result = run_module(novita_registry_auth.main, {"name": "ghcr", "username": "ci-bot", "password": True}, client=client)
    assert failed is False and result["action"] == "created"
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
