# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import threading
import time

from ansible_collections.novita.cloud.plugins.module_utils.api import ListPager, NovitaAPIError, NovitaClient, Scrubber

LIMITS = {"minWorkerNum": 0, "maxWorkerNum": 10, "minQueueWaitTime": 1, "maxQueueWaitTime": 60, "minGPUNum": 1, "maxGPUNum": 4}


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


class FakeClient:
    """A thread-safe in-memory stand-in for NovitaClient: answers the Novita endpoint calls and records them in ``calls``."""

    def __init__(self, endpoints=(), states=None, not_found=404, faults=None, fail_create_for=(), delay=0.0, auths=(), storages=()):
        self.lock = threading.RLock()  # around the endpoints, the states, the faults and the call log; fleet tests write on threads
        self.endpoints = dict((e["id"], copy.deepcopy(e)) for e in endpoints)
        self.states = states or {}  # id -> list of states (or whole state dicts) the next gets report
        self.not_found = not_found  # 404, or 400 with the reason SERVERLESS_ENDPOINT_NOT_FOUND (Novita's documented error)
        self.faults = faults  # path -> list of (exception, processed) for the next POSTs to that path; processed: the write is made
        self.fail_create_for = set(fail_create_for)  # names whose create is refused with a 400 "no capacity"
        self.delay = delay  # seconds each POST takes; max_active is the most POSTs that were in progress at once
        self.auths = [dict(a) for a in auths]  # the items GET /repository/auths returns
        self.storages = [dict(s) for s in storages]  # the network storages GET /networkstorages/list filters by name and pages
        self.calls = []  # (kind, path), kind GET, LIST or POST
        self.created = 0
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

    def _record(self, call):
        with self.lock:
            self.calls.append(call)

    def get(self, path, query=None):
        self._record(("GET", path))
        if path == "/endpoint/limit":
            return dict(LIMITS)
        if path == "/repository/auths":
            return {"data": copy.deepcopy(self.auths)}
        if path == "/networkstorages/list":
            matched = [dict(st) for st in self.storages if query["storageName"] in st["storageName"]]
            start = (query["pageNo"] - 1) * query["pageSize"]
            return {"data": matched[start:start + query["pageSize"]], "total": len(matched)}
        if path == "/endpoint":
            with self.lock:
                endpoint = self.endpoints.get(query["id"])
                if endpoint is None:
                    raise self.missing("GET", path)
                pending = self.states.get(query["id"])
                if pending:
                    state = pending.pop(0)
                    endpoint = dict(endpoint, **(state if isinstance(state, dict) and "state" in state else {"state": {"state": state}}))
                return {"endpoint": copy.deepcopy(endpoint)}
        raise AssertionError(path)

    def list_all(self, path, items_key, query=None, page_param="pageNum", key=None):
        """The endpoint list in one call (recorded as LIST); other lists page through ``get`` with the real pager."""
        if path != "/endpoints":
            return ListPager(self, path, items_key, query=query, page_param=page_param, key=key).read_all()
        self._record(("LIST", path))
        with self.lock:
            return [copy.deepcopy(e) for e in self.endpoints.values()]

    def read_list(self, path, items_key):
        return ListPager(self, path, items_key, page_param=None).read_all()

    @staticmethod
    def display_url(path):
        return "https://api.example.invalid/gpu-instance/openapi/v1" + path

    def post(self, path, body, retry=False):
        self._record(("POST", path))
        with self.lock:
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

    # -- what the tests ask

    def count(self, kind, path=None):
        with self.lock:
            return len([c for c in self.calls if c[0] == kind and (path is None or c[1] == path)])

    def writes(self):
        with self.lock:
            return [c for c in self.calls if c[0] == "POST"]
