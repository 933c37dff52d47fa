# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real clients of Novita's API against the emulator: the `novita` CLI 0.1.0 and `novita-sdk` 0.5.0 (PyPI).

Starts the emulator (tests/emulator/novita_emulator.py) in the `documented` profile and calls each
client's own code for the endpoint, registry credential, network storage and cluster calls it offers.
Run it with the real-clients venv (tools/clients-requirements.txt, pinned by tools/clients-constraints.txt):

    tools/ensure-venv.sh .tmp/venv-clients tools/clients-requirements.txt tools/clients-constraints.txt
    .tmp/venv-clients/bin/python tests/clients/real_clients.py [--verbose] [--keep DIR]

How each client is pointed at the emulator: the CLI has no base URL setting (`BASE_URL` is a module
constant of `novita_cli.core.client`, read at each request), so this script sets that constant and runs
the CLI's click commands in-process (click's CliRunner, text output as a user sees it, key in
NOVITA_API_KEY). The SDK takes `NovitaClient(api_key=..., base_url=...)`.

The calls (method, path and body as the client's code builds them; paths below /gpu-instance/openapi/v1):

| client | call | client function | request it sends | known client bug |
|---|---|---|---|---|
| novita-cli | endpoint create | `novita serverless create` | POST /endpoint/create (1) | |
| novita-cli | endpoint list | `novita serverless list` | GET /endpoints?pageSize=20&pageNum=0 | |
| novita-cli | endpoint get | `novita serverless get ID` | GET /endpoint?id=ID | |
| novita-cli | endpoint update | `novita serverless update ID --max-workers N --image I` | GET /endpoint?id=ID, POST /endpoint/update (2) | drops fields (2) |
| novita-cli | endpoint delete | `novita serverless delete ID` | POST /endpoint/delete `{"name": ID}` | |
| novita-cli | storage list | `novita storage list` | GET /networkstorages | wrong path (not /networkstorages/list) |
| novita-cli | storage create | `novita storage create ...` | POST /networkstorage/create (3) | crashes on a bare-string answer (4) |
| novita-cli | storage delete | `novita storage delete ID` | POST /networkstorage/delete `{"id": ID}` | `id` instead of `storageId` |
| novita-cli | clusters list | `novita gpu clusters` | GET /clusters | |
| novita-sdk | endpoint limits | `gpu.endpoints.get_limit_ranges()` | GET /endpoint/limit | |
| novita-sdk | endpoint create | `gpu.endpoints.create(CreateEndpointRequest)` | POST /endpoint/create (5) | ports as an object, not a list |
| novita-sdk | endpoint list | `gpu.endpoints.list()` | GET /endpoints (no paging: first page only) | parses `workers[].metrics` as an object (6) |
| novita-sdk | endpoint get | `gpu.endpoints.get(ID)` | GET /endpoint?endpoint_id=ID | `endpoint_id`, not `id`; reads the answer unwrapped |
| novita-sdk | endpoint update | `gpu.endpoints.update(ID, UpdateEndpointRequest)` | POST /endpoint/update (7) | `endpoint_id`, not `id`; lists (7) |
| novita-sdk | endpoint delete | `gpu.endpoints.delete(ID)` | POST /endpoint/delete `{"endpoint_id": ID}` | `endpoint_id` instead of `name` |
| novita-sdk | registry list | `gpu.registries.list()` | GET /repository/auths | |
| novita-sdk | registry save | `gpu.registries.create(name, user, password)` | POST /repository/auth/save `{name, username, password}` | password masked (8) |
| novita-sdk | registry delete | `gpu.registries.delete(ID)` | POST /repository/auth/delete `{"id": ID}` | |
| novita-sdk | storage list | `gpu.storages.list()` | GET /networkstorages/list (no paging) | |
| novita-sdk | storage create | `gpu.storages.create(CreateNetworkStorageRequest)` | POST /networkstorage/create (3) | fails on a bare-string answer (4) |
| novita-sdk | storage update | `gpu.storages.update(UpdateNetworkStorageRequest)` | POST /networkstorage/update `{storageId, storageName, storageSize}` |
| novita-sdk | storage delete | `gpu.storages.delete(ID)` | POST /networkstorage/delete `{"storageId": ID}` | |
| novita-sdk | clusters list | `gpu.clusters.list()` | GET /clusters | |

(1) `{"endpoint": {rootfsSize 100, workerConfig, ports [{"port": "<str>"}], policy {queue, 1}, image, volumeMounts
    [{local, 30, /workspace}], healthy {path}, products [{id}], name, envs}}`.
(2) `{id, workerConfig {minNum, maxNum, freeTimeout, maxConcurrent, gpuNum}, ports, policy, image}`, copied from the GET
    (numbers as the GET gives them, strings included); the full-replace update loses name, envs, volumeMounts, healthy,
    clusterID, workerConfig.requestTimeout and workerConfig.cudaVersion.
(3) `{clusterId, storageName, storageSize}`.
(4) The documented answer is a bare JSON string (the storage ID): the CLI reads it with `result.get('id')`
    (AttributeError), the SDK validates it as an object (pydantic ValidationError).
(5) `{"endpoint": {name, workerConfig, "ports": {"port": "<str>"}, policy, image, products, rootfsSize, volumeMounts, envs, healthy}}`.
(6) The docs (and the emulator) give `metrics` as a string: the list fails on any endpoint with a worker.
(7) `{"endpoint_id": ID, "workerConfig": [{...}], "ports": [...], "policy": [{...}], "image": [{...}], name, clusterID,
    volumeMounts, envs, "healthy": [{path}]}`: workerConfig, policy, image (and healthy) as one-item lists.
(8) The password is a pydantic SecretStr dumped in JSON mode: `**********` is sent and saved.

The CLI has no registry credential or limits call; the SDK has no other call of these kinds.

A call is accepted when the client returns without error, every request it made was answered 2xx, and
the emulator's state shows its effect (the endpoint exists after a create and is gone after a delete, the
list holds the seeded items, ...). An accepted update that loses settings it did not mean to change is
"accepted, drops fields X"; those fields must be exactly the ones listed for that call (the documented API
replaces in full). A call that is not accepted is a known client bug when the request log or the client's
error shows one of the bugs listed for it (KNOWN_BUGS); otherwise it is a failure: the emulator refused
what the documented API accepts, and the script exits 1.

Prints one line per call, a summary line per client and, last:
real clients: novita-cli 0.1.0 N/M calls accepted (K known client bugs); novita-sdk 0.5.0 N/M calls accepted (K known client bugs)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import binascii
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "matrix"))

CLI = "novita-cli"
SDK = "novita-sdk"
CLIENT_VERSIONS = {CLI: ("novita", "0.1.0"), SDK: ("novita-sdk", "0.5.0")}

ACCEPTED = "accepted"
ACCEPTED_DROPS = "accepted, drops fields"
KNOWN_BUG = "known client bug"
FAILED = "FAILED"

MASKED_PASSWORD = "**********"

# What each client is known to get wrong, found by reading its code (see the table above). A bug counts
# for a call only when its sign shows in what the client sent or raised:
#   ("path", METHOD, PATH)                  a request to this path
#   ("query_key", METHOD, PATH, KEY)        a request to this path with this query parameter
#   ("body_key", METHOD, PATH, DOTTED)      a request to this path whose JSON body has this key
#   ("body_type", METHOD, PATH, DOTTED, T)  ... whose value at DOTTED is of JSON type T (object, array, string)
#   ("body_value", METHOD, PATH, DOTTED, V) ... whose value at DOTTED equals V
#   ("text", TEXT, ...)                     the client's error, or what the call's effect lacks, holds every TEXT
KNOWN_BUGS = {
    (CLI, "storage list"): [
        ("GET /networkstorages instead of /networkstorages/list", ("path", "GET", "/networkstorages")),
    ],
    (CLI, "storage create"): [
        ("reads the answer as an object (result.get('id')): the documented bare-string answer crashes it",
         ("text", "AttributeError", "'str' object has no attribute 'get'")),
    ],
    (CLI, "storage delete"): [
        ("sends {\"id\"} instead of {\"storageId\"}", ("body_key", "POST", "/networkstorage/delete", "id")),
    ],
    (SDK, "endpoint create"): [
        ("sends ports as an object, not a list of one", ("body_type", "POST", "/endpoint/create", "endpoint.ports", "object")),
    ],
    (SDK, "endpoint list"): [
        ("parses workers[].metrics as an object; the docs and the emulator give a string", ("text", "metrics", "valid dictionary")),
    ],
    (SDK, "endpoint get"): [
        ("sends the ID as query endpoint_id instead of id", ("query_key", "GET", "/endpoint", "endpoint_id")),
        ("reads the answer unwrapped: every field of {\"endpoint\": {...}} comes back None", ("text", "read unwrapped")),
    ],
    (SDK, "endpoint update"): [
        ("sends the ID as endpoint_id instead of id", ("body_key", "POST", "/endpoint/update", "endpoint_id")),
        ("sends workerConfig, policy and image as lists", ("body_type", "POST", "/endpoint/update", "workerConfig", "array")),
    ],
    (SDK, "endpoint delete"): [
        ("sends {\"endpoint_id\"} instead of {\"name\"}", ("body_key", "POST", "/endpoint/delete", "endpoint_id")),
    ],
    (SDK, "registry save"): [
        ("sends the password masked as ********** (SecretStr dumped in JSON mode)",
         ("body_value", "POST", "/repository/auth/save", "password", MASKED_PASSWORD)),
    ],
    (SDK, "storage create"): [
        ("parses the answer as an object: fails on the documented bare-string answer", ("text", "NetworkStorageModel", "valid dictionary")),
    ],
}

# Settings an accepted update loses though it did not mean to change them (the documented API replaces in full).
KNOWN_DROPS = {
    (CLI, "endpoint update"): ("name", "envs", "volumeMounts", "healthy.path", "clusterID",
                               "workerConfig.requestTimeout", "workerConfig.cudaVersion"),
}

# The settings of an endpoint compared before and after an update.
WATCHED_FIELDS = ("name", "image.image", "image.command", "image.authId", "workerConfig.minNum", "workerConfig.maxNum",
                  "workerConfig.freeTimeout", "workerConfig.maxConcurrent", "workerConfig.gpuNum", "workerConfig.requestTimeout",
                  "workerConfig.cudaVersion", "policy.type", "policy.value", "ports", "envs", "volumeMounts", "healthy.path",
                  "clusterID")

_MISSING = object()


# ---------------------------------------------------------------------------------------------------------
# Classification: pure functions of what a call did (unit-tested in tests/unit/tools/test_real_clients.py)
# ---------------------------------------------------------------------------------------------------------

def dig(value, dotted):
    """The value at a dotted path of nested dicts, or _MISSING."""
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def json_type(value):
    """The JSON type name of a decoded value."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def _requests_to(requests, method, path):
    return [r for r in requests if r.get("method") == method and r.get("path") == path]


def sign_shows(sign, text, requests):
    """Whether a known bug's sign shows in the text (client error, missing effect) or in the requests the client sent."""
    kind = sign[0]
    if kind == "text":
        return bool(text) and all(part in text for part in sign[1:])
    method, path = sign[1], sign[2]
    sent = _requests_to(requests, method, path)
    if kind == "path":
        return bool(sent)
    if kind == "query_key":
        return any(sign[3] in (r.get("query") or {}) for r in sent)
    if kind == "body_key":
        return any(dig(r.get("body"), sign[3]) is not _MISSING for r in sent)
    if kind == "body_type":
        return any(dig(r.get("body"), sign[3]) is not _MISSING and json_type(dig(r.get("body"), sign[3])) == sign[4] for r in sent)
    if kind == "body_value":
        return any(dig(r.get("body"), sign[3]) == sign[4] for r in sent)
    raise ValueError("unknown sign kind %r" % (kind,))


def _comparable(value):
    """A value with numbers and numeric strings alike (the API's type drift is no change)."""
    if isinstance(value, dict):
        return dict((k, _comparable(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def changed_fields(before, after, watched=WATCHED_FIELDS, intended=()):
    """The watched settings that differ between two reads of an endpoint, leaving out the intended changes."""
    changed = []
    for field in watched:
        if field in intended:
            continue
        old, new = dig(before, field), dig(after, field)
        if old is _MISSING and new is _MISSING:
            continue
        if old is _MISSING or new is _MISSING or _comparable(old) != _comparable(new):
            changed.append(field)
    return changed


def request_problems(requests):
    """One line per request that was not answered 2xx (or was not answered)."""
    problems = []
    for entry in requests:
        status = entry.get("status")
        if status is None or not 200 <= int(status) < 300:
            problems.append("%s %s answered %s" % (entry.get("method"), entry.get("path"), "nothing" if status is None else status))
    return problems


def classify(client, call, error, requests, effect_problem=None, dropped=()):
    """The verdict on one call: (ACCEPTED | ACCEPTED_DROPS | KNOWN_BUG | FAILED, detail).

    error: the client's error text, or None; requests: the emulator's log entries of the call; effect_problem:
    what the emulator's state lacks after the call, or None; dropped: settings an update lost unasked.
    """
    problems = []
    if error:
        problems.append("client error: %s" % error)
    problems.extend(request_problems(requests))
    if not requests:
        problems.append("no request reached the emulator")
    if effect_problem:
        problems.append(effect_problem)
    if not problems:
        expected = tuple(KNOWN_DROPS.get((client, call), ()))
        if not dropped and not expected:
            return ACCEPTED, ""
        if sorted(dropped) == sorted(expected):
            return ACCEPTED_DROPS, ", ".join(dropped)
        return FAILED, "lost %s; expected to lose %s" % (", ".join(dropped) or "nothing", ", ".join(expected) or "nothing")
    text = " ".join(t for t in (error, effect_problem) if t)
    bugs = [what for what, sign in KNOWN_BUGS.get((client, call), ()) if sign_shows(sign, text, requests)]
    if bugs:
        return KNOWN_BUG, "%s (%s)" % ("; ".join(bugs), "; ".join(problems))
    return FAILED, "; ".join(problems)


def one_line(text, limit=400):
    """An error on one line: pydantic's help links left out, whitespace collapsed, cut at limit characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip() and not line.strip().startswith("For further information")]
    joined = " | ".join(" ".join(line.split()) for line in lines)
    return joined if len(joined) <= limit else joined[:limit - 3] + "..."


def format_line(client, call, verdict, detail):
    """One printed line per call."""
    if verdict == ACCEPTED_DROPS:
        text = "%s %s" % (ACCEPTED_DROPS, detail)
    elif verdict == KNOWN_BUG:
        text = "%s: %s" % (KNOWN_BUG, detail)
    elif verdict == FAILED:
        text = "%s: %s" % (FAILED, detail)
    else:
        text = ACCEPTED
    return "%-10s  %-16s  %s" % (client, call, text)


def summarize(verdicts):
    """Per client: (accepted, total, known bugs, failed, accepted with drops) from [(client, verdict)]."""
    totals = {}
    for client, verdict in verdicts:
        counts = totals.setdefault(client, [0, 0, 0, 0, 0])
        counts[1] += 1
        if verdict in (ACCEPTED, ACCEPTED_DROPS):
            counts[0] += 1
        if verdict == ACCEPTED_DROPS:
            counts[4] += 1
        if verdict == KNOWN_BUG:
            counts[2] += 1
        if verdict == FAILED:
            counts[3] += 1
    return dict((client, tuple(counts)) for client, counts in totals.items())


def client_label(client):
    return "%s %s" % (client, CLIENT_VERSIONS[client][1])


def summary_lines(verdicts):
    """The per-client summary lines and the last line."""
    totals = summarize(verdicts)
    lines = []
    parts = []
    for client in (CLI, SDK):
        if client not in totals:
            continue
        accepted, total, bugs, failed, drops = totals[client]
        dropping = " (%d of them drop fields)" % drops if drops else ""
        lines.append("%s: %d/%d calls accepted%s, %d known client bugs, %d failed" % (client_label(client), accepted, total, dropping, bugs, failed))
        parts.append("%s %d/%d calls accepted (%d known client bugs)" % (client_label(client), accepted, total, bugs))
    lines.append("real clients: " + "; ".join(parts))
    return lines


# ---------------------------------------------------------------------------------------------------------
# Running the clients (needs the real-clients venv)
# ---------------------------------------------------------------------------------------------------------

class ClientError(Exception):
    """A client reported an error (raised, exited non-zero, or printed one)."""


class Context:
    """The emulator, its API key, and the fixtures seeded for one client's calls."""

    def __init__(self, emulator, api_key):
        self.emulator = emulator
        self.api_key = api_key
        self.fixtures = {}
        self.shared = {}

    def admin(self, method, path, body=None):
        return self.emulator.admin(method, path, body)

    def stored_endpoints(self):
        return self.admin("GET", "endpoints")["endpoints"]

    def stored_endpoint(self, endpoint_id):
        return next((e for e in self.stored_endpoints() if e["id"] == endpoint_id), None)

    def stored(self, kind):
        return self.admin("GET", kind)[kind]


def seed_fixtures(ctx):
    """Reset the emulator and seed what one client's calls work on: an endpoint with every setting, storages, a credential."""
    ctx.admin("POST", "reset")
    clusters = ctx.stored("clusters")
    storages = ctx.stored("storages")
    storage_cluster = next(c["id"] for c in clusters if c.get("supportNetworkStorage"))
    mounted = storages[0]
    product = ctx.admin("GET", "config")["products"][0]
    full = {
        "name": "rc-fixture", "image": {"image": "emulator/app:1", "command": "serve --port 8000"},
        "workerConfig": {"minNum": 1, "maxNum": 2, "freeTimeout": 300, "maxConcurrent": 2, "gpuNum": 1,
                         "requestTimeout": 120, "cudaVersion": ctx.admin("GET", "limits")["cudaVersionList"][0]},
        "policy": {"type": "queue", "value": 30}, "ports": [{"port": 8000}], "products": [{"id": product}],
        "envs": [{"key": "MODEL", "value": "m1"}],
        "volumeMounts": [{"type": "network", "id": mounted["storageId"], "mountPath": "/models"}],
        "clusterID": mounted["clusterId"], "healthy": {"path": "/ready"},
    }
    seeded = ctx.admin("POST", "seed", {
        "endpoints": [full, dict(full, name="rc-doomed")],
        "auths": [{"name": "rc-doomed-auth", "username": "bot", "password": "doomed-password"}],
        "storages": [{"storageName": "rc-doomed-storage", "storageSize": 10, "clusterId": storage_cluster},
                     {"storageName": "rc-growing-storage", "storageSize": 10, "clusterId": storage_cluster}],
    })
    ctx.fixtures = {
        "endpoint": seeded["ids"][0], "doomed_endpoint": seeded["ids"][1], "product": product,
        "doomed_auth": seeded["auth_ids"][0], "doomed_storage": seeded["storage_ids"][0],
        "growing_storage": seeded["storage_ids"][1], "storage_cluster": storage_cluster,
        "seeded_storage_names": [s["storageName"] for s in storages], "auth_names": [a["name"] for a in ctx.stored("auths")],
        "cluster_ids": [c["id"] for c in clusters],
    }


# Effect checks: what the emulator's state (or the client's answer) must show after an accepted call.

def _missing(what, container):
    return None if what in container else "%s not in the client's answer" % (what,)


def check_endpoint_created(ctx, name, image):
    found = [e for e in ctx.stored_endpoints() if e["name"] == name]
    if len(found) != 1:
        return "%d endpoints named %s after the create" % (len(found), name)
    return None if found[0]["image"]["image"] == image else "the created endpoint has image %s" % found[0]["image"]["image"]


def check_endpoint_gone(ctx, endpoint_id):
    return None if ctx.stored_endpoint(endpoint_id) is None else "endpoint %s still exists after the delete" % endpoint_id


def check_storage(ctx, predicate, what):
    return None if any(predicate(s) for s in ctx.stored("storages")) else "no network storage %s" % what


def check_storage_gone(ctx, storage_id):
    if any(s["storageId"] == storage_id for s in ctx.stored("storages")):
        return "network storage %s still exists after the delete" % storage_id
    return None


# ----------------------------------------------- the novita CLI ------------------------------------------

def cli_invoke(ctx, args):
    """Run one `novita` command in-process; its standard output, or ClientError."""
    from click.testing import CliRunner  # pylint: disable=import-outside-toplevel
    from novita_cli import novita_cli  # pylint: disable=import-outside-toplevel
    from novita_cli.core import client as cli_client  # pylint: disable=import-outside-toplevel

    cli_client.BASE_URL = ctx.emulator.url
    result = CliRunner().invoke(novita_cli.cli, args, obj={}, env={"NOVITA_API_KEY": ctx.api_key})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise ClientError("%s: %s" % (type(result.exception).__name__, result.exception))
    if result.exit_code != 0 or "Error:" in stderr:
        raise ClientError("exit %d: %s" % (result.exit_code, stderr.strip()))
    return result.stdout


def cli_calls():
    """(call, run, check) for the CLI: run(ctx) returns the client's output, check(ctx, output) a problem or None."""
    def update_run(ctx):
        ctx.shared["before"] = ctx.stored_endpoint(ctx.fixtures["endpoint"])
        return cli_invoke(ctx, ["serverless", "update", ctx.fixtures["endpoint"], "--max-workers", "3", "--image", "emulator/app:2"])

    return [
        ("endpoint create",
         lambda ctx: cli_invoke(ctx, ["serverless", "create", "--name", "rc-created", "--image", "emulator/app:1", "--port", "8000",
                                      "--product-id", ctx.fixtures["product"], "--env", "MODEL=m1"]),
         lambda ctx, out: check_endpoint_created(ctx, "rc-created", "emulator/app:1")),
        ("endpoint list", lambda ctx: cli_invoke(ctx, ["serverless", "list"]),
         lambda ctx, out: _missing(ctx.fixtures["endpoint"][:12], out)),
        ("endpoint get", lambda ctx: cli_invoke(ctx, ["serverless", "get", ctx.fixtures["endpoint"]]),
         lambda ctx, out: _missing("id: %s" % ctx.fixtures["endpoint"], out)),
        ("endpoint update", update_run, update_check),
        ("endpoint delete", lambda ctx: cli_invoke(ctx, ["serverless", "delete", ctx.fixtures["doomed_endpoint"]]),
         lambda ctx, out: check_endpoint_gone(ctx, ctx.fixtures["doomed_endpoint"])),
        ("storage list", lambda ctx: cli_invoke(ctx, ["storage", "list"]),
         lambda ctx, out: _missing(ctx.fixtures["seeded_storage_names"][0], out)),
        ("storage create",
         lambda ctx: cli_invoke(ctx, ["storage", "create", "--cluster-id", ctx.fixtures["storage_cluster"], "--name", "rc-created-storage",
                                      "--size", "20"]),
         lambda ctx, out: check_storage(ctx, lambda s: s["storageName"] == "rc-created-storage" and s["storageSize"] == 20,
                                        "rc-created-storage of 20 GB")),
        ("storage delete", lambda ctx: cli_invoke(ctx, ["storage", "delete", ctx.fixtures["doomed_storage"]]),
         lambda ctx, out: check_storage_gone(ctx, ctx.fixtures["doomed_storage"])),
        ("clusters list", lambda ctx: cli_invoke(ctx, ["gpu", "clusters"]),
         lambda ctx, out: _missing(ctx.fixtures["cluster_ids"][0], out)),
    ]


# ----------------------------------------------- novita-sdk ----------------------------------------------

def sdk_client(ctx):
    from novita import NovitaClient  # pylint: disable=import-outside-toplevel
    return NovitaClient(api_key=ctx.api_key, base_url=ctx.emulator.url)


def sdk_endpoint_settings(ctx, models, max_num):
    """The fixture endpoint's settings in the SDK's update model, as a user of the SDK writes them."""
    return models.UpdateEndpointRequest(
        name="rc-fixture", cluster_id=ctx.fixtures["mounted_cluster"],
        worker_config=[models.WorkerConfigItem(min_num=1, max_num=max_num, free_timeout=300, max_concurrent=2, gpu_num=1)],
        ports=[models.Port2(port="8000")], policy=[models.PolicyItem(type="queue", value=30)],
        image=[models.ImageItem(image="emulator/app:2", command="serve --port 8000")],
        volume_mounts=[models.VolumeMount4(type="network", id=ctx.fixtures["mounted_storage"], mount_path="/models")],
        envs=[models.Env4(key="MODEL", value="m1")], healthy=[models.HealthyItem(path="/ready")])


def sdk_create(ctx):
    from novita.generated import models  # pylint: disable=import-outside-toplevel
    endpoint = models.Endpoint(
        name="rc-created", worker_config=models.WorkerConfig1(min_num=0, max_num=1, free_timeout=300, max_concurrent=1, gpu_num=1),
        ports=models.Ports(port="8000"), policy=models.Policy1(type="queue", value=30), image=models.Image1(image="emulator/app:1"),
        products=[models.Product1(id=ctx.fixtures["product"])], rootfs_size=100, volume_mounts=[],
        envs=[models.Env4(key="MODEL", value="m1")], healthy=models.Healthy1(path="/health"))
    return sdk_client(ctx).gpu.endpoints.create(models.CreateEndpointRequest(endpoint=endpoint))


def sdk_get_check(ctx, detail):
    if detail.id is None and detail.name is None:
        return "the client's answer has id and name None: {\"endpoint\": {...}} read unwrapped"
    return None if detail.id == ctx.fixtures["endpoint"] else "the client read endpoint %r" % detail.id


def sdk_update(ctx):
    from novita.generated import models  # pylint: disable=import-outside-toplevel
    ctx.shared["before"] = ctx.stored_endpoint(ctx.fixtures["endpoint"])
    return sdk_client(ctx).gpu.endpoints.update(ctx.fixtures["endpoint"], sdk_endpoint_settings(ctx, models, 3))


def update_check(ctx, _output):
    """Both clients' update: maxNum 3 and image emulator/app:2 applied; what else changed is recorded as dropped."""
    after = ctx.stored_endpoint(ctx.fixtures["endpoint"])
    if after["workerConfig"]["maxNum"] != 3 or after["image"]["image"] != "emulator/app:2":
        return "the update did not apply maxNum 3 and image emulator/app:2"
    ctx.shared["dropped"] = changed_fields(ctx.shared["before"], after, intended=("workerConfig.maxNum", "image.image"))
    return None


def sdk_check_auth_saved(ctx, _result):
    saved = [a for a in ctx.stored("auths") if a["name"] == "rc-saved-auth"]
    if len(saved) != 1:
        return "%d registry credentials named rc-saved-auth after the save" % len(saved)
    if saved[0]["username"] != "rc-bot" or saved[0]["password"] != "rc-saved-password":
        return "the saved credential has username %r and a password other than the one given" % saved[0]["username"]
    return None


def sdk_storage_create(ctx):
    from novita.generated import models  # pylint: disable=import-outside-toplevel
    request = models.CreateNetworkStorageRequest(cluster_id=ctx.fixtures["storage_cluster"], storage_name="rc-created-storage", storage_size=20)
    return sdk_client(ctx).gpu.storages.create(request)


def sdk_storage_update(ctx):
    from novita.generated import models  # pylint: disable=import-outside-toplevel
    request = models.UpdateNetworkStorageRequest(storage_id=ctx.fixtures["growing_storage"], storage_name="rc-grown-storage", storage_size=30)
    return sdk_client(ctx).gpu.storages.update(request)


def sdk_calls():
    """(call, run, check) for the SDK."""
    return [
        ("endpoint limits", lambda ctx: sdk_client(ctx).gpu.endpoints.get_limit_ranges(),
         lambda ctx, limits: None if limits == ctx.admin("GET", "limits") else "the limits the client returned differ from the emulator's"),
        ("endpoint create", sdk_create, lambda ctx, detail: check_endpoint_created(ctx, "rc-created", "emulator/app:1")),
        ("endpoint list", lambda ctx: sdk_client(ctx).gpu.endpoints.list(),
         lambda ctx, items: _missing(ctx.fixtures["endpoint"], [e.id for e in items])),
        ("endpoint get", lambda ctx: sdk_client(ctx).gpu.endpoints.get(ctx.fixtures["endpoint"]), sdk_get_check),
        ("endpoint update", sdk_update, update_check),
        ("endpoint delete", lambda ctx: sdk_client(ctx).gpu.endpoints.delete(ctx.fixtures["doomed_endpoint"]),
         lambda ctx, _r: check_endpoint_gone(ctx, ctx.fixtures["doomed_endpoint"])),
        ("registry list", lambda ctx: sdk_client(ctx).gpu.registries.list(),
         lambda ctx, items: None if sorted(a.name for a in items) == sorted(ctx.fixtures["auth_names"]) else
         "the client listed %s" % sorted(a.name for a in items)),
        ("registry save", lambda ctx: sdk_client(ctx).gpu.registries.create("rc-saved-auth", "rc-bot", "rc-saved-password"),
         sdk_check_auth_saved),
        ("registry delete", lambda ctx: sdk_client(ctx).gpu.registries.delete(ctx.fixtures["doomed_auth"]),
         lambda ctx, _r: None if all(a["id"] != ctx.fixtures["doomed_auth"] for a in ctx.stored("auths")) else
         "registry credential %s still exists after the delete" % ctx.fixtures["doomed_auth"]),
        ("storage list", lambda ctx: sdk_client(ctx).gpu.storages.list(),
         lambda ctx, items: _missing(ctx.fixtures["seeded_storage_names"][0], [s.storage_name for s in items])),
        ("storage create", sdk_storage_create,
         lambda ctx, _r: check_storage(ctx, lambda s: s["storageName"] == "rc-created-storage" and s["storageSize"] == 20,
                                       "rc-created-storage of 20 GB")),
        ("storage update", sdk_storage_update,
         lambda ctx, _r: check_storage(ctx, lambda s: s["storageId"] == ctx.fixtures["growing_storage"] and s["storageSize"] == 30
                                       and s["storageName"] == "rc-grown-storage", "%s grown to 30 GB" % ctx.fixtures["growing_storage"])),
        ("storage delete", lambda ctx: sdk_client(ctx).gpu.storages.delete(ctx.fixtures["doomed_storage"]),
         lambda ctx, _r: check_storage_gone(ctx, ctx.fixtures["doomed_storage"])),
        ("clusters list", lambda ctx: sdk_client(ctx).gpu.clusters.list(),
         lambda ctx, items: None if [c.id for c in items] == ctx.fixtures["cluster_ids"] else "the client listed %s" % [c.id for c in items]),
    ]


def run_call(ctx, client, call, run, check):
    """Run one call with a clean request log; its verdict, detail and the requests it made."""
    ctx.admin("DELETE", "requests")
    ctx.shared = {}
    error = result = None
    try:
        result = run(ctx)
    except Exception as exc:  # pylint: disable=broad-except
        error = one_line(str(exc) if isinstance(exc, ClientError) else "%s: %s" % (type(exc).__name__, exc))
    requests = ctx.emulator.requests()
    effect = None if error else check(ctx, result)
    verdict, detail = classify(client, call, error, requests, effect, ctx.shared.get("dropped", ()))
    return verdict, detail, requests


def run_client(ctx, client, calls, verbose):
    verdicts = []
    seed_fixtures(ctx)
    mounted = ctx.stored_endpoint(ctx.fixtures["endpoint"])
    ctx.fixtures["mounted_storage"] = mounted["volumeMounts"][0]["id"]
    ctx.fixtures["mounted_cluster"] = mounted["clusterID"]
    for call, run, check in calls:
        verdict, detail, requests = run_call(ctx, client, call, run, check)
        print(format_line(client, call, verdict, detail))
        if verbose:
            for entry in requests:
                print("    %s %s %s %s" % (entry["method"], entry["path"], entry.get("query") or "", entry.get("status")))
        verdicts.append((client, verdict))
    return verdicts


def installed_version(distribution):
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    return metadata.version(distribution)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--verbose", action="store_true", help="print the requests of every call")
    parser.add_argument("--keep", help="keep the emulator's work directory (its log) here")
    parser.add_argument("--profile", default="documented", choices=("documented", "strict"),
                        help="the emulator's profile (default documented: the API as documented and seen; under strict some calls fail)")
    parser.add_argument("--emulator", help="the emulator script to run (default: tests/emulator/novita_emulator.py of this tree)")
    args = parser.parse_args(argv)

    import matrix_common  # pylint: disable=import-outside-toplevel
    from matrix_common import Emulator, make_work_dir  # pylint: disable=import-outside-toplevel

    if args.emulator:
        matrix_common.EMULATOR_SCRIPT = os.path.abspath(args.emulator)

    for client, (distribution, version) in CLIENT_VERSIONS.items():
        found = installed_version(distribution)
        if found != version:
            raise SystemExit("%s: %s %s is installed, this script is for %s" % (client, distribution, found, version))
    work_dir = make_work_dir("real-clients", args.keep)
    api_key = "real-clients-" + binascii.hexlify(os.urandom(8)).decode("ascii")
    emulator = Emulator(work_dir, api_key, ["--profile", args.profile, "--quiet"])
    emulator.start()
    try:
        ctx = Context(emulator, api_key)
        verdicts = run_client(ctx, CLI, cli_calls(), args.verbose) + run_client(ctx, SDK, sdk_calls(), args.verbose)
    finally:
        emulator.stop()
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    for line in summary_lines(verdicts):
        print(line)
    return 1 if any(verdict == FAILED for _client, verdict in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
