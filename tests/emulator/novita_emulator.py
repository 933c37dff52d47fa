#!/usr/bin/env python
# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stateful local fake of Novita's v1 serverless endpoint API.

Serves the API under ``/gpu-instance/openapi/v1`` on loopback, with the quirks
described in the project's NOVITA_API notes (wrapped create and get, flat
full-replace update, delete by ``name``, type drift in get and list), the registry
credential, network storage and cluster calls an endpoint refers to, plus an
unauthenticated admin interface under ``/_emulator/``. The ``strict`` profile (the
default) reads the API reference carefully; the ``documented`` profile answers as
Novita's error-code table and real clients say the live API does.

Standard library only. Run it as a script (see ``--help``) or import it and use
``Emulator(...).start()``. User documentation: docs/emulator.md.
"""

from __future__ import annotations

import argparse
import copy
import hmac
import json
import math
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_PREFIX = "/gpu-instance/openapi/v1"
ADMIN_PREFIX = "/_emulator"
DEFAULT_API_KEY = "emulator-key"
API_KEY_ENV = "NOVITA_EMULATOR_API_KEY"

DEFAULT_LIMITS = {
    "minRootfsSize": 10,
    "maxRootfsSize": 500,
    "freeRootfsSize": 100,
    "minLocalVolumeSize": 10,
    "maxLocalVolumeSize": 500,
    "freeLocalVolumeSize": 30,
    "minWorkerNum": 0,
    "maxWorkerNum": 50,
    "minFreeTimeout": 5,
    "maxFreeTimeout": 3600,
    "minConcurrencyNum": 1,
    "maxConcurrencyNum": 100,
    "minQueueWaitTime": 1,
    "maxQueueWaitTime": 300,
    "minRequestNum": 1,
    "maxRequestNum": 100,
    "minGPUNum": 1,
    "maxGPUNum": 8,
    "minRequestTimeout": 1,
    "maxRequestTimeout": 3600,
    "cudaVersionList": ["11.8", "12.1", "12.2", "12.4", "12.6", "12.8"],
}
# The documented profile's limits: the 18 integer keys of the limits doc (no request timeout range) and the
# rootfs maximum of 130 GB seen live.
DOCUMENTED_LIMITS = {key: value for key, value in DEFAULT_LIMITS.items() if key not in ("minRequestTimeout", "maxRequestTimeout")}
DOCUMENTED_LIMITS["maxRootfsSize"] = 130

DEFAULT_CONFIG = {
    "profile": "strict",
    "latency_ms": 0,
    "init_reads": 0,
    "update_reads": 0,
    "delete_reads": 0,
    "stale_reads": 0,
    "stale_list_reads": 0,
    "page_base": 1,
    "below_base": "clamp",
    "storage_below_base": "error",
    "max_page_size": 100,
    "port_as_string": True,
    "storage_create_answer": "empty",
    "in_use_deletes": "refuse",
    "products": ["1", "2", "3"],
    "zero_worker_state": "serving",
    "created_at": "iso",
    "rate_limit": 0,
    "rate_burst": None,
    "storage_size_as_string": False,
}

# What differs between the profiles. "strict" is the emulator's careful reading of the API reference;
# "documented" follows Novita's error-code table and what real clients have seen (see docs/emulator.md).
PROFILES = {
    "strict": {
        "reasons": False,  # error bodies carry a "reason"
        "not_found_status": 404,  # HTTP status of a *_NOT_FOUND error
        "invalid_key": (401, None, "invalid or missing API key"),  # (status, reason, message)
        "missing_key": (401, None, "invalid or missing API key"),
        "numeric_strings": False,  # update accepts "300" for an integer
        "default_page": False,  # list without pageSize/pageNum answers a default page
        "states": {"create": "initializing", "update": "initializing", "delete": "terminating"},
        "lenient": False,  # sloppy requests of real clients (cudaVersion "", requestTimeout 0, no volumeMounts) are accepted
        "limits": DEFAULT_LIMITS,  # the limits of a fresh emulator (constructor limits are merged over them)
        "healthy": {"path": "", "initialDelay": 60, "period": 10, "timeout": 5, "successThreshold": 1, "failureThreshold": 3},
        "clusters": (),  # clusters seeded in addition to SEED_CLUSTERS
        # config a change to this profile sets, unless given in the same call
        "config": {"stale_reads": 0, "port_as_string": True, "storage_below_base": "error", "storage_create_answer": "empty"},
    },
    "documented": {
        "reasons": True,
        "not_found_status": 400,
        "invalid_key": (403, "INVALID_API_KEY", "invalid api-key"),
        "missing_key": (400, "MISSING_API_KEY", "missing api-key"),
        "numeric_strings": True,
        "default_page": True,
        "states": {"create": "creating", "update": "updating", "delete": "deleting"},
        "lenient": True,
        "limits": DOCUMENTED_LIMITS,
        "healthy": {"path": "", "initialDelay": 10, "period": 10, "timeout": 10, "successThreshold": 1, "failureThreshold": 3},
        "clusters": (
            {"id": "us-dallas-nas-2", "name": "us-dallas", "availableGpuType": ["RTX 4090 24GB", "H100 80GB"],
             "supportNetworkStorage": True, "supportInstanceNetwork": True},
            {"id": "us-ca-nas-2", "name": "us-ca", "availableGpuType": ["RTX 4090 24GB"],
             "supportNetworkStorage": True, "supportInstanceNetwork": False},
        ),
        "config": {"stale_reads": 1, "port_as_string": "list", "storage_below_base": "clamp", "storage_create_answer": "string"},
    },
}
# Reason of an error raised without one, by HTTP status, when the profile (or the error) shows reasons.
DEFAULT_REASONS = {400: "VALIDATOR_PARAM", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 429: "RATE_LIMIT_EXCEEDED", 500: "INTERNAL_SERVER_ERROR"}
NOT_FOUND_SUFFIX = "_NOT_FOUND"
DEFAULT_PAGE_SIZE = 10

BELOW_BASE_MODES = ("clamp", "empty", "error")
PORT_AS_STRING_MODES = (True, False, "list")
STORAGE_CREATE_ANSWERS = ("empty", "object", "string")
IN_USE_DELETE_MODES = ("refuse", "allow")
CREATED_AT_FORMATS = ("iso", "epoch_ms", "none")
ENDPOINT_STATE_KEYS = ("id", "name", "state", "error", "message", "reads")
# Fault kind -> whether the request is processed by default.
FAULT_KINDS = {
    "status": False,
    "latency": True,
    "timeout": True,
    "drop": True,
    "truncate": True,
    "non_json": True,
    "echo": False,
    "short_page": True,
    "repeat_page": True,
}
FAULT_KEYS = ("kind", "method", "path", "count", "skip", "process", "status", "retry_after", "body", "content_type", "delay_ms",
              "drop_items")
# Kinds that always process the request (process=false is refused).
FAULT_ALWAYS_PROCESS = ("latency", "truncate", "short_page", "repeat_page")
# The list calls: path -> (key of the items in the reply, page number parameter or None for an unpaged list).
LIST_PATHS = {
    "/endpoints": ("endpoints", "pageNum"),
    "/networkstorages/list": ("data", "pageNo"),
    "/repository/auths": ("data", None),
}
# Kinds that spoil a list reply (GET of a LIST_PATHS path only); repeat_page needs a paged one.
FAULT_LIST_KINDS = ("short_page", "repeat_page")
# Kinds that need delay_ms > 0.
FAULT_NEED_DELAY = ("latency", "timeout")
# Kinds that send a response of their own (status, body, Retry-After, content type).
FAULT_OWN_RESPONSE = ("status", "non_json")
DEFAULT_NON_JSON_BODY = ("<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>"
                         "<body><h1>We'll be back soon</h1><p>The service is under maintenance.</p></body></html>\n")

SEED_AUTHS = [
    {"id": "auth-1", "name": "dockerhub-private", "username": "emulator", "password": "emulator-password-1"},
    {"id": "auth-2", "name": "ghcr-team", "username": "emulator-team", "password": "emulator-password-2"},
]

SEED_CLUSTERS = [
    {"id": "cluster-1", "name": "us-east", "availableGpuType": ["RTX 4090 24GB", "A100 80GB"],
     "supportNetworkStorage": True, "supportInstanceNetwork": True},
    {"id": "cluster-2", "name": "eu-west", "availableGpuType": ["RTX 4090 24GB"],
     "supportNetworkStorage": True, "supportInstanceNetwork": False},
    # No network storage here: a storage create in it is refused (400).
    {"id": "cluster-3", "name": "ap-southeast", "availableGpuType": ["RTX 3090 24GB"],
     "supportNetworkStorage": False, "supportInstanceNetwork": False},
]

SEED_NETWORK_STORAGES = [
    {"storageId": "ns-1", "storageName": "models", "storageSize": 100, "clusterId": "cluster-1",
     "clusterName": "us-east", "price": "0.07"},
    {"storageId": "ns-2", "storageName": "datasets", "storageSize": 200, "clusterId": "cluster-2",
     "clusterName": "eu-west", "price": "0.07"},
]

# Prefixes of the IDs handed out for new registry credentials and network storages (auth-3, ns-3, ...).
AUTH_ID_PREFIX = "auth-"
STORAGE_ID_PREFIX = "ns-"
CLUSTER_ID_PREFIX = "cluster-"
# Registry credential field -> maximum length (each at least 1 character).
AUTH_LENGTHS = {"name": 255, "username": 511, "password": 1024}
STORAGE_NAME_MAX = 255  # guessed: Novita publishes no maximum
STORAGE_NAME_PATTERN = re.compile(r"[A-Za-z0-9-]+")
MIN_STORAGE_SIZE = 10  # GB
MAX_STORAGE_SIZE = 10240  # GB; guessed: NETWORK_STORAGE_TOO_LARGE exists, its limit is not published
STORAGE_PRICE = "0.07"


# Field -> (min, max) string lengths, from the API reference.
STRING_LENGTHS = {
    "name": 220,
    "image.image": 511,
    "image.authId": 255,
    "image.command": 2047,
    "mountPath": 255,
    "clusterID": 255,
}

# Required by both create and update.
_REQUIRED_SETTINGS = (
    "workerConfig.minNum",
    "workerConfig.maxNum",
    "workerConfig.freeTimeout",
    "workerConfig.maxConcurrent",
    "workerConfig.gpuNum",
    "ports",
    "policy.type",
    "policy.value",
    "image.image",
)
CREATE_REQUIRED = ("products", "rootfsSize") + _REQUIRED_SETTINGS + ("volumeMounts", "healthy.path")
UPDATE_REQUIRED = ("id",) + _REQUIRED_SETTINGS

# workerConfig key -> limits suffix ("min" + suffix, "max" + suffix).
WORKER_LIMITS = (
    ("minNum", "WorkerNum"),
    ("maxNum", "WorkerNum"),
    ("freeTimeout", "FreeTimeout"),
    ("maxConcurrent", "ConcurrencyNum"),
    ("gpuNum", "GPUNum"),
)

POLICY_LIMITS = {"queue": "QueueWaitTime", "concurrency": "RequestNum"}
RESERVED_PORTS = (2222, 2223, 2224)
APP_NAME_PATTERN = re.compile(r"[a-z0-9-]+")
NUMERIC_STRING = re.compile(r"-?[0-9]+")
ISO_FRACTION = re.compile(r"[.,]([0-9]+)")

_MISSING = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ApiError(ValueError):
    """An error answered as ``{"code": status, "message": message}``.

    ``reason`` (e.g. ``SERVERLESS_ENDPOINT_NOT_FOUND``) is added to the body when the profile shows
    reasons, or always when ``always`` is true. A ``*_NOT_FOUND`` reason takes the profile's
    not-found status instead of ``status``.
    """

    def __init__(self, status, message, reason=None, always=False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.always = always


def _now_us():
    """Now, in microseconds since the epoch."""
    return time.time_ns() // 1000


def _format_time(stamp_us, style):
    """createdAt/updatedAt in the given style: ISO 8601 UTC with microseconds, or epoch milliseconds."""
    if style == "epoch_ms":
        return stamp_us // 1000
    return (_EPOCH + timedelta(microseconds=stamp_us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value, path):
    """Microseconds since the epoch from an ISO 8601 string (UTC unless it says otherwise) or integer epoch milliseconds."""
    if _is_int(value):
        return value * 1000
    if not isinstance(value, str):
        raise ApiError(400, f"{path}: expected an ISO 8601 string or integer epoch milliseconds, got {_json_type(value)}")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Python 3.9 and 3.10 parse only 3 or 6 digits of a second's fraction: make it 6.
    text = ISO_FRACTION.sub(lambda match: "." + (match.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{path}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    delta = parsed - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


# JSON type names for error messages; bool before int, as bool is an int in Python.
_JSON_TYPE_NAMES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"))


def _json_type(value):
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPE_NAMES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _lookup(body, path):
    """Value at a dotted path, or _MISSING when absent or null."""
    node = body
    parts = path.split(".")
    for index, part in enumerate(parts):
        if not isinstance(node, dict):
            raise ApiError(400, f"{'.'.join(parts[:index])}: expected an object, got {_json_type(node)}")
        node = node.get(part)
        if node is None:
            return _MISSING
    return node


def _expect_int(value, path, numeric_strings=False):
    """The integer value; with numeric_strings a string of digits ("300") is taken as its integer."""
    if numeric_strings and isinstance(value, str) and NUMERIC_STRING.fullmatch(value):
        return int(value)
    if not _is_int(value):
        raise ApiError(400, f"{path}: expected an integer, got {_json_type(value)}")
    return value


def _expect_number(value, path):
    if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
        raise ApiError(400, f"{path}: expected a number, got {_json_type(value)}")
    return value


def _expect_str(value, path, max_len=None):
    if not isinstance(value, str):
        raise ApiError(400, f"{path}: expected a string, got {_json_type(value)}")
    if max_len is not None and len(value) > max_len:
        raise ApiError(400, f"{path}: length {len(value)} is out of range [0, {max_len}]")
    return value


def _expect_list(value, path):
    if not isinstance(value, list):
        raise ApiError(400, f"{path}: expected an array, got {_json_type(value)}")
    return value


def _expect_object(value, path):
    if not isinstance(value, dict):
        raise ApiError(400, f"{path}: expected an object, got {_json_type(value)}")
    return value


def _only_item(items, name, key):
    """The ``key`` of the one item of the list ``name``: exactly one item, an object that has ``key``."""
    _expect_list(items, name)
    if len(items) != 1:
        raise ApiError(400, f"{name}: expected exactly one {name[:-1]}, got {len(items)}")
    value = _expect_object(items[0], f"{name}[0]").get(key)
    if value is None:
        raise ApiError(400, f"missing required field: {name}[0].{key}")
    return value


def _check_range(value, path, low, high):
    """``value`` when it lies in [low, high]; a bound that is None (a limit the API does not give) is no bound."""
    if (low is not None and value < low) or (high is not None and value > high):
        low_text = low if low is not None else "-inf"
        high_text = high if high is not None else "inf"
        raise ApiError(400, f"{path}: {value} is out of range [{low_text}, {high_text}]")
    return value


def _drift(value):
    """The live API returns some integers as strings."""
    if _is_int(value):
        return str(value)
    return value


def _merge(defaults, given):
    result = copy.deepcopy(defaults)
    if isinstance(given, dict):
        result.update(copy.deepcopy(given))
    return result


def _merge_checked(updates, base, what, unknown, check_value):
    """Return base merged with updates after check_value(key, value) on each, or raise ApiError(400)."""
    if not isinstance(updates, dict):
        raise ApiError(400, f"{what}: expected an object, got {_json_type(updates)}")
    result = copy.deepcopy(base)
    for key, value in updates.items():
        if key not in base:
            raise ApiError(400, f"{unknown}: {key}")
        check_value(key, value)
        result[key] = copy.deepcopy(value)
    return result


def _check_config_value(key, value):
    if key in ("latency_ms", "init_reads", "update_reads", "delete_reads", "stale_reads", "stale_list_reads"):
        _check_range(_expect_int(value, key), key, 0, 10 ** 9)
    elif key == "max_page_size":
        _check_range(_expect_int(value, key), key, 1, 10 ** 9)
    elif key == "page_base":
        _check_range(_expect_int(value, key), key, 0, 1)
    elif key in ("below_base", "storage_below_base"):
        if value not in BELOW_BASE_MODES:
            raise ApiError(400, f"{key}: must be one of {', '.join(BELOW_BASE_MODES)}")
    elif key == "port_as_string":
        if value not in PORT_AS_STRING_MODES or not isinstance(value, (bool, str)):
            raise ApiError(400, "port_as_string: must be true, false or \"list\" (a string in the list, an integer in get)")
    elif key == "storage_create_answer":
        if value not in STORAGE_CREATE_ANSWERS:
            raise ApiError(400, f"storage_create_answer: must be one of {', '.join(STORAGE_CREATE_ANSWERS)}")
    elif key == "in_use_deletes":
        if value not in IN_USE_DELETE_MODES:
            raise ApiError(400, f"in_use_deletes: must be one of {', '.join(IN_USE_DELETE_MODES)}")
    elif key == "storage_size_as_string":
        if not isinstance(value, bool):
            raise ApiError(400, f"{key}: expected a boolean, got {_json_type(value)}")
    elif key == "products":
        _expect_list(value, key)
        for index, item in enumerate(value):
            _expect_str(item, f"products[{index}]")
    elif key == "profile":
        if value not in PROFILES:
            raise ApiError(400, f"profile: must be one of {', '.join(PROFILES)}")
    elif key == "zero_worker_state":
        _expect_str(value, key)
    elif key == "created_at":
        if value not in CREATED_AT_FORMATS:
            raise ApiError(400, f"created_at: must be one of {', '.join(CREATED_AT_FORMATS)}")
    elif key == "rate_limit":
        _check_range(_expect_number(value, key), key, 0, 10 ** 6)
    elif key == "rate_burst":
        if value is not None:
            _check_range(_expect_number(value, key), key, 1, 10 ** 9)


# Seed key -> {field: expected type} of its items (the ID field included; every field optional).
SEED_REF_FIELDS = {
    "auths": {"id": str, "name": str, "username": str, "password": str},
    "storages": {"storageId": str, "storageName": str, "storageSize": int, "clusterId": str, "clusterName": str, "price": str},
    "clusters": {"id": str, "name": str, "availableGpuType": list, "supportNetworkStorage": bool, "supportInstanceNetwork": bool},
}
SEED_KEYS = ("endpoints",) + tuple(SEED_REF_FIELDS)


def _check_seed_ref(item, where, fields):
    """Check a seeded registry credential, network storage or cluster: known fields of the right types."""
    _expect_object(item, where)
    for key, value in item.items():
        if key not in fields:
            raise ApiError(400, f"{where}: unknown field {key}")
        if value is None:
            continue
        expected = fields[key]
        if expected is int:
            _expect_int(value, f"{where}.{key}")
        elif expected is bool:
            if not isinstance(value, bool):
                raise ApiError(400, f"{where}.{key}: expected a boolean, got {_json_type(value)}")
        elif expected is list:
            for index, entry in enumerate(_expect_list(value, f"{where}.{key}")):
                _expect_str(entry, f"{where}.{key}[{index}]")
        else:
            _expect_str(value, f"{where}.{key}")


def _check_limit_value(key, value):
    if key == "cudaVersionList":
        _expect_list(value, key)
        for index, item in enumerate(value):
            _expect_str(item, f"cudaVersionList[{index}]")
    else:
        _expect_int(value, key)


def _validate_config(updates, base):
    """Return base merged with updates, or raise ApiError(400).

    A change of profile also sets the profile's own defaults (stale_reads) unless updates gives them.
    """
    config = _merge_checked(updates, base, "config", "unknown config key", _check_config_value)
    if config["profile"] != base["profile"]:
        for key, value in PROFILES[config["profile"]]["config"].items():
            if key not in updates:
                config[key] = value
    return config


def _validate_limits(updates, base):
    """Return base merged with updates, or raise ApiError(400). Any key of DEFAULT_LIMITS is known, also one that
    ``base`` (a profile's limits) leaves out."""
    result = _merge_checked(updates, DEFAULT_LIMITS, "limits", "unknown limit", _check_limit_value)
    merged = copy.deepcopy(base)
    merged.update({key: result[key] for key in updates})
    return merged


def _json_bytes(payload):
    return json.dumps(payload).encode("utf-8")


class Reply:
    """What the HTTP handler does with one request.

    action "send" answers status/headers/body; "truncate" sends the status, the headers and a
    Content-Length of the whole body but only its first half, then closes the connection; "drop"
    closes the connection without any answer. ``hold`` seconds are waited before the action.
    """

    __slots__ = ("status", "headers", "body", "content_type", "action", "hold")

    def __init__(self, status, headers, body, content_type="application/json", action="send", hold=0.0):
        self.status = status
        self.headers = list(headers or [])
        self.body = body
        self.content_type = content_type
        self.action = action
        self.hold = hold

    def sent_status(self):
        """The status line the client gets, or None when the connection is closed without one."""
        return None if self.action == "drop" else self.status


def _json_reply(payload, status=200):
    return Reply(status, [], _json_bytes(payload))


def _error_response(status, message, headers=None):
    return Reply(status, headers, _json_bytes({"code": status, "message": message}))


class _TokenBucket:
    """Rate limit over all API requests: ``rate`` tokens a second, at most ``burst`` saved up.

    It has its own lock, held only for a few arithmetic operations, so that it is cheap under
    concurrent requests and never waits for the emulator's lock.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._rate = 0.0
        self._burst = 1.0
        self._tokens = 1.0
        self._stamp = time.monotonic()

    def configure(self, rate, burst):
        """Set the rate (0 = off) and the bucket size (None = max(1, rate)); the bucket starts full."""
        with self._lock:
            self._rate = float(rate)
            self._burst = float(burst) if burst is not None else max(1.0, self._rate)
            self._tokens = self._burst
            self._stamp = time.monotonic()

    def take(self):
        """Take a token: 0.0 when one was there (or there is no limit), else the seconds until the next one."""
        if self._rate <= 0:
            return 0.0
        with self._lock:
            if self._rate <= 0:
                return 0.0
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self._rate


class _RouteHelpers:
    """What every resource's handlers share: request checks, the profile, new reference IDs.

    Each resource's handlers are a class below, mixed into Emulator: they work on its state (``_config``,
    ``_endpoints``, ``_auths``, ``_storages``, ``_clusters``, ...) and run with its lock held. A handler class
    lists its API calls in API_ROUTES, (method, path under API_PREFIX, handler method name); Emulator serves
    those of every class in RESOURCE_HANDLERS.
    """

    API_ROUTES = ()

    def _page(self, records, number_name, number, page_size, below_base):
        """One page of a paged list: pages count from ``page_base`` and hold at most ``max_page_size`` items; a page number
        below the base is refused (``error``), answered empty (``empty``) or read as the first page (``clamp``)."""
        if page_size < 1:
            raise ApiError(400, f"pageSize: {page_size} is out of range [1, {self._config['max_page_size']}]")
        size = min(page_size, self._config["max_page_size"])
        base = self._config["page_base"]
        index = number - base
        if index < 0:
            if below_base == "error":
                raise ApiError(400, f"{number_name}: {number} is below the first page {base}")
            if below_base == "empty":
                return []
            index = 0
        return records[index * size:(index + 1) * size]

    def _profile(self):
        return PROFILES[self._config["profile"]]

    @staticmethod
    def _require_body(body):
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        return body

    @staticmethod
    def _required_field(body, key):
        value = body.get(key)
        if value is None:
            raise ApiError(400, f"missing required field: {key}")
        return value

    @staticmethod
    def _int_param(query, name, required=True, default=None):
        value = query.get(name)
        if value is None or value == "":
            if required:
                raise ApiError(400, f"missing required parameter: {name}")
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"{name}: expected an integer, got {value!r}") from None

    def _refuse_in_use(self, users, what, reason):
        """Refuse the delete of ``what`` that the endpoints ``users`` use (400 ``reason``), as the error table documents."""
        if users and self._config["in_use_deletes"] == "refuse":
            raise ApiError(400, f"{what} is in use by endpoint {', '.join(users)}", reason, always=True)

    def _count_ref_id(self, kind, prefix, ref_id):
        """Note an ID in use (seeded or given), so that a new ID of its kind is never one handed out before."""
        suffix = ref_id[len(prefix):] if ref_id.startswith(prefix) else ""
        if suffix.isascii() and suffix.isdigit():
            self._id_counters[kind] = max(self._id_counters[kind], int(suffix))

    def _new_ref_id(self, kind, prefix, records, key):
        """A new ID in the style of the seeded ones (auth-3, ns-3, cluster-4), never one used since the last reset."""
        taken = {record[key] for record in records}
        while True:
            self._id_counters[kind] += 1
            candidate = f"{prefix}{self._id_counters[kind]}"
            if candidate not in taken:
                return candidate


class _EndpointHandlers(_RouteHelpers):
    """Serverless endpoints: create, get, list, update, delete, the quota, and the states an endpoint goes through."""

    API_ROUTES = (("POST", "/endpoint/create", "_api_create"),
                  ("GET", "/endpoint", "_api_get"),
                  ("GET", "/endpoints", "_api_list"),
                  ("POST", "/endpoint/update", "_api_update"),
                  ("POST", "/endpoint/delete", "_api_delete"),
                  ("GET", "/endpoint/limit", "_api_limits"))

    def _new_id(self):
        app_names = {record.get("appName") for record in self._endpoints.values()}
        while True:
            new_id = secrets.token_hex(8)
            if new_id not in self._endpoints and new_id not in app_names:
                return new_id

    def _new_created_us(self):
        """A creation time after every one handed out before: bumped by a microsecond if the clock has not moved on."""
        stamp = max(_now_us(), self._last_created_us + 1)
        self._last_created_us = stamp
        return stamp

    @staticmethod
    def _new_record_state(record, state="serving", error="", message=""):
        """Give a new record its state fields: settled in `state`, no phase, no stale read, nothing forced."""
        record["_state"] = state
        record["_error"] = error
        record["_message"] = message
        record["_phase"] = None
        record["_reads_left"] = 0
        record["_stale"] = None
        record["_list_stale"] = None
        record["_forced"] = None

    def _start_phase(self, record, phase, reads):
        """Show the profile's state for `phase` ("create", "update", "delete") for `reads` GET reads, then settle.

        Settling is `serving`, or gone after a delete. Starting a phase ends a forced state.
        """
        record["_forced"] = None
        record["_error"] = ""
        record["_message"] = ""
        if reads > 0:
            record["_phase"] = phase
            record["_reads_left"] = reads
        else:
            self._finish_phase(record, phase)

    def _finish_phase(self, record, phase):
        record["_phase"] = None
        record["_reads_left"] = 0
        if phase == "delete":
            self._endpoints.pop(record["id"], None)
        else:
            record["_state"] = "serving"

    def _count_read(self, record):
        """Count one GET read: it uses up a forced state's reads, else a stale read, else a read of the phase."""
        forced = record["_forced"]
        if forced is not None:
            if forced["reads"] is not None:
                forced["reads"] -= 1
                if forced["reads"] <= 0:
                    record["_forced"] = None
            return
        stale = record["_stale"]
        if stale is not None:
            stale["reads"] -= 1
            if stale["reads"] <= 0:
                record["_stale"] = None
            return
        if record["_phase"] is not None:
            record["_reads_left"] -= 1
            if record["_reads_left"] <= 0:
                self._finish_phase(record, record["_phase"])

    def _view(self, record):
        """What get and list show: the stale read kept by an update while it lasts, else the endpoint as stored."""
        stale = record["_stale"]
        if stale is None:
            return self._render(record)
        view = copy.deepcopy(stale["view"])
        forced = record["_forced"]
        if forced is not None:
            view["state"] = {"state": forced["state"], "error": forced["error"], "message": forced["message"]}
            if forced["state"] != "serving":
                view["workers"] = []
        return view

    def _shown_state(self, record, min_num):
        forced = record["_forced"]
        if forced is not None:
            return {"state": forced["state"], "error": forced["error"], "message": forced["message"]}
        if record["_phase"] is not None:
            return {"state": self._profile()["states"][record["_phase"]], "error": "", "message": ""}
        state = record["_state"]
        if state == "serving" and _is_int(min_num) and min_num == 0:
            state = self._config["zero_worker_state"]
        return {"state": state, "error": record["_error"], "message": record["_message"]}

    def _render(self, record):
        """The get/list shape of a stored endpoint, with the live API's type drift."""
        worker_config = copy.deepcopy(record.get("workerConfig") or {})
        for key in ("freeTimeout", "maxConcurrent"):
            if key in worker_config:
                worker_config[key] = _drift(worker_config[key])
        policy = copy.deepcopy(record.get("policy") or {})
        if "value" in policy:
            policy["value"] = _drift(policy["value"])
        ports = []
        for entry in record.get("ports") or []:
            entry = copy.deepcopy(entry)
            if isinstance(entry, dict) and "port" in entry:
                port = entry["port"]
                if self._config["port_as_string"] is True:
                    entry["port"] = _drift(port)
                elif isinstance(port, str) and port.isascii() and port.isdigit():
                    entry["port"] = int(port)
            ports.append(entry)
        workers = []
        min_num = worker_config.get("minNum")
        state = self._shown_state(record, min_num)
        if state["state"] == "serving" and _is_int(min_num):
            for index in range(max(min_num, 0)):
                workers.append({"id": f"{record['id']}-worker-{index}", "state": {"state": "running", "error": "", "message": ""},
                                "log": "", "metrics": "", "healthy": True})
        out = {
            "id": record["id"],
            "name": record.get("name", ""),
            "appName": record.get("appName", ""),
            "url": record.get("url", ""),
            "state": state,
            "workerConfig": worker_config,
            "policy": policy,
            "image": copy.deepcopy(record.get("image")),
            "rootfsSize": record.get("rootfsSize"),
            "volumeMounts": copy.deepcopy(record.get("volumeMounts") or []),
            "envs": copy.deepcopy(record.get("envs") or []),
            "ports": ports,
            "products": copy.deepcopy(record.get("products") or []),
            "workers": workers,
            "healthy": copy.deepcopy(record.get("healthy")),
        }
        if "clusterID" in record:
            out["clusterID"] = record["clusterID"]
        out["log"] = record.get("log", "")
        style = self._config["created_at"]
        if style != "none":
            out["createdAt"] = _format_time(record["_created_us"], style)
            out["updatedAt"] = _format_time(record["_updated_us"], style)
        return out

    def _int_limit(self, body, path, suffix, numeric_strings=False):
        """An integer field checked against the limits ``min<suffix>``/``max<suffix>``; a limit not given is no bound."""
        value = _expect_int(_lookup(body, path), path, numeric_strings)
        return _check_range(value, path, self._limits.get(f"min{suffix}"), self._limits.get(f"max{suffix}"))

    def _validate_common(self, body, numeric_strings=False):
        """Validate the fields shared by create and update; return them normalised (numeric_strings: "300" is 300)."""
        spec = {}
        worker_config = {}
        for key, suffix in WORKER_LIMITS:
            worker_config[key] = self._int_limit(body, f"workerConfig.{key}", suffix, numeric_strings)
        if worker_config["minNum"] > worker_config["maxNum"]:
            raise ApiError(400, f"workerConfig.minNum: {worker_config['minNum']} is greater than workerConfig.maxNum {worker_config['maxNum']}")
        self._validate_optional_worker_settings(body, worker_config, numeric_strings)
        spec["workerConfig"] = worker_config

        port = _only_item(_lookup(body, "ports"), "ports", "port")
        if isinstance(port, str) and port.isascii() and port.isdigit():
            port = int(port)
        if not _is_int(port):
            raise ApiError(400, f"ports[0].port: expected an integer or numeric string, got {_json_type(port)}")
        _check_range(port, "ports[0].port", 1, 65535)
        if port in RESERVED_PORTS:
            raise ApiError(400, f"ports[0].port: {port} is reserved (2222, 2223 and 2224 are not allowed)")
        spec["ports"] = [{"port": port}]

        policy_type = _expect_str(_lookup(body, "policy.type"), "policy.type")
        if policy_type not in POLICY_LIMITS:
            raise ApiError(400, f"policy.type: {policy_type} is not one of queue, concurrency")
        spec["policy"] = {"type": policy_type, "value": self._int_limit(body, "policy.value", POLICY_LIMITS[policy_type], numeric_strings)}

        image = {"image": _expect_str(_lookup(body, "image.image"), "image.image", STRING_LENGTHS["image.image"]), "authId": "", "command": ""}
        auth_id = _lookup(body, "image.authId")
        if auth_id is not _MISSING:
            image["authId"] = _expect_str(auth_id, "image.authId", STRING_LENGTHS["image.authId"])
        command = _lookup(body, "image.command")
        if command is not _MISSING:
            image["command"] = _expect_str(command, "image.command", STRING_LENGTHS["image.command"])
        if image["authId"] and image["authId"] not in [auth["id"] for auth in self._auths]:
            raise ApiError(404, f"registry auth {image['authId']} not found", "RESOURCE_NOT_FOUND")
        spec["image"] = image

        name = _lookup(body, "name")
        spec["name"] = "" if name is _MISSING else _expect_str(name, "name", STRING_LENGTHS["name"])

        envs = []
        given_envs = _lookup(body, "envs")
        if given_envs is not _MISSING:
            for index, env in enumerate(_expect_list(given_envs, "envs")):
                _expect_object(env, f"envs[{index}]")
                key = env.get("key")
                if key is None:
                    raise ApiError(400, f"missing required field: envs[{index}].key")
                value = env.get("value", "")
                envs.append({"key": _expect_str(key, f"envs[{index}].key"), "value": _expect_str(value, f"envs[{index}].value")})
        spec["envs"] = envs

        cluster_id = _lookup(body, "clusterID")
        if cluster_id is not _MISSING:
            _expect_str(cluster_id, "clusterID", STRING_LENGTHS["clusterID"])
            if cluster_id and cluster_id not in [cluster["id"] for cluster in self._clusters]:
                raise ApiError(404, f"cluster {cluster_id} not found", "RESOURCE_NOT_FOUND")
            if cluster_id:
                spec["clusterID"] = cluster_id

        mounts = []
        given_mounts = _lookup(body, "volumeMounts")
        if given_mounts is not _MISSING:
            for index, mount in enumerate(_expect_list(given_mounts, "volumeMounts")):
                mounts.append(self._validate_mount(mount, f"volumeMounts[{index}]", spec.get("clusterID"), numeric_strings))
        spec["volumeMounts"] = mounts

        healthy = copy.deepcopy(self._profile()["healthy"])
        path = _lookup(body, "healthy.path")
        if path is not _MISSING:
            healthy["path"] = _expect_str(path, "healthy.path")
        spec["healthy"] = healthy
        return spec

    def _validate_optional_worker_settings(self, body, worker_config, numeric_strings):
        """requestTimeout and cudaVersion. The documented profile takes the zero values real clients send
        (requestTimeout 0, cudaVersion "") as not set, and cudaVersion "any"."""
        lenient = self._profile()["lenient"]
        timeout = _lookup(body, "workerConfig.requestTimeout")
        if timeout is not _MISSING and not (lenient and timeout in (0, "0")):
            worker_config["requestTimeout"] = self._int_limit(body, "workerConfig.requestTimeout", "RequestTimeout", numeric_strings)
        cuda = _lookup(body, "workerConfig.cudaVersion")
        if cuda is _MISSING or (lenient and cuda == ""):
            return
        _expect_str(cuda, "workerConfig.cudaVersion")
        allowed = self._limits["cudaVersionList"]
        if cuda not in allowed and not (lenient and cuda == "any"):
            raise ApiError(400, f"workerConfig.cudaVersion: {cuda} is not one of {', '.join(allowed)}")
        worker_config["cudaVersion"] = cuda

    def _validate_mount(self, mount, where, cluster_id, numeric_strings=False):
        _expect_object(mount, where)
        mount_type = mount.get("type")
        if mount_type is None:
            raise ApiError(400, f"missing required field: {where}.type")
        _expect_str(mount_type, f"{where}.type")
        mount_path = mount.get("mountPath", "")
        _expect_str(mount_path, f"{where}.mountPath", STRING_LENGTHS["mountPath"])
        if mount_type == "local":
            size = mount.get("size")
            if size is None:
                raise ApiError(400, f"missing required field: {where}.size")
            size = _check_range(_expect_int(size, f"{where}.size", numeric_strings), f"{where}.size",
                                self._limits["minLocalVolumeSize"], self._limits["maxLocalVolumeSize"])
            return {"type": "local", "size": size, "id": "", "mountPath": mount_path}
        if mount_type == "network":
            storage_id = mount.get("id")
            if storage_id is None:
                raise ApiError(400, f"missing required field: {where}.id")
            _expect_str(storage_id, f"{where}.id")
            size = _expect_int(mount.get("size", 0), f"{where}.size", numeric_strings)
            storage = None
            for candidate in self._storages:
                if candidate["storageId"] == storage_id:
                    storage = candidate
            if storage is None:
                raise ApiError(404, f"network storage {storage_id} not found", "NETWORK_STORAGE_NOT_FOUND")
            if not cluster_id:
                raise ApiError(400, f"clusterID: required when network storage {storage_id} is mounted")
            if cluster_id != storage["clusterId"]:
                raise ApiError(400, f"clusterID: {cluster_id} does not match the cluster {storage['clusterId']} of network storage {storage_id}")
            return {"type": "network", "size": size, "id": storage_id, "mountPath": mount_path}
        raise ApiError(400, f"{where}.type: {mount_type} is not one of local, network")

    def _check_required(self, body, required):
        for path in required:
            if _lookup(body, path) is _MISSING:
                raise ApiError(400, f"missing required field: {path}")

    def _validate_products(self, products):
        product_id = _only_item(products, "products", "id")
        _expect_str(product_id, "products[0].id")
        return [{"id": product_id}]

    def _api_create(self, _query, body):
        body = self._require_body(body)
        spec_in = body.get("endpoint")
        if spec_in is None:
            raise ApiError(400, "missing required field: endpoint")
        _expect_object(spec_in, "endpoint")
        required = CREATE_REQUIRED
        if self._profile()["lenient"]:
            required = tuple(path for path in CREATE_REQUIRED if path != "volumeMounts")
        self._check_required(spec_in, required)
        products = self._validate_products(spec_in["products"])
        rootfs = self._int_limit(spec_in, "rootfsSize", "RootfsSize")
        app_name = _lookup(spec_in, "appName")
        if app_name is not _MISSING:
            _expect_str(app_name, "appName")
            if app_name and not APP_NAME_PATTERN.fullmatch(app_name):
                raise ApiError(400, f"appName: {app_name} may contain only lowercase letters, digits and hyphens")
        spec = self._validate_common(spec_in)
        if products[0]["id"] not in self._config["products"]:
            raise ApiError(404, f"product {products[0]['id']} not found", "SERVERLESS_PRODUCT_NOT_FOUND")
        if app_name not in (_MISSING, "") and any(record.get("appName") == app_name for record in self._endpoints.values()):
            raise ApiError(400, f"app name {app_name} already exists", "SERVERLESS_APP_NAME_IS_EXIST", always=True)
        new_id = self._new_id()
        app_name = app_name if app_name not in (_MISSING, "") else new_id
        created = self._new_created_us()
        record = {"id": new_id, "appName": app_name, "url": f"https://{app_name}.serverless.emulator.invalid",
                  "products": products, "rootfsSize": rootfs, "log": "", "_created_us": created, "_updated_us": created}
        record.update(spec)
        self._new_record_state(record)
        self._endpoints[new_id] = record
        self._start_phase(record, "create", self._config["init_reads"])
        armed = self._armed_states.pop(record.get("name") or "", None)
        if armed is not None:
            record["_forced"] = armed  # forced by POST /_emulator/endpoint_state {"name": ...} before the create
        return {"id": new_id}

    @staticmethod
    def _endpoint_not_found(endpoint_id):
        return ApiError(404, f"endpoint {endpoint_id} not found", "SERVERLESS_ENDPOINT_NOT_FOUND")

    def _api_get(self, query, _body):
        endpoint_id = query.get("id")
        if not endpoint_id:
            raise ApiError(400, "missing required parameter: id")
        record = self._endpoints.get(endpoint_id)
        if record is None:
            raise self._endpoint_not_found(endpoint_id)
        shown = self._view(record)
        self._count_read(record)
        return {"endpoint": shown}

    def _api_list(self, query, _body):
        required = not self._profile()["default_page"]
        page_size = self._int_param(query, "pageSize", required, DEFAULT_PAGE_SIZE)
        page_num = self._int_param(query, "pageNum", required, self._config["page_base"])
        records = list(self._endpoints.values())
        page = self._page(records, "pageNum", page_num, page_size, self._config["below_base"])
        return {"endpoints": [self._list_view(record) for record in page], "total": len(records)}

    def _list_view(self, record):
        """What the list shows: the view from before the last update while ``stale_list_reads`` list reads last (a lagging
        index; reads by ID are not affected by it), else what a read by ID shows."""
        lagging = record["_list_stale"]
        if lagging is None:
            view = self._view(record)
        else:
            lagging["reads"] -= 1
            if lagging["reads"] <= 0:
                record["_list_stale"] = None
            view = copy.deepcopy(lagging["view"])
        if self._config["port_as_string"] == "list":
            # The list page documents the port as a string, the get page as an integer.
            for entry in view.get("ports") or []:
                if isinstance(entry, dict) and _is_int(entry.get("port")):
                    entry["port"] = str(entry["port"])
        return view

    def _api_update(self, _query, body):
        body = self._require_body(body)
        self._check_required(body, UPDATE_REQUIRED)
        endpoint_id = _expect_str(body["id"], "id")
        record = self._endpoints.get(endpoint_id)
        if record is None:
            raise self._endpoint_not_found(endpoint_id)
        profile = self._profile()
        if record["_phase"] == "delete":
            raise ApiError(400, f"endpoint {endpoint_id} is {profile['states']['delete']}")
        numeric_strings = profile["numeric_strings"]
        if body.get("appName") is not None:
            if _expect_str(body["appName"], "appName") != record["appName"]:
                raise ApiError(400, "appName is immutable")
        if body.get("products") is not None:
            if self._validate_products(body["products"]) != record["products"]:
                raise ApiError(400, "products is immutable")
        if body.get("rootfsSize") is not None:
            if _expect_int(body["rootfsSize"], "rootfsSize", numeric_strings) != record["rootfsSize"]:
                raise ApiError(400, "rootfsSize is immutable")
        spec = self._validate_common(body, numeric_strings)
        before = self._view(record)  # what a read just before the update shows: the stale read to come
        record.pop("clusterID", None)  # kept only if the update gives it again
        record.update(spec)
        record["_updated_us"] = _now_us()
        stale_reads = self._config["stale_reads"]
        record["_stale"] = {"reads": stale_reads, "view": before} if stale_reads > 0 else None
        stale_list_reads = self._config["stale_list_reads"]
        record["_list_stale"] = {"reads": stale_list_reads, "view": before} if stale_list_reads > 0 else None
        self._start_phase(record, "update", self._config["update_reads"])
        return {}

    def _api_delete(self, _query, body):
        body = self._require_body(body)
        endpoint_id = body.get("name")
        if endpoint_id is None:
            hint = " (the endpoint ID goes under the key name; id is not read)" if "id" in body else ""
            raise ApiError(400, f"missing required field: name{hint}")
        _expect_str(endpoint_id, "name")
        record = self._endpoints.get(endpoint_id)
        if record is None:
            raise self._endpoint_not_found(endpoint_id)
        if record["_phase"] != "delete":
            record["_stale"] = None
            record["_list_stale"] = None
            self._start_phase(record, "delete", self._config["delete_reads"])
        return {}

    def _api_limits(self, _query, _body):
        return copy.deepcopy(self._limits)

    def _admin_endpoints(self, _body):
        return {"endpoints": [self._render(record) for record in self._endpoints.values()]}

    def _admin_endpoint_state(self, body):
        body = self._require_body(body)
        for key in body:
            if key not in ENDPOINT_STATE_KEYS:
                raise ApiError(400, f"unknown key: {key}")
        endpoint_id, name = body.get("id"), body.get("name")
        if (endpoint_id is None) == (name is None):
            raise ApiError(400, "give exactly one of id and name")
        if name is not None:
            # By name: for the next endpoint created with this name (a test arms it before the module's create).
            name = _expect_str(name, "name")
            record = None
        else:
            record = self._endpoints.get(_expect_str(endpoint_id, "id"))
            if record is None:
                raise ApiError(404, f"endpoint {endpoint_id} not found")
        state = body.get("state")
        forced = None
        if state is not None:
            forced = {"state": _expect_str(state, "state"), "error": "", "message": "", "reads": None}
            for key in ("error", "message"):
                if body.get(key) is not None:
                    forced[key] = _expect_str(body[key], key)
            if body.get("reads") is not None:
                forced["reads"] = _check_range(_expect_int(body["reads"], "reads"), "reads", 1, 10 ** 9)
        if record is None:
            if forced is None:
                self._armed_states.pop(name, None)
            else:
                self._armed_states[name] = forced
            return {"endpoint": None, "forced": copy.deepcopy(forced), "armed_for_name": name}
        record["_forced"] = forced
        return {"endpoint": self._render(record), "forced": copy.deepcopy(record["_forced"])}


class _RegistryAuthHandlers(_RouteHelpers):
    """Registry credentials: list, save, delete."""

    API_ROUTES = (("GET", "/repository/auths", "_api_auths"),
                  ("POST", "/repository/auth/save", "_api_auth_save"),
                  ("POST", "/repository/auth/delete", "_api_auth_delete"))

    def _api_auths(self, _query, _body):
        return {"data": copy.deepcopy(self._auths)}

    def _api_auth_save(self, _query, body):
        """Save a registry credential. The answer is {} without the new ID, as documented: list and match the name."""
        body = self._require_body(body)
        auth = {}
        for key, max_len in AUTH_LENGTHS.items():
            value = _expect_str(self._required_field(body, key), key)
            if not 1 <= len(value) <= max_len:
                raise ApiError(400, f"{key}: length {len(value)} is out of range [1, {max_len}]")
            auth[key] = value
        # Names may repeat: a second save with the same name is a second credential.
        self._auths.append({"id": self._new_ref_id("auth", AUTH_ID_PREFIX, self._auths, "id"), **auth})
        return {}

    def _api_auth_delete(self, _query, body):
        """Delete a registry credential by ID; one that an endpoint's image.authId names is refused with
        IMAGE_AUTH_IN_USE unless ``in_use_deletes`` is ``allow``."""
        body = self._require_body(body)
        auth_id = _expect_str(self._required_field(body, "id"), "id")
        for index, auth in enumerate(self._auths):
            if auth["id"] == auth_id:
                users = [record["id"] for record in self._endpoints.values() if (record.get("image") or {}).get("authId") == auth_id]
                self._refuse_in_use(users, f"registry auth {auth_id}", "IMAGE_AUTH_IN_USE")
                del self._auths[index]
                return {}
        raise ApiError(404, f"registry auth {auth_id} not found", "RESOURCE_NOT_FOUND")

    def _admin_auths(self, _body):
        return {"auths": copy.deepcopy(self._auths)}


class _NetworkStorageHandlers(_RouteHelpers):
    """Network storages: list (paged, by name or ID), create, update, delete."""

    API_ROUTES = (("GET", "/networkstorages/list", "_api_storages"),
                  ("POST", "/networkstorage/create", "_api_storage_create"),
                  ("POST", "/networkstorage/update", "_api_storage_update"),
                  ("POST", "/networkstorage/delete", "_api_storage_delete"))

    def _find_storage(self, storage_id):
        for storage in self._storages:
            if storage["storageId"] == storage_id:
                return storage
        return None

    @staticmethod
    def _storage_not_found(storage_id):
        return ApiError(404, f"network storage {storage_id} not found", "NETWORK_STORAGE_NOT_FOUND")

    @staticmethod
    def _check_storage_name(value):
        name = _expect_str(value, "storageName")
        if not 1 <= len(name) <= STORAGE_NAME_MAX:
            raise ApiError(400, f"storageName: length {len(name)} is out of range [1, {STORAGE_NAME_MAX}]")
        if not STORAGE_NAME_PATTERN.fullmatch(name):
            raise ApiError(400, f"storageName: {name} may contain only letters, digits and hyphens")
        return name

    @staticmethod
    def _check_storage_size(value, numeric_strings=False):
        size = _expect_int(value, "storageSize", numeric_strings)
        if size < MIN_STORAGE_SIZE:
            raise ApiError(400, f"storageSize: {size} is below the minimum of {MIN_STORAGE_SIZE} GB")
        if size > MAX_STORAGE_SIZE:
            raise ApiError(400, f"storageSize: {size} GB is above the maximum of {MAX_STORAGE_SIZE} GB", "NETWORK_STORAGE_TOO_LARGE", always=True)
        return size

    def _render_storage(self, storage):
        """A network storage as list shows it: clusterName from its cluster, storageSize a string if configured."""
        out = copy.deepcopy(storage)
        cluster = self._find_cluster(storage["clusterId"])
        if cluster is not None:
            out["clusterName"] = cluster["name"]
        if self._config["storage_size_as_string"]:
            out["storageSize"] = _drift(out["storageSize"])
        return out

    def _api_storage_create(self, _query, body):
        """Create a network storage. Answer by ``storage_create_answer``: the bare ID as a JSON string (``string``, the
        documented profile: Novita's docs), ``{"storageId": ...}`` (``object``) or ``{}`` (``empty``, strict)."""
        body = self._require_body(body)
        for key in ("clusterId", "storageName", "storageSize"):
            self._required_field(body, key)
        cluster_id = _expect_str(body["clusterId"], "clusterId")
        if not cluster_id:
            raise ApiError(400, "missing required field: clusterId")
        name = self._check_storage_name(body["storageName"])
        size = self._check_storage_size(body["storageSize"])
        cluster = self._find_cluster(cluster_id)
        if cluster is None:
            raise ApiError(404, f"cluster {cluster_id} not found", "RESOURCE_NOT_FOUND")
        if not cluster.get("supportNetworkStorage"):
            raise ApiError(400, f"clusterId: cluster {cluster_id} does not support network storage", "CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT", always=True)
        # Names may repeat (guessed: nothing documented forbids it).
        storage_id = self._new_ref_id("storage", STORAGE_ID_PREFIX, self._storages, "storageId")
        self._storages.append({"storageId": storage_id, "storageName": name, "storageSize": size, "clusterId": cluster_id,
                               "clusterName": cluster["name"], "price": STORAGE_PRICE})
        answer = self._config["storage_create_answer"]
        if answer == "string":
            return storage_id
        return {"storageId": storage_id} if answer == "object" else {}

    def _api_storage_update(self, _query, body):
        """Grow (or keep) a network storage's size and optionally rename it; a smaller size is refused."""
        body = self._require_body(body)
        for key in ("storageId", "storageSize"):
            self._required_field(body, key)
        storage_id = _expect_str(body["storageId"], "storageId")
        storage = self._find_storage(storage_id)
        if storage is None:
            raise self._storage_not_found(storage_id)
        name = body.get("storageName")
        if name is not None and name != "":  # absent, null or "": the name is kept
            name = self._check_storage_name(name)
        else:
            name = storage["storageName"]
        size = self._check_storage_size(body["storageSize"], self._profile()["numeric_strings"])
        if size < storage["storageSize"]:
            raise ApiError(400, f"storageSize: {size} is smaller than the current size {storage['storageSize']} "
                                f"of network storage {storage_id} (a network storage can only grow)")
        storage["storageName"] = name
        storage["storageSize"] = size
        return {}

    def _api_storage_delete(self, _query, body):
        """Delete a network storage by ID; one that an endpoint mounts is refused with NETWORK_STORAGE_IN_USE unless
        ``in_use_deletes`` is ``allow``."""
        body = self._require_body(body)
        storage_id = _expect_str(self._required_field(body, "storageId"), "storageId")
        storage = self._find_storage(storage_id)
        if storage is None:
            raise self._storage_not_found(storage_id)
        users = [record["id"] for record in self._endpoints.values()
                 if any(isinstance(mount, dict) and mount.get("type") == "network" and mount.get("id") == storage_id
                        for mount in record.get("volumeMounts") or [])]
        self._refuse_in_use(users, f"network storage {storage_id}", "NETWORK_STORAGE_IN_USE")
        self._storages.remove(storage)
        return {}

    def _api_storages(self, query, _body):
        page_no = self._int_param(query, "pageNo", required=False, default=self._config["page_base"])
        page_size = self._int_param(query, "pageSize", required=False, default=10)
        name = query.get("storageName") or ""
        storage_id = query.get("storageId") or ""
        matched = [storage for storage in self._storages
                   if (not name or name in storage["storageName"]) and (not storage_id or storage["storageId"] == storage_id)]
        page = self._page(matched, "pageNo", page_no, page_size, self._config["storage_below_base"])
        return {"data": [self._render_storage(storage) for storage in page], "total": len(matched)}

    def _admin_storages(self, _body):
        return {"storages": copy.deepcopy(self._storages)}


class _ClusterHandlers(_RouteHelpers):
    """Clusters: list."""

    API_ROUTES = (("GET", "/clusters", "_api_clusters"),)

    def _find_cluster(self, cluster_id):
        for cluster in self._clusters:
            if cluster["id"] == cluster_id:
                return cluster
        return None

    def _api_clusters(self, _query, _body):
        return {"data": copy.deepcopy(self._clusters)}

    def _admin_clusters(self, _body):
        return {"clusters": copy.deepcopy(self._clusters)}


# The resources the emulator serves, each with its handler class (see _RouteHelpers).
RESOURCE_HANDLERS = (_EndpointHandlers, _RegistryAuthHandlers, _NetworkStorageHandlers, _ClusterHandlers)


class Emulator(*RESOURCE_HANDLERS):
    """In-memory Novita v1 serverless endpoint API, served over HTTP.

    ``Emulator(api_key=..., **config).start(host, port)`` returns the base URL
    and serves in a daemon thread until ``stop()``. ``config`` keys are those of
    DEFAULT_CONFIG (e.g. ``profile="documented"``, see PROFILES); ``limits``
    overrides entries of DEFAULT_LIMITS.

    This class holds the state, the server, authentication, rate limiting, faults, the
    request log and the admin interface; each resource's API calls come from its handler
    class in RESOURCE_HANDLERS.
    """

    def __init__(self, api_key=DEFAULT_API_KEY, limits=None, **config):
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty string")
        self._api_key = api_key
        # ApiError is a ValueError: bad constructor arguments raise ValueError.
        self._initial_config = _validate_config(config, DEFAULT_CONFIG)
        # The profile's limits with the constructor's over them; a change of profile starts again from its own.
        _validate_limits(limits or {}, DEFAULT_LIMITS)
        self._limit_overrides = copy.deepcopy(limits or {})
        self._initial_limits = self._profile_limits(self._initial_config["profile"])
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self.url = None
        self._last_created_us = 0
        self._bucket = _TokenBucket()
        # The API's state (endpoints, credentials, storages, clusters, limits, faults, the request log) as a reset leaves it.
        self._reset_locked()
        self._api_routes = {(method, path): getattr(self, handler)
                            for handlers in RESOURCE_HANDLERS for method, path, handler in handlers.API_ROUTES}
        self._admin_routes = {
            ("GET", "/health"): self._admin_health,
            ("GET", "/requests"): self._admin_get_requests,
            ("DELETE", "/requests"): self._admin_clear_requests,
            ("POST", "/reset"): self._admin_reset,
            ("POST", "/seed"): self._admin_seed,
            ("GET", "/endpoints"): self._admin_endpoints,
            ("GET", "/auths"): self._admin_auths,
            ("GET", "/storages"): self._admin_storages,
            ("GET", "/clusters"): self._admin_clusters,
            ("GET", "/limits"): self._admin_get_limits,
            ("POST", "/limits"): self._admin_set_limits,
            ("GET", "/config"): self._admin_get_config,
            ("POST", "/config"): self._admin_set_config,
            ("GET", "/faults"): self._admin_get_faults,
            ("POST", "/faults"): self._admin_add_fault,
            ("DELETE", "/faults"): self._admin_clear_faults,
            ("POST", "/endpoint_state"): self._admin_endpoint_state,
            ("GET", "/stats"): self._admin_get_stats,
            ("DELETE", "/stats"): self._admin_clear_stats,
        }

    # ------------------------------------------------------------------ server

    def start(self, host="127.0.0.1", port=0, access_log=None):
        """Listen on host:port (0 = any free port), serve in a daemon thread, return the base URL.

        access_log: a text stream that gets one line per request received (see _Handler), or None.
        """
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server_class = _Server6 if ":" in host else _Server
        server = server_class((host, port), _Handler)
        server.emulator = self
        server.access_log = access_log
        bound_port = server.server_address[1]
        url_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{bound_port}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="novita-emulator", daemon=True)
        self._thread.start()
        return self.url

    def stop(self):
        """Stop serving and close the listening socket. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(5)

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # ---------------------------------------------------------------- dispatch

    def handle(self, method, target, headers, raw_body, raw_headers=None):
        """Answer one HTTP request.

        headers: mapping with lower-case names; raw_headers: the (name, value) pairs as received,
        names in their own case (default: headers). Returns a Reply.
        """
        parts = urlsplit(target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            return self._handle_admin(method, path[len(ADMIN_PREFIX):], raw_body)
        if path.startswith(f"{API_PREFIX}/"):
            request = {"method": method, "path": path[len(API_PREFIX):], "query": query, "headers": headers,
                       "raw_headers": list(raw_headers) if raw_headers is not None else list(headers.items()), "raw_body": raw_body}
            return self._handle_api(request)
        return _error_response(404, f"no route for {method} {path}")

    @staticmethod
    def _parse_body(raw_body):
        """(parsed JSON or None, error message or None)."""
        if not raw_body or not raw_body.strip():
            return None, None
        try:
            return json.loads(raw_body.decode("utf-8")), None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return None, f"invalid JSON body: {exc}"

    def _auth_status(self, headers):
        value = (headers.get("authorization") or "").strip()
        if not value:
            return "missing"
        scheme, _sep, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return "invalid"
        if hmac.compare_digest(token.strip().encode("utf-8"), self._api_key.encode("utf-8")):
            return "ok"
        return "invalid"

    def _handle_api(self, request):
        method, path, headers = request["method"], request["path"], request["headers"]
        with self._lock:
            latency = self._config["latency_ms"]
        if latency:
            time.sleep(latency / 1000.0)
        body, body_error = self._parse_body(request["raw_body"])
        auth = self._auth_status(headers)
        wait = self._bucket.take()
        if wait:
            # Rate limited: answered at once, not processed, no fault consumed.
            retry_after = max(1, math.ceil(wait))
            reply = Reply(429, [("Retry-After", str(retry_after))],
                          _json_bytes({"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "rate limit exceeded"}))
            with self._lock:
                self._log_locked(request, body, auth, reply, None, False, fault_kind="rate_limit")
            return reply
        fault = None
        if auth == "ok":
            with self._lock:
                fault = self._take_fault(method, path)
        if fault is not None and fault["kind"] == "latency":
            time.sleep(fault["delay_ms"] / 1000.0)  # outside the lock: other requests go on meanwhile
        processed = False
        with self._lock:
            if auth != "ok":
                status, reason, message = self._profile()[f"{auth}_key"]
                response = self._error_reply(ApiError(status, message, reason))
            elif fault is not None and not fault["process"]:
                response = self._fault_reply(fault, None, request)
            elif body_error:
                response = self._error_reply(ApiError(400, body_error))
            else:
                processed = True
                query = request["query"]
                if fault is not None and fault["kind"] == "repeat_page":
                    query = self._first_page_query(path, query)
                response = self._route_api(method, path, query, body)
                if fault is not None:
                    response = self._fault_reply(fault, response, request)
            self._log_locked(request, body, auth, response, fault, processed)
        return response

    def _log_locked(self, request, body, auth, response, fault, processed, fault_kind=None):
        """Append a request log entry and count it in the stats."""
        status = response.sent_status()
        if fault is not None:
            fault_kind = fault["kind"]
        self._seq += 1
        self._requests.append({
            "seq": self._seq,
            "method": request["method"],
            "path": request["path"],
            "query": dict(request["query"]),
            "body": copy.deepcopy(body),
            "status": status,
            "auth": auth,
            "user_agent": request["headers"].get("user-agent") or "",
            "fault": fault_kind is not None,
            "fault_id": fault["id"] if fault is not None else None,
            "fault_kind": fault_kind,
            "processed": processed,
        })
        stats = self._stats
        stats["requests"] += 1
        status_key = "none" if status is None else str(status)
        stats["by_status"][status_key] = stats["by_status"].get(status_key, 0) + 1
        if fault_kind == "rate_limit":
            stats["rate_limited"] += 1

    def _error_reply(self, exc):
        """The reply for an API error, shaped by the current profile."""
        profile = self._profile()
        status = exc.status
        if exc.reason and exc.reason.endswith(NOT_FOUND_SUFFIX):
            status = profile["not_found_status"]
        payload = {"code": status}
        reason = exc.reason or DEFAULT_REASONS.get(status)
        if reason and (exc.always or profile["reasons"]):
            payload["reason"] = reason
        payload["message"] = exc.message
        return Reply(status, [], _json_bytes(payload))

    def _route_api(self, method, path, query, body):
        route = self._api_routes.get((method, path))
        try:
            if route is None:
                raise ApiError(404, f"no route for {method} {path}")
            return _json_reply(route(query, body))
        except ApiError as exc:
            return self._error_reply(exc)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # An emulator bug: answer (and log) a 500 instead of dropping the connection.
            return self._error_reply(ApiError(500, f"emulator error: {type(exc).__name__}: {exc}"))

    def _handle_admin(self, method, path, raw_body):
        body, body_error = self._parse_body(raw_body)
        if body_error:
            return _error_response(400, body_error)
        route = self._admin_routes.get((method, path))
        if route is None:
            return _error_response(404, f"no route for {method} {ADMIN_PREFIX}{path}")
        with self._lock:
            try:
                payload = route(body)
            except ApiError as exc:
                return _error_response(exc.status, exc.message)
        return _json_reply(payload)

    # ------------------------------------------------------------------ faults

    def _take_fault(self, method, path):
        """The pending fault that fires for this request (a copy), or None.

        Matching faults are looked at oldest first; one that still has ``skip`` left lets the
        request through (and counts it), the first without fires and loses one of its ``count``.
        """
        for fault in list(self._faults):
            if fault["method"] != method or fault["path"] != path:
                continue
            if fault["skip"] > 0:
                fault["skip"] -= 1
                continue
            fault["count"] -= 1
            if fault["count"] <= 0:
                self._faults.remove(fault)
            return copy.deepcopy(fault)
        return None

    def _first_page_query(self, path, query):
        """The query of a list request with its page number replaced by the first page's (``page_base``): a repeat_page fault."""
        page_param = LIST_PATHS[path][1]
        if query.get(page_param) in (None, ""):
            return query  # the list's default page is the first one already
        return dict(query, **{page_param: str(self._config["page_base"])})

    @staticmethod
    def _short_page(fault, result, path):
        """A short_page fault: the last ``drop_items`` items (all by default) of a 200 list reply are left out; its
        ``total`` stays, and a list that has none (GET /repository/auths) gets one, the number of items before the drop."""
        if result.status != 200 or result.action != "send":
            return result
        items_key = LIST_PATHS[path][0]
        payload = json.loads(result.body.decode("utf-8"))
        items = payload.get(items_key) if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return result
        drop = len(items) if fault["drop_items"] is None else min(fault["drop_items"], len(items))
        payload = dict(payload)
        payload.setdefault("total", len(items))
        payload[items_key] = items[:len(items) - drop]
        result.body = _json_bytes(payload)
        return result

    @staticmethod
    def _fault_reply(fault, result, request):
        """The reply for a fired fault; ``result`` is the real reply when the request was processed, else None."""
        kind = fault["kind"]
        hold = fault["delay_ms"] / 1000.0 if kind != "latency" else 0.0
        if kind in FAULT_LIST_KINDS:
            result.hold = hold
            return Emulator._short_page(fault, result, request["path"]) if kind == "short_page" else result
        if kind == "echo":
            # Quotes the raw body and every header (the API key too) back, as some APIs' errors do.
            text = request["raw_body"].decode("utf-8", errors="replace")
            message = f"invalid request: {text} headers: {json.dumps(dict(request['raw_headers']))}"
            return Reply(400, [], _json_bytes({"code": 400, "reason": "VALIDATOR_PARAM", "message": message}), hold=hold)
        if kind in FAULT_OWN_RESPONSE:
            headers = []
            if fault["retry_after"] is not None:
                headers.append(("Retry-After", fault["retry_after"]))
            status, body = fault["status"], fault["body"]
            if body is None and kind == "status":
                payload, content_type = _json_bytes({"code": status, "message": "injected fault"}), "application/json"
            elif body is None:
                payload, content_type = DEFAULT_NON_JSON_BODY.encode("utf-8"), "text/html; charset=utf-8"
            elif isinstance(body, str):
                payload, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
            else:
                payload, content_type = _json_bytes(body), "application/json"
            return Reply(status, headers, payload, fault["content_type"] or content_type, hold=hold)
        if kind == "latency":
            return result
        if kind == "timeout" and result is not None:
            result.hold = hold  # answered late, when the client has given up
            return result
        if kind == "truncate":
            result.action = "truncate"
            result.hold = hold
            return result
        # drop, or a timeout whose request was not processed: close without an answer.
        return Reply(None, [], b"", action="drop", hold=hold)

    # ------------------------------------------------------------------- state

    def _reset_locked(self):
        self._config = copy.deepcopy(self._initial_config)
        self._limits = copy.deepcopy(self._initial_limits)
        self._endpoints = {}
        self._armed_states = {}
        self._requests = []
        self._faults = []
        self._seq = 0
        self._fault_seq = 0
        self._auths = copy.deepcopy(SEED_AUTHS)
        self._clusters = copy.deepcopy(SEED_CLUSTERS + list(self._profile()["clusters"]))
        self._storages = copy.deepcopy(SEED_NETWORK_STORAGES)
        self._id_counters = {"auth": 0, "storage": 0, "cluster": 0}
        for kind, prefix, records, key in self._ref_kinds():
            for record in records:
                self._count_ref_id(kind, prefix, record[key])
        self._clear_stats_locked()
        self._bucket.configure(self._config["rate_limit"], self._config["rate_burst"])

    def _clear_stats_locked(self):
        self._stats = {"requests": 0, "by_status": {}, "rate_limited": 0}

    def _ref_kinds(self):
        """(kind, ID prefix, store, ID key) of the reference data: registry credentials, network storages, clusters."""
        return (("auth", AUTH_ID_PREFIX, self._auths, "id"),
                ("storage", STORAGE_ID_PREFIX, self._storages, "storageId"),
                ("cluster", CLUSTER_ID_PREFIX, self._clusters, "id"))

    # ------------------------------------------------------------ admin routes

    def _admin_health(self, _body):
        return {"ok": True}

    def _admin_get_requests(self, _body):
        return {"requests": copy.deepcopy(self._requests)}

    def _admin_clear_requests(self, _body):
        self._requests = []
        return {}

    def _admin_reset(self, _body):
        self._reset_locked()
        return {}

    def _admin_seed(self, body):
        body = self._require_body(body if body is not None else {})
        for key in body:
            if key not in SEED_KEYS:
                raise ApiError(400, f"unknown seed key: {key}")
        # Everything is checked before anything is stored: a bad item seeds nothing.
        refs = {}
        for key, fields in SEED_REF_FIELDS.items():
            items = _expect_list(body.get(key, []), key)
            for index, item in enumerate(items):
                _check_seed_ref(item, f"{key}[{index}]", fields)
            refs[key] = items
        endpoints = body.get("endpoints", [])
        _expect_list(endpoints, "endpoints")
        for index, item in enumerate(endpoints):
            _expect_object(item, f"endpoints[{index}]")
        for index, item in enumerate(endpoints):
            mounts = item.get("volumeMounts", [])
            _expect_list(mounts, f"endpoints[{index}].volumeMounts")
            for mount_index, mount in enumerate(mounts):
                _expect_object(mount, f"endpoints[{index}].volumeMounts[{mount_index}]")
            for key in ("createdAt", "updatedAt"):
                if item.get(key) is not None:
                    _parse_time(item[key], f"endpoints[{index}].{key}")
        # Clusters first, so that a seeded storage finds its cluster's name.
        cluster_ids = [self._seed_ref("cluster", item) for item in refs["clusters"]]
        storage_ids = [self._seed_ref("storage", item) for item in refs["storages"]]
        auth_ids = [self._seed_ref("auth", item) for item in refs["auths"]]
        return {"ids": [self._seed_one(item) for item in endpoints], "auth_ids": auth_ids, "storage_ids": storage_ids,
                "cluster_ids": cluster_ids}

    def _seed_ref(self, kind, item):
        """Store one seeded registry credential, network storage or cluster; return its ID.

        Missing fields get defaults; a given ID is kept, and replaces the item with that ID in place.
        """
        _kind, prefix, records, key = next(entry for entry in self._ref_kinds() if entry[0] == kind)
        ref_id = item.get(key) or self._new_ref_id(kind, prefix, records, key)
        self._count_ref_id(kind, prefix, ref_id)
        if kind == "auth":
            record = {"id": ref_id, "name": ref_id, "username": "emulator", "password": "emulator-password"}
        elif kind == "cluster":
            record = {"id": ref_id, "name": ref_id, "availableGpuType": [], "supportNetworkStorage": True, "supportInstanceNetwork": False}
        else:
            record = {"storageId": ref_id, "storageName": ref_id, "storageSize": MIN_STORAGE_SIZE, "clusterId": "cluster-1",
                      "clusterName": "", "price": STORAGE_PRICE}
        record.update({name: copy.deepcopy(value) for name, value in item.items() if value is not None})
        record[key] = ref_id
        if kind == "storage":
            cluster = self._find_cluster(record["clusterId"])
            if cluster is not None and "clusterName" not in item:
                record["clusterName"] = cluster["name"]
        for index, existing in enumerate(records):
            if existing[key] == ref_id:
                records[index] = record
                return ref_id
        records.append(record)
        return ref_id

    def _seed_one(self, item):
        item = copy.deepcopy(item)
        endpoint_id = item.pop("id", None) or self._new_id()
        endpoint_id = str(endpoint_id)
        state = item.pop("state", None)
        item.pop("workers", None)
        created_at = item.pop("createdAt", None)
        updated_at = item.pop("updatedAt", None)
        created = _parse_time(created_at, "createdAt") if created_at is not None else self._new_created_us()
        updated = _parse_time(updated_at, "updatedAt") if updated_at is not None else created
        app_name = item.get("appName") or endpoint_id
        record = {
            "id": endpoint_id,
            "name": "",
            "appName": app_name,
            "url": f"https://{app_name}.serverless.emulator.invalid",
            "products": [{"id": "1"}],
            "rootfsSize": 100,
            "image": {"image": "emulator/placeholder:latest", "authId": "", "command": ""},
            "volumeMounts": [],
            "envs": [],
            "ports": [{"port": 8000}],
            "log": "",
            "_created_us": created,
            "_updated_us": updated,
        }
        for key, defaults in (("workerConfig", {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1}),
                              ("policy", {"type": "queue", "value": 60}),
                              ("image", record["image"]),
                              ("healthy", self._profile()["healthy"])):
            record[key] = _merge(defaults, item.pop(key, None))
        record.update(item)
        record["volumeMounts"] = [_merge({"type": "local", "size": 0, "id": "", "mountPath": ""}, mount) for mount in record["volumeMounts"]]
        if isinstance(state, dict):
            self._new_record_state(record, str(state.get("state") or "serving"), str(state.get("error") or ""), str(state.get("message") or ""))
        else:
            self._new_record_state(record, str(state or "serving"))
        self._endpoints.pop(endpoint_id, None)
        self._endpoints[endpoint_id] = record
        return endpoint_id

    def _admin_get_limits(self, _body):
        return copy.deepcopy(self._limits)

    def _admin_set_limits(self, body):
        self._limits = _validate_limits(body if body is not None else {}, self._limits)
        return copy.deepcopy(self._limits)

    def _admin_get_config(self, _body):
        return copy.deepcopy(self._config)

    def _profile_limits(self, profile):
        """The limits of ``profile`` with the constructor's ``limits`` over them (a key the profile lacks is added)."""
        limits = copy.deepcopy(PROFILES[profile]["limits"])
        limits.update(copy.deepcopy(self._limit_overrides))
        return limits

    def _admin_set_config(self, body):
        body = body if body is not None else {}
        before = self._config["profile"]
        self._config = _validate_config(body, self._config)
        if self._config["profile"] != before:
            self._limits = self._profile_limits(self._config["profile"])
        if "rate_limit" in body or "rate_burst" in body:
            self._bucket.configure(self._config["rate_limit"], self._config["rate_burst"])
        return copy.deepcopy(self._config)

    def _admin_get_stats(self, _body):
        return copy.deepcopy(self._stats)

    def _admin_clear_stats(self, _body):
        self._clear_stats_locked()
        return {}

    def _admin_get_faults(self, _body):
        return {"faults": copy.deepcopy(self._faults)}

    def _admin_add_fault(self, body):
        body = self._require_body(body)
        for key in body:
            if key not in FAULT_KEYS:
                raise ApiError(400, f"unknown fault key: {key}")
        kind = body.get("kind", "status")
        if kind not in FAULT_KINDS:
            raise ApiError(400, f"kind: {kind} is not one of {', '.join(FAULT_KINDS)}")
        required = ["method", "path"] + (["status"] if kind == "status" else []) + (["delay_ms"] if kind in FAULT_NEED_DELAY else [])
        for key in required:
            if body.get(key) is None:
                raise ApiError(400, f"missing required field: {key}")
        if kind not in FAULT_OWN_RESPONSE:
            for key in ("status", "retry_after", "body", "content_type"):
                if body.get(key) is not None:
                    raise ApiError(400, f"{key}: not used by kind {kind} (only by {' and '.join(FAULT_OWN_RESPONSE)})")
        if kind != "short_page" and body.get("drop_items") is not None:
            raise ApiError(400, f"drop_items: not used by kind {kind} (only by short_page)")
        method = _expect_str(body["method"], "method").upper()
        path = _expect_str(body["path"], "path")
        if path.startswith(f"{API_PREFIX}/"):
            path = path[len(API_PREFIX):]
        path = path.split("?", 1)[0]
        if kind in FAULT_LIST_KINDS:
            lists = [list_path for list_path, (_key, page_param) in LIST_PATHS.items() if kind == "short_page" or page_param]
            if method != "GET" or path not in lists:
                raise ApiError(400, f"path: kind {kind} works on a {'paged ' if kind == 'repeat_page' else ''}list only:"
                                    f" GET {', '.join(lists)}, not {method} {path}")
        drop_items = body.get("drop_items")
        if drop_items is not None:
            drop_items = _check_range(_expect_int(drop_items, "drop_items"), "drop_items", 1, 10 ** 9)
        status = None
        if kind in FAULT_OWN_RESPONSE:
            status = _check_range(_expect_int(body.get("status", 200), "status"), "status", 100, 599)
        count = _check_range(_expect_int(body.get("count", 1), "count"), "count", 1, 10 ** 9)
        skip = _check_range(_expect_int(body.get("skip", 0), "skip"), "skip", 0, 10 ** 9)
        delay_ms = _check_range(_expect_int(body.get("delay_ms", 0), "delay_ms"), "delay_ms", 0, 600000)
        if kind in FAULT_NEED_DELAY and delay_ms == 0:
            raise ApiError(400, f"delay_ms: kind {kind} needs a delay above 0")
        process = body.get("process", FAULT_KINDS[kind])
        if not isinstance(process, bool):
            raise ApiError(400, f"process: expected a boolean, got {_json_type(process)}")
        if not process and kind in FAULT_ALWAYS_PROCESS:
            raise ApiError(400, f"process: kind {kind} always processes the request")
        retry_after = body.get("retry_after")
        if retry_after is not None:
            if not (isinstance(retry_after, str) or _is_int(retry_after)):
                raise ApiError(400, f"retry_after: expected a string or integer, got {_json_type(retry_after)}")
            retry_after = str(retry_after)
        fault_body = body.get("body")
        if kind == "non_json" and fault_body is not None:
            _expect_str(fault_body, "body")
        content_type = body.get("content_type")
        if content_type is not None:
            _expect_str(content_type, "content_type")
        self._fault_seq += 1
        fault = {"id": self._fault_seq, "kind": kind, "method": method, "path": path, "count": count, "skip": skip,
                 "process": process, "status": status, "retry_after": retry_after, "body": copy.deepcopy(fault_body),
                 "content_type": content_type, "delay_ms": delay_ms, "drop_items": drop_items}
        self._faults.append(fault)
        return {"fault": copy.deepcopy(fault)}

    def _admin_clear_faults(self, _body):
        self._faults = []
        return {}


class _Handler(BaseHTTPRequestHandler):
    server_version = "NovitaEmulator/1.0"

    def _handle(self):
        started = time.monotonic()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw_body = self.rfile.read(length) if length > 0 else b""
        raw_headers = list(self.headers.items())
        headers = {name.lower(): value for name, value in raw_headers}
        reply = self.server.emulator.handle(self.command, self.path, headers, raw_body, raw_headers)
        if reply.hold:
            time.sleep(reply.hold)  # this thread only: the server keeps answering other requests
        # Logged before the answer goes out, so a client that has its answer finds the line written.
        self._log_access(None if reply.action == "drop" else reply.status, started)
        if reply.action == "drop":
            self.close_connection = True
            return
        body = reply.body
        if reply.action == "truncate":
            self.close_connection = True
            body = body[:len(body) // 2]
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(max(len(reply.body), 1) if reply.action == "truncate" else len(body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; nothing left to answer

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle

    def _log_access(self, status, started):
        """Write one access log line, never a header or a body (so never the API key or a secret).

        The line: client address, method, path with query, status (- for a connection closed
        without an answer), milliseconds from the request's arrival until its answer was ready.
        """
        stream = self.server.access_log
        if stream is None:
            return
        elapsed_ms = round((time.monotonic() - started) * 1000)
        line = " ".join((self.client_address[0], _printable(self.command), _printable(self.path),
                         "-" if status is None else str(status), f"{elapsed_ms}ms"))
        with self.server.access_log_lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken stream must not fail the request

    def log_request(self, code="-", size="-"):
        """No line from http.server: _handle writes the access log line."""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence http.server's own stderr lines (errors for malformed requests included)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients: a short listen backlog makes connects wait for SYN retries
    emulator = None
    access_log = None  # a text stream for one line per request, see _Handler._log_access
    access_log_lock = threading.Lock()  # whole lines from concurrent handler threads


# Control characters in a request line are written escaped (\x1b), so a log line stays one line.
_CONTROL_CHARS = {code: f"\\x{code:02x}" for code in list(range(32)) + [127]}


def _printable(text):
    return text.translate(_CONTROL_CHARS)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp_path = tempfile.mkstemp(prefix=".novita-emulator-", dir=directory)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Local fake of the Novita v1 serverless endpoint API (see docs/emulator.md).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default 0)")
    parser.add_argument("--api-key", default=None,
                        help=f"accepted API key (default: ${API_KEY_ENV}, else {DEFAULT_API_KEY})")
    parser.add_argument("--profile", choices=tuple(PROFILES), default=None,
                        help="strict: careful reading of the API reference; documented: Novita's error codes and what real clients see (default strict)")
    parser.add_argument("--init-reads", type=int, default=None, help="GET reads a new endpoint stays initializing/creating (default 0)")
    parser.add_argument("--update-reads", type=int, default=None, help="GET reads an updated endpoint stays initializing/updating (default 0)")
    parser.add_argument("--delete-reads", type=int, default=None, help="GET reads a deleted endpoint stays terminating/deleting (default 0)")
    parser.add_argument("--stale-reads", type=int, default=None,
                        help="GET reads after an update that still show the old settings (default 0 under strict, 1 under documented)")
    parser.add_argument("--stale-list-reads", type=int, default=None,
                        help="list reads after an update that still show the endpoint as before it, reads by ID aside (default 0)")
    parser.add_argument("--zero-worker-state", default=None, help="state a settled endpoint with minNum 0 reports (default serving)")
    parser.add_argument("--created-at", choices=CREATED_AT_FORMATS, default=None, help="format of createdAt and updatedAt (default iso)")
    parser.add_argument("--page-base", type=int, choices=(0, 1), default=None,
                        help="number of the first page of GET /endpoints and GET /networkstorages/list (default 1)")
    parser.add_argument("--below-base", choices=BELOW_BASE_MODES, default=None,
                        help="how a pageNum of GET /endpoints below the base is answered (default clamp)")
    parser.add_argument("--storage-below-base", choices=BELOW_BASE_MODES, default=None,
                        help="how a pageNo of GET /networkstorages/list below the base is answered (default error)")
    parser.add_argument("--max-page-size", type=int, default=None,
                        help="largest page GET /endpoints and GET /networkstorages/list return (default 100)")
    parser.add_argument("--latency-ms", type=int, default=None, help="delay added to every API request (default 0)")
    parser.add_argument("--rate-limit", type=float, default=None, help="API requests a second before 429 answers; 0 = no limit (default 0)")
    parser.add_argument("--rate-burst", type=float, default=None, help="requests allowed at once by the rate limit (default max(1, rate limit))")
    parser.add_argument("--url-file", default=None, help="also write the base URL to this file (atomically)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not write the access log line (client, method, path, status, duration) per request to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse_args(argv)
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
    config = {}
    for key in ("profile", "init_reads", "update_reads", "delete_reads", "stale_reads", "stale_list_reads", "page_base", "below_base", "storage_below_base",
                "max_page_size", "latency_ms", "zero_worker_state", "created_at", "rate_limit", "rate_burst"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    try:
        emulator = Emulator(api_key=api_key, **config)
    except ValueError as exc:
        sys.stderr.write(f"novita_emulator: {exc}\n")
        return 2

    stop = threading.Event()

    def _on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        url = emulator.start(host=args.host, port=args.port, access_log=None if args.quiet else sys.stderr)
    except OSError as exc:
        sys.stderr.write(f"novita_emulator: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1
    if args.url_file:
        _write_atomic(args.url_file, url)
    print(url, flush=True)
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
