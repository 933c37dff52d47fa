# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import http.client as http_client
import re
import socket
import ssl
import threading
from urllib.error import HTTPError, URLError
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.novita.cloud.plugins.module_utils import api
from ansible_collections.novita.cloud.tests.unit.helpers import FakeOpener, FakeResponse

KEY = "sk-unit-test-key"


BASE = "https://api.example.invalid/gpu-instance/openapi/v1"


class FakeTime:
    """A clock that only moves when something sleeps; records the sleeps."""

    def __init__(self, sleeps=None):
        self.now = 1000.0
        self.sleeps = sleeps if sleeps is not None else []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def client(opener, sleeps=None, **kwargs):
    fake = FakeTime(sleeps)
    return api.NovitaClient(KEY, kwargs.pop("base_url", "https://api.example.invalid/"), timeout=7, validate_certs=True,
                            sleep=fake.sleep, clock=fake.clock, opener=opener, **kwargs)


def test_request_sends_bearer_json_timeout_and_user_agent():
    opener = FakeOpener({"id": "e1"})
    assert client(opener).post("/endpoint/create", {"endpoint": {"name": "x"}}) == {"id": "e1"}
    call = opener.calls[0]
    assert call["url"] == "https://api.example.invalid/gpu-instance/openapi/v1/endpoint/create"
    assert call["method"] == "POST"
    assert call["headers"]["Authorization"] == "Bearer " + KEY
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["data"] == {"endpoint": {"name": "x"}}
    assert call["timeout"] == 7
    assert call["http_agent"] == "novita.cloud/%s (Ansible collection)" % api.COLLECTION_VERSION


def test_collection_version_matches_galaxy_yml():
    galaxy = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "galaxy.yml")
    with open(galaxy) as handle:
        version = re.search(r"^version:\s*(\S+)", handle.read(), re.M).group(1).strip("'\"")
    assert version == api.COLLECTION_VERSION


def test_get_retries_429_honouring_retry_after_then_succeeds():
    sleeps = []
    opener = FakeOpener((429, '{"code": 429, "message": "slow down"}', {"Retry-After": "3"}), (503, "", {}), {"endpoint": {"id": "e1"}})
    assert client(opener, sleeps).get("/endpoint", {"id": "e1"}) == {"endpoint": {"id": "e1"}}
    assert len(opener.calls) == 3
    assert sleeps[0] == 3.0
    assert 0 < sleeps[1] <= api.BACKOFF_CAP_SECONDS
    assert opener.calls[0]["url"].endswith("/endpoint?id=e1")


def test_no_request_is_recorded_unless_tracing_is_on():
    plain = client(FakeOpener({"endpoints": []}))
    plain.get("/endpoints")
    assert plain.requests is None and plain.add_trace({"changed": False}) == {"changed": False}


def test_the_trace_holds_method_path_status_attempt_and_duration_of_every_request_and_nothing_else():
    fake = FakeTime()

    def opener(url, **kwargs):
        fake.now += 0.25  # each answer takes 250 ms
        return answers(url, **kwargs)

    answers = FakeOpener((429, '{"code": 429, "message": "slow down"}', {"Retry-After": "1"}), {"id": "e1"},
                         socket.timeout("timed out"), {"endpoints": [], "total": 0})
    traced = api.NovitaClient(KEY, "https://api.example.invalid", timeout=7, sleep=fake.sleep, clock=fake.clock, opener=opener)
    traced.add_secrets("s3cret-env-value")
    traced.trace()
    traced.post("/endpoint/update", {"id": "e1", "envs": [{"key": "TOKEN", "value": "s3cret-env-value"}]}, retry=True)
    traced.get("/endpoints", {"pageSize": 100, "pageNum": 1})
    result = traced.add_trace({"changed": True})
    assert result["api_requests"] == [
        {"method": "POST", "path": "/endpoint/update", "status": 429, "attempt": 1, "duration_ms": 250},
        {"method": "POST", "path": "/endpoint/update", "status": 200, "attempt": 2, "duration_ms": 250},
        {"method": "GET", "path": "/endpoints?pageSize=100&pageNum=1", "status": None, "attempt": 1, "duration_ms": 250,
         "error": "no reply within the 7 s timeout"},
        {"method": "GET", "path": "/endpoints?pageSize=100&pageNum=1", "status": 200, "attempt": 2, "duration_ms": 250},
    ]
    assert KEY not in repr(result) and "s3cret-env-value" not in repr(result) and "TOKEN" not in repr(result)


def test_tracing_is_on_with_the_option_or_from_verbosity_three():
    class Module:
        def __init__(self, trace, verbosity):
            self.params = {"api_key": KEY, "api_base_url": "https://api.example.invalid", "timeout": 5, "validate_certs": True,
                           "retries": 1, "retry_timeout": 10, "trace_requests": trace}
            self._verbosity = verbosity

    assert api.NovitaClient.from_module(Module(False, 2)).requests is None
    assert api.NovitaClient.from_module(Module(True, 0)).requests == []
    assert api.NovitaClient.from_module(Module(False, 3)).requests == []


def test_get_gives_up_after_the_retries_with_a_clear_message():
    opener = FakeOpener(*[(502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", {})] * (api.DEFAULT_RETRIES + 1))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoint/limit")
    assert len(opener.calls) == api.DEFAULT_RETRIES + 1
    assert exc.value.msg == ("Novita API returned HTTP 502 on GET /endpoint/limit: HTML page: 502 Bad Gateway (gave up after %d attempts)"
                             % (api.DEFAULT_RETRIES + 1))
    assert exc.value.to_dict()["attempts"] == api.DEFAULT_RETRIES + 1
    assert exc.value.to_dict()["body_excerpt"] == "HTML page: 502 Bad Gateway"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_get_retries_every_transient_status(status):
    opener = FakeOpener((status, "", {}), {"ok": True})
    assert client(opener).get("/endpoints") == {"ok": True}
    assert len(opener.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_get_does_not_retry_other_statuses(status):
    opener = FakeOpener((status, '{"message": "no"}', {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoints")
    assert len(opener.calls) == 1 and exc.value.status == status and not exc.value.transient


def test_post_is_sent_once_unless_asked_to_retry():
    opener = FakeOpener((503, '{"code": 503, "message": "busy"}', {"Retry-After": "1"}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/create", {"endpoint": {}})
    assert len(opener.calls) == 1
    assert exc.value.status == 503 and exc.value.method == "POST" and exc.value.path == "/endpoint/create"
    assert exc.value.transient and exc.value.ambiguous and exc.value.retry_after == 1.0


def test_post_with_retry_repeats_the_same_body():
    sleeps = []
    opener = FakeOpener(URLError("connection reset by peer"), (500, "", {}), {})
    assert client(opener, sleeps).post("/endpoint/update", {"id": "e1", "name": "x"}, retry=True) == {}
    assert [c["data"] for c in opener.calls] == [{"id": "e1", "name": "x"}] * 3
    assert len(sleeps) == 2


def test_connection_errors_on_post_are_reported_once():
    opener = FakeOpener(URLError("connection refused"))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/update", {})
    assert len(opener.calls) == 1
    assert exc.value.msg == ("Novita API request POST %s/endpoint/update failed: connection refused: is the server running at"
                             " https://api.example.invalid:443?" % BASE)
    # Nothing reached the server: safe to send again (transient), and nothing can have been done (not ambiguous).
    assert exc.value.transient and not exc.value.ambiguous and exc.value.status is None


@pytest.mark.parametrize("failure, reason", [
    (socket.timeout("timed out"), "no reply within the 7 s timeout"),
    (URLError(socket.timeout("timed out")), "no reply within the 7 s timeout"),
    (http_client.RemoteDisconnected("Remote end closed connection without response"), "the connection was closed without a reply"),
    (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
])
def test_network_failures_are_transient_and_ambiguous(failure, reason):
    opener = FakeOpener(failure)
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/create", {})
    assert exc.value.transient and exc.value.ambiguous
    assert reason in exc.value.msg and exc.value.to_dict()["reason"].endswith(reason)


class TruncatedResponse:
    def read(self):
        raise http_client.IncompleteRead(b'{"endpoints": [', 200)


def test_truncated_reply_is_retried_on_reads():
    answers = [TruncatedResponse(), FakeResponse(b'{"endpoints": []}')]
    calls = []

    def opener(url, **kwargs):
        calls.append(url)
        return answers.pop(0)

    assert client(opener).get("/endpoints") == {"endpoints": []}
    assert len(calls) == 2


def test_truncated_reply_message():
    with pytest.raises(api.NovitaAPIError) as exc:
        client(lambda url, **kw: TruncatedResponse()).post("/endpoint/create", {})
    assert exc.value.msg == "Novita API request POST %s/endpoint/create failed: the reply was cut off after 15 bytes" % BASE


def test_retry_timeout_bounds_the_total_time_spent_retrying():
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    opener = FakeOpener(*[(503, "", {"Retry-After": "4"})] * 10)
    novita = api.NovitaClient(KEY, "https://api.example.invalid", retries=10, retry_timeout=10, sleep=sleep, opener=opener, clock=lambda: now[0])
    with pytest.raises(api.NovitaAPIError, match=r"gave up after 3 attempts"):
        novita.get("/endpoints")
    assert sleeps == [4.0, 4.0]


def test_retries_zero_sends_once():
    opener = FakeOpener((503, "", {}))
    novita = api.NovitaClient(KEY, "https://api.example.invalid", retries=0, sleep=lambda s: None, opener=opener)
    with pytest.raises(api.NovitaAPIError, match="HTTP 503 on GET /endpoints with an empty body$"):
        novita.get("/endpoints")
    assert len(opener.calls) == 1


def test_backoff_grows_with_jitter_and_is_capped():
    novita = api.NovitaClient(KEY, retries=20, retry_timeout=10 ** 6, clock=lambda: 0.0)
    for attempt in range(12):
        cap = min(api.BACKOFF_CAP_SECONDS, api.BACKOFF_BASE_SECONDS * 2 ** attempt)
        assert cap / 2 <= novita.retry_delay(attempt) <= cap
    assert novita.retry_delay(0, retry_after=500) == api.RETRY_AFTER_CAP_SECONDS
    assert novita.retry_delay(20) is None


def test_request_id_from_header_or_body():
    opener = FakeOpener((500, '{"message": "boom", "requestId": "r-body"}', {}), (400, "{}", {"X-Request-Id": "r-head"}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/update", {})
    assert exc.value.request_id == "r-body"
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/update", {})
    assert exc.value.to_dict()["request_id"] == "r-head"


@pytest.mark.parametrize("body, expected", [
    ('{"code": 400, "message": "workerConfig.maxNum out of range"}', (400, "workerConfig.maxNum out of range")),
    ('{"error": {"code": "INVALID", "message": "bad"}}', ("INVALID", "bad")),
    ('{"reason": "NOPE", "message": "denied"}', (None, "denied")),
])
def test_error_body_shapes(body, expected):
    opener = FakeOpener((400, body, {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/update", {})
    assert (exc.value.api_code, exc.value.api_message) == expected
    assert exc.value.msg.endswith(": " + expected[1])


def test_401_hints_at_the_key_and_never_shows_it():
    opener = FakeOpener((401, '{"code": 401, "message": "key %s is invalid"}' % KEY, {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoint", {"id": "x"})
    assert exc.value.msg == "Novita API rejected the API key (401) on GET /endpoint; check api_key or NOVITA_API_KEY: key ******** is invalid"
    assert KEY not in repr(exc.value.to_dict())
    assert len(opener.calls) == 1


def test_non_json_success_body_is_retried_then_an_error_with_excerpt():
    opener = FakeOpener(*["<html><body><h1>Down for maintenance</h1></body></html>"] * 2)
    novita = api.NovitaClient(KEY, retries=1, sleep=lambda s: None, opener=opener)
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.get("/endpoint/limit")
    assert exc.value.msg == ("Novita API request GET https://api.novita.ai/gpu-instance/openapi/v1/endpoint/limit failed:"
                             " the reply is not JSON: HTML page: Down for maintenance (gave up after 2 attempts)")


def test_empty_error_body_is_named():
    with pytest.raises(api.NovitaAPIError, match="HTTP 400 on POST /endpoint/update with an empty body$"):
        client(FakeOpener((400, "", {}))).post("/endpoint/update", {})


def test_empty_body_is_an_empty_result():
    assert client(FakeOpener("")).post("/endpoint/delete", {"name": "x"}) == {}


@pytest.mark.parametrize("value, expected", [("5", 5.0), (" 0 ", 0.0), ("", None), (None, None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0)])
def test_parse_retry_after(value, expected):
    assert api.parse_retry_after(value, now=1445412480.0) == expected


def page(items, total):
    return {"endpoints": [{"id": i} for i in items], "total": total}


def pages_requested(opener):
    return [int(re.search(r"pageNum=(\d+)", c["url"]).group(1)) for c in opener.calls]


def test_list_all_pages_from_one():
    opener = FakeOpener(page(["a", "b"], 5), page(["c", "d"], 5), page(["e"], 5))
    assert [e["id"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)] == ["a", "b", "c", "d", "e"]
    assert pages_requested(opener) == [1, 2, 3]
    assert "pageSize=2" in opener.calls[0]["url"]


def test_list_all_completes_an_api_counting_from_zero():
    # pages 1 and 2 of a zero-based API are the second and third; page 3 is empty, page 0 the first
    opener = FakeOpener(page(["c", "d"], 5), page(["e"], 5), page([], 5), page(["a", "b"], 5))
    assert sorted(e["id"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)) == ["a", "b", "c", "d", "e"]
    assert pages_requested(opener) == [1, 2, 3, 0]


def test_list_all_single_request_when_everything_fits():
    opener = FakeOpener(page(["a"], 1))
    assert len(client(opener).list_all("/endpoints", "endpoints")) == 1
    assert len(opener.calls) == 1


def test_list_all_empty_account():
    opener = FakeOpener(page([], 0))
    assert client(opener).list_all("/endpoints", "endpoints") == []
    assert len(opener.calls) == 1


# -- errors by meaning

def error_for(status, body, headers=None, **kwargs):
    opener = FakeOpener((status, body, headers or {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener, **kwargs).get("/endpoint", {"id": "e1"})
    return exc.value, opener


@pytest.mark.parametrize("body, code, reason, message", [
    ('{"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"}', 403, "INVALID_API_KEY", "invalid api-key"),
    ('{"code": 400, "message": "workerConfig.maxNum out of range"}', 400, None, "workerConfig.maxNum out of range"),
    ('{"code": 400, "msg": "bad port"}', 400, None, "bad port"),
    ('{"error": {"code": "INVALID", "message": "bad"}}', "INVALID", None, "bad"),
    ('{"error": {"code": 400, "msg": "bad too"}}', 400, None, "bad too"),
    ('{"error": {"code": 400, "reason": "RESOURCE_NOT_FOUND", "message": "gone"}}', 400, "RESOURCE_NOT_FOUND", "gone"),
    ('{"error": "plain error text"}', None, None, "plain error text"),
])
def test_each_error_body_shape_is_read(body, code, reason, message):
    exc = api.parse_error_body(body)
    assert exc == (code, reason, message)


@pytest.mark.parametrize("body, excerpt", [
    ("upstream connect error", "upstream connect error"),
    ('{"detail": "something odd"}', '{"detail": "something odd"}'),
    ('[1, 2]', "[1, 2]"),
])
def test_error_body_without_code_or_message_falls_back_to_the_raw_excerpt(body, excerpt):
    exc, dummy = error_for(400, body)
    assert exc.api_message is None and exc.api_reason is None and exc.body_excerpt == excerpt
    assert exc.msg == "Novita API returned HTTP 400 on GET /endpoint: " + excerpt


def test_the_reason_is_shown_in_the_message():
    opener = FakeOpener((400, '{"code": 400, "reason": "SERVERLESS_APP_NAME_IS_EXIST", "message": "app name x already exists"}', {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/create", {"endpoint": {}})
    assert exc.value.msg == "Novita API returned HTTP 400 SERVERLESS_APP_NAME_IS_EXIST on POST /endpoint/create: app name x already exists"
    failure = exc.value.to_dict()
    assert failure["api_reason"] == "SERVERLESS_APP_NAME_IS_EXIST" and failure["api_code"] == 400
    assert failure["api_message"] == "app name x already exists" and failure["reason"] is None
    assert failure["url"] == BASE + "/endpoint/create"
    assert sorted(failure) == sorted(["status", "method", "path", "url", "api_code", "api_reason", "api_message", "request_id",
                                      "body_excerpt", "reason", "attempts"])


def test_a_reason_without_message_is_not_followed_by_the_raw_body():
    exc, dummy = error_for(400, '{"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND"}')
    assert exc.msg == "Novita API returned HTTP 400 SERVERLESS_ENDPOINT_NOT_FOUND on GET /endpoint"
    assert exc.not_found


def test_a_word_code_names_the_error_when_there_is_no_reason():
    exc, dummy = error_for(400, '{"error": {"code": "INVALID_PARAMETER", "message": "bad"}}')
    assert exc.msg == "Novita API returned HTTP 400 INVALID_PARAMETER on GET /endpoint: bad"


@pytest.mark.parametrize("body, expected", [
    ('{"code": 400, "reason": "VALIDATOR_PARAM", "message": "workerConfig.maxNum: 99 is out of range [0, 50]"}',
     "Novita API returned HTTP 400 VALIDATOR_PARAM on GET /endpoint: workerConfig.maxNum: 99 is out of range [0, 50]"
     " (VALIDATOR_PARAM: the API refused a value of the request; its message above names the field)"),
    ('{"code": 400, "reason": "NETWORK_STORAGE_TOO_LARGE", "message": "too large"}',
     "Novita API returned HTTP 400 NETWORK_STORAGE_TOO_LARGE on GET /endpoint: too large"
     " (NETWORK_STORAGE_TOO_LARGE: the size is above the largest network storage the API allows; choose a smaller size)"),
    ('{"code": 400, "reason": "CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT"}',
     "Novita API returned HTTP 400 CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT on GET /endpoint (CUR_CLUSTER_NETWORK_STORAGE_NOT_SUPPORT: the"
     " cluster does not support network storage; choose one that does (novita.cloud.novita_cluster_info returns supports_network_storage))"),
    ('{"code": 400, "reason": "SOMETHING_ELSE", "message": "odd"}', "Novita API returned HTTP 400 SOMETHING_ELSE on GET /endpoint: odd"),
])
def test_the_error_tables_reasons_say_what_they_mean(body, expected):
    exc, dummy = error_for(400, body)
    assert exc.msg == expected


@pytest.mark.parametrize("status, body, expected", [
    (400, '{"code": 400, "reason": "IMAGE_AUTH_IN_USE", "message": "in use by endpoint e1"}', True),
    (400, '{"code": 400, "reason": "NETWORK_STORAGE_IN_USE", "message": "x"}', True),
    (400, '{"code": 400, "message": "registry auth a1 is in use by endpoint e1"}', True),
    (400, '{"code": 400, "reason": "VALIDATOR_PARAM", "message": "name in use"}', False),  # the name decides when there is one
    (409, '{"code": 409, "reason": "IMAGE_AUTH_IN_USE"}', True),
    (500, '{"code": 500, "reason": "IMAGE_AUTH_IN_USE"}', False),
    (400, '{"code": 400, "message": "bad port"}', False),
])
def test_in_use_refusals_are_recognised(status, body, expected):
    exc, dummy = error_for(status, body, retry_timeout=0) if status >= 500 else error_for(status, body)
    assert api.is_in_use_refusal(exc) is expected


@pytest.mark.parametrize("status, body, expected", [
    (404, '{"message": "endpoint x not found"}', True),
    (404, "", True),
    (400, '{"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND", "message": "endpoint not found"}', True),
    (400, '{"code": 400, "reason": "NETWORK_STORAGE_NOT_FOUND", "message": "storage ns-1"}', True),
    (400, '{"error": {"code": "RESOURCE_NOT_FOUND", "message": "no such resource"}}', True),
    (400, '{"code": 400, "message": "SERVERLESS_ENDPOINT_NOT_FOUND: e1"}', True),
    (400, '{"code": "400", "message": "SERVERLESS_ENDPOINT_NOT_FOUND"}', True),
    (400, '{"code": 400, "reason": "INVALID_PARAMETER", "message": "maxNum out of range"}', False),
    (400, '{"code": 400, "message": "workerConfig.maxNum out of range"}', False),
    (400, '{"code": 400, "message": "endpoint x not found"}', False),
    (400, '{"code": 400, "message": "image not_found in registry"}', False),
    (400, '{"code": 400, "reason": "INVALID_PARAMETER", "message": "SERVERLESS_ENDPOINT_NOT_FOUND"}', False),
    (400, "endpoint not found", False),
    (409, '{"code": 409, "reason": "SERVERLESS_APP_NAME_IS_EXIST", "message": "exists"}', False),
    (403, '{"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"}', False),
])
def test_not_found_by_meaning(status, body, expected):
    exc, dummy = error_for(status, body)
    assert api.is_not_found(exc) is expected
    assert exc.not_found is expected


def test_not_found_needs_a_client_error():
    assert not api.is_not_found(api.NovitaAPIError("x", status=500, api_reason="SERVERLESS_ENDPOINT_NOT_FOUND"))
    assert not api.is_not_found(api.NovitaAPIError("no reply", reason="connection refused"))
    assert not api.is_not_found(ValueError("404"))
    assert api.is_not_found(api.NovitaAPIError("x", status=400, api_code=400, api_reason="SERVERLESS_ENDPOINT_NOT_FOUND"))


@pytest.mark.parametrize("status, body, expected", [
    (401, '{"code": 401, "reason": "UNAUTHORIZED", "message": "no"}', True),
    (401, "", True),
    (403, '{"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"}', True),
    (403, '{"code": 403, "reason": "FORBIDDEN", "message": "forbidden"}', True),
    (403, "<html><title>403 Forbidden</title></html>", True),
    (400, '{"code": 400, "reason": "MISSING_API_KEY", "message": "missing api-key"}', True),
    (400, '{"code": 400, "reason": "INVALID_PARAMETER", "message": "bad"}', False),
    (404, '{"message": "no"}', False),
])
def test_auth_failure_by_meaning(status, body, expected):
    exc, opener = error_for(status, body)
    assert api.is_auth_failure(exc) is expected and exc.auth_failure is expected
    assert len(opener.calls) == 1 and not exc.transient


def test_invalid_api_key_is_not_retried_and_names_the_reason():
    sleeps = []
    opener = FakeOpener((403, '{"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"}', {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener, sleeps).get("/endpoints")
    assert exc.value.msg == ("Novita API rejected the API key (403 INVALID_API_KEY) on GET /endpoints; check api_key or NOVITA_API_KEY:"
                             " invalid api-key")
    assert len(opener.calls) == 1 and sleeps == [] and exc.value.attempts == 1


def test_missing_api_key_says_so():
    exc, opener = error_for(400, '{"code": 400, "reason": "MISSING_API_KEY", "message": "missing api-key"}')
    assert exc.msg == ("Novita API says the API key is missing (400 MISSING_API_KEY) on GET /endpoint; check api_key or NOVITA_API_KEY:"
                       " missing api-key")
    assert exc.auth_failure and not exc.transient and len(opener.calls) == 1


# -- scrubbing

SECRET = 'pa"ss/wörd ß&x=1'


@pytest.mark.parametrize("form", [
    SECRET,
    json.dumps(SECRET)[1:-1],
    json.dumps(SECRET, ensure_ascii=False)[1:-1],
    quote(SECRET, safe=""),
    quote_plus(SECRET),
    quote(SECRET, safe="").lower(),
    repr(SECRET)[1:-1],
])
def test_scrubber_masks_every_written_form(form):
    scrubber = api.Scrubber(SECRET)
    assert scrubber.scrub("before %s after" % form) == "before ******** after"


def test_scrubber_masks_overlapping_secrets_without_leaving_fragments():
    scrubber = api.Scrubber("abcdef", "xxabc", "defgh")
    assert scrubber.scrub("1 xxabcdefgh 2 abcdef 3 xxabc") == "1 ******** 2 ******** 3 ********"


def test_scrubber_ignores_short_and_non_text_values():
    scrubber = api.Scrubber("abc", "", None, True, {"a": "b"}, 12345, b"bytes-secret")
    assert scrubber.scrub("abc 12345 bytes-secret True") == "abc ******** ******** True"
    assert scrubber.scrub(None) is None and scrubber.scrub(7) == 7


def test_scrubber_is_safe_across_threads():
    scrubber = api.Scrubber()
    values = ["secret-%03d" % i for i in range(200)]

    def add(chunk):
        for value in chunk:
            scrubber.add(value)
            assert scrubber.scrub(value) == api.MASK

    threads = [threading.Thread(target=add, args=(values[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scrubber.scrub(" ".join(values)) == " ".join([api.MASK] * 200)


def test_secrets_are_scrubbed_from_message_api_message_and_excerpts():
    body_message = json.dumps({"code": 400, "message": "env value %s is bad (%s)" % (SECRET, quote(SECRET, safe=""))})
    body_raw = json.dumps({"detail": "password %s" % SECRET}, ensure_ascii=True)
    non_json = "x" * (api.EXCERPT_LENGTH - 5) + SECRET
    opener = FakeOpener((400, body_message, {}), (400, body_raw, {}), non_json)
    novita = client(opener)
    novita.add_secrets(SECRET)
    with pytest.raises(api.NovitaAPIError) as first:
        novita.post("/endpoint/update", {})
    with pytest.raises(api.NovitaAPIError) as second:
        novita.post("/endpoint/update", {})
    with pytest.raises(api.NovitaAPIError) as third:
        novita.post("/endpoint/update", {})
    assert first.value.api_message == "env value ******** is bad (********)"
    assert first.value.msg.endswith(": env value ******** is bad (********)")
    assert second.value.body_excerpt == '{"detail": "password ********"}'
    assert third.value.body_excerpt == "x" * (api.EXCERPT_LENGTH - 5) + "*****..."
    for exc in (first.value, second.value, third.value):
        text = repr(exc.to_dict()) + exc.msg + str(exc)
        assert "wörd" not in text and "w\\u00f6rd" not in text and "w%C3%B6rd" not in text and "ss/w" not in text


def test_transport_errors_and_the_key_are_scrubbed():
    opener = FakeOpener(URLError("proxy said: bad token Bearer %s" % KEY), OSError("echo %s" % quote(KEY)))
    novita = client(opener)
    for dummy in range(2):
        with pytest.raises(api.NovitaAPIError) as exc:
            novita.post("/endpoint/update", {})
        assert KEY not in exc.value.msg and KEY not in repr(exc.value.to_dict()) and api.MASK in exc.value.reason


def test_scrub_error_masks_secrets_added_later():
    opener = FakeOpener((400, '{"code": 400, "reason": "INVALID_PARAMETER", "message": "value late-secret-1 is wrong"}', {}))
    novita = client(opener)
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.post("/endpoint/update", {})
    assert "late-secret-1" in exc.value.msg
    novita.add_secrets("late-secret-1")
    assert novita.scrub_error(exc.value) is exc.value
    assert "late-secret-1" not in exc.value.msg + exc.value.api_message + str(exc.value)
    assert exc.value.api_reason == "INVALID_PARAMETER"


def test_client_scrub_helper_masks_key_and_added_secrets():
    novita = client(FakeOpener())
    novita.add_secrets("registry-password")
    assert novita.scrub("%r" % {"key": KEY, "password": "registry-password"}) == "{'key': '********', 'password': '********'}"


# -- retry budget per request

def test_retry_budget_is_per_request():
    sleeps = []
    opener = FakeOpener((503, "", {}), {"ok": 1}, (503, "", {}), {"ok": 2})
    novita = client(opener, sleeps, retry_timeout=10)
    assert novita.get("/endpoints") == {"ok": 1}
    novita.pause(200)
    assert novita.get("/endpoints") == {"ok": 2}
    assert len(opener.calls) == 4


def test_retry_delay_counts_from_the_given_start():
    fake = FakeTime()
    novita = api.NovitaClient(KEY, retries=5, retry_timeout=10, clock=fake.clock, sleep=fake.sleep)
    started = novita.now()
    assert novita.retry_delay(0, retry_after=4, started=started) == 4
    fake.sleep(5)
    assert novita.retry_delay(1, retry_after=4, started=started) == 4
    fake.sleep(2)
    assert novita.retry_delay(1, retry_after=4, started=started) is None
    assert novita.retry_delay(1, retry_after=4) == 4
    assert novita.retry_delay(1, retry_after=4, started=novita.now()) == 4
    assert novita.retry_delay(5, retry_after=0, started=novita.now()) is None


# -- pace

def test_pace_holds_every_sender_then_spaces_them():
    now = [10.0]
    sleeps = []
    pace = api.Pace(clock=lambda: now[0], sleep=sleeps.append)
    assert pace.wait() == 0.0
    pace.limited(1.0, sent_at=10.0)
    assert pace.hold_until == 11.0 and pace.interval == api.PACE_FIRST_INTERVAL
    now[0] = 10.2
    # four senders arrive during the hold: none goes before it ends, then one every interval
    waits = [pace.wait() for dummy in range(4)]
    assert waits == pytest.approx([0.8, 0.9, 1.0, 1.1])
    assert sleeps == pytest.approx([0.8, 0.9, 1.0, 1.1])


def test_pace_doubles_once_per_wave_up_to_the_cap_and_recovers():
    now = [0.0]
    pace = api.Pace(clock=lambda: now[0], sleep=lambda s: None)
    pace.limited(1.0, sent_at=0.0)
    assert pace.interval == 0.1
    # more 429s for requests sent before that back-off: the same wave, no further slow-down
    pace.limited(1.0, sent_at=-0.5)
    pace.limited(1.0, sent_at=-0.1)
    assert pace.interval == 0.1
    for step in range(1, 10):
        now[0] = step * 2.0
        pace.limited(1.0, sent_at=now[0] - 0.5)
    assert pace.interval == api.PACE_MAX_INTERVAL
    pace.ok()
    assert pace.interval == pytest.approx(api.PACE_MAX_INTERVAL * 0.9)
    for dummy in range(100):
        pace.ok()
    assert pace.interval == 0.0
    now[0] = 100.0
    assert pace.wait() == 0.0 and pace.wait() == 0.0


def test_pace_sender_queues_again_when_a_429_arrives_while_it_sleeps():
    now = [0.0]
    sleeps = []
    pace = api.Pace(clock=lambda: now[0], sleep=lambda s: (sleeps.append(s), late_429() if len(sleeps) == 1 else None))

    def late_429():
        now[0] = 0.5
        pace.limited(2.0, sent_at=0.4)

    pace.limited(1.0, sent_at=0.0)
    pace.wait()
    # slept 1.0 towards its slot at 1.0; meanwhile the hold moved to 2.5: it waits again instead of sending
    assert sleeps[0] == 1.0 and len(sleeps) == 2 and sleeps[1] >= 2.0


def test_a_429_holds_the_other_threads_of_the_client():
    lock = threading.Lock()
    fake = FakeTime()

    def sleep(seconds):
        with lock:
            fake.now += seconds

    sends = []

    def opener(url, **kwargs):
        with lock:
            sends.append(fake.now)
            first = len(sends) == 1
        if first:
            raise HTTPError(url, 429, "error", {"Retry-After": "1"}, io.BytesIO(b'{"code": 429, "message": "slow down"}'))
        return FakeResponse(b'{"ok": true}')

    novita = api.NovitaClient(KEY, "https://api.example.invalid", retries=0, clock=lambda: fake.now, sleep=sleep, opener=opener)
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.post("/endpoint/create", {"endpoint": {}})
    assert exc.value.status == 429
    hold = novita.pace.hold_until
    assert hold == fake.now + 1.0
    results = []
    threads = [threading.Thread(target=lambda: results.append(novita.get("/endpoints"))) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # retries=0, yet every request waited for the pace and was then sent once and succeeded
    assert results == [{"ok": True}] * 8 and len(sends) == 9
    assert all(sent >= hold for sent in sends[1:])


def test_a_retried_429_waits_on_the_pace_not_twice():
    sleeps = []
    opener = FakeOpener((429, "", {"Retry-After": "2"}), {"ok": True})
    novita = client(opener, sleeps)
    assert novita.get("/endpoints") == {"ok": True}
    assert sleeps == [2.0]


# -- paging that always ends, and lists that cannot be trusted

def list_error(opener, **kwargs):
    with pytest.raises(api.NovitaListError) as exc:
        client(opener, retries=kwargs.pop("retries", 0)).list_all("/endpoints", "endpoints", **kwargs)
    assert not exc.value.transient and not exc.value.ambiguous
    assert exc.value.msg.startswith("Novita API list GET %s/endpoints" % BASE)
    return exc.value.msg


def test_list_all_without_total_reads_to_an_empty_page_then_page_zero():
    # a zero-based API without total: pages 1 and 2 are its second and third, page 3 is empty, page 0 its first
    opener = FakeOpener({"endpoints": [{"id": "c"}, {"id": "d"}]}, {"endpoints": [{"id": "e"}]}, {"endpoints": []},
                        {"endpoints": [{"id": "a"}, {"id": "b"}]})
    assert [e["id"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)] == ["c", "d", "e", "a", "b"]
    assert pages_requested(opener) == [1, 2, 3, 0]


def test_list_all_without_total_accepts_an_api_that_ignores_pagenum_with_a_short_page():
    opener = FakeOpener(*[{"endpoints": [{"id": "a"}]}] * 5)
    assert [e["id"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)] == ["a"]
    assert pages_requested(opener) == [1, 2, 0]


def test_list_all_without_total_refuses_full_pages_that_repeat():
    opener = FakeOpener(*[{"endpoints": [{"id": "a"}, {"id": "b"}]}] * 5)
    message = list_error(opener, page_size=2)
    assert "page 2 repeated endpoints of earlier pages, every page was full and no total was given" in message
    assert pages_requested(opener) == [1, 2, 0]


def test_list_all_items_without_id_are_told_apart_by_content():
    idless = [{"name": "x", "n": 1}, {"n": 2, "name": "y"}]
    opener = FakeOpener(*[{"endpoints": idless}] * 5)
    assert client(opener).list_all("/endpoints", "endpoints", page_size=3) == idless
    opener = FakeOpener({"endpoints": idless, "total": 3}, {"endpoints": [{"name": "z"}], "total": 3})
    assert [e["name"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)] == ["x", "y", "z"]


def test_list_all_refuses_a_list_that_repeats_its_pages():
    opener = FakeOpener(*[page(["e%d" % i for i in range(100)], 250)] * 10)
    message = list_error(opener)
    assert "100 of 250 endpoints read: page 2 repeated endpoints of earlier pages" in message
    assert pages_requested(opener) == [1, 2, 0]


def test_list_all_completes_a_zero_based_api_that_repeats_its_last_page():
    # pageNum 1 is the second and last page of a zero-based API that answers any later page with the last one
    opener = FakeOpener(page(["c", "d"], 4), page(["c", "d"], 4), page(["a", "b"], 4))
    assert sorted(e["id"] for e in client(opener).list_all("/endpoints", "endpoints", page_size=2)) == ["a", "b", "c", "d"]
    assert pages_requested(opener) == [1, 2, 0]


def test_list_all_refuses_a_list_short_of_its_total():
    # an API counting from 1 that refuses page 0: the three items promised are not there
    opener = FakeOpener(page(["a", "b"], 9), page(["c"], 9), page([], 9), (400, '{"message": "pageNum must be >= 1"}', {}))
    message = list_error(opener, page_size=2)
    assert "3 of 9 endpoints read: the pages ended at page 3, short of the total" in message
    assert pages_requested(opener) == [1, 2, 3, 0]


def test_list_all_refuses_an_empty_page_that_promises_items():
    # a gateway's {"endpoints": [], "total": 3}, on every page
    opener = FakeOpener(*[page([], 3)] * 3)
    assert "0 of 3 endpoints read" in list_error(opener)
    assert pages_requested(opener) == [1, 0]


def test_list_all_stops_after_the_pages_the_total_implies():
    # every page brings a new item, but fewer than the pages' size and the total promise: ceil(7 / 2) + 1 pages at most
    # (page 0 is answered like page 1, as an API counting from 1 may do)
    answers = [page(["a", "b"], 7)] + [page(["p%d" % n], 7) for n in range(1, 5)] + [page(["a", "b"], 7)]
    opener = FakeOpener(*answers)
    assert "6 of 7 endpoints read" in list_error(opener, page_size=2)
    assert pages_requested(opener) == [1, 2, 3, 4, 5, 0]


def test_list_all_follows_a_server_that_caps_the_page_size():
    opener = FakeOpener(*[page(["e%d" % (n * 2 + i) for i in range(2)], 9) for n in range(4)] + [page(["e8"], 9)])
    assert len(client(opener).list_all("/endpoints", "endpoints", page_size=100)) == 9
    assert pages_requested(opener) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("reply, why", [
    ({"code": 500, "message": "internal error"}, 'the reply has no endpoints list: {"code": 500, "message": "internal error"}'),
    ({"endpoints": "none"}, "endpoints is not a list of objects"),
    ({"endpoints": ["a", "b"], "total": 2}, "endpoints is not a list of objects"),
    ({"endpoints": [], "total": "three"}, 'total is not a whole number: "three"'),
    ({"endpoints": [], "total": -1}, "total is not a whole number: -1"),
    ({"endpoints": [], "total": True}, "total is not a whole number: true"),
    # items are shown by their size only: they carry other endpoints' settings
    ([{"id": "a", "envs": [{"key": "K", "value": "v"}]}], 'the reply is not a JSON object but ["{2 keys}"]'),
    ({"endpoints": [{"id": "a"}, "b"], "total": 2, "message": "odd"},
     'endpoints is not a list of objects: {"endpoints": "[2 items]", "message": "odd", "total": 2}'),
])
def test_list_all_refuses_a_malformed_reply_at_status_200(reply, why):
    opener = FakeOpener(reply)
    message = list_error(opener)
    assert "(pageNum 1) cannot be trusted: %s" % why in message
    assert len(opener.calls) == 1


def test_list_all_reads_a_malformed_page_again_within_the_retry_policy():
    sleeps = []
    opener = FakeOpener({"code": 500, "message": "internal error"}, page(["a"], "1"))
    assert [e["id"] for e in client(opener, sleeps, retries=2).list_all("/endpoints", "endpoints")] == ["a"]
    assert pages_requested(opener) == [1, 1] and len(sleeps) == 1
    opener = FakeOpener(*[{"code": 500, "message": "internal error"}] * 3)
    assert "(read 3 times)" in list_error(opener, retries=2)


def test_list_all_accepts_null_items_and_numeric_string_totals():
    assert client(FakeOpener({"endpoints": None, "total": 0})).list_all("/endpoints", "endpoints") == []
    opener = FakeOpener(page(["a", "b"], "3"), page(["c"], "3"))
    assert len(client(opener).list_all("/endpoints", "endpoints", page_size=2)) == 3


def test_list_all_refuses_a_total_that_changes_between_pages():
    opener = FakeOpener(page(["a", "b"], 4), page(["c", "d"], 5))
    assert "the total changed from 4 to 5 while the pages were read" in list_error(opener, page_size=2)


def test_list_all_refuses_more_items_than_the_total():
    opener = FakeOpener({"endpoints": [{"id": "a"}, {"id": "b"}, {"id": "c"}], "total": 2})
    assert "3 distinct endpoints were read, more than the total of 2" in list_error(opener)


def test_list_all_sends_filters_and_the_page_parameter_it_is_given():
    opener = FakeOpener({"data": [{"storageId": "s1", "storageName": "x"}], "total": 1})
    items = client(opener).list_all("/networkstorages/list", "data", query={"storageName": "x"}, page_param="pageNo",
                                    key=lambda s: s.get("storageId"))
    assert items == [{"storageId": "s1", "storageName": "x"}]
    assert "storageName=x" in opener.calls[0]["url"] and "pageNo=1" in opener.calls[0]["url"] and "pageNum" not in opener.calls[0]["url"]


def test_read_list_checks_an_unpaged_list():
    opener = FakeOpener({"data": [{"id": 1, "name": "a"}]})
    assert client(opener).read_list("/repository/auths", "data") == [{"id": 1, "name": "a"}]
    assert opener.calls[0]["url"] == BASE + "/repository/auths"
    with pytest.raises(api.NovitaListError) as exc:
        client(FakeOpener({"code": 500, "message": "internal error"}), retries=0).read_list("/repository/auths", "data")
    assert "list GET %s/repository/auths cannot be trusted: the reply has no data list" % BASE in exc.value.msg


def test_list_all_refuses_an_endless_list(monkeypatch):
    monkeypatch.setattr(api, "LIST_MAX_PAGES", 3)
    opener = FakeOpener(*[{"endpoints": [{"id": "p%d" % n}]} for n in range(5)])
    assert "still new endpoints after 3 pages" in list_error(opener, page_size=1)


# -- configuration mistakes

class FakeModule:
    def __init__(self, **params):
        self.params = dict(api_key=KEY, api_base_url=api.DEFAULT_BASE_URL, timeout=30, validate_certs=True, retries=5, retry_timeout=120)
        self.params.update(params)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


@pytest.mark.parametrize("url, message", [
    ("127.0.0.1:8555", "api_base_url: '127.0.0.1:8555' has no scheme; use http://127.0.0.1:8555 or https://127.0.0.1:8555"),
    ("localhost", "api_base_url: 'localhost' has no scheme; use http://localhost or https://localhost"),
    ("http:/127.0.0.1:8555", "api_base_url: 'http:/127.0.0.1:8555' is not a URL; write it as http://127.0.0.1:8555 or https://127.0.0.1:8555"),
    ("ftp://api.novita.ai", "api_base_url: 'ftp://api.novita.ai' uses the scheme ftp; the Novita API is reached over https://"
                            " (or http:// for a local test server)"),
    ("https://", "api_base_url: 'https://' has no host; use for example https://api.novita.ai"),
    ("http://:8555", "api_base_url: 'http://:8555' has no host; use for example https://api.novita.ai"),
    ("http://127.0.0.1:99999", "api_base_url: 'http://127.0.0.1:99999' has an invalid port; use for example http://127.0.0.1:8555"),
    ("https://api.novita.ai/gpu-instance/openapi/v1", "api_base_url: 'https://api.novita.ai/gpu-instance/openapi/v1' already contains"
                                                      " the API path /gpu-instance/openapi/v1; set it to https://api.novita.ai"),
    ("http://127.0.0.1:8555/proxy/gpu-instance/openapi/", "api_base_url: 'http://127.0.0.1:8555/proxy/gpu-instance/openapi/' already contains"
                                                          " the API path /gpu-instance/openapi/v1; set it to http://127.0.0.1:8555/proxy"),
    ("https://api.novita.ai/?x=1", "api_base_url: 'https://api.novita.ai/?x=1' has a query string or fragment; set it to https://api.novita.ai"),
])
def test_config_mistakes_fail_at_once_naming_the_url(url, message):
    opener = FakeOpener()
    sleeps = []
    with pytest.raises(api.NovitaConfigError) as exc:
        api.NovitaClient(KEY, url, opener=opener, sleep=sleeps.append)
    assert exc.value.msg == message and str(exc.value) == message
    with pytest.raises(AssertionError, match="^%s$" % re.escape(message)):
        api.NovitaClient.from_module(FakeModule(api_base_url=url))
    assert opener.calls == [] and sleeps == []


@pytest.mark.parametrize("url, expected", [
    (None, "https://api.novita.ai"),
    ("", "https://api.novita.ai"),
    (" https://api.novita.ai/ ", "https://api.novita.ai"),
    ("HTTP://127.0.0.1:8555/", "http://127.0.0.1:8555"),
    ("http://[::1]:8555/proxy/", "http://[::1]:8555/proxy"),
])
def test_good_base_urls(url, expected):
    assert api.check_base_url(url) == expected


def test_transport_errors_name_the_full_url_without_credentials():
    opener = FakeOpener(URLError("something broke"))
    novita = client(opener, base_url="https://user:base-url-password@api.example.invalid/")
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.post("/endpoint/create", {"endpoint": {}})
    assert exc.value.msg == "Novita API request POST %s/endpoint/create failed: something broke" % BASE
    assert exc.value.url == BASE + "/endpoint/create"
    assert novita.scrub("base-url-password") == api.MASK


def test_query_strings_stay_out_of_transport_messages():
    opener = FakeOpener(URLError("something broke"))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint", {})
    assert "?" not in exc.value.msg


@pytest.mark.parametrize("failure, hint", [
    (URLError("unknown url type: 127.0.0.1"), "unknown url type: 127.0.0.1; check api_base_url"),
    (URLError("no host given"), "no host given; check api_base_url"),
    (ValueError("unknown url type: '127.0.0.1'"), "unknown url type: '127.0.0.1'; check api_base_url"),
    (URLError(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")),
     "the server does not speak TLS at this address: use http:// or check the port"),
    (URLError(ssl.SSLError(1, "[SSL] record layer failure (_ssl.c:1000)")), "the server does not speak TLS at this address"),
    (URLError(ssl.SSLError(1, "[SSL: UNKNOWN_PROTOCOL] unknown protocol")), "the server does not speak TLS at this address"),
    (URLError(ssl.SSLError(1, "[SSL: HTTP_REQUEST] http request")), "the server does not speak TLS at this address"),
    (URLError(getattr(ssl, "SSLCertVerificationError", ssl.SSLError)(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")),
     "install the CA that signed it (for example with the SSL_CERT_FILE environment variable) or, for a test server only, set validate_certs to false"),
])
def test_errors_retrying_cannot_fix_are_not_retried(failure, hint):
    sleeps = []
    opener = FakeOpener(failure, failure)
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener, sleeps).get("/endpoints")
    assert len(opener.calls) == 1 and sleeps == []
    assert not exc.value.transient and not exc.value.ambiguous
    assert exc.value.msg.startswith("Novita API request GET %s/endpoints failed: " % BASE)
    assert hint in exc.value.msg and "gave up" not in exc.value.msg


def test_connection_refused_is_retried_and_names_the_server():
    sleeps = []
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    opener = FakeOpener(*[refused] * 3)
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener, sleeps, base_url="http://127.0.0.1:9", retries=2).get("/endpoints")
    assert len(opener.calls) == 3 and len(sleeps) == 2
    assert exc.value.msg == ("Novita API request GET http://127.0.0.1:9/gpu-instance/openapi/v1/endpoints failed: connection refused:"
                             " is the server running at http://127.0.0.1:9? (gave up after 3 attempts)")
    with pytest.raises(api.NovitaAPIError) as exc:
        client(FakeOpener(refused), base_url="http://127.0.0.1:9").post("/endpoint/create", {})
    assert exc.value.msg == ("Novita API request POST http://127.0.0.1:9/gpu-instance/openapi/v1/endpoint/create failed:"
                             " connection refused: is the server running at http://127.0.0.1:9?")
    assert exc.value.transient and not exc.value.ambiguous


# -- api_key checked at run time

def test_api_key_is_not_required_by_the_argument_spec():
    spec = api.novita_argument_spec()["api_key"]
    assert not spec.get("required") and spec["no_log"] is True and spec["fallback"][1] == ["NOVITA_API_KEY"]


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_missing_api_key_fails_at_run_time(key):
    with pytest.raises(AssertionError) as exc:
        api.NovitaClient.from_module(FakeModule(api_key=key))
    assert str(exc.value) == ("api_key is not set: give the api_key option or set the NOVITA_API_KEY environment variable"
                              " (for example in module_defaults for group/novita.cloud.novita)")


def test_from_module_builds_a_client():
    novita = api.NovitaClient.from_module(FakeModule(api_base_url="http://127.0.0.1:8555/", retries=2, retry_timeout=30))
    assert novita.base_url == "http://127.0.0.1:8555" and novita.retries == 2 and novita.retry_timeout == 30
    assert novita.scrub(KEY) == api.MASK


def test_pace_ignores_replies_to_requests_sent_before_the_slow_down():
    now = [5.0]
    pace = api.Pace(clock=lambda: now[0], sleep=lambda s: None)
    pace.limited(1.0, sent_at=4.9)
    pace.ok(sent_at=4.95)
    assert pace.interval == api.PACE_FIRST_INTERVAL
    pace.ok(sent_at=6.0)
    assert pace.interval == pytest.approx(api.PACE_FIRST_INTERVAL * api.PACE_DECREASE)


def test_echoed_values_are_masked_in_what_the_api_sends_not_in_the_modules_own_words():
    body = '{"code": 400, "message": "bad value true for FLAG and 1000 for MAX"}'
    novita = client(FakeOpener((400, body, {})), retries=0)
    novita.add_echoed("true", "1000")
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.post("/endpoint/update", {"id": "x"})
    assert exc.value.api_message == "bad value ******** for FLAG and ******** for MAX"
    # the module's own sentence around it keeps its words; an echoed value learnt later is masked in the API's part only
    novita.add_echoed("FLAG")
    message, failure = novita.scrub_failure("set recreate=true; max_num: 1000 is outside the range: " + exc.value.api_message,
                                            exc.value.to_dict())
    assert message == "set recreate=true; max_num: 1000 is outside the range: bad value ******** for ******** and ******** for MAX"
    assert failure["api_message"] == "bad value ******** for ******** and ******** for MAX"
    # secrets proper are masked everywhere
    novita.add_secrets("recreate=true")
    assert novita.scrub_failure("set recreate=true", None)[0] == "set ********"


# -- a create sent once

def transient(status=503, ambiguous=True):
    return api.NovitaAPIError("Novita API returned HTTP %d on POST /x" % status, status=status, transient=True, ambiguous=ambiguous)


def test_create_once_adopts_what_an_unclear_create_made_and_never_sends_it_again():
    sent, looked = [], []

    def send():
        sent.append(1)
        raise transient()

    reply, found = api.create_once(client(FakeOpener()), send, lambda exc: looked.append(exc) or {"id": "made"}, None)
    assert (reply, found) == (None, {"id": "made"}) and len(sent) == 1 and len(looked) == 1


def test_create_once_sends_again_when_nothing_was_made_and_gives_up_with_its_own_error():
    answers = [transient(), transient(429, ambiguous=False), {"id": "new"}]

    def send():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert api.create_once(client(FakeOpener()), send, lambda exc: None, None) == ({"id": "new"}, None)

    def always():
        raise transient()

    with pytest.raises(ValueError, match="gave up after 3"):
        api.create_once(client(FakeOpener(), retries=2), always, lambda exc: None, lambda exc, attempts: ValueError("gave up after %d" % attempts))


def test_create_once_without_a_lookup_or_after_a_refusal_raises_at_once():
    calls = []

    def send():
        calls.append(1)
        raise transient()

    with pytest.raises(api.NovitaAPIError):
        api.create_once(client(FakeOpener()), send, None, None)
    refused = api.NovitaAPIError("400", status=400)

    def refuse():
        calls.append(1)
        raise refused

    with pytest.raises(api.NovitaAPIError):
        api.create_once(client(FakeOpener()), refuse, lambda exc: None, None)
    assert len(calls) == 2
