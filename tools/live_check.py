# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live contract check: where the real Novita v1 API answers differently from the project's emulator.

Usage (make live-check runs it with $(PYTHON), no venv needed):
    NOVITA_API_KEY=... python tools/live_check.py [--base-url URL] [--report PATH] [--profile strict|documented]
        [--write [--collections-path DIR] [--name-prefix PREFIX] [--product-id ID] [--image IMAGE] [--port N]]
        [--expect-no-differences] [--against-emulator strict|documented]

Read-only by default: it sends the eleven reads of READ_REQUESTS to the API (NOVITA_API_BASE_URL, default
https://api.novita.ai), then the same requests to an in-process emulator (tests/emulator/novita_emulator.py,
in the chosen profile, seeded with SEED_ENDPOINTS), and compares the status and the shape of each pair of
answers. A shape describes a JSON value without its values (see shape_of); error replies also keep their
``code`` and ``reason``. Everything goes into a JSON report (default .tmp/live-check/report.json).

Before any request it resolves the API's host name (or its proxy's): one that does not resolve ends the check
at once (exit 2), and so does no answer to the first read.

``--write`` then runs the collection's modules through ansible-playbook (the dev venv's, or .tmp/venv-run's,
built when missing) on one disposable endpoint (create, rerun, update, check mode, delete, info by the deleted
ID) through a local recording proxy. The endpoint pulls its image with a disposable registry credential; before
the delete, the run deletes that credential while the endpoint uses it and records whether the API refuses
(EXPECTED_IN_USE_DELETE). At the end it deletes whatever endpoint, then whatever credential, has the disposable
name, whatever happened. It creates no network storage (storage costs money).

``--against-emulator PROFILE`` stands a seeded emulator process (real loopback HTTP) in for the real API,
with a random key unless NOVITA_API_KEY is set: `make test` uses it. NOVITA_LIVE_CHECK_SECRET_VALUE sets the
value of the secret environment variable the write run declares (default: random).

Neither the API key nor any value of a request body, an environment variable or a registry credential
ever goes into the report: only shapes, statuses, error codes and reasons, counts and timings, and the
key and the secret value are scrubbed from every string as well.

Exit status: 0 when the check ran (differences against a real API are findings, not failures); 1 with
--expect-no-differences when there is a difference or a write step that did not behave as expected, or
when a disposable endpoint may have been left behind; 2 when the check could not run. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from urllib.request import ProxyHandler, Request, build_opener, getproxies, proxy_bypass

TOOL_VERSION = "1.0.0"
ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PATH = ROOT / "tests" / "emulator" / "novita_emulator.py"
MATRIX_COMMON_PATH = ROOT / "tests" / "matrix" / "matrix_common.py"
STAGE_SCRIPT = ROOT / "tools" / "stage.sh"
DEFAULT_REPORT = ROOT / ".tmp" / "live-check" / "report.json"
DEFAULT_COLLECTIONS = ROOT / ".tmp" / "collections"
# The light venv (ansible-core alone) --write builds when no ansible-playbook is at hand, as make dev does.
RUN_VENV = ROOT / ".tmp" / "venv-run"
RUN_VENV_FILES = (ROOT / "tools" / "requirements-run.txt", ROOT / "tools" / "constraints-run.txt")
ENSURE_VENV_SCRIPT = ROOT / "tools" / "ensure-venv.sh"
DEFAULT_BASE_URL = "https://api.novita.ai"
API_PREFIX = "/gpu-instance/openapi/v1"
PROFILES = ("strict", "documented")
DEFAULT_PROFILE = "documented"
USER_AGENT = f"novita.cloud-live-check/{TOOL_VERSION}"
TIMEOUT = 30
# Seconds the check waits for the API's host name to resolve before it gives up.
RESOLVE_TIMEOUT = 10

UNKNOWN_ID = "novita-cloud-live-check-unknown-id"
WRONG_KEY = "novita-cloud-live-check-wrong-key"
EXISTING_ID = "<id of the first listed endpoint>"
REDACTED = "<redacted>"
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
SECRET_VALUE_ENV = "NOVITA_LIVE_CHECK_SECRET_VALUE"
# The disposable endpoint's secret variable, and the variable that hands its value to the playbook.
SECRET_ENV_NAME = "LIVE_CHECK_SECRET"
PLAYBOOK_SECRET_ENV = "LIVE_CHECK_SECRET_VALUE"
# States of an endpoint that is already going away: the cleanup leaves it alone.
DELETING_STATES = ("terminating", "deleting")
# Keys whose string values in a live answer are secret; scrubbed from the report as well (belt and braces).
SECRET_KEYS = frozenset(("password", "value", "token", "secret", "apiKey", "api_key", "accessKey", "secretKey"))
MIN_SCRUBBED_LENGTH = 6

# name, path, query, auth ("key": your key, "wrong key": WRONG_KEY). EXISTING_ID stands for the ID of the first endpoint listed.
READ_REQUESTS = (
    ("list_page_0", "/endpoints", {"pageSize": "10", "pageNum": "0"}, "key"),
    ("list_page_1", "/endpoints", {"pageSize": "10", "pageNum": "1"}, "key"),
    ("list_page_size_1000", "/endpoints", {"pageSize": "1000", "pageNum": "1"}, "key"),
    ("list_no_paging", "/endpoints", {}, "key"),
    ("limits", "/endpoint/limit", {}, "key"),
    ("registry_auths", "/repository/auths", {}, "key"),
    ("network_storages", "/networkstorages/list", {"pageNo": "1", "pageSize": "10"}, "key"),
    ("clusters", "/clusters", {}, "key"),
    ("get_existing", "/endpoint", {"id": EXISTING_ID}, "key"),
    ("get_unknown", "/endpoint", {"id": UNKNOWN_ID}, "key"),
    ("wrong_key", "/endpoints", {"pageSize": "1", "pageNum": "1"}, "wrong key"),
)
LIST_REQUESTS = ("list_page_0", "list_page_1", "list_page_size_1000", "list_no_paging")

# What the emulator holds for the comparison (reference data: registry credentials auth-1/auth-2, network
# storages ns-1/ns-2, clusters cluster-1/cluster-2). One endpoint with every optional field (envs, a network
# volume and its clusterID, a registry credential, a command, requestTimeout and cudaVersion), one with none.
SEED_ENDPOINTS = [
    {"id": "11c0ffee00000001", "name": "live-check-full",
     "workerConfig": {"minNum": 1, "maxNum": 2, "freeTimeout": 300, "maxConcurrent": 2, "gpuNum": 1,
                      "requestTimeout": 600, "cudaVersion": "12.4"},
     "policy": {"type": "queue", "value": 60},
     "image": {"image": "nginx:alpine", "authId": "auth-1", "command": "nginx -g 'daemon off;'"},
     "ports": [{"port": 80}],
     "envs": [{"key": "LOG_LEVEL", "value": "info"}, {"key": "MODE", "value": "check"}],
     "volumeMounts": [{"type": "network", "id": "ns-1", "size": 0, "mountPath": "/models"},
                      {"type": "local", "size": 30, "id": "", "mountPath": "/workspace"}],
     "clusterID": "cluster-1",
     "healthy": {"path": "/"}},
    {"id": "11c0ffee00000002", "name": "live-check-minimal",
     "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
     "volumeMounts": [{"type": "local", "size": 30, "id": "", "mountPath": "/workspace"}],
     "healthy": {"path": "/health"}},
]

# Fields an endpoint has only when they were set: the live data may simply not have them.
OPTIONAL_FIELD_SUFFIXES = (".clusterID", ".workerConfig.requestTimeout", ".workerConfig.cudaVersion")

DIFFERENCE_KINDS = {
    "status differs": "the two answers have different HTTP statuses (live: the status, or null when no answer came)",
    "reason differs": "error replies with different code or reason values",
    "wrapping differs": "the top-level objects share no field (e.g. {endpoint: {...}} against a flat object)",
    "missing field": "the live answer has a field the emulator's answer lacks",
    "extra field": "the emulator's answer has a field the live answer lacks",
    "type differs": "the field's JSON type differs (a numeric string and a string count as the same type)",
    "paging differs": "what the list answers say about paging differs (see paging)",
}

NUMERIC_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?")
SCALAR_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"))


class CheckError(Exception):
    """The check cannot run; the message says why."""


# ----------------------------------------------------------------------------------------------- shapes

def shape_of(value):
    """The shape of a JSON value, without its values.

    An object is ``{field: shape}``; an array is ``[shape of its items, merged]`` (``[]`` when empty); a
    scalar is its JSON type name (``string``, ``integer``, ``number``, ``boolean``, ``null``), and a string
    that holds a number is ``string(numeric)``. Where items of an array disagree on a field's type, the
    field's shape is the sorted list of the type names seen, so a list of two or more strings is such a
    mixed type, and a list of at most one element is an array.
    """
    if isinstance(value, dict):
        return {str(key): shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        if not value:
            return []
        merged = shape_of(value[0])
        for item in value[1:]:
            merged = merge_shapes(merged, shape_of(item))
        return [merged]
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string(numeric)" if NUMERIC_STRING.fullmatch(value.strip()) else "string"
    for python_type, name in SCALAR_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def shape_kind(shape):
    """object, array, mixed or scalar."""
    if isinstance(shape, dict):
        return "object"
    if isinstance(shape, list):
        return "array" if len(shape) <= 1 else "mixed"
    return "scalar"


def shape_types(shape):
    """The type names a shape stands for."""
    kind = shape_kind(shape)
    if kind in ("object", "array"):
        return [kind]
    if kind == "mixed":
        return list(shape)
    return [shape]


def merge_shapes(first, second):
    """One shape for two values that sit at the same place (e.g. two items of an array)."""
    if first == second:
        return first
    first_kind, second_kind = shape_kind(first), shape_kind(second)
    if first_kind == second_kind == "object":
        merged = dict(first)
        for key, shape in second.items():
            merged[key] = merge_shapes(merged[key], shape) if key in merged else shape
        return merged
    if first_kind == second_kind == "array":
        if not first or not second:
            return first or second
        return [merge_shapes(first[0], second[0])]
    types = sorted(set(shape_types(first)) | set(shape_types(second)))
    return types[0] if len(types) == 1 else types


def _comparable_types(shape):
    # A numeric string is a string whose value happens to be a number: user data (names, IDs, env values)
    # is numeric in one account and not in another, so only a string against a non-string is a difference.
    return {"string" if name == "string(numeric)" else name for name in shape_types(shape)}


# ------------------------------------------------------------------------------------------ comparison

class Findings:
    """The differences and the not comparable places found by the comparison."""

    def __init__(self):
        self.differences = []
        self.not_comparable = []

    def add_difference(self, request, kind, path, live, emulator):
        """Record a difference (kind: one of DIFFERENCE_KINDS)."""
        self.differences.append({"request": request, "kind": kind, "path": path, "live": live, "emulator": emulator})

    def add_not_comparable(self, request, path, why):
        """Record a place the comparison cannot judge, and why."""
        self.not_comparable.append({"request": request, "path": path, "why": why})


def _optional_field(path):
    return path.endswith(OPTIONAL_FIELD_SUFFIXES)


def compare_shapes(request, live, emulator, findings, path="$"):
    """Add every difference between two shapes to findings; places the live side has no data for are not comparable."""
    if path == "$" and shape_kind(live) == shape_kind(emulator) == "object" and live and emulator and not set(live) & set(emulator):
        findings.add_difference(request, "wrapping differs", path, sorted(live), sorted(emulator))
        return
    live_kind, emulator_kind = shape_kind(live), shape_kind(emulator)
    if live_kind == emulator_kind == "object":
        for key in sorted(set(live) | set(emulator)):
            sub_path = f"{path}.{key}"
            if key not in emulator:
                findings.add_difference(request, "missing field", sub_path, live[key], None)
            elif key not in live:
                if _optional_field(sub_path):
                    findings.add_not_comparable(request, sub_path, "a field only some endpoints have; the live data has none with it")
                else:
                    findings.add_difference(request, "extra field", sub_path, None, emulator[key])
            else:
                compare_shapes(request, live[key], emulator[key], findings, sub_path)
        return
    if live_kind == emulator_kind == "array":
        if not live:
            findings.add_not_comparable(request, f"{path}[]", "the live array is empty: no item shape")
        elif not emulator:
            findings.add_not_comparable(request, f"{path}[]", "the emulator's array is empty: no item shape")
        else:
            compare_shapes(request, live[0], emulator[0], findings, f"{path}[]")
        return
    if _comparable_types(live) != _comparable_types(emulator):
        findings.add_difference(request, "type differs", path, live, emulator)


def compare_answers(request, live, emulator, findings):
    """Compare one request's live answer with the emulator's (Answer objects; None when not sent)."""
    if live is None or emulator is None:
        side = "the live API" if live is None else "the emulator"
        findings.add_not_comparable(request, "$", f"not sent to {side} (no endpoint listed to read)")
        return
    if live.status is None:
        findings.add_not_comparable(request, "$", "no answer from the live API")
        return
    if live.status != emulator.status:
        findings.add_difference(request, "status differs", "$", live.status, emulator.status)
    if emulator.status is None or live.ok != emulator.ok:
        return
    if not live.ok:
        live_error, emulator_error = live.error_fields(), emulator.error_fields()
        if live_error != emulator_error:
            findings.add_difference(request, "reason differs", "$", live_error, emulator_error)
    compare_shapes(request, live.shape, emulator.shape, findings)


def _endpoint_ids(answer):
    """The IDs a list answer holds, in order; None when it is not a list answer."""
    if answer is None or not answer.ok or not isinstance(answer.data, dict) or not isinstance(answer.data.get("endpoints"), list):
        return None
    return [item.get("id") if isinstance(item, dict) else None for item in answer.data["endpoints"]]


def _total(answer):
    if answer is None or not answer.ok or not isinstance(answer.data, dict):
        return None
    total = answer.data.get("total")
    if isinstance(total, str) and total.strip().isdigit():
        return int(total)
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _same_items(first, second):
    if first is None or second is None or (not first and not second):
        return None
    return first == second


def paging_facts(answers):
    """What the list answers say about paging, as booleans (None: these answers cannot tell)."""
    ids = {name: _endpoint_ids(answers.get(name)) for name in LIST_REQUESTS}
    totals = [total for total in (_total(answers.get(name)) for name in LIST_REQUESTS) if total is not None]
    large, large_total = ids["list_page_size_1000"], _total(answers.get("list_page_size_1000"))
    return {
        "page_0_same_as_page_1": _same_items(ids["list_page_0"], ids["list_page_1"]),
        "no_paging_same_as_page_1": _same_items(ids["list_no_paging"], ids["list_page_1"]),
        "page_size_1000_holds_total": None if large is None or not large_total else len(large) == large_total,
        "totals_agree": None if len(totals) < 2 else len(set(totals)) == 1,
    }


def compare_paging(live_facts, emulator_facts, findings):
    """Add a difference for each paging fact both sides can tell and tell differently."""
    for fact, live in live_facts.items():
        emulator = emulator_facts.get(fact)
        if live is None or emulator is None:
            if live is not None or emulator is not None:
                side = "live" if live is None else "emulator's"
                findings.add_not_comparable("paging", f"paging.{fact}", f"the {side} list answers cannot tell")
        elif live != emulator:
            findings.add_difference("paging", "paging differs", f"paging.{fact}", live, emulator)


# ---------------------------------------------------------------------------------------------- HTTP

def _decode(raw):
    """(body kind, parsed JSON or None)."""
    if not raw or not raw.strip():
        return "empty", None
    try:
        return "json", json.loads(raw.decode("utf-8"))
    except ValueError:
        return "text", None


def _error_field(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value[:200]
    return shape_of(value)


class Answer:
    """One HTTP answer. Only record() goes into the report: statuses, shapes, error code and reason."""

    def __init__(self, status=None, elapsed_ms=0, raw=b"", transport_error=None):
        self.status = status
        self.elapsed_ms = elapsed_ms
        self.transport_error = transport_error
        self.body_kind, self.data = _decode(raw)

    @property
    def ok(self):
        """Whether a 2xx answer came."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def shape(self):
        """The body's shape, or a pseudo-type for an empty or non-JSON body."""
        if self.body_kind == "json":
            return shape_of(self.data)
        return f"({self.body_kind} body)"

    def error_fields(self):
        """The code and reason of an error reply, top-level or under ``error``."""
        source = self.data if isinstance(self.data, dict) else {}
        nested = source.get("error")
        if "code" not in source and "reason" not in source and isinstance(nested, dict):
            source = nested
        return {"code": _error_field(source.get("code")), "reason": _error_field(source.get("reason"))}

    def item_counts(self):
        """{field: number of items} for the top-level arrays of the body (counts only)."""
        if not isinstance(self.data, dict):
            return None
        counts = {key: len(value) for key, value in self.data.items() if isinstance(value, list)}
        return counts or None

    def record(self):
        """What the report keeps of this answer."""
        out = {"status": self.status, "elapsed_ms": self.elapsed_ms}
        if self.transport_error:
            out["transport_error"] = self.transport_error
            return out
        out["body"] = self.body_kind
        out["shape"] = self.shape if self.body_kind == "json" else None
        if not self.ok:
            out.update(self.error_fields())
        items = self.item_counts()
        if items:
            out["items"] = items
        return out


def _opener_for(url):
    host = urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return build_opener(ProxyHandler({}))  # never send loopback traffic through a configured proxy
    return build_opener()


def http_call(base_url, key, method, path, query=None, body=None, timeout=TIMEOUT, api=True):
    """Send one request; returns an Answer (status None when no answer came)."""
    url = base_url.rstrip("/") + (API_PREFIX if api else "") + path
    if query:
        url += "?" + urlencode(query)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    try:
        with _opener_for(url).open(Request(url, data=data, headers=headers, method=method), timeout=timeout) as response:
            status, raw = response.status, response.read()
    except HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Answer(elapsed_ms=round((time.monotonic() - started) * 1000), transport_error=f"{type(exc).__name__}: {reason}")
    return Answer(status, round((time.monotonic() - started) * 1000), raw)


def first_hop(url):
    """(host, proxy URL or None): the host a request to ``url`` connects to first, the proxy's when the environment
    (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) sends the request through one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    proxy = getproxies().get(parts.scheme)
    if proxy and host and not proxy_bypass(host):
        proxy_host = urlsplit(proxy if "://" in proxy else "http://" + proxy).hostname
        if proxy_host:
            return proxy_host, proxy
    return host, None


def check_host_resolves(base_url, timeout=RESOLVE_TIMEOUT):
    """Raise CheckError at once when the host of ``base_url`` (or of its proxy) does not resolve within ``timeout`` seconds:
    the message names the host and the URL and says what to check."""
    host, proxy = first_hop(base_url)
    shown_url = safe_base_url(base_url)
    if not host:
        raise CheckError(f"{shown_url} has no host name: set NOVITA_API_BASE_URL (or --base-url) to the API's URL, such as {DEFAULT_BASE_URL}")
    outcome = {}

    def resolve():
        try:
            socket.getaddrinfo(host, None)
            outcome["resolved"] = True
        except (OSError, UnicodeError) as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    resolver = threading.Thread(target=resolve, daemon=True)
    resolver.start()
    resolver.join(timeout)
    if outcome.get("resolved"):
        return
    why = outcome.get("error") or f"no answer from the name service within {timeout} s"
    what = f"the proxy {safe_base_url(proxy)} (for {shown_url})" if proxy else shown_url
    raise CheckError(f"cannot resolve {host}, the host of {what} ({why}). Check this machine's DNS and network connection"
                     f"{' and the proxy settings' if proxy else ''}, or set NOVITA_API_BASE_URL (or --base-url) to the API's URL."
                     " Nothing was sent.")


def admin_call(base_url, method, path, body=None):
    """Call the emulator's admin interface; returns the decoded JSON answer or raises CheckError."""
    answer = http_call(base_url, None, method, "/_emulator" + path, body=body, api=False)
    if not answer.ok:
        raise CheckError(f"emulator admin {method} {path}: {answer.status or answer.transport_error}")
    return answer.data


def first_endpoint_id(answers):
    """The ID of the first endpoint the list answers show, or None."""
    for name in LIST_REQUESTS:
        for endpoint_id in _endpoint_ids(answers.get(name)) or []:
            if isinstance(endpoint_id, str) and endpoint_id:
                return endpoint_id
    return None


def run_reads(base_url, key):
    """Send READ_REQUESTS; returns {name: Answer or None (not sent)}."""
    answers = {}
    for name, path, query, which_key in READ_REQUESTS:
        query = dict(query)
        if query.get("id") == EXISTING_ID:
            existing = first_endpoint_id(answers)
            if existing is None:
                answers[name] = None
                continue
            query["id"] = existing
        answers[name] = http_call(base_url, key if which_key == "key" else WRONG_KEY, "GET", path, query)
        if len(answers) == 1 and answers[name].status is None:
            break  # no answer to the first request: the API is out of reach, the other reads are not sent
    return answers


def collect_secret_values(value, found, key=None):
    """Strings of a live answer stored under a secret-looking key (registry passwords, env values, ...)."""
    if isinstance(value, dict):
        for sub_key, item in value.items():
            collect_secret_values(item, found, sub_key)
    elif isinstance(value, list):
        for item in value:
            collect_secret_values(item, found, key)
    elif isinstance(value, str) and key in SECRET_KEYS and len(value) >= MIN_SCRUBBED_LENGTH:
        found.add(value)
    return found


# ------------------------------------------------------------------------------------------ emulator

_LOADED = {}


def load_by_path(name, path):
    """A module of this checkout imported by file path (once per name)."""
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


def load_emulator_module():
    """tests/emulator/novita_emulator.py, imported by file path (once)."""
    return load_by_path("novita_emulator_for_live_check", EMULATOR_PATH)


def emulator_has_profiles():
    """Whether the emulator has the profile switch."""
    return "profile" in getattr(load_emulator_module(), "DEFAULT_CONFIG", {})


def seed_emulator(url):
    """Give an emulator the endpoints of SEED_ENDPOINTS (its registry credentials and storages are built in)."""
    admin_call(url, "POST", "/seed", {"endpoints": SEED_ENDPOINTS})


def start_comparison_emulator(profile):
    """An in-process emulator in `profile`, seeded; returns (emulator, url, key)."""
    if not emulator_has_profiles():
        raise CheckError(f"{EMULATOR_PATH.relative_to(ROOT)} has no profile switch yet (no 'profile' in DEFAULT_CONFIG)")
    key = "live-check-emulator-" + secrets.token_hex(8)
    emulator = load_emulator_module().Emulator(api_key=key, profile=profile)
    url = emulator.start(host="127.0.0.1", port=0)
    try:
        seed_emulator(url)
    except CheckError:
        emulator.stop()
        raise
    return emulator, url, key


class EmulatorProcess:
    """The emulator in a child process (--against-emulator): a stand-in for the real API over loopback HTTP.

    Started by the matrix drivers' helper (tests/matrix/matrix_common.py), then seeded like the comparison emulator.
    """

    def __init__(self, profile, api_key, work_dir):
        self.profile = profile
        self.api_key = api_key
        self.url = None
        # Read counts so that the write run sees endpoints that are not ready at once.
        flags = ["--profile", profile, "--init-reads", "2", "--update-reads", "1", "--delete-reads", "1"]
        self._emulator = load_by_path("novita_matrix_common_for_live_check", MATRIX_COMMON_PATH).Emulator(work_dir, api_key, flags)

    def start(self):
        """Start and seed the emulator; returns its URL."""
        try:
            self.url = self._emulator.start()
        except RuntimeError as exc:
            raise CheckError(str(exc)) from None
        try:
            seed_emulator(self.url)
        except CheckError:
            self.stop()
            raise
        return self.url

    def stop(self):
        """Stop the emulator (safe to call twice)."""
        self._emulator.stop()

    def secret_sent(self, secret_value):
        """Whether a create or update the emulator received carried the secret value (the value is not kept)."""
        for entry in admin_call(self.url, "GET", "/requests").get("requests", []):
            if entry.get("method") == "POST" and entry.get("path") in ("/endpoint/create", "/endpoint/update"):
                if secret_value in json.dumps(entry.get("body")):
                    return True
        return False


# ------------------------------------------------------------------------------------ recording proxy

FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "user-agent")
FORWARDED_RESPONSE_HEADERS = ("content-type", "retry-after")
RECORDED_QUERY_KEYS = ("pageSize", "pageNum", "pageNo")


def _api_path(path):
    return path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else path


def _endpoint_state(data):
    endpoint = data.get("endpoint", data) if isinstance(data, dict) else None
    state = endpoint.get("state") if isinstance(endpoint, dict) else None
    if isinstance(state, dict):
        state = state.get("state")
    return state if isinstance(state, str) else None


class _ProxyHandler(BaseHTTPRequestHandler):
    server_version = "NovitaLiveCheckProxy/1.0"

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else None
        headers = {name: value for name, value in self.headers.items() if name.lower() in FORWARDED_REQUEST_HEADERS}
        status, response_headers, raw = self.server.proxy.forward(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in response_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = _forward
    do_POST = _forward
    do_PUT = _forward
    do_PATCH = _forward
    do_DELETE = _forward

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silent: the proxy's records are the log."""


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy = None


class RecordingProxy:
    """A local HTTP proxy in front of the API: forwards every request, records what it saw (never a body)."""

    def __init__(self, upstream, timeout=60):
        self.upstream = upstream.rstrip("/")
        self.timeout = timeout
        self.records = []
        self._lock = threading.Lock()
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        """Serve in a daemon thread; returns self."""
        self._thread.start()
        return self

    def stop(self):
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def mark(self):
        """A position in the records, for since()."""
        with self._lock:
            return len(self.records)

    def since(self, mark):
        """Copies of the records made after mark."""
        with self._lock:
            return [dict(record) for record in self.records[mark:]]

    def forward(self, method, target, headers, body):
        """Send one request on to the API; returns (status, headers, raw body) for the client."""
        parts = urlsplit(target)
        url = self.upstream + parts.path + (f"?{parts.query}" if parts.query else "")
        query = {key: (value if key in RECORDED_QUERY_KEYS else "<value>") for key, value in parse_qsl(parts.query, keep_blank_values=True)}
        record = {"method": method, "path": _api_path(parts.path), "query": query}
        started = time.monotonic()
        try:
            with _opener_for(url).open(Request(url, data=body, headers=headers, method=method), timeout=self.timeout) as response:
                status, raw, response_headers = response.status, response.read(), response.headers
        except HTTPError as exc:
            status, raw, response_headers = exc.code, exc.read(), exc.headers
        except (URLError, OSError, http.client.HTTPException) as exc:
            record.update(status=None, transport_error=type(exc).__name__, elapsed_ms=round((time.monotonic() - started) * 1000))
            self._append(record)
            payload = json.dumps({"code": 502, "message": f"live check proxy: no answer from the API ({type(exc).__name__})"})
            return 502, [("Content-Type", "application/json")], payload.encode("utf-8")
        record.update(status=status, elapsed_ms=round((time.monotonic() - started) * 1000))
        answer = Answer(status, raw=raw)
        if method == "GET" and record["path"] == "/endpoint" and answer.ok:
            record["state"] = _endpoint_state(answer.data)
        elif not answer.ok:
            record.update(answer.error_fields())
        self._append(record)
        kept = [(name, value) for name, value in (response_headers or {}).items() if name.lower() in FORWARDED_RESPONSE_HEADERS]
        return status, kept, raw

    def _append(self, record):
        with self._lock:
            self.records.append(record)


# ---------------------------------------------------------------------------------------- write run

# The result the playbook writes for the tool: flags, the module's message, IDs and counts, never values.
SAVE_RESULT_TEMPLATE = (
    "{{ {'changed': live_check_result.changed | default(false),"
    " 'failed': live_check_result.failed | default(false),"
    " 'msg': live_check_result.msg | default(''),"
    " 'endpoint_id': (live_check_result.endpoint | default({})).id | default(none),"
    " 'endpoint_state': ((live_check_result.endpoint | default({})).state | default({})).state | default(none),"
    " 'endpoints_count': (live_check_result.endpoints | length) if live_check_result.endpoints is defined else none}"
    " | to_json }}"
)


def find_ansible_playbook():
    """The ansible-playbook of the dev venv, the one beside this Python or the one of .tmp/venv-run; None when none is there."""
    candidates = [ROOT / ".venv" / "bin" / "ansible-playbook", Path(sys.executable).parent / "ansible-playbook",
                  RUN_VENV / "bin" / "ansible-playbook"]
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_ansible_playbook():
    """An ansible-playbook for --write: one already there, or the one of .tmp/venv-run, built now (ansible-core alone,
    tools/requirements-run.txt, as make dev builds it; ensure-venv.sh says what it installs)."""
    found = find_ansible_playbook()
    if found:
        return found
    command = ["bash", str(ENSURE_VENV_SCRIPT), str(RUN_VENV)] + [str(path) for path in RUN_VENV_FILES]
    completed = subprocess.run(command, cwd=str(ROOT), check=False)
    found = find_ansible_playbook()
    if completed.returncode != 0 or not found:
        raise CheckError(f"--write needs ansible-playbook, and building {RUN_VENV.relative_to(ROOT)} (ansible-core) failed"
                         f" (exit {completed.returncode}): see the lines above, or run make dev")
    return found


def stage_collection():
    """Copy the checkout to .tmp/collections as `make stage` does; returns that directory."""
    completed = subprocess.run(["bash", str(STAGE_SCRIPT)], cwd=str(ROOT), capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise CheckError(f"tools/stage.sh failed:\n{completed.stdout}{completed.stderr}")
    return str(DEFAULT_COLLECTIONS)


def playbook_env(collections_path, base_url, key, secret_value):
    """The environment of ansible-playbook: the collection, the API (the proxy) and the key, no colour."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANSIBLE_", "NOVITA_"))}
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY") or env.get("no_proxy"), "127.0.0.1", "localhost"]))
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_PYTHON_INTERPRETER": "{{ ansible_playbook_python }}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "NOVITA_API_KEY": key,
        "NOVITA_API_BASE_URL": base_url,
        PLAYBOOK_SECRET_ENV: secret_value,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    })
    return env


def step_problems(name, outcome, requests):
    """What a step did that it should not have (an empty list when it behaved)."""
    problems = []
    writes = [request for request in requests if request["method"] not in READ_METHODS]
    calls = {path: sum(1 for request in writes if request["path"] == path) for path in ("/endpoint/create", "/endpoint/update", "/endpoint/delete")}
    if outcome.get("failed"):
        problems.append("the module failed")
    expect_changed = {"create": True, "rerun": False, "update": True, "check_mode": True, "delete": True, "info_after_delete": False}[name]
    if outcome.get("changed") is not expect_changed:
        problems.append(f"expected changed={str(expect_changed).lower()}")
    expected_writes = {"create": ("/endpoint/create", 1), "update": ("/endpoint/update", 1), "delete": ("/endpoint/delete", 1)}
    if name in expected_writes:
        path, count = expected_writes[name]
        if calls[path] != count or len(writes) != count:
            problems.append(f"expected {count} write request ({path}), saw {len(writes)}")
    elif writes:
        problems.append(f"expected 0 write requests, saw {len(writes)}")
    if name == "info_after_delete" and outcome.get("endpoints_count") != 0:
        problems.append(f"expected no endpoint with the deleted ID, got {outcome.get('endpoints_count')}")
    return problems


def states_seen(requests):
    """The endpoint states the GET /endpoint answers showed, in order, without repeats."""
    states = []
    for request in requests:
        state = request.get("state")
        if state and (not states or states[-1] != state):
            states.append(state)
    return states


def list_all_endpoints(base_url, key, max_pages=100):
    """Every endpoint of the account, whatever the page base; None when the list cannot be read."""
    seen, any_ok = {}, False
    for page in range(max_pages):
        answer = http_call(base_url, key, "GET", "/endpoints", {"pageSize": "100", "pageNum": str(page)})
        items = _endpoint_ids(answer)
        if items is None:
            if page == 0:
                continue  # a 1-based API may refuse page 0
            break
        any_ok = True
        new = 0
        for item in answer.data["endpoints"]:
            if isinstance(item, dict) and item.get("id") not in seen:
                seen[item.get("id")] = item
                new += 1
        total = _total(answer)
        past_the_end = (page >= 1 and not items) or (page >= 2 and not new)
        if past_the_end or (total is not None and len(seen) >= total):
            break
    return list(seen.values()) if any_ok else None


def cleanup_by_name(base_url, key, name):
    """Best effort: delete every endpoint called `name` that is not already going away.

    Returns (report section, IDs that may be left behind, or None when the list could not be read).
    """
    endpoints = list_all_endpoints(base_url, key)
    if endpoints is None:
        return {"listed": False, "found": None, "delete_requests": [], "left_behind": None}, None
    matching = [endpoint for endpoint in endpoints or [] if endpoint.get("name") == name]
    section = {"listed": True, "found": len(matching), "already_deleting": 0, "delete_requests": [], "left_behind": 0}
    left = []
    for endpoint in matching:
        state = _endpoint_state({"endpoint": endpoint})
        if state in DELETING_STATES:
            section["already_deleting"] += 1
            continue
        answer = http_call(base_url, key, "POST", "/endpoint/delete", body={"name": endpoint.get("id")})
        request = {"method": "POST", "path": "/endpoint/delete", "status": answer.status}
        if not answer.ok:
            request.update(answer.error_fields())
            left.append(endpoint.get("id"))
        section["delete_requests"].append(request)
    section["left_behind"] = len(left)
    return section, left


# What deleting a registry credential that an endpoint uses gives: the API's documented refusal (its error table:
# IMAGE_AUTH_IN_USE, 400). The emulator models it in both profiles; a real API that differs is a finding.
EXPECTED_IN_USE_DELETE = "refused: 400 IMAGE_AUTH_IN_USE"
CREDENTIAL_STEP = "credential_in_use_delete"
CREDENTIAL_USERNAME = "novita-cloud-livecheck"
# The cleanup retries a credential delete the API refuses while the endpoint that used it is still going away.
CREDENTIAL_DELETE_ATTEMPTS = 12
CREDENTIAL_DELETE_PAUSE = 5


def delete_outcome(answer):
    """A delete's answer in a few words: ``allowed``, ``refused: <status> <reason>`` or ``no answer (<error>)``."""
    if answer.ok:
        return "allowed"
    if answer.status is None:
        return f"no answer ({answer.transport_error})"
    reason = answer.error_fields().get("reason")
    return f"refused: {answer.status} {reason if isinstance(reason, str) else ''}".strip()


def _gone(answer):
    reason = answer.error_fields().get("reason") if answer.status else None
    return answer.ok or answer.status == 404 or (isinstance(reason, str) and reason.endswith("NOT_FOUND"))


def _request_record(method, path, answer):
    record = {"method": method, "path": path, "status": answer.status}
    if answer.status is not None and not answer.ok:
        record.update(answer.error_fields())
    return record


class Credential:
    """The disposable registry credential: saved with a dummy user and a random password (never reported), found by its
    name (the save answers no ID), deleted by ID after the endpoint, whatever happened."""

    def __init__(self, name):
        self.name = name
        self.password = "live-check-" + secrets.token_urlsafe(24)
        self.auth_id = None

    def ids(self, base_url, key):
        """The IDs of the credentials with this name; None when the list cannot be read."""
        answer = http_call(base_url, key, "GET", "/repository/auths")
        items = answer.data.get("data") if answer.ok and isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            return None
        return [item["id"] for item in items if isinstance(item, dict) and item.get("name") == self.name and item.get("id")]

    def save(self, base_url, key):
        """Save it and find its ID; returns the report's record of it (statuses and counts)."""
        answer = http_call(base_url, key, "POST", "/repository/auth/save",
                           body={"name": self.name, "username": CREDENTIAL_USERNAME, "password": self.password})
        record = {"name": self.name, "save": _request_record("POST", "/repository/auth/save", answer), "found": None}
        if answer.ok:
            ids = self.ids(base_url, key)
            record["found"] = None if ids is None else len(ids)
            self.auth_id = ids[0] if ids else None
        return record

    def _delete(self, base_url, key, auth_id, requests, attempts, pause):
        for attempt in range(attempts):
            if attempt:
                time.sleep(pause)
                list_all_endpoints(base_url, key, max_pages=5)  # lets an endpoint that is going away be seen gone
            answer = http_call(base_url, key, "POST", "/repository/auth/delete", body={"id": auth_id})
            requests.append(_request_record("POST", "/repository/auth/delete", answer))
            if _gone(answer):
                return True
        return False

    def cleanup(self, base_url, key, attempts=CREDENTIAL_DELETE_ATTEMPTS, pause=CREDENTIAL_DELETE_PAUSE):
        """Delete every credential with this name; returns (report section, IDs left behind, or None when the credentials
        could not be listed)."""
        ids = self.ids(base_url, key)
        if ids is None:
            return {"listed": False, "found": None, "delete_requests": [], "left_behind": None}, None
        section = {"listed": True, "found": len(ids), "delete_requests": []}
        left = [auth_id for auth_id in ids if not self._delete(base_url, key, auth_id, section["delete_requests"], attempts, pause)]
        section["left_behind"] = len(left)
        return section, left


class WriteRun:
    """The modules through ansible-playbook on one disposable endpoint, through a recording proxy.

    The endpoint pulls its image with a disposable registry credential (``image.auth_name``); while the endpoint uses it,
    the run deletes the credential and records whether the API refuses (CREDENTIAL_STEP, against EXPECTED_IN_USE_DELETE).
    """

    STEPS = ("create", "rerun", "update", "check_mode", CREDENTIAL_STEP, "delete", "info_after_delete")

    def __init__(self, options, base_url, key, secret_value, collections_path):
        self.options = options
        self.base_url = base_url
        self.key = key
        self.secret_value = secret_value
        self.collections_path = collections_path
        self.name = options.name_prefix + secrets.token_hex(4)
        self.endpoint_id = None
        self.left_behind = None
        self.ansible_playbook = None
        self.credential_left = []
        # The disposable registry credential the endpoint pulls its image with (a dummy user and a random password).
        self.credential = Credential(options.name_prefix + secrets.token_hex(4))

    def _endpoint_task(self, max_num):
        image = {"image": self.options.image}
        if self.credential.auth_id:
            image["auth_name"] = self.credential.name
        return {"novita.cloud.novita_endpoint": {
            "name": self.name,
            "product_id": self.options.product_id,
            "image": image,
            "port": self.options.port,
            "healthy": {"path": self.options.health_path},
            "worker_config": {"min_num": 0, "max_num": max_num},
            "envs": {"LIVE_CHECK": "novita.cloud live contract check"},
            "secret_envs": {SECRET_ENV_NAME: "{{ lookup('env', '%s') }}" % PLAYBOOK_SECRET_ENV},
            "wait": True,
            "wait_timeout": self.options.wait_timeout,
        }}

    def _task(self, step):
        if step in ("create", "rerun"):
            return self._endpoint_task(1), False
        if step == "update":
            return self._endpoint_task(2), False
        if step == "check_mode":
            return self._endpoint_task(3), True
        if step == "delete":
            return {"novita.cloud.novita_endpoint": {"name": self.name, "state": "absent", "wait": True,
                                                     "wait_timeout": self.options.wait_timeout}}, False
        return {"novita.cloud.novita_endpoint_info": {"id": self.endpoint_id}}, False

    def _run_playbook(self, step, work_dir, env):
        """Run one step's playbook; returns the saved outcome (changed, failed, msg, IDs, counts)."""
        task, check_mode = self._task(step)
        result_path = os.path.join(work_dir, f"{step}.result.json")
        play = {"name": f"novita.cloud live check: {step}", "hosts": "localhost", "gather_facts": False, "tasks": [
            dict(task, name=step, register="live_check_result", ignore_errors=True, check_mode=check_mode),
            {"name": "Save the outcome", "ansible.builtin.copy": {"dest": result_path, "mode": "0600", "content": SAVE_RESULT_TEMPLATE}},
        ]}
        playbook = os.path.join(work_dir, f"{step}.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            json.dump([play], handle, indent=2)  # JSON is YAML
        try:
            completed = subprocess.run([self.ansible_playbook or ensure_ansible_playbook(), playbook], cwd=work_dir, env=env, capture_output=True, text=True,
                                       timeout=self.options.wait_timeout * 2 + 300, check=False)
        except subprocess.TimeoutExpired:
            return {"failed": True, "msg": "ansible-playbook did not finish in time"}
        if completed.returncode == 0 and os.path.exists(result_path):
            with open(result_path, encoding="utf-8") as handle:
                return json.load(handle)
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
        return {"failed": True, "msg": f"ansible-playbook exited {completed.returncode}: {tail}"}

    def _run_step(self, step, proxy, work_dir, env):
        started, mark = time.monotonic(), proxy.mark()
        outcome = self._run_playbook(step, work_dir, env)
        requests = proxy.since(mark)
        problems = step_problems(step, outcome, requests)
        record = {
            "name": step,
            "status": "failed" if outcome.get("failed") else "ok",
            "changed": outcome.get("changed"),
            "as_expected": not problems,
            "problems": problems,
            "elapsed_s": round(time.monotonic() - started, 1),
            "requests": requests,
            "write_requests": sum(1 for request in requests if request["method"] not in READ_METHODS),
            "states_seen": states_seen(requests),
            "endpoint_state": outcome.get("endpoint_state"),
        }
        if outcome.get("failed"):
            record["msg"] = str(outcome.get("msg") or "")[:2000]
        if step == "info_after_delete":
            record["endpoints_returned"] = outcome.get("endpoints_count")
        if step == "create" and outcome.get("endpoint_id"):
            self.endpoint_id = outcome["endpoint_id"]
        return record

    def _credential_step(self, proxy):
        """Delete the credential while the endpoint uses it (through the proxy); the outcome against EXPECTED_IN_USE_DELETE."""
        started, mark = time.monotonic(), proxy.mark()
        answer = http_call(proxy.url, self.key, "POST", "/repository/auth/delete", body={"id": self.credential.auth_id})
        requests = proxy.since(mark)
        outcome = delete_outcome(answer)
        problems = [] if outcome == EXPECTED_IN_USE_DELETE else [f"expected {EXPECTED_IN_USE_DELETE}, saw {outcome}"]
        return {"name": CREDENTIAL_STEP, "status": "ok" if answer.status is not None else "failed", "changed": None,
                "outcome": outcome, "expected": EXPECTED_IN_USE_DELETE, "as_expected": not problems, "problems": problems,
                "elapsed_s": round(time.monotonic() - started, 1), "requests": requests,
                "write_requests": sum(1 for request in requests if request["method"] not in READ_METHODS), "states_seen": []}

    def _skip_reason(self, section, step):
        if section["steps"] and section["steps"][0]["status"] == "failed":
            return "skipped: the create failed or returned no ID"
        if step == "info_after_delete" and not self.endpoint_id:
            return "skipped: the create failed or returned no ID"
        if step == CREDENTIAL_STEP and not self.credential.auth_id:
            return "skipped: the registry credential could not be saved (see credential)"
        return None

    def run(self, log):
        """Run every step, then the cleanup (always); returns the report's write_run section."""
        section = {"endpoint_name": self.name, "image": self.options.image, "port": self.options.port,
                   "product_id": self.options.product_id, "credential": None, "expected_in_use_delete": EXPECTED_IN_USE_DELETE,
                   "steps": [], "cleanup": None, "credential_cleanup": None}
        proxy = RecordingProxy(self.base_url).start()
        env = playbook_env(self.collections_path, proxy.url, self.key, self.secret_value)
        try:
            section["credential"] = self.credential.save(self.base_url, self.key)
            if not self.credential.auth_id:
                log(f"  credential: could not save or find {self.credential.name}: the endpoint goes without one")
            with tempfile.TemporaryDirectory(prefix="novita-live-check-") as work_dir:
                for step in self.STEPS:
                    skipped = self._skip_reason(section, step)
                    if skipped:
                        section["steps"].append({"name": step, "status": "skipped", "as_expected": False, "problems": [skipped]})
                        continue
                    record = self._credential_step(proxy) if step == CREDENTIAL_STEP else self._run_step(step, proxy, work_dir, env)
                    section["steps"].append(record)
                    log(format_step(record))
        finally:
            proxy.stop()
            self._cleanup(section, log)
        return section

    def _cleanup(self, section, log):
        """The endpoint, then the credential: each deleted by name whatever happened."""
        try:
            cleanup, self.left_behind = cleanup_by_name(self.base_url, self.key, self.name)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            cleanup = {"listed": False, "error": type(exc).__name__, "left_behind": None}
        section["cleanup"] = cleanup
        if not cleanup.get("listed"):
            log(f"  cleanup: could not list the endpoints to look for {self.name}")
        elif cleanup["found"]:
            log(f"  cleanup: {cleanup['found']} endpoint(s) named {self.name} left by the steps; "
                f"{len(cleanup['delete_requests']) - cleanup['left_behind']} deleted now, {cleanup['already_deleting']} already being deleted")
        if self.left_behind:
            log(f"  cleanup: could not delete {', '.join(self.left_behind)} ({self.name})")
        try:
            credential_cleanup, self.credential_left = self.credential.cleanup(self.base_url, self.key)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            credential_cleanup, self.credential_left = {"listed": False, "error": type(exc).__name__, "left_behind": None}, None
        section["credential_cleanup"] = credential_cleanup
        if self.credential_left is None:
            log(f"  cleanup: could not list the registry credentials to look for {self.credential.name}")
        elif self.credential_left:
            log(f"  cleanup: could not delete the registry credential {', '.join(self.credential_left)} ({self.credential.name})")


def format_step(record):
    """One console line for a write step."""
    if record["status"] == "skipped":
        return f"  {record['name']:<18} skipped"
    if "outcome" in record:
        verdict = "as expected" if record["as_expected"] else "NOT as expected: " + "; ".join(record["problems"])
        return f"  {record['name']:<18} {record['outcome']} (while the endpoint uses the credential)  {verdict}"
    states = ", ".join(record["states_seen"]) or "-"
    verdict = "as expected" if record["as_expected"] else "NOT as expected: " + "; ".join(record["problems"])
    return (f"  {record['name']:<18} {record['status']:<6} changed={str(record['changed']).lower():<5} "
            f"requests={len(record['requests'])} writes={record['write_requests']} states: {states}  {verdict}")


# ------------------------------------------------------------------------------------------ report

def scrub(value, secret_values):
    """A copy of value with every secret value replaced by <redacted> in every string (keys too)."""
    ordered = sorted({item for item in secret_values if item}, key=len, reverse=True)

    def clean(text):
        for item in ordered:
            text = text.replace(item, REDACTED)
        return text

    def walk(node):
        if isinstance(node, dict):
            return {clean(str(key)): walk(item) for key, item in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return clean(node)
        return node

    return walk(value)


def safe_base_url(url):
    """The base URL without user info, query or fragment."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def request_records(live_answers, emulator_answers):
    """The report's requests: each read with its live and its emulator answer."""
    records = []
    for name, path, query, which_key in READ_REQUESTS:
        live, emulator = live_answers.get(name), emulator_answers.get(name)
        records.append({
            "name": name, "method": "GET", "path": path, "query": dict(query), "auth": which_key,
            "live": live.record() if live is not None else {"sent": False},
            "emulator": emulator.record() if emulator is not None else {"sent": False},
        })
    return records


def summary_line(sent, findings, profile, report_path, write_section=None):
    """The last line the check prints."""
    parts = [f"live check: {sent} requests", f"{len(findings.differences)} differences"]
    if write_section is not None:
        steps = write_section["steps"]
        parts.append(f"write run {sum(1 for step in steps if step.get('as_expected'))}/{len(WriteRun.STEPS)} steps as expected")
        in_use = [step.get("outcome", step["status"]) for step in steps if step["name"] == CREDENTIAL_STEP]
        if in_use:
            parts.append(f"in-use credential delete {in_use[0]} (expected {EXPECTED_IN_USE_DELETE})")
    return f"{', '.join(parts)} (profile {profile}); report: {report_path}"


def write_report(path, report, secret_values):
    """Scrub and write the report; refuses to write one that still holds a secret."""
    report = scrub(report, secret_values)
    text = json.dumps(report, indent=2, sort_keys=False) + "\n"
    for value in secret_values:
        if value and (value in text or json.dumps(value)[1:-1] in text):
            raise CheckError("refusing to write a report that holds a secret value")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return report


def display_path(path):
    """The path relative to the current directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -------------------------------------------------------------------------------------------- main

def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(description="Compare the real Novita v1 API with the project's emulator (see README).")
    parser.add_argument("--base-url", default=None, help=f"API base URL (default: $NOVITA_API_BASE_URL, else {DEFAULT_BASE_URL})")
    parser.add_argument("--report", default=None, help="where the JSON report goes (default .tmp/live-check/report.json)")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help=f"emulator profile to compare against (default {DEFAULT_PROFILE}, or the --against-emulator profile)")
    parser.add_argument("--write", action="store_true", help="also create, update and delete one disposable endpoint with the modules")
    parser.add_argument("--collections-path", default=None,
                        help="directory holding ansible_collections/novita/cloud for --write (default: stage the checkout to .tmp/collections)")
    parser.add_argument("--name-prefix", default="novita-cloud-livecheck-", help="name prefix of the disposable endpoint")
    parser.add_argument("--product-id", default="1", help="serverless product ID of the disposable endpoint (default 1)")
    parser.add_argument("--image", default="nginx:alpine", help="image of the disposable endpoint (default nginx:alpine)")
    parser.add_argument("--port", type=int, default=80, help="port the image listens on (default 80)")
    parser.add_argument("--health-path", default="/", help="health check path of the disposable endpoint (default /)")
    parser.add_argument("--wait-timeout", type=int, default=300, help="seconds each write step may wait for the endpoint (default 300)")
    parser.add_argument("--expect-no-differences", action="store_true",
                        help="exit 1 when there is a difference or a write step that did not behave as expected")
    parser.add_argument("--against-emulator", choices=PROFILES, default=None,
                        help="check an emulator process in this profile instead of the real API (for make test)")
    args = parser.parse_args(argv)
    if args.write and not args.name_prefix:
        parser.error("--name-prefix must not be empty")
    return args


def _install_sigterm_handler():
    def _on_sigterm(_signum, _frame):
        raise SystemExit(143)  # unwinds through the finally blocks: the cleanup still runs

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def print_answers(log, live_answers, emulator_answers):
    """One console line per read: its status on both sides."""
    for name, path, query, _which_key in READ_REQUESTS:
        live, emulator = live_answers.get(name), emulator_answers.get(name)
        shown_query = "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""

        def status(answer):
            if answer is None:
                return "not sent"
            if answer.status is None:
                return f"no answer ({answer.transport_error})"
            return f"{answer.status} ({answer.elapsed_ms} ms)"

        log(f"  {name:<20} GET {path + shown_query:<60} live {status(live):<22} emulator {status(emulator)}")


class CheckRun:
    """One run of the check: the target, the answers, the findings, the write run; run() returns the exit status."""

    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.profile = args.profile or args.against_emulator or DEFAULT_PROFILE
        self.key = (os.environ.get("NOVITA_API_KEY") or "").strip()
        self.secret_value = os.environ.get(SECRET_VALUE_ENV) or "live-check-secret-" + secrets.token_hex(16)
        self.report_path = Path(args.report) if args.report else DEFAULT_REPORT
        self.base_url = None
        self.stand_in = None
        self.live_answers = {}
        self.emulator_answers = {}
        self.findings = Findings()
        self.paging = {}
        self.write_section = None
        self.write_run = None
        self.extra_secrets = set()

    @property
    def secret_values(self):
        """Every value that must never reach the report."""
        return [self.key, self.secret_value] + sorted(self.extra_secrets)

    def open_target(self, emulator_dir):
        """Find (or start) the API to check; sets base_url and key."""
        if self.args.against_emulator:
            self.key = self.key or "live-check-key-" + secrets.token_hex(12)
            self.stand_in = EmulatorProcess(self.args.against_emulator, self.key, emulator_dir)
            self.base_url = self.stand_in.start()
            return
        if not self.key:
            raise CheckError("NOVITA_API_KEY is not set: export your Novita API key first (it is never written anywhere)")
        self.base_url = self.args.base_url or os.environ.get("NOVITA_API_BASE_URL") or DEFAULT_BASE_URL
        check_host_resolves(self.base_url)

    def read_phase(self):
        """The read-only requests to the target and to an in-process emulator, and their comparison."""
        shown_url = safe_base_url(self.base_url)
        self.log(f"live check of {shown_url} against the emulator (profile {self.profile}); read-only requests:")
        self.live_answers = run_reads(self.base_url, self.key)
        sent = [answer for answer in self.live_answers.values() if answer is not None]
        if all(answer.status is None for answer in sent):
            raise CheckError(f"no answer from {shown_url}: {scrub(sent[0].transport_error, self.secret_values)}")
        for answer in sent:
            if answer.body_kind == "json":
                collect_secret_values(answer.data, self.extra_secrets)
        comparison, emulator_url, emulator_key = start_comparison_emulator(self.profile)
        try:
            self.emulator_answers = run_reads(emulator_url, emulator_key)
        finally:
            comparison.stop()
        print_answers(self.log, self.live_answers, self.emulator_answers)
        for name, _path, _query, _which_key in READ_REQUESTS:
            compare_answers(name, self.live_answers.get(name), self.emulator_answers.get(name), self.findings)
        self.paging = {"live": paging_facts(self.live_answers), "emulator": paging_facts(self.emulator_answers)}
        compare_paging(self.paging["live"], self.paging["emulator"], self.findings)

    def write_phase(self):
        """The write run on a disposable endpoint (--write)."""
        collections_path = os.path.abspath(self.args.collections_path or stage_collection())
        if not os.path.isdir(os.path.join(collections_path, "ansible_collections", "novita", "cloud")):
            raise CheckError(f"{collections_path} holds no ansible_collections/novita/cloud")
        ansible_playbook = ensure_ansible_playbook()
        self.write_run = WriteRun(self.args, self.base_url, self.key, self.secret_value, collections_path)
        self.write_run.ansible_playbook = ansible_playbook
        self.extra_secrets.add(self.write_run.credential.password)
        self.log(f"write run on the disposable endpoint {self.write_run.name}:")
        self.write_section = self.write_run.run(self.log)
        if self.stand_in is not None:
            self.write_section["secret_env_sent"] = self.stand_in.secret_sent(self.secret_value)

    def report(self, summary):
        """The report, before scrubbing."""
        return {
            "tool": "novita.cloud live contract check",
            "tool_version": TOOL_VERSION,
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": safe_base_url(self.base_url),
            "api_prefix": API_PREFIX,
            "against": f"emulator process, profile {self.args.against_emulator}" if self.args.against_emulator else "live API",
            "profile": self.profile,
            "mode": "read-only and write" if self.args.write else "read-only",
            "requests": request_records(self.live_answers, self.emulator_answers),
            "paging": self.paging,
            "difference_kinds": DIFFERENCE_KINDS,
            "differences": self.findings.differences,
            "not_comparable": self.findings.not_comparable,
            "write_run": self.write_section,
            "summary": summary,
        }

    def endpoint_left_behind(self):
        """IDs (or ["unknown"]) of disposable endpoints the cleanup could not delete."""
        if self.write_run is None or self.write_section is None:
            return []
        left = self.write_run.left_behind
        if left is None:  # the list could not be read: fine only if the delete step went through
            deleted = any(step["name"] == "delete" and step.get("status") == "ok" for step in self.write_section["steps"])
            return [] if deleted else ["unknown"]
        return left

    def run(self):
        """Run the check, write the report; returns the exit status."""
        with tempfile.TemporaryDirectory(prefix="novita-live-check-emulator-") as emulator_dir:
            try:
                self.open_target(emulator_dir)
                self.read_phase()
                if self.args.write:
                    self.write_phase()
            finally:
                if self.stand_in is not None:
                    self.stand_in.stop()
        sent = sum(1 for answer in self.live_answers.values() if answer is not None)
        summary = summary_line(sent, self.findings, self.profile, display_path(self.report_path), self.write_section)
        report = write_report(self.report_path, self.report(summary), self.secret_values)
        for item in report["differences"]:
            self.log(f"difference: {item['request']}: {item['kind']} at {item['path']}: "
                     f"live {json.dumps(item['live'])}, emulator {json.dumps(item['emulator'])}")
        if report["not_comparable"]:
            self.log(f"not comparable: {len(report['not_comparable'])} places where the live side has no data (see the report)")
        status = 0
        left = self.endpoint_left_behind()
        if left:
            self.log(f"WARNING: an endpoint named {self.write_run.name} may be left behind (IDs: {scrub(', '.join(left), self.secret_values)});"
                     " delete it in the Novita console")
            status = 1
        if self.write_run is not None and self.write_run.credential_left != []:
            self.log(f"WARNING: a registry credential named {self.write_run.credential.name} may be left behind"
                     f" (IDs: {', '.join(self.write_run.credential_left or ['unknown'])}); delete it in the Novita console")
            status = 1
        write_problems = sum(1 for step in (self.write_section or {}).get("steps", []) if not step.get("as_expected"))
        if self.args.expect_no_differences and (report["differences"] or write_problems):
            status = 1
        self.log(summary)
        return status


def main(argv=None):
    """Run the check; returns the exit status."""
    args = parse_args(argv)
    _install_sigterm_handler()

    def log(line):
        print(line, flush=True)

    try:
        return CheckRun(args, log).run()
    except KeyboardInterrupt:
        sys.stderr.write("live check: interrupted (no report written)\n")
        return 130
    except CheckError as exc:
        secret_values = [(os.environ.get("NOVITA_API_KEY") or "").strip(), os.environ.get(SECRET_VALUE_ENV) or ""]
        sys.stderr.write(f"live check: {scrub(str(exc), secret_values)}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
