#!/usr/bin/env python
# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault matrix: novita.cloud.novita_endpoint against every kind of API failure, in every phase of a run.

Each PHASE x FAULT cell has its own emulator (served in this process): it is reset and seeded, one
fault rule is installed for the phase's request, and the real module runs for it in a real
``ansible-playbook`` (one run for all cells, one inventory host per cell, so cells run in parallel
up to ``--forks``). The emulator's admin interface then tells what happened:

- the outcome: ``converged`` (the task succeeded, reported a change, and the emulator holds exactly
  what the task declared) or ``failed`` with a clear message (it names the method and path or the
  HTTP status, and is no Python traceback);
- no duplicate: the emulator never holds two endpoints with the declared name;
- no half-applied update: the stored endpoint is entirely the old configuration or entirely the new
  one, down to the environment variables and volume mounts the task did not mention.

Faults that fire once must end ``converged``; a persistent fault (``count`` 20, more than the
module's retries) must end ``failed`` with a clear message. Exit status 1 when any cell does not.

The ``503 spaced`` column puts two faults into one run, further apart than ``retry_timeout``: a 503 on
an early request (the lookup) and, after every request has been slowed down by the emulator's
``latency_ms`` (below the client's timeout), a 503 on a later one (the phase's write, or the wait
poll), run with ``NOVITA_RETRY_TIMEOUT=2``. ``retry_timeout`` bounds the retries of one request from
its own first failure, so both are retried and the run converges; a budget shared by the whole run
would be spent by the time the second fault comes, and the run would fail.

The stack modules get a compact set of extra rows, in the same playbook run (one more task per module,
each host running only its cell's): novita_registry_auth's save, and novita_network_storage's create,
grow (update) and delete, each with the transient faults of STACK_FAULTS once on its write request (and
a persistent 503). Each must converge (by a retry, or by adopting what the API did although its reply
was lost) or fail clearly, and never leave two credentials or storages with the declared name (counted
in GET /_emulator/auths and /_emulator/storages).

The bad-read rows (same playbook run) give every module that makes a safety decision on a list a list reply it must not
trust, on each list it reads: novita_endpoint by name (the lookup before a create: an endpoint named NAME exists, so a
create would be a duplicate) and with state=absent, novita_network_storage state=absent of a storage an endpoint mounts
(on the endpoint list and on the storage list), novita_registry_auth state=absent of a credential an endpoint uses (on the
endpoint list and on the credential list), and novita_endpoint_fleet with exclusive=true. The emulator pages lists by 2
(``max_page_size``) and holds enough endpoints and storages for several pages. The faults, all persistent (``count`` 20,
more than the retries): a malformed reply at status 200 (a gateway's error body), a short page (the items gone, the total
kept) and a repeated page (every page answered as the first). Each must end with the task failed, its message naming the
list call (GET and the path) and saying the list cannot be trusted, no write request (nothing but GETs in the request
log) and the emulator holding what it held. A fourth column runs the emulator with pages counted from 0 (``page_base``
0): that is legal, so the task must end as it does without any fault (converged, or refused because the storage or the
credential is in use). The last line counts the bad-read cells that refused: "safety decisions on bad reads: N/N refused".

Usage: python tests/matrix/fault_matrix.py --collections-path DIR [--forks N] [--phase P] [--fault F] [--verbose]
(DIR holds ansible_collections/novita/cloud; ansible-playbook must be on PATH.) Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EMULATOR = os.path.normpath(os.path.join(HERE, "..", "emulator", "novita_emulator.py"))
API_KEY = "fault-matrix-key-4b1d9e"
NAME = "fm-app"
CLIENT_TIMEOUT = 2  # the module's timeout option, in seconds
PLAYBOOK_TIMEOUT = 600  # the longest the playbook of all cells may run
# Persistent faults: fewer retries and a short retry budget keep the failing cells quick.
PERSISTENT_ENV = {"NOVITA_RETRIES": "2", "NOVITA_RETRY_TIMEOUT": "10"}
# Spaced faults: a short retry budget, and every request slowed down so that the two faults of a run
# are further apart than it (the second comes at least 2 x SPACED_LATENCY_MS after the first).
SPACED_RETRY_TIMEOUT = 2
SPACED_LATENCY_MS = 1200

# The endpoint as it is before an update or a delete (seeded, API-shaped).
OLD = {
    "name": NAME,
    "products": [{"id": "1"}],
    "rootfsSize": 100,
    "image": {"image": "nginx:1.25", "authId": "", "command": "serve --port 8000"},
    "workerConfig": {"minNum": 0, "maxNum": 2, "freeTimeout": 300, "maxConcurrent": 2, "gpuNum": 1},
    "policy": {"type": "queue", "value": 30},
    "ports": [{"port": 8000}],
    "envs": [{"key": "MODEL", "value": "opt-125m"}, {"key": "LOG_LEVEL", "value": "info"}],
    "volumeMounts": [{"type": "local", "size": 40, "id": "", "mountPath": "/workspace"}],
    "healthy": {"path": "/ready"},
}

# The endpoint a successful create or update leaves.
NEW = copy.deepcopy(OLD)
NEW["image"]["image"] = "nginx:1.27"
NEW["workerConfig"]["maxNum"] = 4
NEW["policy"]["value"] = 45

COMMON_ARGS = {"timeout": CLIENT_TIMEOUT, "wait_timeout": 30}

# Changes image, max_num and policy value only: envs, mounts, command and health path must survive.
UPDATE_ARGS = dict(COMMON_ARGS, name=NAME, image={"image": "nginx:1.27"}, worker_config={"max_num": 4}, policy={"value": 45})

CREATE_ARGS = dict(
    COMMON_ARGS,
    name=NAME,
    product_id="1",
    rootfs_size=100,
    image={"image": "nginx:1.27", "command": "serve --port 8000"},
    port=8000,
    worker_config={"min_num": 0, "max_num": 4, "free_timeout": 300, "max_concurrent": 2, "gpu_num": 1},
    policy={"type": "queue", "value": 45},
    healthy={"path": "/ready"},
    envs={"MODEL": "opt-125m", "LOG_LEVEL": "info"},
    volume_mounts=[{"type": "local", "size": 40, "mount_path": "/workspace"}],
)

DELETE_ARGS = dict(COMMON_ARGS, name=NAME, state="absent")

# --- the stack modules (registry credential, network storage): the name each declares, and what it must end with.
STACK_NAME = "fm-stack"
STACK_PASSWORD = "fm-registry-pw-5e0c2a9d7b41"  # must never appear in the output (the option is no_log)
AUTH_ARGS = {"timeout": CLIENT_TIMEOUT, "name": STACK_NAME, "username": "fm-bot", "password": STACK_PASSWORD}
STORAGE_SEED = {"storages": [{"storageId": "ns-50", "storageName": STACK_NAME, "storageSize": 50, "clusterId": "cluster-1"}]}
STORAGE_CREATE_ARGS = {"timeout": CLIENT_TIMEOUT, "name": STACK_NAME, "cluster_name": "us-east", "size": 50}
STORAGE_GROW_ARGS = {"timeout": CLIENT_TIMEOUT, "name": STACK_NAME, "size": 80}
STORAGE_DELETE_ARGS = {"timeout": CLIENT_TIMEOUT, "name": STACK_NAME, "state": "absent"}

LOOKUP = ("GET", "/endpoints")
POLL = ("GET", "/endpoint")

# phase -> the request the fault hits, the task, the state before (seed) and the declared state after.
# ``done`` is what a failure after the phase's earlier write must say was done. ``spaced``: the two
# requests, in the order the run sends them, that the two faults of the ``503 spaced`` column hit; the
# lookup phase has nothing before its request, so its second fault hits the last request of the run
# (the poll after the update).
PHASES = (
    {"name": "lookup", "method": "GET", "path": "/endpoints", "args": UPDATE_ARGS, "old": OLD, "new": NEW,
     "spaced": (LOOKUP, POLL)},
    {"name": "limits", "method": "GET", "path": "/endpoint/limit", "args": CREATE_ARGS, "old": None, "new": NEW,
     "spaced": (LOOKUP, ("GET", "/endpoint/limit"))},
    {"name": "create", "method": "POST", "path": "/endpoint/create", "args": CREATE_ARGS, "old": None, "new": NEW,
     "spaced": (LOOKUP, ("POST", "/endpoint/create"))},
    {"name": "update", "method": "POST", "path": "/endpoint/update", "args": UPDATE_ARGS, "old": OLD, "new": NEW,
     "spaced": (LOOKUP, ("POST", "/endpoint/update"))},
    {"name": "delete", "method": "POST", "path": "/endpoint/delete", "args": DELETE_ARGS, "old": OLD, "new": None,
     "spaced": (LOOKUP, ("POST", "/endpoint/delete"))},
    # Looked up by name, so GET /endpoint happens only in the polls; init_reads makes the first poll see initializing.
    {"name": "wait", "method": "GET", "path": "/endpoint", "args": CREATE_ARGS, "old": None, "new": NEW,
     "config": {"init_reads": 1}, "done": "created endpoint", "spaced": (LOOKUP, POLL)},
)

# Rows for the stack modules: the write request the fault hits, the task, the seed, where the emulator lists the resource
# (GET /_emulator/<resource>, <key> its name) and what the one item with STACK_NAME must hold after (None: no item).
STACK_PHASES = (
    {"name": "auth save", "module": "novita_registry_auth", "method": "POST", "path": "/repository/auth/save", "args": AUTH_ARGS,
     "seed": None, "resource": "auths", "key": "name", "new": {"username": "fm-bot", "password": STACK_PASSWORD}},
    {"name": "storage create", "module": "novita_network_storage", "method": "POST", "path": "/networkstorage/create",
     "args": STORAGE_CREATE_ARGS, "seed": None, "resource": "storages", "key": "storageName",
     "new": {"storageSize": 50, "clusterId": "cluster-1"}},
    {"name": "storage grow", "module": "novita_network_storage", "method": "POST", "path": "/networkstorage/update",
     "args": STORAGE_GROW_ARGS, "seed": STORAGE_SEED, "resource": "storages", "key": "storageName",
     "new": {"storageId": "ns-50", "storageSize": 80, "clusterId": "cluster-1"}},
    {"name": "storage delete", "module": "novita_network_storage", "method": "POST", "path": "/networkstorage/delete",
     "args": STORAGE_DELETE_ARGS, "seed": STORAGE_SEED, "resource": "storages", "key": "storageName", "new": None},
)

HTML_503 = ("<html><head><title>503 Service Temporarily Unavailable</title></head>"
            "<body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>")

# fault -> the rule (without method and path) and the outcome it must have.
FAULTS = (
    {"name": "429+RA", "rule": {"kind": "status", "status": 429, "retry_after": "1"}, "expect": "converged"},
    {"name": "500", "rule": {"kind": "status", "status": 500}, "expect": "converged"},
    {"name": "503 html", "rule": {"kind": "status", "status": 503, "body": HTML_503, "content_type": "text/html"}, "expect": "converged"},
    # A gateway timeout after the API did the work: the state changed although the answer is an error.
    {"name": "504 done", "rule": {"kind": "status", "status": 504, "process": True}, "expect": "converged"},
    {"name": "latency", "rule": {"kind": "latency", "delay_ms": 500}, "expect": "converged"},
    {"name": "timeout", "rule": {"kind": "timeout", "delay_ms": 3000}, "expect": "converged"},
    {"name": "drop", "rule": {"kind": "drop"}, "expect": "converged"},
    {"name": "truncate", "rule": {"kind": "truncate"}, "expect": "converged"},
    {"name": "non-json", "rule": {"kind": "non_json", "body": "garbage{"}, "expect": "converged"},
    {"name": "503 x20", "rule": {"kind": "status", "status": 503, "count": 20}, "expect": "failed", "env": PERSISTENT_ENV},
    # Two 503s in one run, at the phase's ``spaced`` requests, more than retry_timeout apart (see the docstring).
    {"name": "503 spaced", "rule": {"kind": "status", "status": 503}, "expect": "converged", "spaced": True,
     "env": {"NOVITA_RETRY_TIMEOUT": str(SPACED_RETRY_TIMEOUT)}, "config": {"latency_ms": SPACED_LATENCY_MS}},
)

# The faults the stack rows run (a compact set: the transient kinds, once, and the persistent 503).
STACK_FAULTS = ("429+RA", "503 html", "504 done", "timeout", "drop", "503 x20")

# --- bad reads: list replies a safety decision must not rest on.
FLEET_OLD = "fm-app-old"  # undeclared, in the fleet's exclusive scope: deleted when the list is whole
USER = "fm-user"  # mounts the storage and uses the credential the absent rows delete
USED_AUTH_ID = "auth-50"
USED_AUTH_PASSWORD = "fm-used-auth-pw-8c31f0a2"  # the list returns it in clear: it must never appear in the output
BAD_READ_CONFIG = {"max_page_size": 2}
FILLERS = [{"name": "fm-other-%d" % index} for index in range(1, 5)]
TARGETS = [
    {"name": USER, "image": {"image": "registry.example/private:1", "authId": USED_AUTH_ID},
     "volumeMounts": [{"type": "network", "id": "ns-50", "mountPath": "/models"}], "clusterID": "cluster-1"},
    OLD,
    dict(OLD, name=FLEET_OLD),
]
STORAGE_FILLERS = [{"storageId": "ns-5%d" % index, "storageName": "%s-%s" % (STACK_NAME, letter), "storageSize": 50, "clusterId": "cluster-1"}
                   for index, letter in ((1, "a"), (2, "b"), (3, "c"))]
STORAGE_TARGET = [{"storageId": "ns-50", "storageName": STACK_NAME, "storageSize": 50, "clusterId": "cluster-1"}]
AUTH_SEED = [{"id": USED_AUTH_ID, "name": STACK_NAME, "username": "fm-bot", "password": USED_AUTH_PASSWORD}]
# Every bad-read cell starts with lists paged by 2 and seven endpoints, and four storages whose names contain STACK_NAME (two
# pages of the storage list filtered by that name). With the faults, the endpoints and the storage that matter come last
# (endpoint pages 3 and 4, storage page 2): a repeated first page hides them. With pages counted from 0 they come first
# (page 0): a client that starts at page 1 misses them.
BAD_READ_SEED = {"endpoints": FILLERS + TARGETS, "storages": STORAGE_FILLERS + STORAGE_TARGET, "auths": AUTH_SEED}
BASE0_SEED = {"endpoints": TARGETS + FILLERS, "storages": STORAGE_TARGET + STORAGE_FILLERS, "auths": AUTH_SEED}
ENDPOINTS_LIST = "/endpoints"
STORAGES_LIST = "/networkstorages/list"
AUTHS_LIST = "/repository/auths"
FLEET_ARGS = {
    "timeout": CLIENT_TIMEOUT, "wait_timeout": 30, "exclusive": True, "exclusive_match": NAME,
    "endpoints": [dict((key, value) for key, value in CREATE_ARGS.items() if key not in COMMON_ARGS)],
}

# scenario -> the module and task, the lists whose bad replies it gets, and how it ends on whole lists (``expect``):
# converged with ``gone`` (names deleted) and NAME holding NEW when ``updated``, or failed with ``refusal`` in the message.
BAD_READ_SCENARIOS = (
    {"name": "endpoint create", "module": "novita_endpoint", "args": CREATE_ARGS, "lists": (ENDPOINTS_LIST,),
     "expect": "converged", "updated": True, "gone": ()},
    {"name": "endpoint absent", "module": "novita_endpoint", "args": DELETE_ARGS, "lists": (ENDPOINTS_LIST,),
     "expect": "converged", "updated": False, "gone": (NAME,)},
    {"name": "storage absent", "module": "novita_network_storage", "args": STORAGE_DELETE_ARGS, "lists": (ENDPOINTS_LIST, STORAGES_LIST),
     "expect": "failed", "refusal": "is mounted by 1 endpoint"},
    {"name": "auth absent", "module": "novita_registry_auth", "args": dict(timeout=CLIENT_TIMEOUT, name=STACK_NAME, state="absent"),
     "lists": (ENDPOINTS_LIST, AUTHS_LIST), "expect": "failed", "refusal": "is used by endpoint"},
    {"name": "fleet exclusive", "module": "novita_endpoint_fleet", "args": FLEET_ARGS, "lists": (ENDPOINTS_LIST,),
     "expect": "converged", "updated": True, "gone": (FLEET_OLD,)},
)
MALFORMED_200 = {"code": 500, "message": "internal error"}
# fault -> the rule (without method and path; None: no rule) and config. ``paged``: only for a paged list. ``base0`` runs once
# per scenario (it is config for every list) and must end as the scenario does without a fault.
BAD_READ_FAULTS = (
    {"name": "malformed", "rule": {"kind": "status", "status": 200, "body": MALFORMED_200, "count": 20}, "env": PERSISTENT_ENV},
    {"name": "short page", "rule": {"kind": "short_page", "count": 20}, "env": PERSISTENT_ENV},
    {"name": "repeated page", "rule": {"kind": "repeat_page", "count": 20}, "env": PERSISTENT_ENV, "paged": True},
    {"name": "page base 0", "rule": None, "config": {"page_base": 0}, "seed": BASE0_SEED, "base0": True},
)
TRUST_WORDS = re.compile(r"(?:cannot|could not|can not) be trusted")

# How a module crash shows: a traceback, or (ansible-core 2.19 without -vvv) "Module failed: <exception>".
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "Module failed:")
RESULT_LINE = re.compile(r"^(?P<host>[a-z0-9_]+) \| (?P<word>[A-Z]+)!?(?: \| rc=-?\d+)? => ", re.MULTILINE)


# --------------------------------------------------------------------------- emulator


def load_emulator(path):
    """The emulator module, imported from its file."""
    spec = importlib.util.spec_from_file_location("novita_emulator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class EmulatorAdmin:
    """One emulator, served in this process on a free loopback port, driven through its admin interface."""

    def __init__(self, emulator_module):
        self._emulator = emulator_module.Emulator(api_key=API_KEY)
        self.url = self._emulator.start("127.0.0.1", 0)

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.url + "/_emulator" + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))

    def stop(self):
        self._emulator.stop()


# --------------------------------------------------------------------------- comparison


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def comparable(endpoint):
    """The settings a task manages, normalised (numbers as ints, lists sorted)."""
    if endpoint is None:
        return None
    image = endpoint.get("image") or {}
    worker = endpoint.get("workerConfig") or {}
    policy = endpoint.get("policy") or {}
    return {
        "name": endpoint.get("name"),
        "products": [str(item.get("id")) for item in endpoint.get("products") or []],
        "rootfsSize": _int(endpoint.get("rootfsSize")),
        "image": {key: image.get(key) or "" for key in ("image", "authId", "command")},
        "workerConfig": {key: _int(worker.get(key)) for key in ("minNum", "maxNum", "freeTimeout", "maxConcurrent", "gpuNum")},
        "policy": {"type": policy.get("type"), "value": _int(policy.get("value"))},
        "ports": [_int(item.get("port")) for item in endpoint.get("ports") or []],
        "envs": sorted((item.get("key"), item.get("value") or "") for item in endpoint.get("envs") or []),
        "volumeMounts": sorted((item.get("type"), _int(item.get("size")), item.get("id") or "", item.get("mountPath") or "")
                               for item in endpoint.get("volumeMounts") or []),
        "healthyPath": (endpoint.get("healthy") or {}).get("path") or "",
    }


def differences(stored, wanted):
    if stored is None or wanted is None:
        return "absent" if stored is None else "present"
    return ", ".join(key for key in wanted if stored.get(key) != wanted.get(key))


# --------------------------------------------------------------------------- the playbook run

# Every option a cell may set, by module; the others are omitted.
MODULE_OPTIONS = ("name", "state", "product_id", "rootfs_size", "image", "port", "worker_config", "policy", "healthy",
                  "envs", "volume_mounts", "timeout", "wait_timeout")
STACK_OPTIONS = {
    "novita_registry_auth": ("name", "username", "password", "state", "timeout"),
    "novita_network_storage": ("name", "id", "size", "cluster_id", "cluster_name", "state", "force", "timeout"),
}
FLEET_OPTIONS = ("endpoints", "exclusive", "exclusive_match", "wait", "wait_timeout", "timeout")


def _task(title, module, options):
    return {
        "name": title,
        "novita.cloud." + module: dict(
            [("api_base_url", "{{ cell_url }}")] + [(option, "{{ cell_args.%s | default(omit) }}" % option) for option in options]),
        "environment": "{{ cell_env }}",
        "when": "cell_module == %s" % json.dumps(module),
    }


# JSON is YAML: one play over one host per cell, one task per module (each host runs its cell's), the real modules.
PLAYBOOK = [{
    "name": "Fault matrix",
    "hosts": "cells",
    "gather_facts": False,
    # Each host goes through its tasks at its own pace: the stack cells run while endpoint cells wait, not after them all.
    "strategy": "free",
    "tasks": [_task("Converge the endpoint", "novita_endpoint", MODULE_OPTIONS),
              _task("Converge the registry credential", "novita_registry_auth", STACK_OPTIONS["novita_registry_auth"]),
              _task("Converge the network storage", "novita_network_storage", STACK_OPTIONS["novita_network_storage"]),
              _task("Converge the fleet", "novita_endpoint_fleet", FLEET_OPTIONS)],
}]


def run_playbook(options, cells, work_dir):
    """Run every cell's task in one ansible-playbook; return ({host: result}, stdout, stderr)."""
    hosts = {}
    for cell in cells:
        hosts[cell["host"]] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "cell_url": cell["emulator"].url,
            "cell_module": cell["phase_def"].get("module", "novita_endpoint"),
            "cell_args": cell["args"],
            "cell_env": cell["env"],
        }
    inventory = os.path.join(work_dir, "inventory.json")
    playbook = os.path.join(work_dir, "playbook.json")
    with open(inventory, "w") as stream:
        json.dump({"cells": {"hosts": hosts}}, stream, indent=1)
    with open(playbook, "w") as stream:
        json.dump(PLAYBOOK, stream, indent=1)
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("NOVITA_"):
            del env[key]
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": options.collections_path,
        "ANSIBLE_STDOUT_CALLBACK": "minimal",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORKS": str(options.forks),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_PYTHON_INTERPRETER": "{{ ansible_playbook_python }}",
        "NOVITA_API_KEY": API_KEY,
    })
    try:
        completed = subprocess.run([options.ansible_playbook, "-i", inventory, playbook], env=env, cwd=work_dir,
                                   capture_output=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        stdout = (exc.stdout or b"").decode("utf-8", "replace")
        return parse_results(stdout), stdout, "ansible-playbook did not finish within %d s" % PLAYBOOK_TIMEOUT
    stdout = completed.stdout.decode("utf-8", "replace")
    return parse_results(stdout), stdout, completed.stderr.decode("utf-8", "replace")


def parse_results(stdout):
    """{host: task result} from the minimal callback's output; ``failed`` is set from the status word."""
    results = {}
    decoder = json.JSONDecoder()
    for match in RESULT_LINE.finditer(stdout):
        try:
            result, _end = decoder.raw_decode(stdout[match.end():])
        except ValueError:
            continue
        if isinstance(result, dict):
            result["failed"] = match.group("word") in ("FAILED", "UNREACHABLE")
            results[match.group("host")] = result
    return results


def fault_targets(phase, fault):
    """The (method, path) of each request the cell's fault rules hit: the phase's, or its two spaced requests."""
    if fault is None or fault.get("rule") is None:
        return []
    if fault.get("spaced"):
        return list(phase["spaced"])
    return [(phase["method"], phase["path"])]


def prepare(cell):
    emulator, phase, fault = cell["emulator"], cell["phase_def"], cell["fault_def"]
    emulator.admin("POST", "/reset")
    config = dict(phase.get("config") or {}, **((fault or {}).get("config") or {}))
    if config:
        emulator.admin("POST", "/config", config)
    if phase.get("old") is not None:
        emulator.admin("POST", "/seed", {"endpoints": [phase["old"]]})
    seed = (fault or {}).get("seed") or phase.get("seed")
    if seed:
        emulator.admin("POST", "/seed", seed)
    for method, path in fault_targets(phase, fault):
        rule = dict(fault["rule"], method=method, path=path)
        rule.setdefault("count", 1)
        emulator.admin("POST", "/faults", rule)
    if phase.get("bad_read"):
        cell["before"] = snapshot(emulator)


# --------------------------------------------------------------------------- judging one cell


def judge(cell, result, stdout, stderr):
    """Fill in the cell's outcome and problems from the task result and the emulator's state and log."""
    if cell["phase_def"].get("bad_read"):
        return judge_bad_read(cell, result, stdout, stderr)
    if cell["phase_def"].get("module"):
        return judge_stack(cell, result, stdout, stderr)
    phase, fault, emulator = cell["phase_def"], cell["fault_def"], cell["emulator"]
    stored = [item for item in emulator.admin("GET", "/endpoints")["endpoints"] if item.get("name") == NAME]
    log = emulator.admin("GET", "/requests")["requests"]
    cell.update(result=result, log=log, stored=stored, problems=[], outcome=None, retries=None, duplicates=0, half_applied=0)
    problems = cell["problems"]

    # Invariants first: they hold whatever the outcome.
    if len(stored) > 1:
        cell["duplicates"] = 1
        problems.append("duplicate: %d endpoints named %s" % (len(stored), NAME))
    old, new = comparable(phase["old"]), comparable(phase["new"])
    now = comparable(stored[0]) if stored else None
    if len(stored) == 1 and now not in (old, new):
        cell["half_applied"] = 1
        problems.append("half-applied: stored endpoint differs from the old config in %s and from the new one in %s"
                        % (differences(now, old), differences(now, new)))
    if API_KEY in stdout or API_KEY in stderr:
        problems.append("the API key appears in the output")
    for method, path in fault_targets(phase, fault):
        if not any(entry.get("fault") and entry["method"] == method and entry["path"] == path for entry in log):
            problems.append("the fault never fired (no %s %s request)" % (method, path))
    if fault is not None and fault.get("spaced"):
        # The run sends one request at a time and each takes latency_ms: the second fault's reply came at least
        # (requests sent after the first fault, the second included) x latency_ms after the first fault's reply.
        fired = [entry["seq"] for entry in log if entry.get("fault")]
        gap = (fired[-1] - fired[0]) * SPACED_LATENCY_MS / 1000.0 if len(fired) == 2 else 0
        cell["gap"] = gap
        if len(fired) == 2 and gap <= SPACED_RETRY_TIMEOUT:
            problems.append("not spaced: the two faults came only %.1f s apart, retry_timeout is %d s" % (gap, SPACED_RETRY_TIMEOUT))

    if result is None:
        problems.append("no task result for %s in the output" % cell["host"])
        cell["outcome"] = "error"
        return
    msg = str(result.get("msg") or "")
    if result.get("failed"):
        cell["outcome"] = "failed"
        text = json.dumps(result)
        if not msg:
            problems.append("failed without a message")
        elif any(marker in text for marker in TRACEBACK_MARKERS) or "exception" in result or "module_stderr" in result:
            problems.append("traceback: the module crashed: %s" % msg.splitlines()[0])
        elif not ("%s %s" % (phase["method"], phase["path"]) in msg or re.search(r"\bHTTP [1-5]\d\d\b", msg)):
            problems.append("unclear message: it names neither the request nor a status: %s" % msg)
        if phase.get("done") and msg and phase["done"] not in msg:
            problems.append("unclear message: it does not say what was done (%r): %s" % (phase["done"], msg))
    else:
        cell["outcome"] = "converged"
        if not result.get("changed"):
            problems.append("no change: the task reported changed=false")
        if now != new:
            problems.append("state differs: the emulator does not hold the declaration (%s)" % differences(now, new))
    if cell["outcome"] != cell["expect"]:
        problems.append("%s: expected %s%s" % (cell["outcome"], cell["expect"], (" (msg: %s)" % msg) if msg else ""))


def judge_stack(cell, result, stdout, stderr):
    """judge() for a stack module's cell: no duplicate with the declared name; converged means the emulator holds exactly the declaration."""
    phase, fault, emulator = cell["phase_def"], cell["fault_def"], cell["emulator"]
    resource, key = phase["resource"], phase["key"]
    stored = [item for item in emulator.admin("GET", "/" + resource)[resource] if item.get(key) == STACK_NAME]
    log = emulator.admin("GET", "/requests")["requests"]
    cell.update(result=result, log=log, stored=stored, problems=[], outcome=None, retries=None, duplicates=0, half_applied=0, adopted=False)
    problems = cell["problems"]
    if len(stored) > 1:
        cell["duplicates"] = 1
        problems.append("duplicate: %d %s named %s" % (len(stored), resource, STACK_NAME))
    if API_KEY in stdout or API_KEY in stderr:
        problems.append("the API key appears in the output")
    if STACK_PASSWORD in stdout or STACK_PASSWORD in stderr:
        problems.append("the registry password appears in the output")
    for method, path in fault_targets(phase, fault):
        if not any(entry.get("fault") and entry["method"] == method and entry["path"] == path for entry in log):
            problems.append("the fault never fired (no %s %s request)" % (method, path))
    if result is None:
        problems.append("no task result for %s in the output" % cell["host"])
        cell["outcome"] = "error"
        return
    msg = str(result.get("msg") or "")
    if result.get("failed"):
        cell["outcome"] = "failed"
        text = json.dumps(result)
        if not msg:
            problems.append("failed without a message")
        elif any(marker in text for marker in TRACEBACK_MARKERS) or "exception" in result or "module_stderr" in result:
            problems.append("traceback: the module crashed: %s" % msg.splitlines()[0])
        elif not ("%s %s" % (phase["method"], phase["path"]) in msg or re.search(r"\bHTTP [1-5]\d\d\b", msg)):
            problems.append("unclear message: it names neither the request nor a status: %s" % msg)
    else:
        cell["outcome"] = "converged"
        # Adopted: the write got no clear reply and was not sent again (the module found what the API had done). Its warning
        # says so too, but the minimal callback prints warnings apart from the host's result.
        writes = [entry for entry in log if entry["method"] == phase["method"] and entry["path"] == phase["path"]]
        cell["adopted"] = len(writes) == 1 and bool(writes[0].get("fault")) and bool(writes[0].get("processed"))
        if not result.get("changed"):
            problems.append("no change: the task reported changed=false")
        want = phase["new"]
        if want is None and stored:
            problems.append("state differs: %d %s named %s remain" % (len(stored), resource, STACK_NAME))
        elif want is not None and (len(stored) != 1 or any(stored[0].get(k) != v for k, v in want.items())):
            problems.append("state differs: the emulator does not hold the declaration (%s)" % stack_text(phase, stored))
    if cell["outcome"] != cell["expect"]:
        problems.append("%s: expected %s%s" % (cell["outcome"], cell["expect"], (" (msg: %s)" % msg) if msg else ""))


def snapshot(emulator):
    """What the emulator holds that a task may change: endpoints (ID, name and managed settings), credentials, storages."""
    return {
        "endpoints": dict((item["id"], comparable(item)) for item in emulator.admin("GET", "/endpoints")["endpoints"]),
        "auths": dict((item["id"], [item.get("name"), item.get("username"), item.get("password")])
                      for item in emulator.admin("GET", "/auths")["auths"]),
        "storages": dict((item["storageId"], [item.get("storageName"), item.get("storageSize"), item.get("clusterId")])
                         for item in emulator.admin("GET", "/storages")["storages"]),
    }


def expected_after(scenario, before):
    """The snapshot a scenario leaves when it runs on whole lists."""
    after = copy.deepcopy(before)
    if scenario["expect"] != "converged":
        return after
    endpoints = after["endpoints"]
    for endpoint_id in [key for key, value in endpoints.items() if value["name"] in scenario["gone"]]:
        del endpoints[endpoint_id]
    if scenario["updated"]:
        for endpoint_id in [key for key, value in endpoints.items() if value["name"] == NAME]:
            endpoints[endpoint_id] = comparable(NEW)
    return after


def snapshot_changes(before, after):
    """What differs between two snapshots, in a few words."""
    changes = []
    for kind in ("endpoints", "auths", "storages"):
        old, new = before[kind], after[kind]
        label = (lambda key, value: "%s (%s)" % (value["name"], key)) if kind == "endpoints" else (lambda key, value: "%s (%s)" % (value[0], key))
        changes += ["%s gone: %s" % (kind, label(key, old[key])) for key in sorted(set(old) - set(new))]
        changes += ["%s new: %s" % (kind, label(key, new[key])) for key in sorted(set(new) - set(old))]
        changes += ["%s changed: %s" % (kind, label(key, new[key])) for key in sorted(set(old) & set(new)) if old[key] != new[key]]
    return ", ".join(changes)


def names_list_call(msg, path):
    """Whether an error message names the list call: GET and the path (alone or at the end of a URL)."""
    return re.search(r"\bGET \S*%s(?![\w/])" % re.escape(path), msg) is not None


def judge_bad_read(cell, result, stdout, stderr):
    """judge() for a bad-read cell: a bad list ends failed, naming the list and saying it cannot be trusted, with no write and
    nothing changed; page base 0 (and the baseline) ends as the scenario does on whole lists."""
    scenario, fault, emulator = cell["phase_def"], cell["fault_def"], cell["emulator"]
    after = snapshot(emulator)
    log = emulator.admin("GET", "/requests")["requests"]
    stored = [item for item in after["endpoints"].values() if item["name"] == NAME]
    cell.update(result=result, log=log, stored=stored, after=after, problems=[], outcome=None, retries=None, duplicates=0, half_applied=0)
    problems = cell["problems"]
    bad = fault is not None and not fault.get("base0")
    if len(stored) > 1:
        cell["duplicates"] = 1
        problems.append("duplicate: %d endpoints named %s" % (len(stored), NAME))
    for secret, what in ((API_KEY, "the API key"), (USED_AUTH_PASSWORD, "the seeded registry password")):
        if secret in stdout or secret in stderr:
            problems.append("%s appears in the output" % what)
    for method, path in fault_targets(scenario, fault):
        if not any(entry.get("fault") and entry["method"] == method and entry["path"] == path for entry in log):
            problems.append("the fault never fired (no %s %s request)" % (method, path))
    writes = [entry for entry in log if entry["method"] != "GET"]
    if result is None:
        problems.append("no task result for %s in the output" % cell["host"])
        cell["outcome"] = "error"
        return
    msg = str(result.get("msg") or "")
    text = json.dumps(result)
    cell["outcome"] = "failed" if result.get("failed") else "converged"
    if result.get("failed") and (any(marker in text for marker in TRACEBACK_MARKERS) or "exception" in result or "module_stderr" in result):
        problems.append("traceback: the module crashed: %s" % (msg.splitlines() or [""])[0])
    if bad:
        path = scenario["path"]
        if writes:
            problems.append("wrote on a bad list: %s" % ", ".join("%s %s" % (entry["method"], entry["path"]) for entry in writes))
        if after != cell["before"]:
            problems.append("state changed: %s" % snapshot_changes(cell["before"], after))
        if not result.get("failed"):
            problems.append("trusted: the task succeeded on a bad list (changed=%s)" % bool(result.get("changed")))
        elif not names_list_call(msg, path) or not TRUST_WORDS.search(msg):
            problems.append("unclear message: it does not name GET %s and say the list cannot be trusted: %s" % (path, msg))
        return
    wanted = expected_after(scenario, cell["before"])
    if after != wanted:
        problems.append("state differs: %s" % snapshot_changes(wanted, after))
    if scenario["expect"] == "failed":
        if writes:
            problems.append("wrote: %s" % ", ".join("%s %s" % (entry["method"], entry["path"]) for entry in writes))
        if not result.get("failed") or scenario["refusal"] not in msg:
            problems.append("not refused: expected a failure saying %r (msg: %s)" % (scenario["refusal"], msg))
    elif result.get("failed") or not result.get("changed"):
        problems.append("not converged: failed=%s changed=%s%s" % (bool(result.get("failed")), bool(result.get("changed")),
                                                                   (" (msg: %s)" % msg) if msg else ""))


def stack_text(phase, stored):
    """The items with the declared name, for a message: never a password."""
    keep = ("id", "name", "username") if phase["resource"] == "auths" else ("storageId", "storageName", "storageSize", "clusterId")
    return json.dumps([dict((k, item.get(k)) for k in keep) for item in stored])


# --------------------------------------------------------------------------- report


def cell_text(cell):
    if cell is None:
        return "-"
    if cell["problems"]:
        return "FAIL: " + short_reason(cell["problems"])
    if cell["phase_def"].get("bad_read"):
        if cell["fault_def"] is not None and not cell["fault_def"].get("base0"):
            return "refused"
        return "converged" if cell["outcome"] == "converged" else "failed: in use"
    if cell["outcome"] == "converged":
        if cell.get("adopted"):
            return "converged (adopted)"
        retries = cell["retries"]
        return "converged (%s %s)" % (retries, "retry" if retries == 1 else "retries") if retries is not None else "converged"
    return "failed: clear"


def short_reason(problems):
    """A few words for the table: the invariant broken, else the first problem's label."""
    for label in ("duplicate", "half-applied", "traceback", "wrote on a bad list", "trusted", "state changed"):
        if any(problem.startswith(label) for problem in problems):
            return label
    return problems[0].split(":", 1)[0]


def print_table(phases, faults, cells):
    header = ["phase"] + [fault["name"] for fault in faults]
    rows = [[phase["name"]] + [cell_text(cells.get((phase["name"], fault["name"]))) for fault in faults] for phase in phases]
    widths = [max(len(row[index]) for row in [header] + rows) for index in range(len(header))]
    line = "+".join("-" * (width + 2) for width in widths)
    print("+" + line + "+")
    print("| " + " | ".join(text.ljust(width) for text, width in zip(header, widths)) + " |")
    print("+" + line + "+")
    for row in rows:
        print("| " + " | ".join(text.ljust(width) for text, width in zip(row, widths)) + " |")
    print("+" + line + "+")


def describe_log(log):
    parts = []
    for entry in log:
        text = "%s %s -> %s" % (entry["method"], entry["path"], entry["status"] if entry["status"] is not None else "closed")
        if entry.get("fault"):
            text += " [%s%s]" % (entry.get("fault_kind") or "fault", "" if entry.get("processed") else ", not processed")
        parts.append(text)
    return "; ".join(parts)


def print_bad_read_table(rows, cells):
    header = ["bad read"] + [fault["name"] for fault in BAD_READ_FAULTS]
    lines = [[row["name"]] + [cell_text(cells.get((row["name"], fault["name"]))) for fault in BAD_READ_FAULTS] for row in rows]
    widths = [max(len(line[index]) for line in [header] + lines) for index in range(len(header))]
    rule = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    print(rule)
    print("| " + " | ".join(text.ljust(width) for text, width in zip(header, widths)) + " |")
    print(rule)
    for line in lines:
        print("| " + " | ".join(text.ljust(width) for text, width in zip(line, widths)) + " |")
    print(rule)


def print_details(cell, verbose):
    if not cell["problems"] and not verbose:
        return
    title = "%s x %s" % (cell["phase"], cell["fault"]) if cell["fault"] else "%s (no fault)" % cell["phase"]
    print("%s: %s" % (title, "; ".join(cell["problems"]) or cell_text(cell)))
    result = cell["result"] or {}
    if result.get("msg"):
        print("    msg: %s" % result["msg"])
    print("    requests: %s" % describe_log(cell["log"]))
    if cell["phase_def"].get("bad_read"):
        print("    endpoints: %s" % ", ".join(sorted(item["name"] for item in cell["after"]["endpoints"].values())))
    elif cell["phase_def"].get("module"):
        print("    %s named %s: %s" % (cell["phase_def"]["resource"], STACK_NAME, stack_text(cell["phase_def"], cell["stored"])))
    else:
        print("    endpoints named %s: %s" % (NAME, json.dumps([comparable(item) for item in cell["stored"]])))


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Run novita_endpoint (and the stack modules' writes) against injected API faults (see the module docstring).")
    parser.add_argument("--collections-path", required=True, help="directory that contains ansible_collections/novita/cloud")
    parser.add_argument("--emulator", default=DEFAULT_EMULATOR, help="path of novita_emulator.py (default: this repository's)")
    parser.add_argument("--ansible-playbook", default="ansible-playbook", help="ansible-playbook command (default: from PATH)")
    parser.add_argument("--forks", type=int, default=8, help="cells run at once (ansible forks, default 8); each cell has its own emulator")
    parser.add_argument("--phase", action="append", choices=[phase["name"] for phase in PHASES + STACK_PHASES + BAD_READ_SCENARIOS],
                        help="run only this phase, stack row or bad-read scenario (repeatable)")
    parser.add_argument("--fault", action="append", choices=[fault["name"] for fault in FAULTS + BAD_READ_FAULTS],
                        help="run only this fault (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print the request log of every cell, not only of failing ones")
    options = parser.parse_args(argv)
    options.collections_path = os.path.abspath(options.collections_path)
    if not os.path.isdir(os.path.join(options.collections_path, "ansible_collections", "novita", "cloud")):
        parser.error("--collections-path: no ansible_collections/novita/cloud in %s" % options.collections_path)
    if shutil.which(options.ansible_playbook) is None:
        parser.error("%s not found on PATH" % options.ansible_playbook)
    if options.forks < 1:
        parser.error("--forks must be at least 1")
    return options


def bad_read_rows(scenarios, faults):
    """The bad-read rows: one per scenario and list it reads, each a phase definition; ``faults`` the faults each runs."""
    rows = []
    for scenario in scenarios:
        for index, path in enumerate(scenario["lists"]):
            row = dict(scenario, name="%s: GET %s" % (scenario["name"], path), scenario=scenario["name"], path=path, bad_read=True,
                       method="GET", config=BAD_READ_CONFIG, seed=BAD_READ_SEED, old=None)
            row["faults"] = [fault for fault in faults
                             if (not fault.get("paged") or path != AUTHS_LIST) and (not fault.get("base0") or index == 0)]
            rows.append(row)
    return rows


def make_cell(emulator_module, phase, fault):
    name = "%s-%s" % (phase["name"], fault["name"] if fault else "baseline")
    return {
        "host": re.sub(r"[^a-z0-9]+", "_", name.lower()),
        "phase": phase["name"],
        "fault": fault["name"] if fault else None,
        "phase_def": phase,
        "fault_def": fault,
        "expect": fault.get("expect", "refused") if fault else "converged",
        "args": phase["args"],
        "env": dict(fault.get("env") or {}) if fault else {},
        "emulator": EmulatorAdmin(emulator_module),
    }


def main(argv=None):
    options = parse_args(argv)
    phases = [phase for phase in PHASES if not options.phase or phase["name"] in options.phase]
    faults = [fault for fault in FAULTS + BAD_READ_FAULTS if not options.fault or fault["name"] in options.fault]
    stack_phases = [phase for phase in STACK_PHASES if not options.phase or phase["name"] in options.phase]
    stack_faults = [fault for fault in faults if fault["name"] in STACK_FAULTS]
    faults = [fault for fault in faults if fault in FAULTS]
    scenarios = [scenario for scenario in BAD_READ_SCENARIOS if not options.phase or scenario["name"] in options.phase]
    bad_rows = bad_read_rows(scenarios, [fault for fault in BAD_READ_FAULTS if not options.fault or fault["name"] in options.fault])
    started = time.monotonic()
    emulator_module = load_emulator(options.emulator)
    baselines = {}
    cells = {}
    work_dir = tempfile.mkdtemp(prefix="novita-fault-matrix-")
    try:
        for phase in phases:
            baselines[phase["name"]] = make_cell(emulator_module, phase, None)
            for fault in faults:
                cells[(phase["name"], fault["name"])] = make_cell(emulator_module, phase, fault)
        for phase in stack_phases:
            baselines[phase["name"]] = make_cell(emulator_module, phase, None)
            for fault in stack_faults:
                cells[(phase["name"], fault["name"])] = make_cell(emulator_module, phase, fault)
        for row in bad_rows:
            if row["scenario"] not in baselines:
                baselines[row["scenario"]] = make_cell(emulator_module, row, None)
            for fault in row["faults"]:
                cells[(row["name"], fault["name"])] = make_cell(emulator_module, row, fault)
        everything = list(baselines.values()) + list(cells.values())
        for cell in everything:
            prepare(cell)
        results, stdout, stderr = run_playbook(options, everything, work_dir)
        for cell in everything:
            judge(cell, results.get(cell["host"]), stdout, stderr)
    finally:
        for cell in list(baselines.values()) + list(cells.values()):
            cell["emulator"].stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    for phase in phases + stack_phases:
        baseline = baselines[phase["name"]]
        for fault in (stack_faults if phase.get("module") else faults):
            cell = cells[(phase["name"], fault["name"])]
            if cell["outcome"] == "converged" and not baseline["problems"]:
                cell["retries"] = len(cell["log"]) - len(baseline["log"])

    broken_baselines = [cell for cell in baselines.values() if cell["problems"]]
    if not results:
        print("ansible-playbook printed no task result; its output:")
        print((stdout + "\n" + stderr).strip())
    print("Baseline without faults (requests per run): "
          + ", ".join("%s %s" % (name, len(cell["log"]) if not cell["problems"] else "FAIL") for name, cell in baselines.items()))
    print("Each cell: the fault hits the phase's request once (count=1), or 20 times for '503 x20' (run with NOVITA_RETRIES=2).")
    spaced = [cell for cell in cells.values() if cell["fault_def"].get("spaced") and cell.get("gap")]
    if spaced:
        print("'503 spaced': a 503 on the lookup, then one on %s; every request delayed %d ms; NOVITA_RETRY_TIMEOUT=%d;"
              " the two faults at least %.1f s apart (%s)."
              % ("the phase's request (lookup: on the poll after the update)", SPACED_LATENCY_MS, SPACED_RETRY_TIMEOUT,
                 min(cell["gap"] for cell in spaced), ", ".join("%s %.1f s" % (cell["phase"], cell["gap"]) for cell in spaced)))
    print("converged (N retries): N requests beyond the fault-free run of the same phase.")
    if stack_phases:
        print("Stack rows (%s): only the faults %s; converged (adopted): the reply was lost, the module found what the API had done"
              " and took it over (no second write); '-': not run."
              % (", ".join(phase["name"] for phase in stack_phases), ", ".join(fault["name"] for fault in stack_faults)))
    if phases or stack_phases:
        print_table(phases + stack_phases, faults, cells)
    if bad_rows:
        outcomes = ", ".join("%s %s" % (scenario["name"], cell_text(baselines[scenario["name"]])) for scenario in scenarios)
        print("Bad-read rows (module: the list it reads): lists paged by %d; the faults persistent (count 20, NOVITA_RETRIES=2);"
              " refused: failed naming the list, no write, nothing changed; page base 0: ends as without a fault (baseline: %s)."
              % (BAD_READ_CONFIG["max_page_size"], outcomes))
        print_bad_read_table(bad_rows, cells)
    for cell in broken_baselines:
        print_details(cell, True)
    for phase in phases + stack_phases:
        for fault in (stack_faults if phase.get("module") else faults):
            print_details(cells[(phase["name"], fault["name"])], options.verbose)
    for row in bad_rows:
        for fault in row["faults"]:
            print_details(cells[(row["name"], fault["name"])], options.verbose)
    endpoint_cells = [cell for cell in cells.values() if not cell["phase_def"].get("module")]
    stack_cells = [cell for cell in cells.values() if cell["phase_def"].get("module") and not cell["phase_def"].get("bad_read")]
    bad_cells = [cell for cell in cells.values() if cell["phase_def"].get("bad_read") and not cell["fault_def"].get("base0")]
    base0_cells = [cell for cell in cells.values() if cell["phase_def"].get("bad_read") and cell["fault_def"].get("base0")]
    handled = sum(1 for cell in endpoint_cells if not cell["problems"])
    stack_handled = sum(1 for cell in stack_cells if not cell["problems"])
    refused = sum(1 for cell in bad_cells if not cell["problems"])
    base0_right = sum(1 for cell in base0_cells if not cell["problems"])
    duplicates = sum(cell["duplicates"] for cell in everything)
    half_applied = sum(cell["half_applied"] for cell in everything)
    print("wall time: %.0f s" % (time.monotonic() - started))
    print("fault matrix: %d/%d cells handled (%d phases x %d faults); duplicates: %d; half-applied updates: %d;"
          " stack modules: %d/%d cells handled (%d phases x %d faults); safety decisions on bad reads: %d/%d refused"
          " (page base 0: %d/%d right)"
          % (handled, len(endpoint_cells), len(phases), len(faults), duplicates, half_applied,
             stack_handled, len(stack_cells), len(stack_phases), len(stack_faults), refused, len(bad_cells), base0_right, len(base0_cells)))
    return 0 if (handled == len(endpoint_cells) and stack_handled == len(stack_cells) and refused == len(bad_cells)
                 and base0_right == len(base0_cells) and not broken_baselines) else 1


if __name__ == "__main__":
    sys.exit(main())
