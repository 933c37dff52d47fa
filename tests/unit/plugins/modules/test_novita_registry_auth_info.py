# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.novita.cloud.plugins.modules import novita_registry_auth_info
from ansible_collections.novita.cloud.tests.unit.plugins.module_utils.test_registry_auth import AuthFakeClient, auths, using
from ansible_collections.novita.cloud.tests.unit.plugins.modules import module_runner
from ansible_collections.novita.cloud.tests.unit.plugins.modules.test_novita_registry_auth import echoing_api

HUB_PASSWORD = auths()[0]["password"]
OTHER_PASSWORD = auths()[1]["password"]


def run(monkeypatch, args, client=None, opener=module_runner.no_http):
    return module_runner.run_module(monkeypatch, novita_registry_auth_info.main, args, opener=opener, client=client)


def test_info_module_never_returns_a_password(monkeypatch):
    requests = []
    failed, result = run(monkeypatch, {"gather_usage": True}, opener=echoing_api(requests))
    assert failed is False and result["changed"] is False
    assert result["registry_auths"] == [{"id": "a1", "name": "hub", "username": "bot", "used_by": []},
                                        {"id": "a2", "name": "other", "username": "someone", "used_by": []}]
    assert requests == [("GET", "/repository/auths"), ("GET", "/endpoints")]
    text = json.dumps(result)
    assert HUB_PASSWORD not in text and OTHER_PASSWORD not in text


def test_info_module_by_name_with_usage(monkeypatch):
    client = AuthFakeClient([using("ep1", "chat"), using("ep2", "embed", auth_id="a2")], auths())
    failed, result = run(monkeypatch, {"name": "other", "gather_usage": True}, client=client)
    assert failed is False
    assert result["registry_auths"] == [{"id": "a2", "name": "other", "username": "someone", "used_by": [{"id": "ep2", "name": "embed"}]}]
    failed, result = run(monkeypatch, {}, client=client)
    assert [a["id"] for a in result["registry_auths"]] == ["a1", "a2"] and "used_by" not in result["registry_auths"][0]


def test_info_module_fails_before_any_request_without_a_key(monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run(monkeypatch, {"api_key": ""})
    assert failed is True and result["msg"].startswith("api_key is not set")
