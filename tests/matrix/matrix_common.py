# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared by the matrix drivers: start the emulator, call its admin interface, run ansible-playbook."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not supported by the drivers
    Request = urlopen = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
EMULATOR_SCRIPT = os.path.join(REPO_ROOT, "tests", "emulator", "novita_emulator.py")


class Emulator:
    """The Novita API emulator in a child process on a free loopback port."""

    def __init__(self, work_dir, api_key, args=()):
        self.work_dir = work_dir
        self.api_key = api_key
        self.args = list(args)  # more command-line flags, e.g. ["--latency-ms", "300"]
        self.url = None
        self.process = None
        self.log_path = os.path.join(work_dir, "emulator.log")

    def start(self):
        url_file = os.path.join(self.work_dir, "emulator.url")
        env = dict(os.environ)
        # The key goes by environment, never on a command line that `ps` would show.
        env["NOVITA_EMULATOR_API_KEY"] = self.api_key
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([sys.executable, EMULATOR_SCRIPT, "--port", "0", "--url-file", url_file] + self.args,
                                            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(url_file) and os.path.getsize(url_file):
                with open(url_file) as handle:
                    self.url = handle.read().strip()
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.log_path) as log:
            raise RuntimeError("the emulator did not start; its log:\n" + log.read())

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def admin(self, method, path, body=None):
        """Call /_emulator/<path> and return the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = Request(self.url + "/_emulator/" + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urlopen(request, timeout=10) as response:
            return json.loads(response.read().decode("utf-8") or "{}")

    def requests(self):
        return self.admin("GET", "requests")["requests"]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def collections_path(given, work_dir):
    """A directory holding ansible_collections/novita/cloud: the one given, else a link to this work tree."""
    if given:
        path = os.path.abspath(given)
        if not os.path.isdir(os.path.join(path, "ansible_collections", "novita", "cloud")):
            raise SystemExit("%s does not contain ansible_collections/novita/cloud" % given)
        return path
    path = os.path.join(work_dir, "collections")
    os.makedirs(os.path.join(path, "ansible_collections", "novita"))
    os.symlink(REPO_ROOT, os.path.join(path, "ansible_collections", "novita", "cloud"))
    return path


def ansible_env(collections, extra=None):
    """The environment for ansible-playbook: this collection, the controller's Python, no colour, no retry files."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("ANSIBLE_") or key.startswith("NOVITA_"):
            del env[key]
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
    })
    env.update(extra or {})
    return env


def ansible_playbook():
    """ansible-playbook next to this Python (the dev venv), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    found = beside if os.access(beside, os.X_OK) else shutil.which("ansible-playbook")
    if not found:
        raise SystemExit("ansible-playbook not found: run with the dev venv's python or put it on PATH")
    return found


def make_work_dir(name, keep):
    if keep:
        path = os.path.abspath(keep)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.makedirs(path)
        return path
    return tempfile.mkdtemp(prefix=name + "-")


def print_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join("%-*s" % (w, c) for w, c in zip(widths, row)))
