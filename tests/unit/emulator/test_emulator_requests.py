# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of tests/emulator/emulator_requests.py, the request log command, against an in-process emulator."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.novita.cloud.tests.unit.helpers import EMULATOR_KEY, EmulatorClient, emulator_module

novita_emulator = emulator_module()
emulator_requests = emulator_module("emulator_requests")


@pytest.fixture(name="url")
def fixture_url():
    emu = novita_emulator.Emulator(api_key=EMULATOR_KEY)
    yield emu.start()
    emu.stop()


def test_list_writes_clear(url, capsys):
    client = EmulatorClient(url)
    endpoint_id = client.create()
    client.get(endpoint_id)
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
    client = EmulatorClient(url)
    client.fault(method="GET", path="/clusters", status=503)
    assert client.call("GET", "/clusters")[0] == 503
    assert emulator_requests.main(["list", url]) == 0
    assert capsys.readouterr().out == "GET /clusters 503 (fault: status)\n"


def test_unreachable(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    assert emulator_requests.main(["list", f"http://127.0.0.1:{port}"]) == 2
    assert "cannot reach the emulator's request log" in capsys.readouterr().err
