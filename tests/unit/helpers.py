# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the unit tests share: the fake Novita API client, the fake HTTP layer under the real client, the data the fakes
serve, and the readers of the modules' documentation and of the tools. The fixtures are in conftest.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import copy
import functools
import importlib.util
import io
import json
import os
import threading
import time
import urllib.error
import urllib.request
from urllib.error import HTTPError
from urllib.parse import urlsplit

import yaml

from ansible_collections.novita.cloud.plugins.module_utils.api import API_PREFIX, ListPager, NovitaAPIError, NovitaClient, Scrubber

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

LIMITS = {"minWorkerNum": 0, "maxWorkerNum": 10, "minQueueWaitTime": 1, "maxQueueWaitTime": 60, "minGPUNum": 1, "maxGPUNum": 4}

CLUSTERS = [
    {"id": "c1", "name": "us-east", "availableGpuType": ["RTX 4090 24GB"], "supportNetworkStorage": True, "supportInstanceNetwork": True},
    {"id": "c2", "name": "eu-west", "availableGpuType": ["A100 80GB"], "supportNetworkStorage": "true", "supportInstanceNetwork": 0},
    {"id": "c3", "name": "ap-south", "availableGpuType": [], "supportNetworkStorage": False, "supportInstanceNetwork": False},
]

HUB_PASSWORD = "hub-password-0ld"
NEW_PASSWORD = "hub-password-n3w"
OTHER_PASSWORD = "other-password-9x"


def failure_of(task, error_class):
    """The ``error_class`` error that ``task.run()`` raises (the test fails when it raises none)."""
    try:
        task.run()
    except error_class as error:
        return error
    raise AssertionError("%s.run() raised no %s" % (type(task).__name__, error_class.__name__))


# ---------------------------------------------------------------------------
# the data the API holds


def endpoint_data(endpoint_id, name, **overrides):
    """An endpoint as GET /endpoint and GET /endpoints return it, serving; ``overrides`` replace top-level keys."""
    data = {
        "id": endpoint_id, "name": name, "appName": endpoint_id, "state": {"state": "serving"},
        "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": "300", "maxConcurrent": "1", "gpuNum": 1},
        "policy": {"type": "queue", "value": "1"}, "image": {"image": "img", "authId": "", "command": "run"},
        "rootfsSize": 100, "volumeMounts": [{"type": "local", "size": 30, "mountPath": "/workspace"}],
        "envs": [{"key": "A", "value": "1"}], "ports": [{"port": "8000"}],
        "products": [{"id": "1"}], "healthy": {"path": "/ready"},
    }
    data.update(overrides)
    return data


def storage(storage_id, name, size=100, cluster="c1", cluster_name="us-east"):
    """A network storage as GET /networkstorages/list returns it."""
    return {"storageId": storage_id, "storageName": name, "storageSize": size, "clusterId": cluster, "clusterName": cluster_name,
            "price": "0.07"}


def mounting(endpoint_id, name, storage_id):
    """An endpoint in cluster c1 that mounts network storage ``storage_id``."""
    return endpoint_data(endpoint_id, name, volumeMounts=[{"type": "local", "size": 30, "mountPath": "/workspace"},
                                                          {"type": "network", "id": storage_id, "mountPath": "/models"}],
                         clusterID="c1")


def auths(*extra):
    """Two registry credentials as GET /repository/auths returns them (passwords included), then ``extra``."""
    return [{"id": "a1", "name": "hub", "username": "bot", "password": HUB_PASSWORD},
            {"id": "a2", "name": "other", "username": "someone", "password": OTHER_PASSWORD}] + list(extra)


def using(endpoint_id, name, auth_id="a1"):
    """An endpoint whose image is pulled with registry credential ``auth_id``, with settings of its own to keep."""
    return endpoint_data(endpoint_id, name, image={"image": "ghcr.io/team/server:2", "authId": auth_id, "command": "serve --port 8000"},
                         envs=[{"key": "LOG_LEVEL", "value": "debug"}, {"key": "TOKEN", "value": "env-secret-value"}],
                         healthy={"path": "/ready"}, clusterID="cluster-1",
                         volumeMounts=[{"type": "local", "size": 30, "mountPath": "/workspace"},
                                       {"type": "network", "id": "ns-1", "mountPath": "/models"}],
                         workerConfig={"minNum": 1, "maxNum": 3, "freeTimeout": "120", "maxConcurrent": "4", "gpuNum": 2,
                                       "requestTimeout": 90, "cudaVersion": "12.4"},
                         policy={"type": "concurrency", "value": "5"})


# ---------------------------------------------------------------------------
# the fake client


class FakeClient:
    """A thread-safe in-memory stand-in for NovitaClient: answers the Novita endpoint, registry credential, network storage
    and cluster calls and records them in ``calls`` ((kind, path), kind GET, LIST or POST), the query of every GET in
    ``queries`` ((path, query)) and the body of every POST in ``bodies`` ((path, body))."""

    def __init__(self, endpoints=(), states=None, not_found=404, faults=None, fail_create_for=(), delay=0.0, auths=(), storages=(),
                 clusters=tuple(CLUSTERS), limits=None, reply_id=True, size_type=int, page_size=None, bad_replies=None,
                 fail_reads=None, read_error=None, read_only=False):
        self.lock = threading.RLock()  # around the data, the faults and the logs; fleet tests write on threads
        self.endpoints = dict((e["id"], copy.deepcopy(e)) for e in endpoints)
        self.states = states or {}  # id -> list of states (or whole state dicts) the next gets report
        self.not_found = not_found  # 404, or 400 with the reason SERVERLESS_ENDPOINT_NOT_FOUND (Novita's documented error)
        self.faults = faults  # path -> list of (exception, processed) (or None: no fault) for the next POSTs to that path; processed: the write is made
        self.fail_create_for = set(fail_create_for)  # names whose create is refused with a 400 "no capacity"
        self.delay = delay  # seconds each POST takes; max_active is the most POSTs that were in progress at once
        self.auths = copy.deepcopy(list(auths))  # the items GET /repository/auths returns; a save adds one (no ID in the reply)
        self.storages = copy.deepcopy(list(storages))  # GET /networkstorages/list filters them by name (a substring) and ID, pages by pageNo
        self.clusters = copy.deepcopy(list(clusters))  # the items GET /clusters returns
        self.limits = copy.deepcopy(LIMITS if limits is None else limits)  # what GET /endpoint/limit returns
        self.reply_id = reply_id  # a storage create answers {"storageId": ...}, {} when false, the bare ID (a JSON string) when "string"
        self.size_type = size_type  # the type storage sizes are listed as (int or str)
        self.page_size = page_size  # the page size the storage list caps at, if any
        self.bad_replies = dict(bad_replies or {})  # path -> the reply (at status 200) every read of it gets; lists then page for real
        self.fail_reads = dict(fail_reads or {})  # path -> n: the reads of the path after the first n raise ``read_error``
        self.read_error = read_error  # by default a transient HTTP 503
        self.read_only = read_only  # any POST fails the test
        self.calls = []
        self.queries = []
        self.bodies = []
        self.created = 0
        self.saved = 0
        self.next_storage = 10
        self.delays = None  # the attempts retry_delay was asked about
        self.active = 0
        self.max_active = 0
        self.scrubber = Scrubber()
        self.echo_scrubber = Scrubber()

    # -- what NovitaClient offers besides the requests

    def add_secrets(self, *values):
        self.scrubber.add(*values)

    def scrub(self, text):
        return self.scrubber.scrub(text)

    add_echoed = NovitaClient.add_echoed
    scrub_echo = NovitaClient.scrub_echo
    scrub_failure = NovitaClient.scrub_failure

    def add_trace(self, result):
        return result

    def now(self):
        return 0.0

    def retry_delay(self, attempt, retry_after=None, started=None):
        with self.lock:
            self.delays = (self.delays or []) + [attempt]
        return 0.0 if attempt < 5 else None

    def pause(self, seconds):
        pass

    def missing(self, method, path):
        """The error the API answers for an endpoint that does not exist."""
        if self.not_found == 404:
            return NovitaAPIError("not found", status=404, method=method, path=path)
        return NovitaAPIError("Novita API returned HTTP 400 SERVERLESS_ENDPOINT_NOT_FOUND", status=400, method=method, path=path,
                              api_code=400, api_reason="SERVERLESS_ENDPOINT_NOT_FOUND", api_message="endpoint not found")

    # -- the requests

    def _record(self, call, query=None):
        with self.lock:
            self.calls.append(call)
            if call[0] == "GET":
                self.queries.append((call[1], copy.deepcopy(query)))

    def _read_fault(self, method, path):
        with self.lock:
            if path not in self.fail_reads:
                return
            if self.fail_reads[path] > 0:
                self.fail_reads[path] -= 1
                return
        raise self.read_error or NovitaAPIError("Novita API returned HTTP 503 on %s %s" % (method, path), status=503, method=method,
                                                path=path, transient=True)

    def get(self, path, query=None):
        self._record(("GET", path), query)
        self._read_fault("GET", path)
        if path in self.bad_replies:
            return copy.deepcopy(self.bad_replies[path])
        with self.lock:
            if path == "/endpoint/limit":
                return copy.deepcopy(self.limits)
            if path == "/repository/auths":
                return {"data": copy.deepcopy(self.auths)}
            if path == "/networkstorages/list":
                return self._storage_page(query)
            if path == "/clusters":
                return {"data": copy.deepcopy(self.clusters)}
            if path == "/endpoint":
                return self._endpoint(query["id"])
        raise AssertionError(path)

    def _storage_page(self, query):
        matched = [dict(s, storageSize=self.size_type(s["storageSize"])) if "storageSize" in s else dict(s) for s in self.storages
                   if query.get("storageName", "") in s["storageName"] and query.get("storageId", s["storageId"]) == s["storageId"]]
        size = min(query["pageSize"], self.page_size or query["pageSize"])
        start = (query["pageNo"] - 1) * size
        return {"data": matched[start:start + size], "total": len(matched)}

    def _endpoint(self, endpoint_id):
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise self.missing("GET", "/endpoint")
        pending = self.states.get(endpoint_id)
        if pending:
            state = pending.pop(0)
            endpoint = dict(endpoint, **(state if isinstance(state, dict) and "state" in state else {"state": {"state": state}}))
        return {"endpoint": copy.deepcopy(endpoint)}

    def list_all(self, path, items_key, query=None, page_param="pageNum", key=None, **pager):
        """The endpoint list in one call (recorded as LIST); other lists, and a bad endpoint list, page through ``get`` with
        the real pager."""
        if path != "/endpoints" or path in self.bad_replies:
            return ListPager(self, path, items_key, query=query, page_param=page_param, key=key, **pager).read_all()
        assert items_key == "endpoints", items_key
        self._record(("LIST", path))
        self._read_fault("GET", path)
        with self.lock:
            return [copy.deepcopy(e) for e in self.endpoints.values()]

    def read_list(self, path, items_key):
        return ListPager(self, path, items_key, page_param=None).read_all()

    @staticmethod
    def display_url(path):
        return "https://api.example.invalid/gpu-instance/openapi/v1" + path

    def post(self, path, body, retry=False):
        assert not self.read_only, "the module wrote: POST %s" % path
        self._record(("POST", path))
        with self.lock:
            self.bodies.append((path, copy.deepcopy(body)))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self.lock:
                pending = (self.faults or {}).get(path)
                fault = pending.pop(0) if pending else None
            if fault:
                exc, processed = fault
                if processed:
                    self._apply(path, body)
                raise exc
            return self._apply(path, body)
        finally:
            with self.lock:
                self.active -= 1

    def _apply(self, path, body):
        with self.lock:
            if path.startswith("/endpoint/"):
                return self._apply_endpoint(path, body)
            if path.startswith("/repository/"):
                return self._apply_auth(path, body)
            if path.startswith("/networkstorage/"):
                return self._apply_storage(path, body)
        raise AssertionError(path)

    def _apply_endpoint(self, path, body):
        if path == "/endpoint/create":
            if body["endpoint"]["name"] in self.fail_create_for:
                raise NovitaAPIError("Novita API request POST /endpoint/create failed with HTTP 400: no capacity",
                                     status=400, method="POST", path=path, api_message="no capacity")
            self.created += 1
            new = dict(body["endpoint"], id="new%d" % self.created, state={"state": "serving"})
            self.endpoints[new["id"]] = new
            return {"id": new["id"]}
        if path == "/endpoint/update":
            self.endpoints[body["id"]] = dict(self.endpoints[body["id"]], **body)
            return {}
        if path == "/endpoint/delete":
            if body["name"] not in self.endpoints:
                raise self.missing("POST", path)
            del self.endpoints[body["name"]]
            return {}
        raise AssertionError(path)

    def _apply_auth(self, path, body):
        if path == "/repository/auth/save":
            self.saved += 1
            self.auths.append(dict(id="auth-new%d" % self.saved, name=body["name"], username=body["username"], password=body["password"]))
            return {}
        if path == "/repository/auth/delete":
            if not any(a["id"] == body["id"] for a in self.auths):
                raise NovitaAPIError("Novita API returned HTTP 400 RESOURCE_NOT_FOUND", status=400, method="POST", path=path,
                                     api_reason="RESOURCE_NOT_FOUND")
            self.auths = [a for a in self.auths if a["id"] != body["id"]]
            return {}
        raise AssertionError(path)

    def _apply_storage(self, path, body):
        if path == "/networkstorage/create":
            self.next_storage += 1
            cluster = [c for c in self.clusters if c["id"] == body["clusterId"]][0]
            new = storage("ns-%d" % self.next_storage, body["storageName"], body["storageSize"], cluster["id"], cluster["name"])
            self.storages.append(new)
            if self.reply_id == "string":
                return new["storageId"]
            return {"storageId": new["storageId"]} if self.reply_id else {}
        if path == "/networkstorage/update":
            target = [s for s in self.storages if s["storageId"] == body["storageId"]][0]
            target.update(storageName=body["storageName"], storageSize=body["storageSize"])
            return {}
        if path == "/networkstorage/delete":
            before = len(self.storages)
            self.storages = [s for s in self.storages if s["storageId"] != body["storageId"]]
            if len(self.storages) == before:
                raise NovitaAPIError("Novita API returned HTTP 400 NETWORK_STORAGE_NOT_FOUND", status=400, method="POST", path=path,
                                     api_reason="NETWORK_STORAGE_NOT_FOUND")
            return {}
        raise AssertionError(path)

    # -- what the tests ask

    def count(self, kind, path=None):
        with self.lock:
            return len([c for c in self.calls if c[0] == kind and (path is None or c[1] == path)])

    def writes(self):
        with self.lock:
            return [c for c in self.calls if c[0] == "POST"]

    def sent(self, path):
        """The bodies of the POSTs to ``path``."""
        with self.lock:
            return [body for where, body in self.bodies if where == path]

    def queries_of(self, path):
        """The queries of the GETs of ``path``."""
        with self.lock:
            return [query for where, query in self.queries if where == path]

    def auth_ids(self, name):
        return [a["id"] for a in self.auths if a["name"] == name]


# ---------------------------------------------------------------------------
# the fake HTTP layer, under the real NovitaClient


class FakeResponse:
    """A 200 reply as urllib's opener returns it: ``body`` as bytes, text, or data sent as JSON."""

    status = 200

    def __init__(self, body):
        if isinstance(body, bytes):
            self._body = body
        elif isinstance(body, str):
            self._body = body.encode("utf-8")
        else:
            self._body = json.dumps(body).encode("utf-8")

    def read(self):
        return self._body


class FakeOpener:
    """Stands in for ``open_url``: records each call in ``calls`` and answers from a script, or with ``route(method, path,
    body)`` when given. An answer that is an exception is raised, a tuple (status, body, headers) is an HTTP error, an object
    with ``read`` is the reply itself, anything else is the body of a 200 (text, or data sent as JSON)."""

    def __init__(self, *answers, **kwargs):
        self.answers = list(answers)
        self.route = kwargs.pop("route", None)
        assert not kwargs, kwargs
        self.calls = []

    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        body = json.loads(data) if data else None
        self.calls.append(dict(url=url, data=body, headers=headers, method=method, **kwargs))
        answer = self.route(method, urlsplit(url).path[len(API_PREFIX):], body) if self.route else self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):
            status, text, headers = answer
            raise HTTPError(url, status, "error", headers, io.BytesIO(text.encode("utf-8")))
        return answer if hasattr(answer, "read") else FakeResponse(answer)

    @property
    def requests(self):
        """(method, path without the API prefix and the query, body) of each call."""
        return [(call["method"], urlsplit(call["url"]).path[len(API_PREFIX):], call["data"]) for call in self.calls]


def echoing_auths(method, path, body):
    """A ``route`` for FakeOpener: lists the credentials of ``auths()`` and no endpoint, and refuses every write with an error
    quoting the credential list (passwords included), the way a careless API error handler might."""
    if method == "GET" and path == "/repository/auths":
        return {"data": auths()}
    if method == "GET" and path == "/endpoints":
        return {"endpoints": [], "total": 0}
    return (400, json.dumps({"code": 400, "reason": "INVALID_ARGUMENT", "message": "cannot delete %s" % json.dumps(auths())}), {})


# ---------------------------------------------------------------------------
# the files of the collection


def module_docs(module, parse=True):
    """DOCUMENTATION, EXAMPLES and RETURN of a module, read from its source the way ansible-doc reads them (not by import):
    ``module`` is a module name, a module object, or the source text itself; with ``parse`` the YAML is loaded."""
    source = module
    if hasattr(module, "__file__") or module.isidentifier():
        path = module.__file__ if hasattr(module, "__file__") else os.path.join(ROOT, "plugins", "modules", module + ".py")
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    return dict((node.targets[0].id, yaml.safe_load(node.value.value) if parse else node.value.value) for node in ast.parse(source).body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN"))


def load_file(name, path):
    """The Python file at ``path`` (relative to the collection root) loaded as a module named ``name``."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# the emulator (tests/emulator/novita_emulator.py)

EMULATOR_KEY = "test-key"

EMULATOR_ENDPOINT = {
    "name": "demo",
    "products": [{"id": "1"}],
    "rootfsSize": 100,
    "workerConfig": {"minNum": 1, "maxNum": 2, "freeTimeout": 300, "maxConcurrent": 4, "gpuNum": 1},
    "ports": [{"port": "8000"}],
    "policy": {"type": "queue", "value": 60},
    "image": {"image": "nginx:latest", "authId": "auth-1", "command": "run"},
    "volumeMounts": [{"type": "local", "size": 30, "mountPath": "/data"}],
    "envs": [{"key": "B", "value": "2"}, {"key": "A", "value": "1"}],
    "healthy": {"path": "/health"},
}


@functools.lru_cache(maxsize=None)
def emulator_module(name="novita_emulator"):
    """The emulator's module (or another file of tests/emulator), loaded once."""
    return load_file(name, os.path.join("tests", "emulator", name + ".py"))


class EmulatorClient:
    """Talks to an emulator over HTTP with the API key ``key``; ``create`` sends ``endpoint`` with changes."""

    def __init__(self, url, key=EMULATOR_KEY, endpoint=None):
        self.url = url
        self.key = key
        self.endpoint = EMULATOR_ENDPOINT if endpoint is None else endpoint

    def call(self, method, path, body=None, key=None, raw=None, headers=None, admin=False):
        """Return (status, parsed JSON body or text, response headers)."""
        url = self.url + (path if admin else API_PREFIX + path)
        data = raw if raw is not None else (json.dumps(body).encode("utf-8") if body is not None else None)
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("User-Agent", "emulator-tests")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        auth_key = self.key if key is None else key
        if auth_key and not admin:
            request.add_header("Authorization", "Bearer " + auth_key)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status, payload, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            status, payload, response_headers = exc.code, exc.read(), exc.headers
            exc.close()
        text = payload.decode("utf-8")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return status, parsed, response_headers

    def answer(self, method, path, body=None, key=None, admin=False):
        """Return (status, parsed JSON body)."""
        return self.call(method, path, body, key=key, admin=admin)[:2]

    def ok(self, method, path, body=None, admin=False):
        status, payload, _headers = self.call(method, path, body, admin=admin)
        assert status == 200, payload
        return payload

    def admin(self, method, path, body=None):
        return self.ok(method, "/_emulator" + path, body, admin=True)

    def fault(self, **rule):
        return self.admin("POST", "/faults", rule)["fault"]

    def log(self):
        """(method, path, status, fault kind, processed) of each request the emulator logged."""
        return [(entry["method"], entry["path"], entry["status"], entry["fault_kind"], entry["processed"])
                for entry in self.admin("GET", "/requests")["requests"]]

    def create(self, **changes):
        spec = copy.deepcopy(self.endpoint)
        spec.update(changes)
        return self.ok("POST", "/endpoint/create", {"endpoint": spec})["id"]

    def get(self, endpoint_id):
        return self.ok("GET", "/endpoint?id=" + endpoint_id)["endpoint"]

    def auths(self):
        return self.ok("GET", "/repository/auths")["data"]

    def storages(self, query="pageNo=1&pageSize=100"):
        return self.ok("GET", "/networkstorages/list?" + query)

    def storage_named(self, name):
        return [item for item in self.storages()["data"] if item["storageName"] == name]
