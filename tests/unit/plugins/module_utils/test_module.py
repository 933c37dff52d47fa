# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.module import closest_option, did_you_mean
from ansible_collections.novita.cloud.plugins.modules import (
    novita_cluster_info,
    novita_endpoint,
    novita_endpoint_fleet,
    novita_registry_auth,
)

SPEC = {
    "name": {"type": "str"},
    "worker_config": {"type": "dict", "options": {"min_num": {"type": "int"}, "max_num": {"type": "int"}}},
    "volume_mounts": {"type": "list", "elements": "dict", "options": {"mount_path": {"type": "str"}, "size": {"type": "int"}}},
    "api_base_url": {"type": "str", "aliases": ["endpoint_url"]},
}
CORE = "Unsupported parameters for (novita_endpoint) module: %s. Supported parameters include: a, b."


@pytest.mark.parametrize("path, closest", [
    ("worker_confg", "worker_config"),
    (("worker_config", "min_nmu"), "worker_config.min_num"),
    (("volume_mounts", "mount_pth"), "volume_mounts.mount_path"),
    ("endpoint_ur", "endpoint_url"),  # an alias is a valid name too
    ("zzz", None),
    (("no_such_parent", "min_num"), None),
])
def test_closest_option_looks_at_the_level_of_the_unsupported_name(path, closest):
    assert closest_option(path, SPEC) == closest


def test_did_you_mean_appends_the_closest_name_to_ansible_cores_message():
    msg = CORE % "worker_confg"
    assert did_you_mean(msg, SPEC, {"worker_confg"}) == msg + " Did you mean worker_config?"


def test_did_you_mean_names_each_suggestion_when_several_options_are_unsupported():
    msg = CORE % "nmae, worker_config.min_nmu, zzz"
    assert did_you_mean(msg, SPEC, {"nmae", ("worker_config", "min_nmu"), "zzz"}) == (
        msg + " Did you mean name (for nmae), worker_config.min_num (for worker_config.min_nmu)?")


@pytest.mark.parametrize("msg", ["missing required arguments: name", CORE % "zzz", None])
def test_did_you_mean_leaves_messages_alone_when_no_name_is_close(msg):
    assert did_you_mean(msg, SPEC, {"zzz"}) == msg
    assert did_you_mean(msg, SPEC, set()) == msg


def test_did_you_mean_follows_another_problem_ansible_core_reports_first():
    msg = "missing required arguments: mount_path found in volume_mounts"
    assert did_you_mean(msg, SPEC, {("volume_mounts", "mount_pth"), "zzz"}) == (
        msg + ". Unsupported parameters: volume_mounts.mount_pth (did you mean volume_mounts.mount_path?), zzz")


def test_a_misspelled_top_level_option_gets_did_you_mean(run_module):
    failed, result = run_module(novita_endpoint.main, {"name": "chat", "worker_confg": {"max_num": 2}})
    assert failed
    # (in a unit test, ansible-core calls the module basic.py)
    assert re.match(r"Unsupported parameters for \(\S+\) module: worker_confg\. Supported parameters include: ", result["msg"])
    assert result["msg"].endswith(" Did you mean worker_config?")


def test_a_misspelled_sub_option_gets_did_you_mean_with_its_path(run_module):
    failed, result = run_module(novita_endpoint.main, {"name": "chat", "worker_config": {"max_nmu": 2}})
    assert failed and "worker_config.max_nmu" in result["msg"]
    assert result["msg"].endswith(" Did you mean worker_config.max_num?")
    failed, result = run_module(novita_endpoint.main, {"name": "chat", "volume_mounts": [{"type": "local", "size": 10, "mount_pth": "/d"}]})
    # ansible-core reports the missing mount_path first; the misspelling that left it out follows
    assert failed and result["msg"] == ("missing required arguments: mount_path found in volume_mounts. Unsupported parameters:"
                                        " volume_mounts.mount_pth (did you mean volume_mounts.mount_path?)")


@pytest.mark.parametrize("main, args, closest", [
    (novita_cluster_info.main, {"network_storage_onyl": True}, "network_storage_only"),
    (novita_registry_auth.main, {"name": "cred", "usrname": "bot", "password": "pw-1234567"}, "username"),
    (novita_endpoint_fleet.main, {"endpoints": [], "exclusiv": True}, "exclusive"),
])
def test_every_kind_of_module_suggests(run_module, main, args, closest):
    failed, result = run_module(main, args)
    assert failed and result["msg"].endswith(" Did you mean %s?" % closest), result["msg"]


def test_a_name_close_to_nothing_gets_ansible_cores_message_alone(run_module):
    failed, result = run_module(novita_endpoint.main, {"name": "chat", "qqqqqqqq": 1})
    assert failed and re.match(r"Unsupported parameters for \(\S+\) module: qqqqqqqq\. Supported parameters include: ", result["msg"])
    assert "Did you mean" not in result["msg"]


def test_the_secrets_of_a_refused_task_stay_hidden_with_the_suggestion(run_module):
    failed, result = run_module(novita_registry_auth.main, {"name": "cred", "username": "bot", "password": "pw-s3cr3t-value", "stat": "present"})
    assert failed and result["msg"].endswith(" Did you mean state?")
    assert "pw-s3cr3t-value" not in str(result)
