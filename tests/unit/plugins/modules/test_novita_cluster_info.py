# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.novita.cloud.plugins.modules import novita_cluster_info
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient


def test_every_cluster_with_snake_case_keys_and_boolean_flags(run_module):
    client = FakeClient()
    failed, result = run_module(novita_cluster_info.main, {}, client)
    assert failed is False and result["changed"] is False
    assert result["clusters"] == [
        {"id": "c1", "name": "us-east", "available_gpu_type": ["RTX 4090 24GB"], "support_network_storage": True, "support_instance_network": True},
        {"id": "c2", "name": "eu-west", "available_gpu_type": ["A100 80GB"], "support_network_storage": True, "support_instance_network": False},
        {"id": "c3", "name": "ap-south", "available_gpu_type": [], "support_network_storage": False, "support_instance_network": False},
    ]
    assert client.calls == [("GET", "/clusters")]


def test_network_storage_only_in_check_mode(run_module):
    client = FakeClient()
    failed, result = run_module(novita_cluster_info.main, {"network_storage_only": True}, client, check_mode=True)
    assert [c["id"] for c in result["clusters"]] == ["c1", "c2"]
    assert client.calls == [("GET", "/clusters")]
