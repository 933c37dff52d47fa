# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Novita v1 GPU-instance OpenAPI, shared by every module of the collection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils
import http.client as http_client
import json
import random
import re
import socket
import threading
import time
from urllib.error import HTTPError, URLError
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

COLLECTION_NAME = "novita.cloud"
COLLECTION_VERSION = "0.1.0"
USER_AGENT = "%s/%s (Ansible collection)" % (COLLECTION_NAME, COLLECTION_VERSION)

DEFAULT_BASE_URL = "https://api.novita.ai"
API_PREFIX = "/gpu-instance/openapi/v1"

# Statuses worth repeating a request for: rate limiting and server or gateway trouble.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
DEFAULT_RETRIES = 5
DEFAULT_RETRY_TIMEOUT = 120
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
RETRY_AFTER_CAP_SECONDS = 60.0
# The API documents no maximum page size; 100 keeps each list response small.
LIST_PAGE_SIZE = 100
# A list that keeps producing new items without a total is cut off here (100,000 items at the default page size).
LIST_MAX_PAGES = 1000
EXCERPT_LENGTH = 200
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Request-ID", "Request-Id", "X-Trace-Id", "Trace-Id")
REQUEST_ID_KEYS = ("requestId", "request_id", "traceId", "trace_id")

# Pacing after a 429: the gap between two sends starts at PACE_FIRST_INTERVAL, doubles on every new 429 up to
# PACE_MAX_INTERVAL, shrinks by PACE_DECREASE on every reply that is not a 429 and is dropped below PACE_MIN_INTERVAL.
PACE_FIRST_INTERVAL = 0.1
PACE_MAX_INTERVAL = 2.0
PACE_DECREASE = 0.9
PACE_MIN_INTERVAL = 0.01

MASK = "********"

# Error names (the body's ``reason``, or a string ``code``) that mean "no such thing" and "bad or missing key".
NOT_FOUND_PATTERN = re.compile(r"\b[A-Z_]*NOT_FOUND\b")
MISSING_KEY_REASONS = frozenset(("MISSING_API_KEY",))
AUTH_REASONS = frozenset(("MISSING_API_KEY", "INVALID_API_KEY", "UNAUTHORIZED", "FORBIDDEN"))
# Error names of Novita's error-code table whose reason a message explains, with what to do about it.
REASON_ADVICE = {
    "VALIDATOR_PARAM": "the API refused a value of the request; its message above names the field",
    "CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT": "the cluster does not support network storage; choose one that does"
                                               " (novita.cloud.novita_cluster_info returns supports_network_storage)",
    "NETWORK_STORAGE_TOO_LARGE": "the size is above the largest network storage the API allows; choose a smaller size",
}
# The *_IN_USE names refuse a delete: every delete goes through resource.Converger._delete_checked, which says what is
# in use, by whom and what to do (is_in_use_refusal tells them).
IN_USE_PATTERN = re.compile(r"\b[A-Z_]*IN_USE\b")

# Transport errors that repeating the request cannot fix, by what their text says.
TLS_MISMATCH_MARKERS = ("wrong_version_number", "wrong version number", "record layer failure", "unknown protocol", "http request")
CERTIFICATE_MARKERS = ("certificate_verify_failed", "certificate verify failed", "hostname mismatch", "doesn't match",
                       "self signed certificate", "self-signed certificate", "unable to get local issuer certificate")
BAD_URL_MARKERS = ("unknown url type", "no host given")

# The verbosity (-vvv) from which every module returns ``api_requests`` without being asked (``trace_requests``).
TRACE_VERBOSITY = 3

# ``api_requests``, which every module returns with ``trace_requests`` or at -vvv: one item per HTTP request sent.
# Its documentation (tools/schema_docs.py writes it into the modules' RETURN).
API_REQUESTS_DOCS = {
    "api_requests": {
        "description": [
            "Every HTTP request the task sent to the API, in the order sent: method, path, status, attempt and duration.",
            "Never a request or response body, never a header, so no key and no environment variable value.",
        ],
        "returned": "when O(trace_requests=true), or at verbosity C(-vvv) and above; also when the module fails",
        "type": "list",
        "elements": "dict",
        "contains": {
            "method": {"description": "The HTTP method.", "type": "str", "sample": "GET"},
            "path": {"description": "The API path with its query string, without the base URL.", "type": "str",
                     "sample": "/endpoints?pageSize=100&pageNum=1"},
            "status": {"description": "The HTTP status of the reply; V(null) when none came (see RV(api_requests[].error)).",
                       "type": "int", "sample": 200},
            "error": {"description": "Why no usable reply came (a timeout, a closed connection), when there was none.",
                      "type": "str", "returned": "when the request got no reply", "sample": "no reply within the 30 s timeout"},
            "attempt": {"description": "1 for the first send of this request, 2 for its first repeat (see O(retries)), and so on.",
                        "type": "int", "sample": 1},
            "duration_ms": {"description": "Milliseconds from sending the request to the end of its reply.", "type": "int", "sample": 42},
        },
        "sample": [
            {"method": "GET", "path": "/endpoints?pageSize=100&pageNum=1", "status": 200, "attempt": 1, "duration_ms": 85},
            {"method": "GET", "path": "/endpoint/limit", "status": 200, "attempt": 1, "duration_ms": 40},
            {"method": "POST", "path": "/endpoint/update", "status": 429, "attempt": 1, "duration_ms": 31},
            {"method": "POST", "path": "/endpoint/update", "status": 200, "attempt": 2, "duration_ms": 120},
        ],
    },
}

KEY_MISSING_MESSAGE = ("api_key is not set: give the api_key option or set the NOVITA_API_KEY environment variable"
                       " (for example in module_defaults for group/novita.cloud.novita)")


def novita_argument_spec():
    """The connection options every module takes (documented in the doc fragment novita.cloud.novita).

    ``api_key`` is not ``required`` here: it may come from the environment, and ``NovitaClient.from_module``
    fails with a clear message when it is empty.
    """
    return dict(
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["NOVITA_API_KEY"])),
        api_base_url=dict(type="str", default=DEFAULT_BASE_URL, fallback=(env_fallback, ["NOVITA_API_BASE_URL"])),
        timeout=dict(type="int", default=30),
        validate_certs=dict(type="bool", default=True),
        retries=dict(type="int", default=DEFAULT_RETRIES, fallback=(env_fallback, ["NOVITA_RETRIES"])),
        retry_timeout=dict(type="int", default=DEFAULT_RETRY_TIMEOUT, fallback=(env_fallback, ["NOVITA_RETRY_TIMEOUT"])),
        trace_requests=dict(type="bool", default=False, fallback=(env_fallback, ["NOVITA_TRACE_REQUESTS"])),
    )


class NovitaError(Exception):
    """Every failure the collection reports to the user: ``msg`` is the message, ``details`` go into the module
    result next to it (``failure``, ``endpoint_id``, ``errors``...)."""

    def __init__(self, msg, **details):
        super(NovitaError, self).__init__(msg)
        self.msg = msg
        self._details = details

    @property
    def details(self):
        return self._details


class Problem(str):
    """One problem a run found before its first write, as a value: ``option``, the path of the option it is about
    (``worker_config.max_num``, ``volume_mounts[1].size``; None when it is about no one option), and ``text``, what is
    wrong with it. The string is the sentence the user reads: the path, ``sep`` (``": "`` unless the sentence goes on
    from the name, as in ``size is required ...``), then the text.
    """

    def __new__(cls, option, text, sep=": "):
        problem = str.__new__(cls, option + sep + text if option else text)
        problem.option, problem.text, problem.sep = option, text, sep
        return problem

    def __getnewargs__(self):
        return self.option, self.text, self.sep


def problem_in(parent, problem):
    """``problem`` as one about an item of a list option (``parent``, such as ``endpoints[2]``): its option's path under
    the item's (``endpoints[2].worker_config.max_num: ...``), or the item's path first when it names no option (a
    plain string names none)."""
    if getattr(problem, "option", None):
        return Problem("%s.%s" % (parent, problem.option), problem.text, problem.sep)
    return Problem(parent, str(problem))


def raise_problems(problems, error_class, **details):
    """Raise ``error_class`` with every problem a run found before its first write (each once, in the order found) as
    ``errors`` (the sentences) and in one message, if there is any; the modules report a task's problems this way, all
    together. The error's ``problems`` are the ``Problem`` values themselves (a plain string is a problem about no option).
    """
    unique = []
    for problem in problems:
        if problem not in unique:
            unique.append(problem)
    if not unique:
        return
    details.pop("errors", None)
    errors = [str(problem) for problem in unique]
    message = errors[0] if len(errors) == 1 else "%d problems, nothing was written: %s" % (len(errors), "; ".join(errors))
    error = error_class(message, errors=errors, **details)
    error.problems = unique
    raise error


class NovitaConfigError(NovitaError):
    """A connection option that can never work (for example an ``api_base_url`` without a scheme).

    ``msg`` names the option, the value given and the fix. It is raised before any request is sent;
    ``NovitaClient.from_module`` turns it into ``module.fail_json``.
    """


class NovitaAPIError(NovitaError):
    """A request that did not succeed; the message names status, method and path, never the API key.

    ``transient`` says the failure may go away when the request is repeated; ``ambiguous`` says the
    API may have carried out the request although no clear reply came back (a timeout, a dropped
    connection, a cut-off or unreadable reply, a 5xx). ``reason`` is why the transport failed (no
    reply, connection refused...); ``api_reason`` is the error name the API sent in its body
    (``SERVERLESS_ENDPOINT_NOT_FOUND``, ``INVALID_API_KEY``...). ``not_found`` and ``auth_failure``
    classify the error, see ``is_not_found`` and ``is_auth_failure``.
    """

    def __init__(self, message, status=None, method=None, path=None, api_message=None, api_code=None,
                 request_id=None, body_excerpt=None, reason=None, transient=False, ambiguous=False, retry_after=None,
                 api_reason=None, url=None):
        super(NovitaAPIError, self).__init__(message)
        self.status = status
        self.method = method
        self.path = path
        self.url = url
        self.api_message = api_message
        self.api_code = api_code
        self.api_reason = api_reason
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.reason = reason
        self.transient = transient
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.attempts = 1

    @property
    def details(self):
        return {"failure": self.to_dict()}

    @property
    def not_found(self):
        return is_not_found(self)

    @property
    def auth_failure(self):
        return is_auth_failure(self)

    def to_dict(self):
        """The ``failure`` of a module result: the keys documented in ``FAILURE_DOCS``."""
        return dict((key, getattr(self, key)) for key in FAILURE_DOCS)


# The keys of ``NovitaAPIError.to_dict()``, returned as ``failure`` by every module: their documentation
# (tools/schema_docs.py writes it into the modules' RETURN).
FAILURE_DOCS = {
    "status": {"description": "The HTTP status, if a response came.", "type": "int", "sample": 400},
    "method": {"description": "The HTTP method.", "type": "str", "sample": "POST"},
    "path": {"description": "The API path, without the base URL.", "type": "str", "sample": "/endpoint/update"},
    "url": {"description": "The full URL of the request, with the base URL.",
            "type": "str", "sample": "https://api.novita.ai/gpu-instance/openapi/v1/endpoint/update"},
    "api_code": {"description": "The error code in the API's response body, if any.", "type": "raw", "sample": 400},
    "api_reason": {"description": "The error name in the C(reason) field of the API's response body, if any, for example"
                                  " C(SERVERLESS_ENDPOINT_NOT_FOUND) or C(INVALID_API_KEY).", "type": "str", "sample": "SERVERLESS_ENDPOINT_NOT_FOUND"},
    "api_message": {"description": "The error message in the API's response body, if any.", "type": "str",
                    "sample": "endpoint 3f2a9c0e7b1d4a55 not found"},
    "request_id": {"description": "The request ID the API sent back (a C(X-Request-Id) style header or a C(requestId) key), if any.",
                   "type": "str", "sample": "5f1c9a0e-3c1d-4f7e-9d0a-2b7e8c6f4a11"},
    "body_excerpt": {"description": ["A short, single-line excerpt of the response body when it was not a JSON error; an HTML error page"
                                     " is reduced to its title."], "type": "str", "sample": "HTML page: 502 Bad Gateway"},
    "reason": {"description": "Why no usable reply came, when there was none (a timeout, a closed connection, a cut-off or non-JSON reply).",
               "type": "str", "sample": "no reply within the 30 s timeout"},
    "attempts": {"description": "How many times the request was sent.", "type": "int", "sample": 6},
}


def _error_name(api_reason, api_code):
    """The API's name for an error: its ``reason``, else a ``code`` that is a word rather than a number."""
    if api_reason:
        return str(api_reason)
    if isinstance(api_code, str) and api_code.strip() and not api_code.strip().isdigit():
        return api_code.strip()
    return None


def error_name(exc):
    """The API's name for an error (``SERVERLESS_APP_NAME_IS_EXIST``...): its ``reason``, else a word-like ``code``; None without one."""
    return _error_name(getattr(exc, "api_reason", None), getattr(exc, "api_code", None))


def is_not_found(exc):
    """Whether an API error says the thing asked for does not exist.

    True for a 404, and for any other 4xx whose error name (the body's ``reason``; without one, its
    ``code`` when that is a word, else its message) contains a ``*_NOT_FOUND`` token, the way the v1
    API reports a deleted endpoint (400 ``SERVERLESS_ENDPOINT_NOT_FOUND``). A 400 validation error
    is not a "not found", even when its message says "not found" in plain words.
    """
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        return False
    if status == 404:
        return True
    if not 400 <= status < 500:
        return False
    text = _error_name(getattr(exc, "api_reason", None), getattr(exc, "api_code", None)) or getattr(exc, "api_message", None)
    return bool(text) and bool(NOT_FOUND_PATTERN.search(str(text)))


def is_in_use_refusal(exc):
    """Whether an API error refuses a delete because the thing is in use (400 ``IMAGE_AUTH_IN_USE``,
    ``NETWORK_STORAGE_IN_USE``, or any 4xx whose error name or message says ``*_IN_USE`` or "in use")."""
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or not 400 <= status < 500:
        return False
    name = error_name(exc)
    if name:
        return bool(IN_USE_PATTERN.search(name))
    return "in use" in str(getattr(exc, "api_message", None) or "").lower()


def is_auth_failure(exc):
    """Whether an API error says the API key is wrong or missing: any 401 or 403, or a 4xx naming a key error (400 MISSING_API_KEY)."""
    return _auth_failure(getattr(exc, "status", None), _error_name(getattr(exc, "api_reason", None), getattr(exc, "api_code", None)))


def _auth_failure(status, name):
    if not isinstance(status, int):
        return False
    return status in (401, 403) or (400 <= status < 500 and name in AUTH_REASONS)


def _secret_forms(value):
    """The ways a secret may be written in a reply or a message: as is, JSON-escaped, URL-encoded, in a Python repr."""
    json_ascii = json.dumps(value)[1:-1]
    json_text = json.dumps(value, ensure_ascii=False)[1:-1]
    forms = set((value, json_ascii, json_text, json_ascii.replace("/", "\\/"), json.dumps(json_ascii)[1:-1], repr(value)[1:-1]))
    for encoded in (quote(value, safe=""), quote_plus(value)):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    return forms


class Scrubber:
    """Masks secret strings (the API key, secret env values, registry passwords) in text meant for the user.

    ``add`` registers secrets; ``scrub`` replaces every occurrence of each, written as is, JSON-escaped
    (ASCII-escaped or not), URL-encoded (``%20`` or ``+`` for spaces) or as in a Python repr, with
    ``********``. Where two secrets overlap, the union of both is masked, so no fragment of either
    is left. Values shorter than ``MIN_LENGTH`` (4) characters are not added: masking ``"1"`` or
    ``"yes"`` everywhere would mangle ordinary text while hiding nothing worth hiding. Safe to use
    from several threads.
    """

    MIN_LENGTH = 4

    def __init__(self, *values):
        self._lock = threading.Lock()
        self._values = set()
        self._forms = ()
        self.add(*values)

    def add(self, *values):
        """Register secrets (strings, bytes or numbers; None, booleans and short values are ignored)."""
        fresh = []
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            elif isinstance(value, (int, float)):
                value = str(value)
            elif not isinstance(value, str):
                continue
            if len(value) >= self.MIN_LENGTH:
                fresh.append(value)
        if not fresh:
            return
        with self._lock:
            fresh = [value for value in fresh if value not in self._values]
            if not fresh:
                return
            self._values.update(fresh)
            forms = set(self._forms)
            for value in fresh:
                forms.update(form for form in _secret_forms(value) if len(form) >= self.MIN_LENGTH)
            self._forms = tuple(sorted(forms, key=lambda form: (-len(form), form)))

    def scrub(self, text):
        """The text with every secret masked; anything that is not a string is returned unchanged."""
        if not isinstance(text, str) or not text:
            return text
        spans = []
        for form in self._forms:
            start = text.find(form)
            while start != -1:
                spans.append((start, start + len(form)))
                start = text.find(form, start + 1)
        if not spans:
            return text
        merged = []
        for start, stop in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        parts = []
        position = 0
        for start, stop in merged:
            parts.append(text[position:start])
            parts.append(MASK)
            position = stop
        parts.append(text[position:])
        return "".join(parts)

    def scrub_error(self, exc):
        """Mask the secrets (including ones added since it was raised) in an existing error's text fields, in place; returns it."""
        for name in ("message", "msg", "api_message", "body_excerpt", "reason", "api_reason", "api_code", "request_id", "url"):
            value = getattr(exc, name, None)
            if isinstance(value, str):
                setattr(exc, name, self.scrub(value))
        if getattr(exc, "args", None):
            exc.args = tuple(self.scrub(arg) for arg in exc.args)
        return exc


class Pace:
    """When the API answers 429, every thread using this client holds, then resumes one send at a time.

    ``wait`` is called before each send. ``limited`` (a 429 came back) holds all senders until the
    given delay has passed and spaces the sends that follow: each takes the next free slot, ``interval``
    seconds after the previous one. The interval starts at ``PACE_FIRST_INTERVAL``, doubles on each
    new 429 (one doubling per wave: a 429 for a request sent before the last doubling does not count
    again) up to ``PACE_MAX_INTERVAL``, and shrinks by 10% on each reply that is not a 429 (to a
    request sent after the last doubling), down to 0: unpaced. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, clock=None, sleep=None, first_interval=PACE_FIRST_INTERVAL, max_interval=PACE_MAX_INTERVAL,
                 decrease=PACE_DECREASE, min_interval=PACE_MIN_INTERVAL):
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self.first_interval = first_interval
        self.max_interval = max_interval
        self.decrease = decrease
        self.min_interval = min_interval
        self.interval = 0.0
        self.hold_until = None
        self._next_slot = None
        self._last_increase = None

    def _reserve(self):
        """The time this sender may go (now when unpaced); taking a paced slot moves the next one on."""
        with self._lock:
            now = self._clock()
            slot = now
            if self.hold_until is not None:
                slot = max(slot, self.hold_until)
            if self.interval > 0:
                if self._next_slot is not None:
                    slot = max(slot, self._next_slot)
                self._next_slot = slot + self.interval
            return slot, now

    def wait(self):
        """Block until this sender may send; returns the seconds waited (0.0 when it could go at once)."""
        waited = 0.0
        while True:
            slot, now = self._reserve()
            if slot <= now:
                return waited
            self._sleep(slot - now)
            waited += slot - now
            with self._lock:
                # A 429 that arrived while this sender slept moved the hold past its slot: queue again.
                if self.hold_until is None or self.hold_until <= slot:
                    return waited

    def limited(self, delay, sent_at=None):
        """A 429 came back for a request sent at ``sent_at`` (clock time): hold every sender ``delay`` seconds and slow down."""
        with self._lock:
            now = self._clock()
            until = now + max(0.0, delay or 0.0)
            self.hold_until = until if self.hold_until is None else max(self.hold_until, until)
            if sent_at is None or self._last_increase is None or sent_at >= self._last_increase:
                self.interval = min(self.max_interval, max(self.first_interval, self.interval * 2))
                self._last_increase = now
            self._next_slot = self.hold_until if self._next_slot is None else max(self._next_slot, self.hold_until)

    def ok(self, sent_at=None):
        """A reply that was not a 429, for a request sent at ``sent_at``: speed up a little.

        A request sent before the last slow-down tells nothing about the new pace and changes nothing.
        """
        with self._lock:
            if sent_at is not None and self._last_increase is not None and sent_at < self._last_increase:
                return
            if self.interval > 0:
                self.interval *= self.decrease
                if self.interval < self.min_interval:
                    self.interval = 0.0


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def body_excerpt(text):
    """A short, single-line excerpt of a response body; an HTML page is reduced to its title or its text.

    Scrub secrets from the text before, not after: a cut could leave part of a secret behind.
    """
    text = text or ""
    if re.search(r"<\s*(html|head|body|title|h1)\b", text, re.I):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        inner = title.group(1) if title else re.sub(r"<[^>]*>", " ", re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text))
        text = "HTML page: " + (" ".join(inner.split()) or "(no text)")
    excerpt = " ".join(text.split())
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[:EXCERPT_LENGTH] + "..."
    return excerpt


def _text_or_none(value):
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parse_error_body(body_text):
    """The API's own ``(code, reason, message)`` from an error body, whichever known shape it has; Nones when it has none.

    Shapes: ``{"code", "reason", "message"}``, ``{"code", "message"}`` (or ``msg``) and
    ``{"error": {"code", "reason", "message"}}`` (or ``{"error": "text"}``).
    """
    try:
        data = json.loads(body_text or "")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None, None, None
    error = data.get("error")
    inner = error if isinstance(error, dict) else data
    code = inner.get("code") if inner.get("code") is not None else data.get("code")
    reason = _text_or_none(inner.get("reason") or data.get("reason"))
    message = _text_or_none(inner.get("message") or inner.get("msg") or data.get("message") or data.get("msg"))
    if message is None and isinstance(error, str) and error:
        message = error
    return code, reason, message


def _request_id(headers, body_text):
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name) if headers is not None else None
        if value:
            return str(value)
    try:
        data = json.loads(body_text or "")
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in REQUEST_ID_KEYS:
            if data.get(key):
                return str(data[key])
    return None


def _status_summary(status, method, path, name, auth_failure):
    label = "%s %s" % (status, name) if name else "%s" % status
    if auth_failure:
        if name in MISSING_KEY_REASONS:
            return "Novita API says the API key is missing (%s) on %s %s; check api_key or NOVITA_API_KEY" % (label, method, path)
        return "Novita API rejected the API key (%s) on %s %s; check api_key or NOVITA_API_KEY" % (label, method, path)
    if status == 429:
        return "Novita API rate limit (%s) on %s %s" % (label, method, path)
    return "Novita API returned HTTP %s on %s %s" % (label, method, path)


def check_base_url(value):
    """``api_base_url`` made ready for use (surrounding blanks and a trailing slash removed), or NovitaConfigError.

    Refused: no scheme (``127.0.0.1:8555``), a scheme other than http or https, no host, a bad port,
    a query or fragment, and a path that already holds the API path ``/gpu-instance/openapi``.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return DEFAULT_BASE_URL
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if not match:
        if re.match(r"^https?:/*", text, re.I):
            rest = re.sub(r"^https?:/*", "", text, flags=re.I)
            raise NovitaConfigError("api_base_url: %r is not a URL; write it as http://%s or https://%s" % (text, rest, rest))
        raise NovitaConfigError("api_base_url: %r has no scheme; use http://%s or https://%s" % (text, text.lstrip("/"), text.lstrip("/")))
    scheme = match.group(1).lower()
    if scheme not in ("http", "https"):
        raise NovitaConfigError("api_base_url: %r uses the scheme %s; the Novita API is reached over https:// (or http:// for a local test server)"
                                % (text, match.group(1)))
    parts = urlsplit(text)
    if not parts.hostname:
        raise NovitaConfigError("api_base_url: %r has no host; use for example %s" % (text, DEFAULT_BASE_URL))
    try:
        parts.port  # pylint: disable=pointless-statement
    except ValueError:
        raise NovitaConfigError("api_base_url: %r has an invalid port; use for example http://127.0.0.1:8555" % text)
    origin = "%s://%s" % (scheme, parts.netloc)
    index = parts.path.lower().find("/gpu-instance/openapi")
    if index >= 0:
        raise NovitaConfigError("api_base_url: %r already contains the API path %s; set it to %s"
                                % (text, API_PREFIX, origin + parts.path[:index].rstrip("/")))
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise NovitaConfigError("api_base_url: %r has a query string or fragment; set it to %s" % (text, origin + parts.path.rstrip("/")))
    return origin + parts.path.rstrip("/")


def _transport_problem(exc, timeout, origin, host):
    """``(reason, transient, ambiguous)`` for an exception raised while sending a request or reading its reply."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason) or type(reason).__name__
    lowered = text.lower()
    if isinstance(reason, socket.timeout) or "timed out" in lowered:
        return "no reply within the %s s timeout" % timeout, True, True
    if isinstance(exc, getattr(http_client, "RemoteDisconnected", ())):
        return "the connection was closed without a reply", True, True
    if any(marker in lowered for marker in BAD_URL_MARKERS):
        return "%s; check api_base_url" % text, False, False
    if any(marker in lowered for marker in TLS_MISMATCH_MARKERS):
        return "%s: the server does not speak TLS at this address: use http:// or check the port" % text, False, False
    if any(marker in lowered for marker in CERTIFICATE_MARKERS):
        return ("%s: the server's TLS certificate could not be verified: install the CA that signed it (for example with the"
                " SSL_CERT_FILE environment variable) or, for a test server only, set validate_certs to false" % text), False, False
    if isinstance(reason, ConnectionRefusedError) or "connection refused" in lowered:
        # Nothing reached the server: repeating is safe, and the server may be restarting.
        return "connection refused: is the server running at %s?" % origin, True, False
    if isinstance(reason, socket.gaierror):
        return "the host name %s could not be resolved: %s" % (host, text), True, False
    if isinstance(exc, ValueError):
        return text, False, False
    return text, True, True


class NovitaClient:
    """Bearer-authenticated JSON requests against one Novita API base URL, with the collection's retry policy.

    A request marked retryable is repeated on 429/5xx, timeouts, connection errors and cut-off or
    non-JSON replies, up to ``retries`` times and within ``retry_timeout`` seconds counted from that
    request's first failure; every wait is a capped exponential backoff with jitter, or what
    ``Retry-After`` asks (capped). A 429 also holds and paces every other request of this client
    (see ``Pace``). Nothing about one request's retries is kept on the client, so threads sharing a
    client never share a retry budget. Every text the client puts in an error goes through
    ``scrubber`` (which always holds the API key; add more secrets with ``add_secrets``).
    """

    def __init__(self, api_key, base_url=DEFAULT_BASE_URL, timeout=30, validate_certs=True, sleep=None, opener=None,
                 retries=DEFAULT_RETRIES, retry_timeout=DEFAULT_RETRY_TIMEOUT, clock=None, pace=None):
        self._api_key = api_key.strip() if isinstance(api_key, str) else api_key
        self.scrubber = Scrubber(self._api_key)
        # Values that are not the task's secrets but may be (env values of variables the task does not declare plain): masked
        # only in what the API sends back (error messages, excerpts), never in the module's own sentences.
        self.echo_scrubber = Scrubber()
        self.base_url = check_base_url(base_url)
        parts = urlsplit(self.base_url)
        if parts.password:
            self.scrubber.add(parts.password)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        self._host = host
        self._origin = "%s://%s:%s" % (parts.scheme, "[%s]" % host if ":" in host else host, port)
        # Shown in messages: the base URL without any user:password part.
        self._display_base = "%s://%s%s" % (parts.scheme, parts.netloc.rpartition("@")[2], parts.path)
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = retries
        self.retry_timeout = retry_timeout
        self._sleep = sleep or time.sleep
        self._open = opener or open_url
        self._clock = clock or time.monotonic
        self.pace = pace or Pace(clock=self._clock, sleep=self._sleep)
        # ``api_requests``: None until ``trace`` turns it on, then one item per request sent (threads append under the lock).
        self.requests = None
        self._trace_lock = threading.Lock()

    def trace(self):
        """Record every request from now on (method, path, status, attempt, duration; never a body or header)."""
        if self.requests is None:
            self.requests = []

    def _record(self, method, path, query, attempt, sent_at, status, error=None):
        if self.requests is None:
            return
        item = {"method": method, "path": path + ("?" + urlencode(query) if query else ""), "status": status, "attempt": attempt,
                "duration_ms": int(round((self._clock() - sent_at) * 1000))}
        if error is not None:
            item["error"] = error
        with self._trace_lock:
            self.requests.append(item)

    def add_trace(self, result):
        """Put ``api_requests`` into a module result when tracing is on (messages in it are scrubbed like every other)."""
        if self.requests is not None:
            with self._trace_lock:
                result["api_requests"] = [dict(item, **({"error": self.scrub(item["error"])} if "error" in item else {}))
                                          for item in self.requests]
        return result

    @classmethod
    def from_module(cls, module, problems=()):
        """The client for a module's connection options; the module fails, naming every problem, when they do not make one.

        ``problems`` are the task's other problems: when the client cannot be made they are reported in the same
        message (``errors`` lists them all), so one run shows everything that is wrong.
        """
        params = module.params
        errors = []
        if not (params.get("api_key") or "").strip():
            errors.append(KEY_MISSING_MESSAGE)
        for name, minimum in (("timeout", 1), ("retries", 0), ("retry_timeout", 0)):
            if params.get(name) is None or params[name] < minimum:
                errors.append("%s: %r is not allowed; it must be a whole number of at least %d" % (name, params.get(name), minimum))
        client = None
        if not errors:
            try:
                client = cls(params["api_key"], params.get("api_base_url"), params["timeout"], params["validate_certs"],
                             retries=params["retries"], retry_timeout=params["retry_timeout"])
            except NovitaConfigError as exc:
                errors.append(exc.msg)
        if errors:
            errors = [str(problem) for problem in problems] + errors
            module.fail_json(msg=errors[0] if len(errors) == 1 else "%d problems, nothing was sent: %s" % (len(errors), "; ".join(errors)),
                             errors=errors)
        if params.get("trace_requests") or getattr(module, "_verbosity", 0) >= TRACE_VERBOSITY:
            client.trace()
        return client

    # -- secrets

    def add_secrets(self, *values):
        """Mask these values too in every message from now on (see ``Scrubber.add``)."""
        self.scrubber.add(*values)

    def scrub(self, text):
        """The text with the API key and every added secret masked."""
        return self.scrubber.scrub(text)

    def add_echoed(self, *values):
        """Mask these values in every text the API sends back from now on (see ``scrub_echo``), not in the module's own text."""
        self.echo_scrubber.add(*values)

    def scrub_echo(self, text):
        """Text the API sent (an error message, a reply excerpt): the secrets and the values added with ``add_echoed`` masked."""
        return self.echo_scrubber.scrub(self.scrub(text))

    def scrub_failure(self, message, failure):
        """A failure's message and ``failure`` dict for the user: secrets masked everywhere, ``add_echoed`` values in the parts
        the API sent (its message and body excerpt), however late they were learnt; the module's own words are left alone."""
        failure = dict(failure or {})
        for key in ("api_message", "body_excerpt"):
            value = failure.get(key)
            if isinstance(value, str) and value:
                failure[key] = self.scrub_echo(value)
                message = message.replace(value, failure[key])
        failure = dict((k, self.scrub(v) if isinstance(v, str) else v) for k, v in failure.items())
        return self.scrub(message), failure

    def scrub_error(self, exc):
        """Mask secrets added since ``exc`` was raised in its text fields, in place; returns it."""
        return self.scrubber.scrub_error(exc)

    # -- retry policy

    @staticmethod
    def backoff(attempt):
        """The jittered exponential backoff before repeat number ``attempt + 1``."""
        cap = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt))
        return cap / 2 + random.uniform(0, cap / 2)

    def retry_delay(self, attempt, retry_after=None, started=None):
        """Seconds to wait before repeat number ``attempt + 1`` of a failed request or operation; None to give up.

        ``started`` is the clock time (``self.now()``) of the first failure of this request or operation, kept by
        the caller (default: now). None is returned when ``retries`` repeats were made, or when the wait would end
        later than ``started + retry_timeout``.
        """
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            delay = min(retry_after, RETRY_AFTER_CAP_SECONDS)
        else:
            delay = self.backoff(attempt)
        now = self._clock()
        if started is None:
            started = now
        if now + delay - started > self.retry_timeout:
            return None
        return delay

    def now(self):
        """The client's clock (monotonic seconds): what to keep as the ``started`` of ``retry_delay``."""
        return self._clock()

    def pause(self, seconds):
        self._sleep(seconds)

    # -- requests

    def request(self, method, path, query=None, body=None, retry=None):
        """Send one API call and return the decoded JSON body (an empty dict for an empty body).

        ``retry`` (default: True for GET, False otherwise) repeats the request on transient failures.
        Waiting for the pace (after a 429 anywhere in this client) does not count as an attempt.
        """
        if retry is None:
            retry = method == "GET"
        attempt = 0
        started = None
        while True:
            self.pace.wait()
            sent_at = self._clock()
            try:
                result = self._send(method, path, query, body)
            except NovitaAPIError as exc:
                self._record(method, path, query, attempt + 1, sent_at, exc.status, None if exc.status is not None else exc.reason)
                exc.attempts = attempt + 1
                if started is None:
                    started = self._clock()
                delay = self._after_failure(exc, attempt, started, sent_at, retry)
                if delay is None:
                    raise noted_attempts(exc, attempt + 1, "gave up after %d attempts")
                if exc.status != 429:
                    # After a 429 the pace holds this request (and every other one) for the delay.
                    self._sleep(delay)
                attempt += 1
                continue
            self._record(method, path, query, attempt + 1, sent_at, result[0])
            self.pace.ok(sent_at)
            return result[1]

    def _after_failure(self, exc, attempt, started, sent_at, retry):
        """The delay before repeating a failed request (None: give up); a 429 holds and slows every sender (see ``Pace``)."""
        delay = self.retry_delay(attempt, exc.retry_after, started) if retry and exc.transient else None
        if exc.status == 429:
            hold = delay
            if hold is None:
                hold = min(exc.retry_after, RETRY_AFTER_CAP_SECONDS) if exc.retry_after is not None else self.backoff(attempt)
            self.pace.limited(hold, sent_at)
        elif exc.status is not None:
            self.pace.ok(sent_at)
        return delay

    def _send(self, method, path, query, body):
        """Send one request: ``(status, decoded JSON body)``, or a NovitaAPIError."""
        url = self.base_url + API_PREFIX + path
        if query:
            url += "?" + urlencode(query)
        headers = {
            "Authorization": "Bearer %s" % self._api_key,
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            response = self._open(url, data=data, headers=headers, method=method, timeout=self.timeout,
                                  validate_certs=self.validate_certs, http_agent=USER_AGENT, follow_redirects="none")
            raw = response.read()
        except HTTPError as exc:
            try:
                text = exc.read().decode("utf-8", "replace")
            except (AttributeError, OSError, ValueError, http_client.HTTPException):
                text = ""
            raise self._status_error(method, path, exc.code, text, exc.headers)
        except http_client.IncompleteRead as exc:
            raise self._failure(method, path, "the reply was cut off after %d bytes" % len(exc.partial or b""))
        except (URLError, http_client.HTTPException, socket.timeout, OSError, ValueError, UrlsConnectionError) as exc:
            reason, transient, ambiguous = _transport_problem(exc, self.timeout, self._origin, self._host)
            raise self._failure(method, path, reason, transient=transient, ambiguous=ambiguous)
        text = raw.decode("utf-8", "replace")
        status = getattr(response, "status", None) or getattr(response, "code", None)
        if not text.strip():
            return status, {}
        try:
            return status, json.loads(text)
        except ValueError:
            raise self._failure(method, path, "the reply is not JSON", body_text=text, headers=getattr(response, "headers", None),
                                status=getattr(response, "status", None) or getattr(response, "code", None))

    def display_url(self, path):
        """The full URL of an API path as shown in messages (no query string, no user:password)."""
        return self._display_base + API_PREFIX + path

    def _excerpt(self, body_text):
        # Scrub before cutting the excerpt short, so that no part of a secret survives the cut.
        return self.scrub_echo(body_excerpt(self.scrub_echo(body_text)))

    def _failure(self, method, path, reason, body_text=None, headers=None, status=None, transient=True, ambiguous=True):
        """A request that got no usable reply: unless told otherwise, the API may or may not have carried it out."""
        excerpt = self._excerpt(body_text) if body_text is not None else None
        reason = self.scrub(reason)
        url = self.display_url(path)
        message = "Novita API request %s %s failed: %s" % (method, url, reason)
        if excerpt:
            message += ": %s" % excerpt
        return NovitaAPIError(self.scrub(message), status=status, method=method, path=path, url=self.scrub(url), reason=reason,
                              body_excerpt=excerpt, request_id=self.scrub(_request_id(headers, body_text)),
                              transient=transient, ambiguous=ambiguous)

    def _status_error(self, method, path, status, body_text, headers):
        api_code, api_reason, api_message = parse_error_body(body_text)
        api_message = self.scrub_echo(api_message)
        api_reason = self.scrub_echo(api_reason)
        if isinstance(api_code, str):
            api_code = self.scrub_echo(api_code)
        excerpt = self._excerpt(body_text) if body_text.strip() and not api_message else None
        name = _error_name(api_reason, api_code)
        auth_failure = _auth_failure(status, name)
        message = _status_summary(status, method, path, name, auth_failure)
        if api_message:
            message += ": %s" % api_message
        elif excerpt and not api_reason:
            message += ": %s" % excerpt
        elif not excerpt:
            message += " with an empty body"
        if name in REASON_ADVICE:
            message += " (%s: %s)" % (name, REASON_ADVICE[name])
        retry_after = None
        if status in RETRY_STATUSES and headers is not None:
            retry_after = parse_retry_after(headers.get("Retry-After"))
        transient = status in RETRY_STATUSES and not auth_failure
        return NovitaAPIError(self.scrub(message), status=status, method=method, path=path, url=self.scrub(self.display_url(path)),
                              api_message=api_message, api_code=api_code, api_reason=api_reason,
                              request_id=self.scrub(_request_id(headers, body_text)), body_excerpt=excerpt,
                              transient=transient, ambiguous=status >= 500, retry_after=retry_after)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, body, retry=False):
        return self.request("POST", path, body=body, retry=retry)

    def list_all(self, path, items_key, query=None, page_param="pageNum", key=None, page_size=LIST_PAGE_SIZE):
        """Every item of a paged list, checked to be complete and well-formed, or a NovitaListError (see ``ListPager``).

        ``query`` holds the list's filters, ``page_param`` names its page number (``pageNum``, ``pageNo``), ``key(item)``
        tells items apart (default: their ``id``, else their whole content).
        """
        return ListPager(self, path, items_key, query=query, page_param=page_param, key=key, page_size=page_size).read_all()

    def read_list(self, path, items_key):
        """The items of an unpaged list (``{"data": [...]}``), with the same checks as a page of ``list_all``."""
        pager = ListPager(self, path, items_key, page_param=None)
        return pager.read_all()


def delete_by_id(client, path, body):
    """Send a delete, repeated on transient failures; a thing the API says does not exist counts as deleted."""
    try:
        client.post(path, body, retry=True)
    except NovitaAPIError as exc:
        if not is_not_found(exc):
            raise


def create_once(client, send, lookup, gave_up):
    """Send a create that is never repeated blindly; ``(reply, None)``, or ``(None, found)`` when what it made was adopted.

    ``send()`` sends the create. After a failure that leaves open whether the API carried it out (a timeout, a dropped
    connection, an unreadable reply, a 5xx), ``lookup(exc)`` looks for what it may have made: something found is adopted;
    nothing found, the create is sent again within the client's retry policy (``lookup`` None: a transient failure is
    final, since nothing could tell whether it was made). A 429 is a refusal: it is waited out and the create repeated.
    When the repeats run out after an unclear failure, ``gave_up(exc, attempts)`` is the error raised.
    """
    attempt, started = 0, None
    while True:
        try:
            return send(), None
        except NovitaAPIError as exc:
            if not exc.transient or lookup is None:
                raise
            exc.attempts = attempt + 1
            found = lookup(exc) if exc.ambiguous else None
            if found:
                return None, found
            started = started if started is not None else client.now()
            delay = client.retry_delay(attempt, exc.retry_after, started)
            if delay is None:
                raise gave_up(exc, attempt + 1) if exc.ambiguous else exc
            client.pause(delay)
            attempt += 1


def noted_attempts(exc, attempts, text):
    """``exc``, its message ending with ``(text % attempts)`` when it took more than one attempt (``gave up after %d attempts``)."""
    if attempts > 1:
        exc.msg = "%s (%s)" % (exc.msg, text % attempts)
        exc.args = (exc.msg,)
    return exc


class NovitaListError(NovitaAPIError):
    """A list reply that cannot be trusted: malformed (at any status), short of its ``total``, a repeated page, or
    endless. No decision that deletes, creates or replaces may rest on it, so it is never caught to carry on."""


class ListPager:
    """Reads every page of one list and refuses a result it cannot vouch for.

    A page must be a JSON object whose ``items_key`` is a list of objects (``null`` counts as empty) and whose
    ``total``, when given, is a whole number (a numeric string too) that stays the same on every page. Pages are
    read from 1 upwards until the list holds ``total`` items, or a page is empty, or a page brings nothing new, or
    the pages ``total`` implies were read; then, when ``total`` is not reached (or is not given), page 0 is read
    once, for an API that counts pages from 0 (an API counting from 1 may refuse it, clamp it to page 1, or answer
    it empty). The list is refused when it still falls short of ``total``, holds more than ``total``, repeats a full
    page without a ``total``, or needs more than ``LIST_MAX_PAGES`` pages. A malformed page is read again within
    the client's retry policy (a gateway may answer 200 with an error body); the other refusals are final.
    """

    def __init__(self, client, path, items_key, query=None, page_param="pageNum", key=None, page_size=LIST_PAGE_SIZE):
        self.client = client
        self.path = path
        self.items_key = items_key
        self.query = dict(query or {})
        self.page_param = page_param
        self.key = key
        self.page_size = page_size
        self.items = {}
        self.order = []
        self.total = None
        self.pages = 0
        self.largest = 0
        self.repeated = None

    def read_all(self):
        if self.page_param is None:
            items, total = self.read(None)
            self.add(items)
            self.check_complete("the list holds fewer items than its total")
            return self.result()
        number = 1
        while self.read_next(number):
            number += 1
            if number > LIST_MAX_PAGES:
                raise self.error(None, "still new %s after %d pages" % (self.items_key, LIST_MAX_PAGES))
        if self.total is None or len(self.order) < self.total:
            self.add(self.read(0, below_base=True)[0])
        self.check_complete(self.shortfall_reason(number))
        return self.result()

    def read_next(self, number):
        """Read page ``number``; whether the next page is worth reading."""
        items, dummy = self.read(number)
        added = self.add(items)
        self.largest = max(self.largest, len(items))
        if not items:
            return False
        if not added:
            self.repeated = number
            return False
        if self.total is not None:
            return len(self.order) < self.total and number < _pages_needed(self.total, self.largest) + 1
        return True

    def shortfall_reason(self, number):
        if self.repeated is not None:
            return "page %d repeated %s of earlier pages" % (self.repeated, self.items_key)
        return "the pages ended at page %d, short of the total" % number

    def check_complete(self, why):
        if self.total is None:
            if self.repeated is not None and self.largest >= self.page_size:
                raise self.error(None, "%s, every page was full and no total was given: which %s exist cannot be told" % (why, self.items_key))
            return
        if len(self.order) > self.total:
            raise self.error(None, "%d distinct %s were read, more than the total of %d" % (len(self.order), self.items_key, self.total))
        if len(self.order) < self.total:
            raise self.error(None, "%d of %d %s read: %s" % (len(self.order), self.total, self.items_key, why))

    def result(self):
        return [self.items[key] for key in self.order]

    def add(self, items):
        """Add a page's items; how many were new."""
        added = 0
        for item in items:
            key = self.item_key(item)
            if key not in self.items:
                self.items[key] = item
                self.order.append(key)
                added += 1
        return added

    def item_key(self, item):
        value = self.key(item) if self.key is not None else item.get("id")
        if value is None or value == "":
            return "json:%s" % json.dumps(item, sort_keys=True, default=str)
        return "key:%s" % value

    def read(self, number, below_base=False):
        """One page's ``(items, total)``, its shape checked; a malformed page is read again within the retry policy."""
        query = dict(self.query)
        if number is not None:
            query.update({"pageSize": self.page_size, self.page_param: number})
        attempt, started = 0, None
        while True:
            try:
                data = self.client.get(self.path, query or None)
            except NovitaAPIError as exc:
                if below_base and exc.status in (400, 404) and not is_auth_failure(exc):
                    return [], None  # an API counting from 1 may refuse page 0
                raise
            self.pages += 1
            try:
                return self.check_page(data, number)
            except NovitaListError as exc:
                started = started if started is not None else self.client.now()
                delay = self.client.retry_delay(attempt, None, started)
                if delay is None:
                    raise noted_attempts(exc, attempt + 1, "read %d times")
                self.client.pause(delay)
                attempt += 1

    def check_page(self, data, number):
        """The page's ``(items, total)``; a NovitaListError when its shape is wrong or its total changed."""
        if not isinstance(data, dict):
            raise self.error(number, "the reply is not a JSON object but %s" % self.excerpt(data))
        if self.items_key not in data:
            raise self.error(number, "the reply has no %s list: %s" % (self.items_key, self.excerpt(data)))
        items = data[self.items_key]
        items = [] if items is None else items
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise self.error(number, "%s is not a list of objects: %s" % (self.items_key, self.excerpt(data)))
        total = self.check_total(data, number)
        return items, total

    def check_total(self, data, number):
        if data.get("total") is None:
            return None
        total = _whole_number(data["total"])
        if total is None or total < 0:
            raise self.error(number, "total is not a whole number: %s" % self.excerpt(data["total"]))
        if self.total is not None and total != self.total and number != 0:
            raise self.error(number, "the total changed from %d to %d while the pages were read" % (self.total, total))
        if self.total is None:
            self.total = total
        return total

    def excerpt(self, value):
        """A short view of a bad reply: its scalar fields (an error's code and message); lists and objects only by size, since
        list items carry other endpoints' settings, env values included."""
        if isinstance(value, dict):
            value = dict((key, _shape(item)) for key, item in value.items())
        else:
            value = _shape(value) if not isinstance(value, list) else [_shape(item) for item in value[:3]]
        return self.client.scrub_echo(body_excerpt(self.client.scrub_echo(json.dumps(value, sort_keys=True, default=str))))

    def error(self, number, why):
        page = " (%s %s)" % (self.page_param, number) if number is not None and self.page_param else ""
        url = self.client.display_url(self.path)
        message = ("Novita API list GET %s%s cannot be trusted: %s. Nothing is decided on an incomplete list; run the task again,"
                   " and if this persists, check the API's status" % (url, page, why))
        return NovitaListError(self.client.scrub(message), status=200, method="GET", path=self.path, url=self.client.scrub(url),
                               reason=self.client.scrub(why), transient=False, ambiguous=False)


def _pages_needed(total, size):
    """How many pages of ``size`` items hold ``total`` items."""
    size = max(1, size)
    return (total + size - 1) // size


def _shape(value):
    """A scalar as is; a list or an object reduced to its size."""
    if isinstance(value, list):
        return "[%d items]" % len(value)
    if isinstance(value, dict):
        return "{%d keys}" % len(value)
    return value


def _whole_number(value):
    """An integer from an int or a numeric string (the API sends numbers both ways); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
