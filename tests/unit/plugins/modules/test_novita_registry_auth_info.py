# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.novita.cloud.plugins.modules import novita_registry_auth_info
from ansible_collections.novita.cloud.tests.unit.helpers import HUB_PASSWORD, OTHER_PASSWORD, FakeClient, FakeOpener, auths, echoing_auths, using


def test_info_module_never_returns_a_password(run_module):
    opener = FakeOpener(route=echoing_auths)
    # gather_usage, the alias of used_by (its former name), still works
    failed, result = run_module(novita_registry_auth_info.main, {"gather_usage": True}, opener=opener)
    assert failed is False and result["changed"] is False
    assert result["registry_auths"] == [{"id": "a1", "name": "hub", "username": "bot", "used_by": []},
                                        {"id": "a2", "name": "other", "username": "someone", "used_by": []}]
    assert [(m, p) for m, p, b in opener.requests] == [("GET", "/repository/auths"), ("GET", "/endpoints")]
    text = json.dumps(result)
    assert HUB_PASSWORD not in text and OTHER_PASSWORD not in text


def test_info_module_by_name_with_usage(run_module):
    client = FakeClient([using("ep1", "chat"), using("ep2", "embed", auth_id="a2")], auths=auths())
    failed, result = run_module(novita_registry_auth_info.main, {"name": "other", "used_by": True}, client=client)
    assert failed is False
    assert result["registry_auths"] == [{"id": "a2", "name": "other", "username": "someone", "used_by": [{"id": "ep2", "name": "embed"}]}]
    failed, result = run_module(novita_registry_auth_info.main, {}, client=client)
    assert [a["id"] for a in result["registry_auths"]] == ["a1", "a2"] and "used_by" not in result["registry_auths"][0]


def test_info_module_fails_before_any_request_without_a_key(run_module, monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run_module(novita_registry_auth_info.main, {"api_key": ""})
    assert failed is True and result["msg"].startswith("api_key is not set")
