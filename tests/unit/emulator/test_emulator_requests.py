# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of tests/emulator/emulator_requests.py, the request log command, against an in-process emulator."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import urllib.error
import urllib.request

import pytest

EMULATOR_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "emulator"))
KEY = "test-key"
PREFIX = "/gpu-instance/openapi/v1"
ENDPOINT = {
    "name": "demo",
    "products": [{"id": "1"}],
    "rootfsSize": 100,
    "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
    "ports": [{"port": "8000"}],
    "policy": {"type": "queue", "value": 60},
    "image": {"image": "nginx:latest"},
    "volumeMounts": [],
    "healthy": {"path": "/health"},
}


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EMULATOR_DIR, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


novita_emulator = load("novita_emulator")
emulator_requests = load("emulator_requests")


def api(url, method, path, body=None):
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url + PREFIX + path, data=data, method=method, headers={"Authorization": "Bearer " + KEY})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


@pytest.fixture(name="url")
def fixture_url():
    emu = novita_emulator.Emulator(api_key=KEY)
    yield emu.start()
    emu.stop()


def test_list_writes_clear(url, capsys):
    endpoint_id = api(url, "POST", "/endpoint/create", {"endpoint": ENDPOINT})["id"]
    api(url, "GET", "/endpoint?id=" + endpoint_id)
    assert emulator_requests.main(["list", url]) == 0
    assert capsys.readouterr().out.splitlines() == ["POST /endpoint/create 200", f"GET /endpoint?id={endpoint_id} 200"]

    assert emulator_requests.main(["writes", url]) == 0
    assert capsys.readouterr().out.splitlines() == ["  POST /endpoint/create 200", "1"]
    assert emulator_requests.main(["writes", url, "--expect", "1"]) == 0
    capsys.readouterr()
    assert emulator_requests.main(["writes", url, "--expect", "0"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "1"
    assert "expected 0 write request(s), the emulator logged 1" in captured.err

    assert emulator_requests.main(["clear", url]) == 0
    assert emulator_requests.main(["writes", url, "--expect", "0"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0"]
    assert emulator_requests.main(["list", url]) == 0
    assert capsys.readouterr().out == ""


def test_fault_marked(url, capsys):
    request = urllib.request.Request(url + "/_emulator/faults", method="POST",
                                     data=json.dumps({"method": "GET", "path": "/clusters", "status": 503}).encode("utf-8"))
    with urllib.request.urlopen(request, timeout=5):
        pass
    with pytest.raises(urllib.error.HTTPError):
        api(url, "GET", "/clusters")
    assert emulator_requests.main(["list", url]) == 0
    assert capsys.readouterr().out == "GET /clusters 503 (fault: status)\n"


def test_unreachable(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    assert emulator_requests.main(["list", f"http://127.0.0.1:{port}"]) == 2
    assert "cannot reach the emulator's request log" in capsys.readouterr().err
