# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad-input matrix for novita.cloud.novita_endpoint, novita_registry_auth and novita_network_storage, through real ansible-playbook against the emulator.

Every case is one invalid task (of novita_endpoint unless the case names another module). The
driver writes one playbook with all of them (each task with ``ignore_errors`` and ``register``,
each followed by a read of the emulator's request log), runs it once, and checks for every case
that the task failed, that its ``msg`` names the offending option and that the emulator received
no write (no request but a GET, and none to a write path of any resource: endpoints, registry
credentials, network storage). An ``offline`` case (an error in the task alone) may still make the
reads that find the other problems of the same task (limits, create-only changes, the cluster):
every problem is reported in one run. A case with a ``secret`` (a registry password) also checks
that no part of it is anywhere in the task's result.

Usage (dev venv python, from anywhere):
    python tests/matrix/bad_input_matrix.py [--collections-path DIR] [--keep DIR] [--only CASE]...

DIR contains ansible_collections/novita/cloud; without it the work tree holding this script is used.
Exits 1 on any mismatch.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

API_KEY = "nvk-matrix-9f4c2e7a51b08d36"
WRONG_KEY = "nvk-matrix-wrong-3b7d1f08a2c4"
EXISTING_ID = "00000000000000aa"
UNKNOWN_ID = "ffffffffffffffff"
WRITE_PATHS = ("/endpoint/create", "/endpoint/update", "/endpoint/delete", "/repository/auth/save", "/repository/auth/delete",
               "/networkstorage/create", "/networkstorage/update", "/networkstorage/delete")

# The account limits the emulator serves during the run (GET /endpoint/limit); tighter than its defaults,
# so that the "online" cases are values only the live limits can refuse.
LIVE_LIMITS = {
    "maxWorkerNum": 5, "maxGPUNum": 4, "minFreeTimeout": 10, "maxFreeTimeout": 600, "maxConcurrencyNum": 16,
    "maxRequestTimeout": 900, "maxQueueWaitTime": 60, "maxRequestNum": 20, "maxLocalVolumeSize": 100,
    "maxRootfsSize": 200, "cudaVersionList": ["12.4", "12.6"],
}
EXISTING = {
    "id": EXISTING_ID, "name": "mx-existing", "appName": "mx-app", "products": [{"id": "1"}], "rootfsSize": 100,
    "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
    "image": {"image": "nginx:1.27"}, "ports": [{"port": 8000}],
}
# A valid create: each create case spoils exactly one thing in it.
CREATE = {"name": "mx-new", "product_id": "1", "image": {"image": "nginx:1.27"}, "port": 8000}
BY_ID = {"id": EXISTING_ID}

# What the registry credential and network storage cases need, seeded next to EXISTING: an endpoint whose image uses the
# emulator's credential auth-2 (ghcr-team) and one that mounts its network storage ns-1 (models, 100 GB, cluster-1).
AUTH_USER_ID, AUTH_USER = "00000000000000bb", "mx-uses-ghcr"
MOUNT_USER_ID, MOUNT_USER = "00000000000000cc", "mx-mounts-models"
STACK_ENDPOINTS = [
    dict(EXISTING, id=AUTH_USER_ID, name=AUTH_USER, appName="mx-auth-app", image={"image": "ghcr.io/mx/private:1", "authId": "auth-2"}),
    dict(EXISTING, id=MOUNT_USER_ID, name=MOUNT_USER, appName="mx-mount-app", clusterID="cluster-1",
         volumeMounts=[{"type": "network", "id": "ns-1", "mountPath": "/models"}]),
]
# Registry passwords of the cases: none may appear, whole or in part, in any result (nor the seeded credentials' ones).
PASSWORD = "mx-pw-6c1f0a9e3b7d52e84a"
ROTATED_PASSWORD = "mx-pw-rotated-0d8e2b4c6a1f73"
LONG_PASSWORD = ("mx-long-pw-" + "".join("%04x" % (n * 7919 % 65536) for n in range(260)))[:1025]
SEEDED_PASSWORDS = ("emulator-password-1", "emulator-password-2")
STORAGE = {"name": "mx-store", "cluster_id": "cluster-1", "size": 20}

LIST = "GET /endpoints"
GET = "GET /endpoint"
LIMIT = "GET /endpoint/limit"
AUTHS = "GET /repository/auths"
STORAGES = "GET /networkstorages/list"
CLUSTERS = "GET /clusters"


def create(**changes):
    args = dict(CREATE)
    args.update(changes)
    return args


def by_id(**changes):
    args = dict(BY_ID)
    args.update(changes)
    return args


def mount(**fields):
    item = {"type": "local", "size": 30, "mount_path": "/data"}
    item.update(fields)
    return item


def registry(**changes):
    args = {"name": "mx-cred", "username": "mx-bot", "password": PASSWORD}
    args.update(changes)
    return args


def storage(**changes):
    args = dict(STORAGE)
    args.update(changes)
    return args


def case(case_id, cls, args, names, why, reads=(), task=None, module="novita_endpoint", secret=None):
    """One invalid task.

    cls: ``offline`` (the error is in the task alone: at most the reads that look for more problems) or
    ``online`` (found after reads: no write); names: the option path the message must name (None: ansible-core's own message, see
    CORE_UNNAMED); why: a piece of the message proving the task failed for this reason; reads: requests the
    online case must have made; module: the module of the task (novita.cloud.<module>); secret: a value that must
    not appear, whole or in part, anywhere in the task's result.
    """
    return dict(id=case_id, cls=cls, args=args, names=names, why=why, reads=list(reads), task=task or {}, module=module, secret=secret)


def auth_case(case_id, cls, args, names, why, reads=()):
    return case(case_id, cls, args, names, why, reads, module="novita_registry_auth", secret=args.get("password"))


def storage_case(case_id, cls, args, names, why, reads=()):
    return case(case_id, cls, args, names, why, reads, module="novita_network_storage")


CASES = [
    # -- wrong types (ansible-core's argument spec, or the module for env values)
    case("type-port-string", "offline", create(port="eighty"), "port", "unable to convert to int"),
    case("type-max-num-string", "offline", create(worker_config={"max_num": "many"}), "worker_config.max_num", "unable to convert to int"),
    case("type-worker-config-list", "offline", create(worker_config=[{"max_num": 2}]), "worker_config", "unable to convert to dict"),
    case("type-worker-config-int", "offline", create(worker_config=3), None, "is not iterable"),
    case("type-envs-list", "offline", create(envs=["A=1"]), "envs", "unable to convert to dict"),
    case("type-mounts-dict", "offline", create(volume_mounts=mount()), "volume_mounts", "unable to convert to list"),
    case("type-rootfs-float", "offline", create(rootfs_size=1.5), "rootfs_size", "unable to convert to int"),
    case("type-purge-envs-string", "offline", create(purge_envs="maybe"), "purge_envs", "unable to convert to bool"),
    case("type-mount-size-string", "offline", create(volume_mounts=[mount(size="big")]), "volume_mounts[0].size", "unable to convert to int"),
    case("type-env-value-dict", "offline", create(envs={"A": {"b": 1}}), "envs.A", "must be a string, a number or a boolean"),
    case("type-secret-value-list", "offline", create(secret_envs={"TOKEN": ["mx-secret-in-a-list"]}), "secret_envs.TOKEN",
         "must be a string, a number or a boolean"),
    case("type-wait-timeout-string", "offline", create(wait_timeout="soon"), "wait_timeout", "unable to convert to int"),
    case("type-image-string", "offline", create(image="nginx:1.27"), None, "dictionary requested"),
    # -- ports
    case("port-zero", "offline", create(port=0), "port", "is not allowed"),
    case("port-65536", "offline", create(port=65536), "port", "is not allowed"),
    case("port-negative", "offline", by_id(port=-80), "port", "is not allowed"),
    case("port-2222", "offline", create(port=2222), "port", "is not allowed"),
    case("port-2223", "offline", by_id(port=2223), "port", "is not allowed"),
    case("port-2224", "offline", create(port=2224), "port", "is not allowed"),
    # -- negative numbers and min > max
    case("negative-gpu-num", "offline", create(worker_config={"gpu_num": -1}), "worker_config.gpu_num", "must not be negative"),
    case("negative-min-num", "offline", by_id(worker_config={"min_num": -1}), "worker_config.min_num", "must not be negative"),
    case("negative-rootfs", "offline", create(rootfs_size=-10), "rootfs_size", "must not be negative"),
    case("negative-policy-value", "offline", create(policy={"value": -5}), "policy.value", "must not be negative"),
    case("negative-free-timeout", "offline", by_id(worker_config={"free_timeout": -1}), "worker_config.free_timeout", "must not be negative"),
    case("negative-local-size", "offline", create(volume_mounts=[mount(size=-1)]), "volume_mounts[0].size", "must be positive"),
    case("min-above-max", "offline", create(worker_config={"min_num": 3, "max_num": 2}), "worker_config.min_num", "is greater than"),
    case("min-above-current-max", "online", by_id(worker_config={"min_num": 3}), "worker_config.min_num", "is greater than", [GET]),
    # -- the account's live limits (GET /endpoint/limit)
    case("limit-max-num", "online", create(worker_config={"max_num": 6}), "worker_config.max_num", "outside the allowed range 0 to 5", [LIST, LIMIT]),
    case("limit-max-num-update", "online", by_id(worker_config={"max_num": 6}), "worker_config.max_num", "outside the allowed range 0 to 5",
         [GET, LIMIT]),
    case("limit-gpu-num", "online", create(worker_config={"gpu_num": 5}), "worker_config.gpu_num", "outside the allowed range 1 to 4", [LIST, LIMIT]),
    case("limit-free-timeout-high", "online", by_id(worker_config={"free_timeout": 601}), "worker_config.free_timeout",
         "outside the allowed range 10 to 600", [GET, LIMIT]),
    case("limit-free-timeout-low", "online", create(worker_config={"free_timeout": 5}), "worker_config.free_timeout",
         "outside the allowed range 10 to 600", [LIST, LIMIT]),
    case("limit-max-concurrent", "online", create(worker_config={"max_concurrent": 17}), "worker_config.max_concurrent",
         "outside the allowed range 1 to 16", [LIST, LIMIT]),
    case("limit-request-timeout", "online", by_id(worker_config={"request_timeout": 901}), "worker_config.request_timeout",
         "outside the allowed range 1 to 900", [GET, LIMIT]),
    case("limit-queue-value", "online", create(policy={"type": "queue", "value": 61}), "policy.value", "outside the allowed range 1 to 60",
         [LIST, LIMIT]),
    # 30 is a valid queue wait (1-60) but too many queued requests for the concurrency policy (1-20).
    case("limit-concurrency-value", "online", by_id(policy={"type": "concurrency", "value": 30}), "policy.value",
         "outside the allowed range 1 to 20", [GET, LIMIT]),
    case("limit-local-volume-size", "online", create(volume_mounts=[mount(size=101)]), "volume_mounts[0].size",
         "outside the allowed range 10 to 100", [LIST, LIMIT]),
    case("limit-rootfs-size", "online", create(rootfs_size=300), "rootfs_size", "outside the allowed range 10 to 200", [LIST, LIMIT]),
    case("limit-cuda-version", "online", by_id(worker_config={"cuda_version": "11.8"}), "worker_config.cuda_version", "is not one of 12.4, 12.6",
         [GET, LIMIT]),
    # -- over-long strings
    case("long-name", "offline", create(name="n" * 221), "name", "221 characters is longer than the allowed 220"),
    case("long-image", "offline", create(image={"image": "i" * 512}), "image.image", "512 characters is longer than the allowed 511"),
    case("image-with-space", "offline", create(image={"image": "nginx :latest"}), "image.image", "is not a valid image reference: it contains a space"),
    case("misspelled-option", "offline", dict(create(), worker_confg={"max_num": 2}), "worker_config", "Did you mean worker_config?"),
    case("long-command", "offline", by_id(image={"command": "c" * 2048}), "image.command", "2048 characters is longer than the allowed 2047"),
    case("long-auth-id", "offline", by_id(image={"auth_id": "a" * 256}), "image.auth_id", "256 characters is longer than the allowed 255"),
    case("long-cluster-id", "offline", create(cluster_id="c" * 256), "cluster_id", "256 characters is longer than the allowed 255"),
    case("long-mount-path", "offline", create(volume_mounts=[mount(mount_path="/" + "m" * 255)]), "volume_mounts[0].mount_path",
         "256 characters is longer than the allowed 255"),
    # -- required on create, identity
    case("create-without-product", "online", dict((k, v) for k, v in CREATE.items() if k != "product_id"), "product_id",
         "product_id is required to create", [LIST]),
    case("create-without-image", "online", dict((k, v) for k, v in CREATE.items() if k != "image"), "image.image",
         "image.image is required to create", [LIST]),
    case("create-without-port", "online", dict((k, v) for k, v in CREATE.items() if k != "port"), "port", "port is required to create", [LIST]),
    case("empty-name", "offline", create(name=""), "name", "must not be empty"),
    case("neither-id-nor-name", "offline", dict((k, v) for k, v in CREATE.items() if k != "name"), "name", "one of the following is required"),
    case("unknown-id", "online", {"id": UNKNOWN_ID}, "id", "no endpoint with id %s exists" % UNKNOWN_ID, [GET]),
    case("unknown-id-with-changes", "online", {"id": UNKNOWN_ID, "worker_config": {"max_num": 2}, "envs": {"A": "1"}}, "id",
         "no endpoint with id %s exists" % UNKNOWN_ID, [GET]),
    # -- volume mounts
    case("network-without-cluster", "offline", create(volume_mounts=[{"type": "network", "id": "ns-1", "mount_path": "/models"}]), "cluster_id",
         "a network mount needs cluster_id"),
    case("network-without-id", "offline", create(cluster_id="cluster-1", volume_mounts=[{"type": "network", "mount_path": "/models"}]),
         "volume_mounts[0].id", "a network mount needs id"),
    case("network-with-size", "offline",
         create(cluster_id="cluster-1", volume_mounts=[{"type": "network", "id": "ns-1", "size": 30, "mount_path": "/models"}]),
         "volume_mounts[0].size", "only a local mount takes a size"),
    case("local-with-id", "offline", create(volume_mounts=[mount(id="ns-1")]), "volume_mounts[0].id", "only a network mount takes an id"),
    case("local-without-size", "offline", by_id(volume_mounts=[{"type": "local", "mount_path": "/data"}]), "volume_mounts[0].size",
         "a local mount needs size"),
    case("mount-path-twice", "offline", create(volume_mounts=[mount(), mount(size=40)]), "volume_mounts[1].mount_path", "is already used by"),
    case("mount-type-unknown", "offline", create(volume_mounts=[mount(type="nfs")]), "volume_mounts[0].type", "must be one of: local, network"),
    case("mount-without-path", "offline", create(volume_mounts=[{"type": "local", "size": 30}]), "volume_mounts[0].mount_path",
         "missing required arguments"),
    case("auth-name-unknown", "online", create(image={"image": "nginx:1.27", "auth_name": "mx-no-such-credential"}), "image.auth_name",
         "no registry credential is named mx-no-such-credential", [AUTHS]),
    case("storage-name-unknown", "online", create(volume_mounts=[{"type": "network", "storage_name": "mx-no-such-storage", "mount_path": "/models"}]),
         "volume_mounts[0].storage_name", "no network storage is named mx-no-such-storage", [STORAGES]),
    case("storage-other-cluster", "online",
         create(cluster_id="cluster-2", volume_mounts=[{"type": "network", "storage_name": "models", "mount_path": "/models"}]),
         "volume_mounts[0].storage_name", "is in cluster cluster-1, but cluster_id is cluster-2", [STORAGES]),
    # -- environment variables
    case("env-in-both", "offline", create(envs={"HF_TOKEN": "x"}, secret_envs={"HF_TOKEN": "mx-secret-clash"}), "secret_envs",
         "envs and secret_envs both set HF_TOKEN"),
    case("env-name-empty", "offline", create(envs={"": "x"}), "envs", "is not a valid environment variable name"),
    case("env-name-equals", "offline", by_id(envs={"A=B": "x"}), "envs", "is not a valid environment variable name"),
    case("env-name-newline", "offline", create(envs={"A\nB": "x"}), "envs", "is not a valid environment variable name"),
    case("secret-name-equals", "offline", create(secret_envs={"TOKEN=": "mx-secret-bad-name"}), "secret_envs",
         "is not a valid environment variable name"),
    # -- choices and unknown options
    case("policy-type-unknown", "offline", create(policy={"type": "fifo", "value": 1}), "policy.type", "must be one of: queue, concurrency"),
    case("state-unknown", "offline", create(state="gone"), "state", "must be one of: present, absent"),
    case("option-unknown", "offline", create(max_workers=3), "max_workers", "Unsupported parameters"),
    case("sub-option-unknown", "offline", by_id(worker_config={"maxNum": 3}), "worker_config.maxNum", "Unsupported parameters"),
    # -- app names: part of the endpoint URL, lowercase letters, digits and hyphens
    case("app-name-upper", "offline", create(app_name="Chat-App"), "app_name", "lowercase letters, digits and hyphens"),
    case("app-name-underscore", "offline", create(app_name="chat_app"), "app_name", "lowercase letters, digits and hyphens"),
    # -- create-only fields changed without recreate
    case("immutable-product", "online", by_id(product_id="2"), "product_id", "cannot change product_id", [GET]),
    case("immutable-app-name", "online", by_id(app_name="mx-other"), "app_name", "cannot change app_name", [GET]),
    case("immutable-rootfs", "online", by_id(rootfs_size=150), "rootfs_size", "cannot change rootfs_size", [GET]),
    # Every problem of a task in one run: a create-only change, a value outside the limits and a name too long.
    case("immutable-limit-length-together", "online", by_id(product_id="2", worker_config={"max_num": 6}, name="m" * 221),
         "worker_config.max_num", "3 problems, nothing was written: name: 221 characters", [GET, LIMIT]),
    # -- waiting, HTTP timeout and retries, API key
    case("wait-timeout-zero", "offline", create(wait_timeout=0), "wait_timeout", "must be a positive number"),
    case("wait-timeout-negative", "offline", by_id(wait_timeout=-5), "wait_timeout", "must be a positive number"),
    case("timeout-zero", "offline", create(timeout=0), "timeout", "0 is not allowed"),
    case("timeout-negative", "offline", by_id(timeout=-1), "timeout", "-1 is not allowed"),
    case("retries-negative", "offline", create(retries=-1), "retries", "-1 is not allowed"),
    case("retry-timeout-negative", "offline", by_id(retry_timeout=-30), "retry_timeout", "-30 is not allowed"),
    case("api-key-empty", "offline", create(api_key=""), "api_key", "api_key is not set: give the api_key option or set the NOVITA_API_KEY"),
    # -- the base URL: mistakes that no retry can fix fail before any request
    case("base-url-no-scheme", "offline", create(api_base_url="127.0.0.1:8555"), "api_base_url", "has no scheme; use http://127.0.0.1:8555"),
    case("base-url-ftp", "offline", by_id(api_base_url="ftp://api.novita.ai"), "api_base_url", "uses the scheme ftp"),
    case("base-url-api-path", "offline", create(api_base_url="https://api.novita.ai/gpu-instance/openapi/v1"), "api_base_url",
         "already contains the API path /gpu-instance/openapi/v1; set it to https://api.novita.ai"),
    case("api-key-wrong", "online", create(api_key=WRONG_KEY), "api_key", "rejected the API key (401)", [LIST]),
    # -- novita_registry_auth: the API's lengths (before any request, never the value), create, credentials in use
    auth_case("auth-long-name", "offline", registry(name="r" * 256), "name", "256 characters is longer than the allowed 255"),
    auth_case("auth-long-username", "offline", registry(username="u" * 512), "username", "512 characters is longer than the allowed 511"),
    auth_case("auth-long-password", "offline", registry(password=LONG_PASSWORD), "password", "1025 characters is longer than the allowed 1024"),
    auth_case("auth-create-without-password", "online", {"name": "mx-cred", "username": "mx-bot"}, "password",
              "password is required to create", [AUTHS]),
    # ghcr-team (auth-2) is the image credential of AUTH_USER: a new password would replace it (new ID).
    auth_case("auth-rotate-in-use", "online", registry(name="ghcr-team", username="emulator-team", password=ROTATED_PASSWORD),
              "repoint_endpoints", "is used by endpoint %s (%s)" % (AUTH_USER, AUTH_USER_ID), [AUTHS, LIST]),
    auth_case("auth-absent-in-use", "online", {"name": "ghcr-team", "state": "absent"}, "force",
              "is used by endpoint %s (%s)" % (AUTH_USER, AUTH_USER_ID), [AUTHS, LIST]),
    # -- novita_network_storage: the task's values, the cluster, what an existing storage cannot do, a storage in use
    storage_case("storage-size-below-min", "offline", storage(size=9), "size", "9 GB is less than the allowed minimum of 10 GB"),
    storage_case("storage-name-characters", "offline", storage(name="mx_store"), "name", "a network storage name has letters"),
    storage_case("storage-cluster-unknown", "online", storage(cluster_id="cluster-9"), "cluster_id", "no cluster has the ID cluster-9",
                 [STORAGES, CLUSTERS]),
    storage_case("storage-cluster-no-support", "online", dict((k, v) for k, v in storage(cluster_name="ap-southeast").items() if k != "cluster_id"),
                 "cluster_name", "cluster cluster-3 (ap-southeast) does not support network storage", [STORAGES, CLUSTERS]),
    # ns-1 (models) has 100 GB in cluster-1.
    storage_case("storage-shrink", "online", {"name": "models", "size": 50}, "size", "has 100 GB; 50 GB is smaller", [STORAGES]),
    storage_case("storage-cluster-change", "online", {"name": "models", "cluster_id": "cluster-2"}, "cluster_id",
                 "is in cluster cluster-1; its cluster cannot change to cluster-2", [STORAGES]),
    storage_case("storage-absent-in-use", "online", {"name": "models", "state": "absent"}, "force",
                 "is mounted by 1 endpoint(s): %s (%s)" % (MOUNT_USER, MOUNT_USER_ID), [STORAGES, LIST]),
]

# ansible-core rejects a plain string given for a dict option that has sub-options with the bare message
# "dictionary requested, could not parse JSON or key=value", and a number with "argument of type 'int'
# is not iterable", naming no option. The module cannot change that wording (AnsibleModule fails before
# module code runs); these cases are still checked for failure, the message and zero requests.
CORE_UNNAMED = {
    "type-image-string": "ansible-core's message for a string given to a dict option with sub-options names no option",
    "type-worker-config-int": "ansible-core fails on a number given to a dict option with sub-options with a Python TypeError naming no option",
}

# Valid tasks run in the same playbook, proving the harness lets a correct task through.
CONTROLS = [
    dict(id="control-check-create", args=create(worker_config={"max_num": 5}), task={"check_mode": True}, changed=True, reads=[LIST, LIMIT]),
    # Deleting an ID that does not exist is not an error: the endpoint is already absent.
    dict(id="control-absent-unknown-id", args={"id": UNKNOWN_ID, "state": "absent"}, task={}, changed=False, reads=[GET]),
    dict(id="control-auth-check-create", module="novita_registry_auth", args=registry(), task={"check_mode": True}, changed=True, reads=[AUTHS]),
    dict(id="control-storage-check-create", module="novita_network_storage", args=storage(), task={"check_mode": True}, changed=True,
         reads=[STORAGES, CLUSTERS]),
]


def build_playbook(entries, results_path, emulator_url):
    """One play: each task, then a snapshot of the emulator's request log (a controller-side lookup, no module run)."""
    tasks = []
    keys = []
    for index, entry in enumerate(entries):
        module = "novita.cloud." + entry.get("module", "novita_endpoint")
        task = {"name": "Case %s" % entry["id"], module: entry["args"], "register": "case_%d" % index}
        if "cls" in entry:
            task["ignore_errors"] = True
        task.update(entry["task"])
        tasks.append(task)
        snapshot = "{{ lookup('ansible.builtin.url', emulator_url + '/_emulator/requests', split_lines=false) | from_json }}"
        tasks.append({"name": "Snapshot the request log after %s" % entry["id"], "ansible.builtin.set_fact": {"log_%d" % index: snapshot}})
        keys.append("%s: {'result': case_%d, 'log': log_%d.requests}" % (json.dumps(entry["id"]), index, index))
    tasks.append({"name": "Write the results", "ansible.builtin.copy": {
        "dest": results_path, "mode": "0600", "content": "{{ {%s} | to_json }}" % ", ".join(keys)}})
    return [{"name": "Bad input matrix", "hosts": "localhost", "gather_facts": False, "vars": {"emulator_url": emulator_url}, "tasks": tasks}]


def request_line(entry):
    return "%s %s" % (entry["method"], entry["path"])


def option_named(msg, path):
    """True when msg names the option path, in the module's dotted form or ansible-core's own wording."""
    def norm(text):
        return re.sub(r"\[[^\]]*\]", "[]", text)
    msg, path = norm(msg), norm(path)
    if re.search(r"(?<![\w.])%s(?![\w])" % re.escape(path), msg):
        return True
    parts = path.split(".")
    if len(parts) < 2:
        return False
    leaf, parent = parts[-1], ".".join(parts[:-1]).replace("[]", "")
    # ansible-core: "argument 'max_num' is of type str found in 'worker_config'", "value of type must be one of: ... found in policy",
    # "missing required arguments: mount_path found in volume_mounts"
    names_leaf = ("'%s'" % leaf in msg) or ("value of %s " % leaf in msg) or re.search(r"arguments: (\w+, )*%s\b" % re.escape(leaf), msg)
    names_parent = ("found in '%s'" % parent in msg) or re.search(r"found in %s\b" % re.escape(parent), msg)
    return bool(names_leaf and names_parent)


def secret_parts_in(text, secret):
    """How many pieces of the secret (itself, and each 12-character window of it) the text holds; 0 is the only good answer."""
    pieces = set([secret] + [secret[i:i + 12] for i in range(0, max(1, len(secret) - 11), 4)])
    return sum(1 for piece in pieces if piece in text)


def check_case(spec, outcome):
    """Problems with one case's outcome; returns (problems, requests seen, writes, msg)."""
    problems = []
    result, seen = outcome["result"], outcome["seen"]
    writes = [e for e in seen if e["method"] != "GET" or e["path"] in WRITE_PATHS]
    lines = [request_line(e) for e in seen]
    msg = str(result.get("msg", ""))
    if not result.get("failed"):
        problems.append("task did not fail (changed=%s)" % result.get("changed"))
    if spec["why"] not in msg:
        problems.append("message lacks %r" % spec["why"])
    if spec["names"] is not None and not option_named(msg, spec["names"]):
        problems.append("message does not name %s" % spec["names"])
    if spec["names"] is None and spec["id"] not in CORE_UNNAMED:
        problems.append("no option to check in the message")
    if writes:
        problems.append("%d write request(s): %s" % (len(writes), ", ".join(request_line(e) for e in writes)))
    if spec.get("module") == "novita_registry_auth":
        text = json.dumps(result)
        for secret in ([spec["secret"]] if spec.get("secret") else []) + list(SEEDED_PASSWORDS):
            if secret_parts_in(text, secret):
                problems.append("the result holds a registry password (or a piece of one)")
                break
    if spec["cls"] == "offline" and any(e["method"] != "GET" for e in seen):
        problems.append("offline case made requests other than reads: %s" % ", ".join(lines))
    if spec["cls"] == "online":
        missing = [r for r in spec["reads"] if r not in lines]
        if missing or not seen:
            problems.append("expected reads %s, saw %s" % (spec["reads"], lines))
    return problems, len(seen), len(writes), msg


def check_control(spec, outcome):
    problems = []
    result, seen = outcome["result"], outcome["seen"]
    writes = [e for e in seen if e["method"] != "GET"]
    lines = [request_line(e) for e in seen]
    if result.get("failed"):
        problems.append("valid task failed: %s" % result.get("msg"))
    if bool(result.get("changed")) != spec["changed"]:
        problems.append("changed=%s, expected %s" % (result.get("changed"), spec["changed"]))
    if writes:
        problems.append("%d write request(s)" % len(writes))
    if lines != spec["reads"]:
        problems.append("expected requests %s, saw %s" % (spec["reads"], lines))
    return problems, len(seen), len(writes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--keep", metavar="DIR", help="write the playbook, results and logs to DIR and keep them")
    parser.add_argument("--only", action="append", metavar="CASE", help="run only this case (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every case's message")
    parser.add_argument("--jobs", type=int, default=2, help="ansible-playbook runs in parallel, each with its own emulator (default 2)")
    options = parser.parse_args()

    global CASES, CONTROLS  # pylint: disable=global-statement
    if options.only:
        unknown = set(options.only) - set(c["id"] for c in CASES + CONTROLS)
        if unknown:
            parser.error("unknown case(s): %s" % ", ".join(sorted(unknown)))
        CASES = [c for c in CASES if c["id"] in options.only]
        CONTROLS = [c for c in CONTROLS if c["id"] in options.only]
    ids = [c["id"] for c in CASES + CONTROLS]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate case IDs")

    work_dir = make_work_dir("bad-input-matrix", options.keep)
    started = time.time()
    try:
        collections = collections_path(options.collections_path, work_dir)
        entries = CASES + CONTROLS
        jobs = max(1, min(options.jobs, len(entries)))
        shards = [Shard(index, entries[index::jobs], work_dir, collections) for index in range(jobs)]
        try:
            for shard in shards:
                shard.start()
            failed = [shard for shard in shards if not shard.finish()]
        finally:
            for shard in shards:
                shard.emulator.stop()
        if failed:
            return 1
        outcomes, final = {}, []
        for shard in shards:
            outcomes.update(shard.outcomes)
            final.append((shard.initial_endpoints, shard.final_endpoints))
        return report(outcomes, final, time.time() - started, options.verbose, jobs)
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)


class Shard:
    """Some of the cases, run by one ansible-playbook against an emulator of their own (so request logs never mix)."""

    def __init__(self, index, entries, work_dir, collections):
        self.entries = entries
        self.dir = os.path.join(work_dir, "shard-%d" % index)
        os.makedirs(self.dir)
        self.collections = collections
        self.emulator = Emulator(self.dir, API_KEY)
        self.results_path = os.path.join(self.dir, "results.json")
        self.output_path = os.path.join(self.dir, "ansible-playbook.out")
        self.process = None
        self.outcomes = {}
        self.initial_endpoints = self.final_endpoints = None

    def start(self):
        emulator = self.emulator
        emulator.start()
        emulator.admin("POST", "reset")
        emulator.admin("POST", "limits", LIVE_LIMITS)
        emulator.admin("POST", "seed", {"endpoints": [EXISTING] + STACK_ENDPOINTS})
        emulator.admin("DELETE", "requests")
        self.initial_endpoints = self.store()
        playbook = os.path.join(self.dir, "bad_input_playbook.yml")
        with open(playbook, "w") as handle:
            json.dump(build_playbook(self.entries, self.results_path, emulator.url), handle, indent=1)
        env = ansible_env(self.collections, {"NOVITA_API_KEY": API_KEY, "NOVITA_API_BASE_URL": emulator.url})
        with open(self.output_path, "w") as out:
            self.process = subprocess.Popen([ansible_playbook(), playbook], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)

    def finish(self):
        """Wait for the run; False (after showing its output) if it did not complete."""
        returncode = self.process.wait()
        if returncode != 0 or not os.path.exists(self.results_path):
            with open(self.output_path) as out:
                sys.stdout.write(out.read()[-6000:])
            print("ansible-playbook exited %s (%s)" % (returncode, self.dir))
            return False
        with open(self.results_path) as handle:
            raw = json.load(handle)
        # What each task sent: the log entries after the previous task's snapshot, in this shard's order.
        last_seq = 0
        for entry in self.entries:
            log = raw[entry["id"]]["log"]
            self.outcomes[entry["id"]] = {"result": raw[entry["id"]]["result"], "seen": [e for e in log if e["seq"] > last_seq]}
            last_seq = max([last_seq] + [e["seq"] for e in log])
        self.final_endpoints = self.store()
        return True

    def store(self):
        """Everything the emulator holds that a task could write: endpoints, registry credentials, network storage."""
        return dict((kind, self.emulator.admin("GET", kind)[kind]) for kind in ("endpoints", "auths", "storages"))


def report(outcomes, final_endpoints, elapsed, verbose, jobs):
    rows, failures = [], []
    refused = zero_requests = 0
    classes = {"offline": 0, "online": 0}
    for spec in CASES:
        problems, seen, writes, msg = check_case(spec, outcomes[spec["id"]])
        classes[spec["cls"]] += 1
        if not problems:
            refused += 1
            zero_requests += 1 if seen == 0 else 0
        status = "ok" if not problems else "FAIL"
        if not problems and spec["id"] in CORE_UNNAMED:
            status = "ok (option not named: ansible-core wording)"
        rows.append((spec["id"], spec["cls"], seen, writes, status))
        if problems:
            failures.append("%s: %s\n    msg: %s" % (spec["id"], "; ".join(problems), msg))
        elif verbose:
            print("%s: %s" % (spec["id"], msg))
    for spec in CONTROLS:
        problems, seen, writes = check_control(spec, outcomes[spec["id"]])
        rows.append((spec["id"], "control", seen, writes, "ok" if not problems else "FAIL"))
        if problems:
            failures.append("%s: %s" % (spec["id"], "; ".join(problems)))
    # Nothing was created, changed or deleted: each emulator holds exactly what it held before the run.
    for before, after in final_endpoints:
        for kind in sorted(before):
            if after.get(kind) != before[kind]:
                failures.append("the emulator's %s changed: %s" % (kind, json.dumps(after.get(kind))[:500]))

    print_table(("case", "class", "requests", "writes", "result"), rows)
    print("")
    modules = {}
    for spec in CASES:
        modules[spec["module"]] = modules.get(spec["module"], 0) + 1
    print("%d offline cases, %d online cases, %d controls; %d ansible-playbook runs in parallel took %.1f s"
          % (classes["offline"], classes["online"], len(CONTROLS), jobs, elapsed))
    print("cases by module: %s" % ", ".join("%s %d" % (name, count) for name, count in sorted(modules.items())))
    for name, reason in sorted(CORE_UNNAMED.items()):
        if any(c["id"] == name for c in CASES):
            print("note: %s: %s" % (name, reason))
    for failure in failures:
        print("MISMATCH " + failure)
    print("bad-input matrix: %d/%d invalid tasks refused with zero writes (%d with zero requests)" % (refused, len(CASES), zero_requests))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
