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
import time
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.basic import env_fallback
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
EXCERPT_LENGTH = 200
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Request-ID", "Request-Id", "X-Trace-Id", "Trace-Id")
REQUEST_ID_KEYS = ("requestId", "request_id", "traceId", "trace_id")

MASK = "********"


def novita_argument_spec():
    """The connection options every module takes (documented in the doc fragment novita.cloud.novita)."""
    return dict(
        api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["NOVITA_API_KEY"])),
        api_base_url=dict(type="str", default=DEFAULT_BASE_URL, fallback=(env_fallback, ["NOVITA_API_BASE_URL"])),
        timeout=dict(type="int", default=30),
        validate_certs=dict(type="bool", default=True),
        retries=dict(type="int", default=DEFAULT_RETRIES, fallback=(env_fallback, ["NOVITA_RETRIES"])),
        retry_timeout=dict(type="int", default=DEFAULT_RETRY_TIMEOUT, fallback=(env_fallback, ["NOVITA_RETRY_TIMEOUT"])),
    )


class NovitaAPIError(Exception):
    """A request that did not succeed; the message names status, method and path, never the API key.

    ``transient`` says the failure may go away when the request is repeated; ``ambiguous`` says the
    API may have carried out the request although no clear reply came back (a timeout, a dropped
    connection, a cut-off or unreadable reply, a 5xx).
    """

    def __init__(self, message, status=None, method=None, path=None, api_message=None, api_code=None,
                 request_id=None, body_excerpt=None, reason=None, transient=False, ambiguous=False, retry_after=None):
        super(NovitaAPIError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.api_message = api_message
        self.api_code = api_code
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.reason = reason
        self.transient = transient
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.attempts = 1

    def to_dict(self):
        return dict(status=self.status, method=self.method, path=self.path, api_code=self.api_code, api_message=self.api_message,
                    request_id=self.request_id, body_excerpt=self.body_excerpt, reason=self.reason, attempts=self.attempts)


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
    """A short, single-line excerpt of a response body; an HTML page is reduced to its title or its text."""
    text = text or ""
    if re.search(r"<\s*(html|head|body|title|h1)\b", text, re.I):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        inner = title.group(1) if title else re.sub(r"<[^>]*>", " ", re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text))
        text = "HTML page: " + (" ".join(inner.split()) or "(no text)")
    excerpt = " ".join(text.split())
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[:EXCERPT_LENGTH] + "..."
    return excerpt


def _api_error_text(body_text):
    """The API's own code and message from an error body, whichever of the known shapes it has."""
    try:
        data = json.loads(body_text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        inner = data.get("error") if isinstance(data.get("error"), dict) else data
        message = inner.get("message") or inner.get("msg") or inner.get("reason")
        code = inner.get("code")
        if message or code is not None:
            return (str(message) if message is not None else None), code
    return None, None


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


def _status_summary(status, method, path):
    if status in (401, 403):
        return "Novita API rejected the API key (%s) on %s %s; check api_key or NOVITA_API_KEY" % (status, method, path)
    if status == 429:
        return "Novita API rate limit (429) on %s %s" % (method, path)
    return "Novita API returned HTTP %s on %s %s" % (status, method, path)


class NovitaClient:
    """Bearer-authenticated JSON requests against one Novita API base URL, with the collection's retry policy.

    A request marked retryable is repeated on 429/5xx, timeouts, connection errors and cut-off or
    non-JSON replies, up to ``retries`` times; every wait is a capped exponential backoff with jitter,
    or what ``Retry-After`` asks (capped). All retries of one client share ``retry_timeout`` seconds,
    counted from the first failure.
    """

    def __init__(self, api_key, base_url=DEFAULT_BASE_URL, timeout=30, validate_certs=True, sleep=None, opener=None,
                 retries=DEFAULT_RETRIES, retry_timeout=DEFAULT_RETRY_TIMEOUT, clock=None):
        self._api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = retries
        self.retry_timeout = retry_timeout
        self._sleep = sleep or time.sleep
        self._open = opener or open_url
        self._clock = clock or time.monotonic
        self._retry_started = None

    @classmethod
    def from_module(cls, module):
        params = module.params
        if not params["api_key"]:
            module.fail_json(msg="api_key is required: set the api_key option or the NOVITA_API_KEY environment variable")
        for name, minimum in (("timeout", 1), ("retries", 0), ("retry_timeout", 0)):
            if params.get(name) is None or params[name] < minimum:
                module.fail_json(msg="%s: %r is not allowed; it must be a whole number of at least %d" % (name, params.get(name), minimum))
        return cls(params["api_key"], params["api_base_url"], params["timeout"], params["validate_certs"],
                   retries=params["retries"], retry_timeout=params["retry_timeout"])

    def scrub(self, text):
        """The text with the API key masked."""
        if text and self._api_key:
            return text.replace(self._api_key, MASK)
        return text

    # -- retry policy

    def retry_delay(self, attempt, retry_after=None):
        """Seconds to wait before repeat number ``attempt + 1`` of a failed request; None when the retries are used up."""
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            delay = min(retry_after, RETRY_AFTER_CAP_SECONDS)
        else:
            cap = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt))
            delay = cap / 2 + random.uniform(0, cap / 2)
        now = self._clock()
        if self._retry_started is None:
            self._retry_started = now
        if now + delay - self._retry_started > self.retry_timeout:
            return None
        return delay

    def pause(self, seconds):
        self._sleep(seconds)

    # -- requests

    def request(self, method, path, query=None, body=None, retry=None):
        """Send one API call and return the decoded JSON body (an empty dict for an empty body).

        ``retry`` (default: True for GET, False otherwise) repeats the request on transient failures.
        """
        if retry is None:
            retry = method == "GET"
        attempt = 0
        while True:
            try:
                return self._send(method, path, query, body)
            except NovitaAPIError as exc:
                exc.attempts = attempt + 1
                delay = self.retry_delay(attempt, exc.retry_after) if retry and exc.transient else None
                if delay is None:
                    if attempt:
                        exc.message = "%s (gave up after %d attempts)" % (exc.message, attempt + 1)
                        exc.args = (exc.message,)
                    raise
                self._sleep(delay)
                attempt += 1

    def _send(self, method, path, query, body):
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
        except (URLError, http_client.HTTPException, socket.timeout, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, socket.timeout) or "timed out" in str(reason):
                reason = "no reply within the %s s timeout" % self.timeout
            elif isinstance(exc, getattr(http_client, "RemoteDisconnected", ())):
                reason = "the connection was closed without a reply"
            raise self._failure(method, path, str(reason))
        text = raw.decode("utf-8", "replace")
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise self._failure(method, path, "the reply is not JSON", body_text=text, headers=getattr(response, "headers", None),
                                status=getattr(response, "status", None) or getattr(response, "code", None))

    def _failure(self, method, path, reason, body_text=None, headers=None, status=None):
        """A request that got no usable reply: the API may or may not have carried it out."""
        excerpt = self.scrub(body_excerpt(body_text)) if body_text is not None else None
        message = "Novita API request %s %s failed: %s" % (method, path, self.scrub(reason))
        if excerpt:
            message += ": %s" % excerpt
        return NovitaAPIError(message, status=status, method=method, path=path, reason=self.scrub(reason), body_excerpt=excerpt,
                              request_id=_request_id(headers, body_text), transient=True, ambiguous=True)

    def _status_error(self, method, path, status, body_text, headers):
        api_message, api_code = _api_error_text(body_text)
        api_message = self.scrub(api_message)
        excerpt = self.scrub(body_excerpt(body_text)) if body_text.strip() and not api_message else None
        message = _status_summary(status, method, path)
        if api_message:
            message += ": %s" % api_message
        elif excerpt:
            message += ": %s" % excerpt
        else:
            message += " with an empty body"
        retry_after = None
        if status in RETRY_STATUSES and headers is not None:
            retry_after = parse_retry_after(headers.get("Retry-After"))
        return NovitaAPIError(message, status=status, method=method, path=path, api_message=api_message, api_code=api_code,
                              request_id=_request_id(headers, body_text), body_excerpt=excerpt,
                              transient=status in RETRY_STATUSES, ambiguous=status >= 500, retry_after=retry_after)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, body, retry=False):
        return self.request("POST", path, body=body, retry=retry)

    def list_all(self, path, items_key, page_size=LIST_PAGE_SIZE):
        """Every item of a paged list (``pageSize``/``pageNum``), whether the API counts pages from 0 or from 1.

        Pages are read from 1 upwards until ``total`` distinct items are in hand. When the pages run
        out short, the API counts from 0 and page 0 is read once to complete the list.
        """
        items = {}
        order = []

        def add(page_items):
            added = 0
            for item in page_items:
                key = item.get("id") if isinstance(item, dict) else None
                key = key if key is not None else "#%d" % len(order)
                if key not in items:
                    items[key] = item
                    order.append(key)
                    added += 1
            return added

        total = None
        page = 1
        while True:
            data = self.get(path, {"pageSize": page_size, "pageNum": page})
            page_items = data.get(items_key) or []
            total = _int_or_none(data.get("total"))
            added = add(page_items)
            if total is not None and len(order) >= total:
                break
            if not added:
                break
            page += 1
        if total is not None and len(order) < total:
            try:
                data = self.get(path, {"pageSize": page_size, "pageNum": 0})
            except NovitaAPIError as exc:
                # An API that counts from 1 may refuse page 0; then the list simply shrank while it was read.
                if exc.status != 400:
                    raise
                data = {}
            add(data.get(items_key) or [])
        return [items[key] for key in order]


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
