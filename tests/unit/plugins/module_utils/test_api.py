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
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.novita.cloud.plugins.module_utils import api

KEY = "sk-unit-test-key"


class FakeResponse:
    def __init__(self, body):
        self._body = body

    def read(self):
        return self._body


class FakeOpener:
    """Records each call and answers from a script: a dict is a JSON 200, a tuple (status, body, headers) an HTTP error."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        self.calls.append(dict(url=url, data=json.loads(data) if data else None, headers=headers, method=method, **kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):
            status, body, headers = answer
            raise HTTPError(url, status, "error", headers, io.BytesIO(body.encode("utf-8")))
        return FakeResponse(answer.encode("utf-8") if isinstance(answer, str) else json.dumps(answer).encode("utf-8"))


def client(opener, sleeps=None):
    return api.NovitaClient(KEY, "https://api.example.invalid/", timeout=7, validate_certs=True,
                            sleep=(sleeps.append if sleeps is not None else lambda s: None), opener=opener)


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


def test_get_gives_up_after_the_retries_with_a_clear_message():
    opener = FakeOpener(*[(502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", {})] * (api.DEFAULT_RETRIES + 1))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoint/limit")
    assert len(opener.calls) == api.DEFAULT_RETRIES + 1
    assert exc.value.message == ("Novita API returned HTTP 502 on GET /endpoint/limit: HTML page: 502 Bad Gateway (gave up after %d attempts)"
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
    with pytest.raises(api.NovitaAPIError, match="POST /endpoint/update failed: connection refused") as exc:
        client(opener).post("/endpoint/update", {})
    assert len(opener.calls) == 1
    assert exc.value.ambiguous and exc.value.status is None


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
    assert reason in exc.value.message and exc.value.to_dict()["reason"].endswith(reason)


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
    with pytest.raises(api.NovitaAPIError, match=r"POST /endpoint/create failed: the reply was cut off after 15 bytes"):
        client(lambda url, **kw: TruncatedResponse()).post("/endpoint/create", {})


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
    assert exc.value.message.endswith(": " + expected[1])


def test_401_hints_at_the_key_and_never_shows_it():
    opener = FakeOpener((401, '{"code": 401, "message": "key %s is invalid"}' % KEY, {}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoint", {"id": "x"})
    assert exc.value.message == "Novita API rejected the API key (401) on GET /endpoint; check api_key or NOVITA_API_KEY: key ******** is invalid"
    assert KEY not in repr(exc.value.to_dict())
    assert len(opener.calls) == 1


def test_non_json_success_body_is_retried_then_an_error_with_excerpt():
    opener = FakeOpener(*["<html><body><h1>Down for maintenance</h1></body></html>"] * 2)
    novita = api.NovitaClient(KEY, retries=1, sleep=lambda s: None, opener=opener)
    with pytest.raises(api.NovitaAPIError) as exc:
        novita.get("/endpoint/limit")
    assert exc.value.message == ("Novita API request GET /endpoint/limit failed: the reply is not JSON: HTML page: Down for maintenance"
                                 " (gave up after 2 attempts)")


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
