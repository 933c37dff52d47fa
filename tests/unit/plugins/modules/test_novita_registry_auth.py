# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import io
import json
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.novita.cloud.plugins.module_utils import api
from ansible_collections.novita.cloud.plugins.module_utils import registry_auth
from ansible_collections.novita.cloud.plugins.modules import novita_registry_auth, novita_registry_auth_info
from ansible_collections.novita.cloud.tests.unit.plugins.module_utils.test_registry_auth import AuthFakeClient, auths, using
from ansible_collections.novita.cloud.tests.unit.plugins.modules import module_runner

HUB_PASSWORD = auths()[0]["password"]
OTHER_PASSWORD = auths()[1]["password"]


def run(monkeypatch, args, client=None, opener=module_runner.no_http, main=novita_registry_auth.main):
    return module_runner.run_module(monkeypatch, main, args, opener=opener, client=client)


def module_docs(module):
    with open(module.__file__) as handle:
        tree = ast.parse(handle.read())
    return dict((node.targets[0].id, yaml.safe_load(node.value.value)) for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ("DOCUMENTATION", "RETURN"))


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
def test_bad_input_fails_before_any_request(monkeypatch, args, message):
    failed, result = run(monkeypatch, args)
    assert failed is True
    assert result["msg"] == message
    assert "q" * 20 not in json.dumps(result)


def test_every_problem_is_reported_together_and_with_a_missing_key(monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run(monkeypatch, {"name": "n" * 256, "password": "q" * 1025, "api_key": ""})
    assert failed is True
    assert result["errors"] == ["name: 256 characters is longer than the allowed 255", "password: 1025 characters is longer than the allowed 1024",
                                api.KEY_MISSING_MESSAGE]


# ---------------------------------------------------------------- runs through main()

def test_create_then_rerun_through_main(monkeypatch):
    client = AuthFakeClient(auths=auths())
    args = {"name": "ghcr", "username": "ci-bot", "password": "ghcr-token-value"}
    failed, result = run(monkeypatch, args, client=client)
    assert failed is False and result["changed"] is True and result["action"] == "created"
    assert result["registry_auth"] == {"id": "auth-new1", "name": "ghcr", "username": "ci-bot"}
    client.calls = []
    failed, result = run(monkeypatch, args, client=client)
    assert failed is False and result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [("GET", "/repository/auths")]


def test_a_refused_rotation_fails_naming_the_endpoint_with_used_by(monkeypatch):
    client = AuthFakeClient([using("ep1", "chat")], auths())
    failed, result = run(monkeypatch, {"name": "hub", "password": "a-new-password"}, client=client)
    assert failed is True and result["changed"] is False and result["action"] == "none" and result["planned"] == "replaced"
    assert "is used by endpoint chat (ep1)" in result["msg"] and result["errors"] == [result["msg"]]
    assert result["used_by"] == [{"id": "ep1", "name": "chat"}] and "replaced_auth_id" not in result
    assert client.writes() == []


def test_a_forced_delete_warns(monkeypatch):
    client = AuthFakeClient([using("ep1", "chat")], auths())
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    failed, result = run(monkeypatch, {"name": "hub", "state": "absent", "force": True}, client=client)
    assert failed is False and result["action"] == "deleted" and "warnings" not in result
    assert warnings and warnings[0].startswith("deleted registry credential hub (a1) although endpoint chat (ep1) uses it")


class FakeResponse:
    def __init__(self, body):
        self.status = 200
        self._body = json.dumps(body).encode("utf-8")

    def read(self):
        return self._body


def echoing_api(requests):
    """An opener that lists the credentials and refuses every write with an error quoting the credential list (passwords
    included), the way a careless API error handler might; ``requests`` collects (method, path)."""
    def opener(url, data=None, headers=None, method=None, **kwargs):
        path = urlsplit(url).path[len(api.API_PREFIX):]
        requests.append((method, path))
        if method == "GET" and path == "/repository/auths":
            return FakeResponse({"data": auths()})
        if method == "GET" and path == "/endpoints":
            return FakeResponse({"endpoints": [], "total": 0})
        body = json.dumps({"code": 400, "reason": "INVALID_ARGUMENT", "message": "cannot delete %s" % json.dumps(auths())})
        raise HTTPError(url, 400, "error", {}, io.BytesIO(body.encode("utf-8")))
    return opener


def test_an_api_error_that_echoes_passwords_is_masked_by_the_module(monkeypatch):
    """state=absent gives no password option, so Ansible's no_log cannot hide the listed passwords: the module must."""
    requests = []
    failed, result = run(monkeypatch, {"name": "hub", "state": "absent", "trace_requests": True}, opener=echoing_api(requests))
    assert failed is True and result["changed"] is False and result["action"] == "none" and result["planned"] == "deleted"
    assert requests == [("GET", "/repository/auths"), ("GET", "/endpoints"), ("POST", "/repository/auth/delete")]
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
    assert docs["action"]["choices"] == [registry_auth.CREATED, registry_auth.REPLACED, registry_auth.DELETED, registry_auth.UNCHANGED, "none"]
    assert docs["planned"]["choices"] == [registry_auth.CREATED, registry_auth.REPLACED, registry_auth.DELETED]
    info = module_docs(novita_registry_auth_info)["RETURN"]
    assert sorted(info["registry_auths"]["contains"]) == ["id", "name", "used_by", "username"]


def test_the_password_is_hidden_as_the_module_uses_it(monkeypatch):
    """A password given as a YAML boolean is the text True once converted; Ansible hides no boolean, the module hides the text."""
    client = AuthFakeClient(auths=auths())
    failed, result = run(monkeypatch, {"name": "ghcr", "username": "ci-bot", "password": True}, client=client)
    assert failed is False and result["action"] == "created"
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
