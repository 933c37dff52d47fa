# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.novita.cloud.plugins.module_utils import endpoint as model
from ansible_collections.novita.cloud.plugins.module_utils.resource import diff_header
from ansible_collections.novita.cloud.plugins.modules import novita_endpoint, novita_endpoint_fleet
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data


def api_endpoint(**overrides):
    """An endpoint as the v1 API returns it, with its string-typed numbers."""
    data = dict(
        url="https://ep1.example.invalid",
        state={"state": "serving", "error": "", "message": ""},
        workerConfig={"minNum": 0, "maxNum": 2, "freeTimeout": "300", "maxConcurrent": "1", "gpuNum": 1},
        policy={"type": "queue", "value": "5"},
        image={"image": "vllm/vllm-openai:latest", "authId": "", "command": "serve"},
        volumeMounts=[{"type": "local", "size": 30, "id": "", "mountPath": "/workspace"},
                      {"type": "network", "size": "500", "id": "ns-1", "mountPath": "/models"}],
        envs=[{"key": "LOG_LEVEL", "value": "info"}, {"key": "hf_Token", "value": "s3cret"}],
        healthy={"path": "/health", "initialDelay": 60, "successThreshold": 1},
        clusterID="cluster-1",
        workers=[{"id": "w1", "state": {"state": "running"}}],
        createdAt="2026-01-01T00:00:00Z",
    )
    data.update(overrides)
    return endpoint_data("ep1", "chat", **data)


def options(**given):
    """Module params as AnsibleModule hands them over: every option present, None when not set."""
    params = dict((key, None) for key in model.endpoint_argument_spec())
    params.update(purge_envs=True, recreate=False, wait=True, wait_timeout=600, state="present")
    params.update(given)
    return params


def test_model_from_api_normalises_types_and_order():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    assert current["worker_config"] == {"min_num": 0, "max_num": 2, "free_timeout": 300, "max_concurrent": 1, "gpu_num": 1,
                                        "request_timeout": None, "cuda_version": None}
    assert current["policy"] == {"type": "queue", "value": 5}
    assert current["port"] == 8000
    assert current["product_id"] == "1"
    assert current["envs"] == {"LOG_LEVEL": "info", "hf_Token": "s3cret"}
    # a network mount keeps the size the API returns for it, so that an update sends it back
    assert current["volume_mounts"] == [{"type": "network", "id": "ns-1", "mount_path": "/models", "size": 500},
                                        {"type": "local", "size": 30, "mount_path": "/workspace"}]
    reordered = api_endpoint(volumeMounts=list(reversed(api_endpoint()["volumeMounts"])), ports=[{"port": 8000}],
                             workerConfig={"minNum": "0", "maxNum": "2", "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": "1"})
    assert model.ENDPOINT_SCHEMA.model_from_api(reordered) == current


def test_same_task_as_current_is_equal():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(
        name="chat", product_id="1", port=8000, image={"image": "vllm/vllm-openai:latest", "auth_id": None, "command": "serve"},
        worker_config={"min_num": 0, "max_num": 2, "free_timeout": None, "max_concurrent": None, "gpu_num": None,
                       "request_timeout": None, "cuda_version": None},
        envs={"LOG_LEVEL": "info"}, secret_envs={"hf_Token": "s3cret"}))
    assert desired == current


def test_partial_options_keep_everything_else():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(worker_config={"max_num": 4}))
    expected = copy.deepcopy(current)
    expected["worker_config"]["max_num"] = 4
    assert desired == expected


def test_purge_envs_false_adds_and_keeps():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(envs={"NEW": 1, "FLAG": True}, purge_envs=False))
    assert desired["envs"] == {"LOG_LEVEL": "info", "hf_Token": "s3cret", "NEW": "1", "FLAG": "true"}
    purged = model.ENDPOINT_SCHEMA.apply_options(current, options(envs={"NEW": "1"}))
    assert purged["envs"] == {"NEW": "1"}


def test_update_payload_carries_every_field_and_no_create_only_field():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    body = model.ENDPOINT_SCHEMA.build_payload(model.ENDPOINT_SCHEMA.apply_options(current, options(worker_config={"max_num": 3})), for_create=False)
    assert body == {
        "name": "chat",
        "clusterID": "cluster-1",
        "image": {"image": "vllm/vllm-openai:latest", "authId": "", "command": "serve"},
        "workerConfig": {"minNum": 0, "maxNum": 3, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
        "policy": {"type": "queue", "value": 5},
        "healthy": {"path": "/health"},
        "ports": [{"port": 8000}],
        "envs": [{"key": "LOG_LEVEL", "value": "info"}, {"key": "hf_Token", "value": "s3cret"}],
        "volumeMounts": [{"type": "network", "id": "ns-1", "mountPath": "/models", "size": 500},
                         {"type": "local", "size": 30, "mountPath": "/workspace"}],
    }


def test_create_payload_applies_cli_defaults():
    desired = model.ENDPOINT_SCHEMA.apply_options(model.ENDPOINT_SCHEMA.create_base(), options(
        name="new", product_id="2", port=8080, image={"image": "img"}, worker_config={"request_timeout": 120, "cuda_version": "12.4"}))
    body = model.ENDPOINT_SCHEMA.build_payload(desired, for_create=True)
    assert body == {
        "name": "new",
        "rootfsSize": 100,
        "products": [{"id": "2"}],
        "image": {"image": "img", "authId": "", "command": ""},
        "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1,
                         "requestTimeout": 120, "cudaVersion": "12.4"},
        "policy": {"type": "queue", "value": 1},
        "healthy": {"path": "/health"},
        "ports": [{"port": 8080}],
        "envs": [],
        "volumeMounts": [{"type": "local", "size": 30, "mountPath": "/workspace"}],
    }
    assert "appName" not in body and "clusterID" not in body


def test_immutable_changes_name_each_field():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    assert model.ENDPOINT_SCHEMA.immutable_changes(current, options(product_id="1", rootfs_size=100)) == []
    assert model.ENDPOINT_SCHEMA.immutable_changes(current, options(product_id="2", app_name="x", rootfs_size=200)) == [
        ("product_id", "1", "2"), ("app_name", "ep1", "x"), ("rootfs_size", 100, 200)]


@pytest.mark.parametrize("given, message", [
    (dict(port=2222), "port: 2222 is not allowed"),
    (dict(port=0), "port: 0 is not allowed"),
    (dict(port=70000), "port: 70000 is not allowed"),
    (dict(worker_config={"min_num": 3, "max_num": 2}), "worker_config.min_num: 3 is greater than worker_config.max_num 2"),
    (dict(worker_config={"gpu_num": -1}), "worker_config.gpu_num: -1 must not be negative"),
    (dict(name="n" * 221), "name: 221 characters is longer than the allowed 220"),
    (dict(image={"image": "i" * 512}), "image.image: 512 characters is longer than the allowed 511"),
    (dict(image={"command": "c" * 2048}), "image.command: 2048 characters is longer than the allowed 2047"),
    (dict(envs={"A": "1"}, secret_envs={"A": "2"}), "envs and secret_envs both set A"),
    (dict(volume_mounts=[{"type": "local", "size": None, "id": None, "mount_path": "/a"}]), "volume_mounts[0].size: a local mount needs size"),
    (dict(volume_mounts=[{"type": "network", "size": None, "id": None, "mount_path": "/a"}], cluster_id="c"), "volume_mounts[0].id: a network mount needs id"),
    (dict(volume_mounts=[{"type": "network", "size": None, "id": "ns-1", "mount_path": "/a"}], cluster_id=""), "a network mount needs cluster_id"),
    (dict(volume_mounts=[{"type": "network", "size": None, "id": "ns-1", "mount_path": "/a"}]),
     "volume_mounts[0]: a network mount needs cluster_id"),
    (dict(volume_mounts=[{"type": "network", "size": 10, "id": "ns-1", "mount_path": "/a"}], cluster_id="c"), "volume_mounts[0].size: only a local mount"),
    (dict(volume_mounts=[{"type": "local", "size": 10, "id": "ns-1", "mount_path": "/a"}]), "volume_mounts[0].id: only a network mount takes an id"),
    (dict(volume_mounts=[{"type": "local", "size": 0, "id": None, "mount_path": "/a"}]), "volume_mounts[0].size: 0 must be positive"),
    (dict(volume_mounts=[{"type": "local", "size": 1, "id": None, "mount_path": ""}]), "volume_mounts[0].mount_path must not be empty"),
    (dict(envs={"": "x"}), "envs: '' is not a valid environment variable name"),
    (dict(envs={"A=B": "x"}), "envs: 'A=B' is not a valid environment variable name"),
    (dict(secret_envs={"A\nB": "x"}), "secret_envs: 'A\\nB' is not a valid environment variable name"),
    (dict(envs={"A": {"b": 1}}), "envs.A: the value must be a string, a number or a boolean, not a dict"),
    (dict(secret_envs={"TOKEN": ["s3cr3t"]}), "secret_envs.TOKEN: the value must be a string, a number or a boolean, not a list"),
    (dict(name=""), "name: must not be empty; an endpoint name has 1 to 220 characters"),
    (dict(volume_mounts=[{"type": "local", "size": 30, "id": None, "mount_path": "/a"},
                         {"type": "local", "size": 30, "id": None, "mount_path": "/a"}]),
     "volume_mounts[1].mount_path: /a is already used by volume_mounts[0]"),
    (dict(wait_timeout=0), "wait_timeout: 0 must be a positive number"),
])
def test_validate_options_names_option_and_value(given, message):
    errors = model.validate_options(options(**given))
    assert any(message in error for error in errors), errors


def test_validate_options_never_shows_a_secret_value():
    errors = model.validate_options(options(secret_envs={"TOKEN": ["s3cr3t-value"], "OTHER": {"k": "s3cr3t-value"}}))
    assert len(errors) == 2
    assert "s3cr3t-value" not in " ".join(errors)


def test_validate_options_accepts_scalar_env_values():
    assert model.validate_options(options(envs={"A": "x", "B": 1, "C": 1.5, "D": True, "E": None}, secret_envs={"F": "y"})) == []


def test_validate_options_accepts_a_good_task():
    assert model.validate_options(options(name="ok", port=8000, worker_config={"min_num": 1, "max_num": 1},
                                          envs={"A": "1"}, secret_envs={"B": "2"},
                                          volume_mounts=[{"type": "network", "size": None, "id": "ns-1", "mount_path": "/m"}],
                                          cluster_id="cluster-1")) == []


def test_validate_model_requires_create_fields_and_cluster_for_network():
    errors = model.validate_model(model.ENDPOINT_SCHEMA.apply_options(model.ENDPOINT_SCHEMA.create_base(), options(name="x")), creating=True)
    assert errors == ["product_id is required to create an endpoint", "image.image is required to create an endpoint",
                      "port is required to create an endpoint"]
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    errors = model.validate_model(model.ENDPOINT_SCHEMA.apply_options(current, options(cluster_id="")), creating=False)
    assert errors == ["cluster_id is required when a network volume is mounted"]


LIMITS = {
    "minWorkerNum": 0, "maxWorkerNum": 10, "minFreeTimeout": "5", "maxFreeTimeout": "3600", "minConcurrencyNum": 1, "maxConcurrencyNum": 50,
    "minQueueWaitTime": 1, "maxQueueWaitTime": 60, "minRequestNum": 1, "maxRequestNum": 20, "minGPUNum": 1, "maxGPUNum": 4,
    "minRequestTimeout": 1, "maxRequestTimeout": 600, "minRootfsSize": 50, "maxRootfsSize": 200, "minLocalVolumeSize": 10,
    "maxLocalVolumeSize": 100, "cudaVersionList": ["12.1", "12.4"],
}


def test_check_limits_reports_option_value_and_range():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(worker_config={"max_num": 11, "gpu_num": 5, "cuda_version": "11.0"},
                                                                   policy={"type": "concurrency", "value": 30}))
    assert model.check_limits(desired, LIMITS, creating=False) == [
        "worker_config.max_num: 11 is outside the allowed range 0 to 10 (account limits minWorkerNum/maxWorkerNum)",
        "worker_config.gpu_num: 5 is outside the allowed range 1 to 4 (account limits minGPUNum/maxGPUNum)",
        "policy.value (concurrency): 30 is outside the allowed range 1 to 20 (account limits minRequestNum/maxRequestNum)",
        "worker_config.cuda_version: 11.0 is not one of 12.1, 12.4 (account limits cudaVersionList)",
    ]
    assert model.check_limits(current, LIMITS, creating=False) == []


def test_check_limits_without_the_request_timeout_keys_checks_no_request_timeout_range():
    # The limits doc lists 18 integer keys without min/maxRequestTimeout: a missing key is no known limit, never an error.
    limits = {key: value for key, value in LIMITS.items() if key not in ("minRequestTimeout", "maxRequestTimeout")}
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(worker_config={"request_timeout": 86400}))
    assert model.check_limits(desired, limits, creating=False) == []
    assert model.check_limits(desired, LIMITS, creating=False) == [
        "worker_config.request_timeout: 86400 is outside the allowed range 1 to 600 (account limits minRequestTimeout/maxRequestTimeout)"]


def test_check_limits_rootfs_and_local_volume_on_create():
    desired = model.ENDPOINT_SCHEMA.apply_options(model.ENDPOINT_SCHEMA.create_base(), options(rootfs_size=300, volume_mounts=[
        {"type": "local", "size": 101, "id": None, "mount_path": "/data"}]))
    assert model.check_limits(desired, LIMITS, creating=True) == [
        "rootfs_size: 300 is outside the allowed range 50 to 200 (account limits minRootfsSize/maxRootfsSize)",
        "volume_mounts[mount_path=/data].size: 101 is outside the allowed range 10 to 100 (account limits minLocalVolumeSize/maxLocalVolumeSize)",
    ]


def test_endpoint_result_snake_case_ints_and_masked_secrets():
    result = model.endpoint_result(api_endpoint(), {"hf_Token"})
    assert result["envs"] == {"LOG_LEVEL": "info", "hf_Token": "********"}
    assert result["worker_config"]["free_timeout"] == 300
    assert result["policy"] == {"type": "queue", "value": 5}
    assert result["port"] == 8000
    assert result["healthy"] == {"path": "/health", "initial_delay": 60, "success_threshold": 1}
    assert result["workers"] == [{"id": "w1", "state": {"state": "running"}}]
    assert result["id"] == "ep1" and result["app_name"] == "ep1" and result["cluster_id"] == "cluster-1"
    assert "s3cret" not in repr(result)
    assert model.endpoint_result({}, set()) == {}


def test_diff_masks_secrets_yet_shows_a_change():
    before = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    after = model.ENDPOINT_SCHEMA.apply_options(before, options(secret_envs={"hf_Token": "n3w"}, purge_envs=False))
    before_view, after_view = model.diff_views(before, after, {"hf_Token"})
    assert before_view["envs"]["hf_Token"] == "********"
    assert after_view["envs"]["hf_Token"] == "******** (changed)"
    assert after_view["env_changes"] == {"hf_Token": "changed"}
    assert "env_changes" not in before_view
    assert "n3w" not in repr(after_view) and "n3w" not in repr(before_view)


def test_diff_says_which_variables_are_added_removed_or_changed_masked_or_not():
    envs = {"KEEP": "1", "OLD_PLAIN": "a", "OLD_SECRET": "s1", "SAME_SECRET": "s2", "LEVEL": "info"}
    before = dict(model.ENDPOINT_SCHEMA.model_from_api(api_endpoint()), envs=envs)
    after = dict(before, envs={"KEEP": "1", "NEW_SECRET": "s3", "SAME_SECRET": "s2", "LEVEL": "debug", "NEW_PLAIN": "b"})
    hidden = {"OLD_SECRET", "SAME_SECRET", "NEW_SECRET"}
    before_view, after_view = model.diff_views(before, after, hidden)
    assert before_view["envs"] == {"KEEP": "1", "OLD_PLAIN": "a", "OLD_SECRET": "******** (removed)", "SAME_SECRET": "********", "LEVEL": "info"}
    assert after_view["envs"] == {"KEEP": "1", "NEW_SECRET": "******** (added)", "SAME_SECRET": "********", "LEVEL": "debug", "NEW_PLAIN": "b"}
    assert after_view["env_changes"] == {"OLD_PLAIN": "removed", "OLD_SECRET": "removed", "NEW_SECRET": "added", "NEW_PLAIN": "added",
                                         "LEVEL": "changed"}
    assert not any(secret in repr((before_view, after_view)) for secret in ("s1", "s2", "s3"))


def test_a_diff_of_a_create_or_a_delete_has_no_change_words():
    endpoint = dict(model.ENDPOINT_SCHEMA.model_from_api(api_endpoint()), envs={"A": "1", "S": "secret"})
    before_view, after_view = model.diff_views(None, endpoint, {"S"})
    assert before_view == {} and after_view["envs"] == {"A": "1", "S": "********"} and "env_changes" not in after_view
    before_view, after_view = model.diff_views(endpoint, None, {"S"})
    assert after_view == {} and before_view["envs"] == {"A": "1", "S": "********"}
    assert diff_header("endpoint", "chat", "ep1") == "endpoint chat (ep1)" and diff_header("endpoint", "chat", None) == "endpoint chat"


def test_result_of_a_desired_model_takes_the_settings_from_the_model_and_the_rest_from_the_api():
    current = api_endpoint()
    desired = model.ENDPOINT_SCHEMA.apply_options(model.ENDPOINT_SCHEMA.model_from_api(current), options(
        cluster_id="", worker_config={"max_num": 7}, volume_mounts=[{"type": "local", "size": 30, "id": None, "mount_path": "/workspace"}]))
    result = model.endpoint_result(current, {"hf_Token"}, model=desired)
    assert result["cluster_id"] == "" and result["worker_config"]["max_num"] == 7
    assert result["volume_mounts"] == [{"type": "local", "size": 30, "mount_path": "/workspace"}]
    # id, url, state, workers and the health check settings the module does not manage come from the API object.
    assert result["id"] == current["id"] and result["state"] == model.snake_keys(current["state"])
    assert result["healthy"] == {"path": "/health", "initial_delay": 60, "success_threshold": 1}
    assert result == dict(model.endpoint_result(current, {"hf_Token"}), cluster_id="", volume_mounts=result["volume_mounts"],
                          worker_config=dict(result["worker_config"], max_num=7))
    assert model.endpoint_result(None, (), model=desired)["id"] is None


@pytest.mark.parametrize("app_name", ["Chat", "chat_app", "chat app", "chät", "chat.app"])
def test_app_name_with_anything_but_lowercase_letters_digits_and_hyphens_is_refused(app_name):
    errors = model.validate_options({"app_name": app_name})
    assert errors == ["app_name: %r is not allowed; an app name has lowercase letters, digits and hyphens only (it is part of the endpoint URL)"
                      % app_name]


@pytest.mark.parametrize("app_name", ["chat", "chat-2", "0-a", None, ""])
def test_app_name_of_lowercase_letters_digits_and_hyphens_is_accepted(app_name):
    assert model.validate_options({"app_name": app_name}) == []


def test_an_update_keeps_the_size_the_api_returns_for_a_network_mount():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint())
    # the task lists the same mounts (a network mount takes no size in a task) and changes something else
    mounts = [{"type": "network", "id": "ns-1", "mount_path": "/models"}, {"type": "local", "size": 30, "mount_path": "/workspace"}]
    desired = model.ENDPOINT_SCHEMA.apply_options(current, options(volume_mounts=mounts, worker_config={"max_num": 3}))
    body = model.ENDPOINT_SCHEMA.build_payload(desired, for_create=False)
    assert {"type": "network", "id": "ns-1", "mountPath": "/models", "size": 500} in body["volumeMounts"]
    # the same mounts and nothing else: no change at all
    same = model.ENDPOINT_SCHEMA.apply_options(current, options(volume_mounts=mounts))
    assert same == current
    # a network mount the endpoint does not have yet gets no size
    other = model.ENDPOINT_SCHEMA.apply_options(current, options(volume_mounts=[{"type": "network", "id": "ns-2", "mount_path": "/models"}]))
    assert other["volume_mounts"] == [{"type": "network", "id": "ns-2", "mount_path": "/models"}]


def test_an_empty_app_name_means_unset():
    current = model.ENDPOINT_SCHEMA.model_from_api(api_endpoint(appName="llama"))
    assert model.ENDPOINT_SCHEMA.immutable_changes(current, options(app_name="")) == []
    assert model.ENDPOINT_SCHEMA.apply_options(current, options(app_name=""))["app_name"] == "llama"
    assert model.ENDPOINT_SCHEMA.immutable_changes(current, options(app_name="other")) == [("app_name", "llama", "other")]


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("image", ["nginx", "nginx:1.25-alpine", "ghcr.io/org/app:v1", "localhost:5000/a/b@" + DIGEST,
                                   "registry.example.com:443/x/y:z", "vllm/vllm-openai:latest", "nginx:latest@" + DIGEST,
                                   "docker.io/library/a_b__c-d--e.f:1.0_rc", "localhost:5000", "[::1]:5000/team/app:1"])
def test_a_valid_image_reference_is_accepted(image):
    assert model.validate_options({"image": {"image": image}}) == []


@pytest.mark.parametrize("image, problem", [
    ("nginx :latest", "it contains a space"),
    ("nginx:latest\n", "it contains whitespace"),
    ("ghcr.io/Org/app:v1", "the repository 'Org/app' has uppercase letters; a repository is lowercase"),
    ("Nginx", "the repository 'Nginx' has uppercase letters; a repository is lowercase"),
    ("nginx:", "the tag after ':' is empty"),
    ("ghcr.io/org/app/", "it has an empty path component (a '/' at the start or the end, or '//')"),
    ("org//app", "it has an empty path component (a '/' at the start or the end, or '//')"),
    ("nginx::latest", "the tag ':latest' is not valid: a tag has 1 to 128 letters, digits, '_', '.' and '-', and does not start with"
                      " '.' or '-'"),
    ("nginx:" + "t" * 129, "the tag '%s' is not valid" % ("t" * 129)),
    ("nginx:l\u00e4test", "the tag 'l\u00e4test' is not valid"),
    ("nginx@sha256:abc", "the digest 'sha256:abc' is not algorithm:hex (for example sha256: and 64 hexadecimal digits)"),
    ("nginx@sha256:" + "A" * 64, "the digest 'sha256:%s' is not valid: sha256 takes 64 lowercase hexadecimal digits" % ("A" * 64)),
    ("nginx@sha256:" + "a" * 65, "the digest 'sha256:%s' is not valid: sha256 takes 64 lowercase hexadecimal digits" % ("a" * 65)),
    ("example.com:/app", "'example.com:' is not a valid registry host[:port]"),
    ("team/a..b", "the path component 'a..b' is not valid"),
    ("team/-app", "the path component '-app' is not valid"),
    ("", "it is empty"),
    ("a" * 256, "the name is 256 characters long, more than 255"),
])
def test_an_invalid_image_reference_is_refused_naming_the_option_the_value_and_the_problem(image, problem):
    errors = model.validate_options({"image": {"image": image}})
    assert len(errors) == 1 and errors[0].startswith("image.image: %r is not a valid image reference: %s" % (image, problem)), errors


@pytest.mark.parametrize("args", [{"name": "web", "product_id": "1", "port": 80}, {"id": "ep1"}])
def test_an_invalid_image_reference_fails_the_module_before_any_write(run_module, args):
    """A create or an update: the module makes only the reads that find the task's other problems, and writes nothing."""
    client = FakeClient([endpoint_data("ep1", "chat")])
    failed, result = run_module(novita_endpoint.main, dict(args, image={"image": "nginx :latest"}), client=client)
    assert failed is True and result["changed"] is False and client.writes() == []
    assert result["msg"] == "image.image: 'nginx :latest' is not a valid image reference: it contains a space"
    assert all(call[0] in ("GET", "LIST") for call in client.calls), client.calls


def test_the_fleet_refuses_an_invalid_image_reference_of_a_declaration_before_any_write(run_module):
    client = FakeClient()
    failed, result = run_module(novita_endpoint_fleet.main, {"endpoints": [
        {"name": "web", "product_id": "1", "port": 80, "image": {"image": "nginx:1.27"}},
        {"name": "api", "product_id": "1", "port": 80, "image": {"image": "ghcr.io/Team/api:1"}}]}, client=client)
    assert failed is True and client.writes() == []
    assert "endpoints[1].image.image: 'ghcr.io/Team/api:1' is not a valid image reference: the repository 'Team/api' has uppercase" \
           " letters; a repository is lowercase" in result["msg"]
