# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import re

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

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


def test_get_gives_up_after_max_attempts_with_a_clear_message():
    opener = FakeOpener(*[(502, "<html>bad gateway</html>", {})] * api.MAX_READ_ATTEMPTS)
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).get("/endpoint/limit")
    assert len(opener.calls) == api.MAX_READ_ATTEMPTS
    assert exc.value.message == "Novita API request GET /endpoint/limit failed with HTTP 502: <html>bad gateway</html>"


def test_post_is_never_retried():
    opener = FakeOpener((503, '{"code": 503, "message": "busy"}', {"Retry-After": "1"}))
    with pytest.raises(api.NovitaAPIError) as exc:
        client(opener).post("/endpoint/create", {"endpoint": {}})
    assert len(opener.calls) == 1
    assert exc.value.status == 503 and exc.value.method == "POST" and exc.value.path == "/endpoint/create"


def test_connection_errors_on_post_are_reported_once():
    opener = FakeOpener(URLError("connection refused"))
    with pytest.raises(api.NovitaAPIError, match="POST /endpoint/update could not be completed: connection refused"):
        client(opener).post("/endpoint/update", {})
    assert len(opener.calls) == 1


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
    assert "NOVITA_API_KEY" in exc.value.message
    assert KEY not in exc.value.message and KEY not in repr(exc.value.to_dict())
    assert len(opener.calls) == 1


def test_non_json_success_body_is_an_error_with_excerpt():
    opener = FakeOpener("<html>maintenance</html>")
    with pytest.raises(api.NovitaAPIError, match="returned a body that is not JSON: <html>maintenance</html>"):
        client(opener).get("/endpoint/limit")


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
