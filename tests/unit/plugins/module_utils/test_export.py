# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The export of endpoints as declarations: over many generated endpoints, the fleet in check mode with the export changes
nothing and writes nothing; and each rule of the export on its own."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import random

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA, FLEET_SCOPE, Option
from ansible_collections.novita.cloud.plugins.module_utils.export import EndpointExport, declaration, default_value, export_account
from ansible_collections.novita.cloud.plugins.module_utils.fleet import FleetConverger, fleet_argument_spec, validate_fleet
from ansible_collections.novita.cloud.plugins.module_utils.schema import Codec, Schema, get_path
from ansible_collections.novita.cloud.tests.unit.helpers import FakeClient, endpoint_data, storage

READ_ONLY_KEYS = ("id", "url", "state", "workers", "createdAt", "updatedAt", "healthy.initial_delay")
AUTHS = [{"id": "auth-1", "name": "hub", "username": "bot", "password": "hub-pw"},
         {"id": "auth-2", "name": "ghcr", "username": "ci", "password": "ghcr-pw"},
         {"id": "auth-3", "name": "twin", "username": "a", "password": "twin-pw-1"},
         {"id": "auth-4", "name": "twin", "username": "b", "password": "twin-pw-2"}]
STORAGES = [storage("ns-1", "models", cluster="c1"), storage("ns-2", "datasets", size=200, cluster="c2"),
            storage("ns-3", "shared", cluster="c1"), storage("ns-4", "shared", cluster="c1")]


# ---------------------------------------------------------------------------
# generated endpoints

def _worker_config(rng):
    config = {"minNum": rng.choice([0, 0, 1, 2]), "maxNum": rng.choice([1, 2, 5]), "freeTimeout": rng.choice(["300", "60", 600]),
              "maxConcurrent": rng.choice(["1", "4", 16]), "gpuNum": rng.choice([1, 1, 2])}
    config["maxNum"] = max(config["maxNum"], config["minNum"])
    if rng.random() < 0.3:
        config["requestTimeout"] = rng.choice([30, "120"])
    if rng.random() < 0.3:
        config["cudaVersion"] = rng.choice(["12.1", "12.4"])
    return config


def _mounts_and_cluster(rng):
    mounts, cluster = [], rng.choice(["", "", "c1"])
    if rng.random() < 0.7:
        mounts.append({"type": "local", "size": rng.choice([30, 30, 50]), "mountPath": rng.choice(["/workspace", "/data"])})
    if rng.random() < 0.4:
        cluster = rng.choice(["c1", "c2"])
        storage_id = rng.choice([s["storageId"] for s in STORAGES if s["clusterId"] == cluster] + ["ns-gone"])
        mounts.append({"type": "network", "id": storage_id, "mountPath": "/models", "size": rng.choice([0, 100])})
    return mounts, cluster


def generated_endpoint(rng, index):
    """An endpoint as the API lists it, its settings drawn by ``rng``: every option, in the shapes the API returns."""
    mounts, cluster = _mounts_and_cluster(rng)
    endpoint_id = "%016x" % (index + 1)
    data = endpoint_data(
        endpoint_id, rng.choice(["chat-%d" % index, "modèle-%d ✓" % index, "Embeddings %d" % index]),
        appName=rng.choice([endpoint_id, "app-%d" % index]),
        workerConfig=_worker_config(rng), policy={"type": rng.choice(["queue", "concurrency"]), "value": rng.choice(["1", "5", 60])},
        image={"image": "repo/image:%d" % index, "authId": rng.choice(["", "", "auth-1", "auth-2", "auth-3", "auth-9"]),
               "command": rng.choice(["", "serve --port 8000"])},
        rootfsSize=rng.choice([100, 100, 50]), volumeMounts=mounts,
        envs=[{"key": "K%d" % k, "value": rng.choice(["1", "true", "", "välue", "a=b c"])} for k in range(rng.randrange(4))],
        ports=[{"port": rng.choice(["8000", 8080, "7860"])}], products=[{"id": rng.choice(["1", "2"])}],
        healthy={"path": rng.choice(["/health", "/ready"]), "initialDelay": 60, "period": 10},
        url="https://%s.example.invalid" % endpoint_id, workers=[{"id": "w0"}], createdAt="2026-01-01T00:00:00Z")
    if cluster:
        data["clusterID"] = cluster
    return data


def fleet_run(client, declarations):
    """The fleet in check mode with ``declarations``, as the module gets them (its argument spec fills the defaults)."""
    checked = ArgumentSpecValidator(fleet_argument_spec()).validate({"endpoints": copy.deepcopy(declarations)})
    assert checked.error_messages == []
    params = checked.validated_parameters
    errors, items = validate_fleet(params)
    assert (errors, items) == ([], {})
    fleet = FleetConverger(client, params, check_mode=True, sleep=lambda s: None)
    return fleet.run()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_generated_endpoints_round_trip_through_the_fleet_without_a_change(seed):
    rng = random.Random(seed)
    endpoints = [generated_endpoint(rng, index) for index in range(60)]
    endpoints.append(endpoint_data("00000000000000d1", "chat-0"))  # a name the generated chat-0 (if any) shares
    client = FakeClient(endpoints, auths=AUTHS, storages=STORAGES)
    export = export_account(client)
    assert len(export.declarations) + sum(len(d["ids"]) for d in export.duplicate_names) == len(endpoints)
    client.calls[:] = []
    result = fleet_run(client, export.declarations)
    changed = [(r["name"], r.get("msg")) for r in result["endpoints"] if r["changed"] or r["failed"]]
    assert changed == []
    assert [call for call in client.calls if call[0] == "POST"] == []
    for item in export.declarations:
        _assert_no_read_only_key_and_no_default(item)


def _assert_no_read_only_key_and_no_default(item):
    for key in READ_ONLY_KEYS:
        assert get_path(item, tuple(key.split("."))) is None, key
    for field in ENDPOINT_SCHEMA.fields:
        value = get_path(item, field.path)
        if value is not None and field.name != "volume_mounts":
            assert value != default_value(field), field.name
    if "volume_mounts" in item:
        assert ENDPOINT_SCHEMA.find(("volume_mounts",)).codec.from_task(item["volume_mounts"]) != default_value(
            next(f for f in ENDPOINT_SCHEMA.fields if f.name == "volume_mounts"))


def test_a_changed_endpoint_after_the_export_is_a_change_for_the_fleet():
    """The round trip can fail: the same declarations against endpoints changed since the export predict updates (an option
    left out because it had its default is not managed, so only exported values count)."""
    endpoints = [generated_endpoint(random.Random(7), index) for index in range(3)]
    endpoints[1]["envs"] = [{"key": "A", "value": "1"}]
    client = FakeClient(endpoints, auths=AUTHS, storages=STORAGES)
    export = export_account(client)
    client.endpoints[endpoints[0]["id"]]["image"]["image"] = "repo/other:1"
    client.endpoints[endpoints[1]["id"]]["envs"].append({"key": "ADDED", "value": "1"})
    result = fleet_run(client, export.declarations)
    assert [r["action"] for r in result["endpoints"]] == ["updated", "updated", "unchanged"]


# ---------------------------------------------------------------------------
# each rule

def one(endpoint):
    """The declaration of one endpoint, with the account's AUTHS and STORAGES, and its note's warnings."""
    export = EndpointExport([endpoint], AUTHS, STORAGES)
    assert len(export.declarations) == 1
    return export.declarations[0], (export.notes[0]["warnings"] if export.notes else [])


def test_a_value_equal_to_its_default_is_left_out_and_others_are_kept():
    worker_config = {"minNum": 0, "maxNum": "3", "freeTimeout": "300", "maxConcurrent": "1", "gpuNum": 1}
    item, notes = one(endpoint_data("e1", "chat", workerConfig=worker_config, rootfsSize=100, policy={"type": "queue", "value": "1"},
                                    healthy={"path": "/health"}, envs=[], image={"image": "img", "authId": "", "command": ""}))
    assert item == {"name": "chat", "product_id": "1", "image": {"image": "img"}, "port": 8000, "worker_config": {"max_num": 3}}
    assert notes == []


def test_the_create_default_mount_is_left_out_and_no_mount_is_declared_as_an_empty_list():
    default, dummy = one(endpoint_data("e1", "a"))
    none, dummy = one(endpoint_data("e2", "b", volumeMounts=[]))
    assert "volume_mounts" not in default
    assert none["volume_mounts"] == []


def test_read_only_keys_are_never_exported():
    item, dummy = one(endpoint_data("e1", "chat", url="https://x", workers=[{"id": "w"}], state={"state": "failed", "error": "x"},
                                    healthy={"path": "/ready", "initialDelay": 60}, log="", createdAt="2026-01-01T00:00:00Z"))
    assert set(item) <= set(o.name for o in ENDPOINT_SCHEMA.options if o.in_scope(FLEET_SCOPE))
    assert item["healthy"] == {"path": "/ready"}


def test_an_app_name_the_api_made_from_the_id_is_left_out_and_one_given_is_kept():
    assert "app_name" not in one(endpoint_data("e1", "a", appName="e1"))[0]
    assert one(endpoint_data("e2", "b", appName="chat-app"))[0]["app_name"] == "chat-app"


def test_a_credential_is_given_by_its_unique_name_in_the_place_of_its_id():
    item, notes = one(endpoint_data("e1", "a", image={"image": "img", "authId": "auth-2", "command": "run"}))
    assert list(item["image"].items()) == [("image", "img"), ("auth_name", "ghcr"), ("command", "run")]
    assert notes == []


@pytest.mark.parametrize("auth_id, why", [("auth-3", "2 registry credentials are named twin (IDs: auth-3, auth-4)"),
                                          ("auth-9", "no registry credential of the account has this ID")])
def test_a_credential_keeps_its_id_with_a_note_when_its_name_is_not_unique_or_it_is_gone(auth_id, why):
    item, notes = one(endpoint_data("e1", "a", image={"image": "img", "authId": auth_id, "command": ""}))
    assert item["image"] == {"image": "img", "auth_id": auth_id}
    assert len(notes) == 1 and notes[0].startswith("image.auth_id %s kept: %s" % (auth_id, why))


def test_a_network_storage_is_given_by_its_unique_name_and_loses_the_size_the_api_lists():
    item, notes = one(endpoint_data("e1", "a", clusterID="c2", volumeMounts=[{"type": "network", "id": "ns-2", "size": 200, "mountPath": "/d"}]))
    assert item["volume_mounts"] == [{"type": "network", "storage_name": "datasets", "mount_path": "/d"}]
    assert item["cluster_id"] == "c2"
    assert notes == []


@pytest.mark.parametrize("storage_id, cluster, why", [
    ("ns-3", "c1", "2 network storages are named shared (IDs: ns-3, ns-4)"),
    ("ns-gone", "c1", "no network storage of the account has this ID"),
    ("ns-1", "c2", "the storage is in cluster c1, the endpoint in cluster c2"),
])
def test_a_network_storage_keeps_its_id_with_a_note(storage_id, cluster, why):
    item, notes = one(endpoint_data("e1", "a", clusterID=cluster, volumeMounts=[{"type": "network", "id": storage_id, "mountPath": "/m"}]))
    assert item["volume_mounts"] == [{"type": "network", "id": storage_id, "mount_path": "/m"}]
    assert notes == ["volume_mounts[mount_path=/m].id %s kept: %s" % (storage_id, why)]


def test_envs_are_exported_in_clear_and_a_templated_value_is_noted():
    item, notes = one(endpoint_data("e1", "a", envs=[{"key": "TOKEN", "value": "s3cret"}, {"key": "TPL", "value": "{{ x }}"}]))
    assert item["envs"] == {"TOKEN": "s3cret", "TPL": "{{ x }}"}
    assert notes == ["envs.TPL holds text Ansible templates ({{, {% or {#}: in a vars file, mark the value !unsafe"]


def test_duplicate_names_are_not_declared_and_are_listed_with_every_id():
    export = EndpointExport([endpoint_data("e2", "dup"), endpoint_data("e1", "solo"), endpoint_data("e3", "dup"), endpoint_data("e4", "")],
                            AUTHS, STORAGES)
    assert [d["name"] for d in export.declarations] == ["solo"]
    assert export.duplicate_names == [{"name": "dup", "ids": ["e2", "e3"]}]
    assert [(n["id"], n["declared"]) for n in export.notes] == [("e2", False), ("e3", False), ("e4", False)]
    assert "2 endpoints are named dup (IDs: e2, e3)" in export.notes[0]["warnings"][0]
    assert "has no name" in export.notes[2]["warnings"][0]


def test_credentials_get_a_named_vault_placeholder_and_storages_their_options():
    export = EndpointExport([], AUTHS[:1], STORAGES[:1])
    assert export.registry_auths() == [{"name": "hub", "username": "bot", "password": '{{ vault_novita_registry_passwords["hub"] }}'}]
    assert export.network_storages() == [{"name": "models", "size": 100, "cluster_id": "c1"}]
    assert "hub-pw" not in repr(export.registry_auths())


def test_a_new_option_of_the_schema_is_exported_without_a_change_to_the_export():
    schema = Schema([Option("name", "str", ["n"], api=["name"], codec=Codec("str")),
                     Option("colour", "str", ["c"], api=["colour"], codec=Codec("str"), create_default="blue"),
                     Option("other_scope", "str", ["o"], api=["o"], codec=Codec("str"), only=("elsewhere",))])
    model = schema.model_from_api({"name": "a", "colour": "red", "o": "x"})
    assert declaration(schema, model, "fleet") == {"name": "a", "colour": "red"}
    assert declaration(schema, schema.model_from_api({"name": "a", "colour": "blue"}), "fleet") == {"name": "a"}


def test_the_export_reads_the_endpoint_list_the_credentials_and_the_storages_once_each():
    client = FakeClient([endpoint_data("e1", "a")], auths=AUTHS, storages=STORAGES)
    export_account(client)
    assert client.calls == [("LIST", "/endpoints"), ("GET", "/repository/auths"), ("GET", "/networkstorages/list")]
