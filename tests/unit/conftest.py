# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fixtures the unit tests share; the fakes and data they use are in helpers.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.novita.cloud.plugins.module_utils import api
from ansible_collections.novita.cloud.tests.unit.helpers import EMULATOR_KEY, EmulatorClient, emulator_module

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        serialized = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = serialized
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


class ModuleExit(Exception):
    pass


def no_http(*args, **kwargs):
    raise AssertionError("the module made an HTTP request")


@pytest.fixture(name="run_module")
def fixture_run_module(monkeypatch):
    """Runs a module's main() in-process and returns what a user would see: ``run_module(main, args)`` gives (failed, result).

    The args get a key and a base URL added, and ``check_mode``/``diff`` turn on Ansible's check and diff modes. HTTP goes to
    ``opener`` (by default any request fails the test), or the whole client is ``client`` when given; retries do not sleep.
    Like AnsibleModule's own exit, the result comes back with the no_log values removed, and with ``invocation`` (the
    module's parameters, which Ansible shows at ``-vvv`` and writes to its log file).
    """
    def returned(self, kwargs):
        kwargs.setdefault("invocation", {"module_args": self.params})
        return basic.remove_values(kwargs, self.no_log_values)

    def exit_json(self, **kwargs):
        raise ModuleExit(False, returned(self, kwargs))

    def fail_json(self, **kwargs):
        raise ModuleExit(True, returned(self, kwargs))

    def run(main, args, client=None, opener=no_http, check_mode=False, diff=False):
        monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(api, "open_url", opener)
        monkeypatch.setattr(api.time, "sleep", lambda s: None)
        if client is not None:
            monkeypatch.setattr(api.NovitaClient, "from_module", classmethod(lambda cls, module, problems=(): client))
        args = dict({"api_key": "unit-test-api-key", "api_base_url": "http://127.0.0.1:9"}, **args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as exc:
                main()
        return exc.value.args

    return run


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator():
    """An emulator running in this process, one for each test file."""
    emu = emulator_module().Emulator(api_key=EMULATOR_KEY)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(name="client")
def fixture_client(emulator):
    """A client of the ``emulator``, reset to its seed data."""
    api_client = EmulatorClient(emulator.url)
    api_client.admin("POST", "/reset")
    return api_client
