# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Novita v1 GPU-instance OpenAPI, shared by every module of the collection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils
import json
import random
import socket
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

COLLECTION_NAME = "novita.cloud"
COLLECTION_VERSION = "0.1.0"
USER_AGENT = "%s/%s (Ansible collection)" % (COLLECTION_NAME, COLLECTION_VERSION)

DEFAULT_BASE_URL = "https://api.novita.ai"
API_PREFIX = "/gpu-instance/openapi/v1"

# Reads are repeated on these statuses; writes never are (a repeated create could make a second endpoint).
RETRY_STATUSES = frozenset((429, 502, 503, 504))
MAX_READ_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
RETRY_AFTER_CAP_SECONDS = 60.0
# The API documents no maximum page size; 100 keeps each list response small.
LIST_PAGE_SIZE = 100

MASK = "********"


def novita_argument_spec():
    """The connection options every module takes (documented in the doc fragment novita.cloud.novita)."""
    return dict(
        api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["NOVITA_API_KEY"])),
        api_base_url=dict(type="str", default=DEFAULT_BASE_URL, fallback=(env_fallback, ["NOVITA_API_BASE_URL"])),
        timeout=dict(type="int", default=30),
        validate_certs=dict(type="bool", default=True),
    )


class NovitaAPIError(Exception):
    """A request that did not succeed; the message names status, method and path, never the API key."""

    def __init__(self, message, status=None, method=None, path=None, api_message=None, api_code=None):
        super(NovitaAPIError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.api_message = api_message
        self.api_code = api_code

    def to_dict(self):
        return dict(status=self.status, method=self.method, path=self.path, api_code=self.api_code, api_message=self.api_message)


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
    excerpt = " ".join((body_text or "").split())
    if len(excerpt) > 200:
        excerpt = excerpt[:200] + "..."
    return (excerpt or None), None


class NovitaClient:
    """Bearer-authenticated JSON requests against one Novita API base URL."""

    def __init__(self, api_key, base_url=DEFAULT_BASE_URL, timeout=30, validate_certs=True, sleep=time.sleep, opener=open_url):
        self._api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.validate_certs = validate_certs
        self._sleep = sleep
        self._open = opener

    @classmethod
    def from_module(cls, module):
        params = module.params
        if not params["api_key"]:
            module.fail_json(msg="api_key is required: set the api_key option or the NOVITA_API_KEY environment variable")
        if params["timeout"] is None or params["timeout"] <= 0:
            module.fail_json(msg="timeout must be a positive number of seconds, got %r" % params["timeout"])
        return cls(params["api_key"], params["api_base_url"], params["timeout"], params["validate_certs"])

    def _scrub(self, text):
        if text and self._api_key:
            return text.replace(self._api_key, MASK)
        return text

    def _error(self, method, path, status, body_text):
        api_message, api_code = _api_error_text(body_text)
        api_message = self._scrub(api_message)
        message = "Novita API request %s %s failed with HTTP %s" % (method, path, status)
        if status == 401:
            message += " (the API key was rejected; check api_key or NOVITA_API_KEY)"
        if api_message:
            message += ": %s" % api_message
        return NovitaAPIError(message, status=status, method=method, path=path, api_message=api_message, api_code=api_code)

    def _backoff(self, attempt, retry_after):
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_CAP_SECONDS)
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt))
        return delay / 2 + random.uniform(0, delay / 2)

    def request(self, method, path, query=None, body=None):
        """Send one API call and return the decoded JSON body (an empty dict for an empty body).

        GET requests are retried on rate limiting, gateway errors and connection failures;
        POST requests are sent exactly once.
        """
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
        attempts = MAX_READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                response = self._open(url, data=data, headers=headers, method=method, timeout=self.timeout,
                                      validate_certs=self.validate_certs, http_agent=USER_AGENT, follow_redirects="none")
                text = response.read().decode("utf-8", "replace")
            except HTTPError as exc:
                try:
                    text = exc.read().decode("utf-8", "replace")
                except (AttributeError, OSError, ValueError):
                    text = ""
                if exc.code in RETRY_STATUSES and not last:
                    retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers is not None else None)
                    self._sleep(self._backoff(attempt, retry_after))
                    continue
                raise self._error(method, path, exc.code, text)
            except (URLError, socket.timeout, ConnectionError) as exc:
                if not last:
                    self._sleep(self._backoff(attempt, None))
                    continue
                reason = getattr(exc, "reason", exc)
                raise NovitaAPIError(self._scrub("Novita API request %s %s could not be completed: %s" % (method, path, reason)),
                                     method=method, path=path)
            return self._decode(method, path, text)
        raise AssertionError("unreachable")  # pragma: no cover

    def _decode(self, method, path, text):
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            excerpt = " ".join(text.split())[:200]
            raise NovitaAPIError(self._scrub("Novita API request %s %s returned a body that is not JSON: %s" % (method, path, excerpt)),
                                 method=method, path=path)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, body):
        return self.request("POST", path, body=body)

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
