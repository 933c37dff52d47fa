# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from urllib.error import URLError

import pytest

from ansible_collections.novita.cloud.plugins.modules import novita_endpoint
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data


def existing():
    return endpoint_data("ep1", "chat")


@pytest.mark.parametrize("args, message", [
    ({"port": 80}, "one of the following is required: id, name"),
    ({"name": "x", "policy": {"type": "burst"}}, "value of type must be one of: queue, concurrency, got: burst found in policy"),
    ({"name": "x", "timeout": 0}, "timeout: 0 is not allowed; it must be a whole number of at least 1"),
    ({"name": "x", "retries": -1}, "retries: -1 is not allowed; it must be a whole number of at least 0"),
    ({"name": "x", "retry_timeout": -5}, "retry_timeout: -5 is not allowed; it must be a whole number of at least 0"),
    ({"name": "x", "image": {"auth_id": "a", "auth_name": "b"}}, "parameters are mutually exclusive: auth_id|auth_name found in image"),
    ({"name": "x", "volume_mounts": [{"type": "network", "id": "ns-1", "storage_name": "m", "mount_path": "/m"}]},
     "parameters are mutually exclusive: id|storage_name found in volume_mounts"),
])
def test_bad_input_fails_before_any_request(run_module, args, message):
    failed, result = run_module(novita_endpoint.main, args)
    assert failed is True
    assert message in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"name": "x", "port": 2223}, "port: 2223 is not allowed"),
    ({"name": "x", "worker_config": {"min_num": 5, "max_num": 1}}, "worker_config.min_num: 5 is greater than worker_config.max_num 1"),
    ({"name": "x", "envs": {"T": "a"}, "secret_envs": {"T": "secret-b"}}, "envs and secret_envs both set T"),
    ({"name": "x", "volume_mounts": [{"type": "network", "id": "ns-1", "mount_path": "/m"}], "cluster_id": ""},
     "a network mount needs cluster_id"),
    ({"name": "x", "volume_mounts": [{"type": "local", "size": 5, "storage_name": "m", "mount_path": "/m"}]},
     "volume_mounts[0].storage_name: only a network mount takes a storage_name"),
])
def test_bad_input_fails_before_any_write(run_module, args, message):
    client = FakeClient()
    failed, result = run_module(novita_endpoint.main, args, client=client)
    assert failed is True
    assert message in result["msg"] and message in " ".join(result["errors"])
    assert client.writes() == []


def test_every_problem_is_reported_together_before_any_write(run_module):
    """A create-only change, two values outside the account's limits and a name too long: one error lists them all."""
    client = FakeClient([existing()])
    failed, result = run_module(novita_endpoint.main, {
        "id": "ep1", "name": "n" * 221, "product_id": "2", "worker_config": {"max_num": 99, "gpu_num": 9}}, client=client)
    assert failed is True and result["changed"] is False
    errors = result["errors"]
    assert len(errors) == 4, errors
    assert errors == [
        "name: 221 characters is longer than the allowed 220",
        "product_id: endpoint ep1 cannot change product_id from '1' to '2': it is set at creation only; set recreate=true to delete the"
        " endpoint and create it anew",
        "worker_config.max_num: 99 is outside the allowed range 0 to 10 (account limits minWorkerNum/maxWorkerNum)",
        "worker_config.gpu_num: 9 is outside the allowed range 1 to 4 (account limits minGPUNum/maxGPUNum)",
    ]
    assert result["msg"] == "4 problems, nothing was written: " + "; ".join(errors)
    # nothing was written: no endpoint_id, and the action says nothing was done, with what was planned
    assert client.writes() == [] and "endpoint_id" not in result
    assert result["action"] == "none" and result["planned"] == "recreated"


def test_undeclared_env_values_that_are_ordinary_words_do_not_mangle_messages(run_module):
    """Values of variables the task does not declare are masked where the API may echo them, not in the module's sentences."""
    client = FakeClient([endpoint_data("ep1", "chat", envs=[{"key": "FLAG", "value": "true"}, {"key": "MAX", "value": "1000"}])])
    failed, result = run_module(novita_endpoint.main, {
        "id": "ep1", "product_id": "2", "worker_config": {"max_num": 1000}}, client=client)
    assert failed is True
    assert "set recreate=true to delete the endpoint" in result["msg"]
    assert "worker_config.max_num: 1000 is outside the allowed range 0 to 10" in result["msg"]
    assert "********" not in result["msg"]


def refuse(*args, **kwargs):
    raise URLError(ConnectionRefusedError(111, "Connection refused"))


def test_problems_are_still_reported_when_the_api_cannot_be_read(run_module):
    failed, result = run_module(novita_endpoint.main, {"name": "x", "port": 2223, "retries": 0}, opener=refuse)
    assert failed is True
    assert result["errors"][0] == "port: 2223 is not allowed; use 1-65535 except 2222, 2223 and 2224"
    assert result["errors"][1].startswith("the checks that need the API could not be made: Novita API request GET http://127.0.0.1:9")
    assert result["msg"].startswith("2 problems, nothing was written: port: 2223 is not allowed")


def test_api_key_is_required(run_module, monkeypatch):
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    failed, result = run_module(novita_endpoint.main, {"name": "x", "api_key": ""})
    assert failed is True
    assert result["msg"] == ("api_key is not set: give the api_key option or set the NOVITA_API_KEY environment variable"
                             " (for example in module_defaults for group/novita.cloud.novita)")


def test_retry_options_fall_back_to_the_environment(run_module, monkeypatch):
    monkeypatch.setenv("NOVITA_RETRIES", "-2")
    failed, result = run_module(novita_endpoint.main, {"name": "x"})
    assert failed is True and result["msg"] == "retries: -2 is not allowed; it must be a whole number of at least 0"


# secret_envs as a dict, as a JSON string and as a key=value string: Ansible converts both strings to the same dict.
SECRET_FORMS = [
    {"HF_TOKEN": "hf-unit-secret-1", "DB": "db-unit-secret-2"},
    '{"HF_TOKEN": "hf-unit-secret-1", "DB": "db-unit-secret-2"}',
    "HF_TOKEN=hf-unit-secret-1 DB=db-unit-secret-2",
]


def assert_no_secret(result):
    text = repr(result)
    assert "hf-unit-secret-1" not in text and "db-unit-secret-2" not in text, text


@pytest.mark.parametrize("secret_envs", SECRET_FORMS, ids=["dict", "json", "key=value"])
def test_secret_envs_values_are_hidden_in_the_invocation_whatever_form_they_are_given_in(run_module, secret_envs):
    client = FakeClient()
    failed, result = run_module(novita_endpoint.main, {
        "name": "chat", "product_id": "1", "image": {"image": "img"}, "port": 8000, "wait": False, "secret_envs": secret_envs}, client=client)
    assert failed is False and result["action"] == "created"
    # The values were sent: the module had them in clear.
    sent = dict((e["key"], e["value"]) for e in client.endpoints["new1"]["envs"])
    assert sent == {"HF_TOKEN": "hf-unit-secret-1", "DB": "db-unit-secret-2"}
    # The invocation (shown at -vvv, written to the log file) has the names with their values hidden.
    assert sorted(result["invocation"]["module_args"]["secret_envs"]) == ["DB", "HF_TOKEN"]
    assert_no_secret(result)


@pytest.mark.parametrize("secret_envs", SECRET_FORMS[1:], ids=["json", "key=value"])
def test_secret_envs_values_are_hidden_when_another_option_is_refused(run_module, secret_envs):
    failed, result = run_module(novita_endpoint.main, {"name": "chat", "port": "eighty", "secret_envs": secret_envs})
    assert failed is True and "argument 'port' is of type" in result["msg"]
    assert_no_secret(result)
