# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible end to end: the real ansible-rulebook runs the collection's two rulebooks, as written, against the emulator.

The rulebooks are the ones of extensions/eda/rulebooks (the guide docs/docsite/rst/events.rst shows the same files):
page_on_failure.yml and reconverge_drift.yml, each with an emulator process of its own, both at once, from the root of
the collection (their paths are relative to it), with the variable novita_events_interval set to --interval (1 s).
ansible-rulebook (pinned in tools/eda-requirements.txt and tools/eda-constraints.txt) comes from its own venv, --eda-venv
(default .tmp/venv-eda, built by tools/ensure-venv.sh), whose bin goes first on PATH (ansible-rulebook calls ansible-galaxy
to find the collection); its rule engine needs Java 17.

Behind Ansible's back, through the emulator's admin interface and API:
- page_on_failure: one endpoint is forced to failed (a page), one is seeded (appeared), one deleted, the endpoint list
  answers three polls with an error that quotes the request's headers, the API key included (a page, with the key masked);
- reconverge_drift: a declared endpoint is scaled and another edited (drift, each re-converged by the rulebook's
  run_playbook of examples/reconverge_endpoint.yml, which must restore its declaration in examples/watched_endpoints.yml);
- then each list answers 401 until the rulebook's shutdown action for a refused key ends ansible-rulebook.

The events come from ansible-rulebook's own output (--print-events). Every expected event must be there, no unexpected
one, the pages printed, the declarations restored in the emulator's store, and no API key or secret env value in any event
or anywhere in ansible-rulebook's output.

Usage (dev venv python):
    python tests/matrix/eda_test.py [--collections-path DIR] [--eda-venv DIR] [--interval S] [--keep DIR]

Last line: "eda: N/N events as expected; re-converge restored K/K; secrets in events: 0"; exits 1 on any miss.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import ast
import binascii
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from urllib.request import Request, urlopen

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import REPO_ROOT, Emulator, ansible_env, collections_path, make_work_dir  # noqa: E402

RULEBOOKS = os.path.join("extensions", "eda", "rulebooks")
DECLARATIONS = os.path.join("examples", "watched_endpoints.yml")
JAVA_MISSING = ("java was not found on PATH: ansible-rulebook's rule engine needs a Java 17 runtime. Install one, for example"
                " on Debian or Ubuntu: apt-get install openjdk-17-jre-headless (on Fedora/RHEL: dnf install java-17-openjdk-headless)")
EVENT_HEADER = re.compile(r"\[received event\] \*+\n")
TIMEOUT = 120


def token(prefix):
    return "%s-%s" % (prefix, binascii.hexlify(os.urandom(8)).decode("ascii"))


def check_tools(venv):
    """ansible-rulebook from the venv and java, or a message saying how to get them."""
    problems = []
    if not shutil.which("java"):
        problems.append(JAVA_MISSING)
    if not os.access(os.path.join(venv, "bin", "ansible-rulebook"), os.X_OK):
        problems.append("%s has no ansible-rulebook: build it with tools/ensure-venv.sh %s tools/eda-requirements.txt"
                        " tools/eda-constraints.txt" % (venv, os.path.relpath(venv, REPO_ROOT)))
    return problems


# ---------------------------------------------------------------------------
# the emulators' data


def declared_endpoints(collection):
    """The declarations of examples/watched_endpoints.yml, as the emulator's seed (API-shaped, the way a create sends them)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(collection))))
    from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA  # pylint: disable=import-outside-toplevel
    from ansible_collections.novita.cloud.plugins.module_utils.events import Scope, declarations_from  # pylint: disable=import-outside-toplevel
    with open(os.path.join(collection, DECLARATIONS)) as handle:
        declared = declarations_from(yaml.safe_load(handle), Scope())
    seeds = [ENDPOINT_SCHEMA.build_payload(ENDPOINT_SCHEMA.apply_options(ENDPOINT_SCHEMA.create_base(), item), for_create=True)
             for item in declared]
    return declared, seeds


def differs_from_declaration(stored, item):
    """The settings of a stored endpoint that differ from its declaration (the module's comparison), [] when none."""
    from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA  # pylint: disable=import-outside-toplevel
    model = ENDPOINT_SCHEMA.model_from_api(stored)
    wanted = ENDPOINT_SCHEMA.apply_options(model, item)
    return sorted(key for key in wanted if wanted[key] != model[key])


def api_post(emulator, path, body):
    """A write through the API itself, with the key, as someone in the console or another tool would make it."""
    request = Request(emulator.url + "/gpu-instance/openapi/v1" + path, data=json.dumps(body).encode("utf-8"), method="POST",
                      headers={"Content-Type": "application/json", "Authorization": "Bearer " + emulator.api_key})
    with urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8") or "{}")


def by_name(emulator, name):
    found = [e for e in emulator.admin("GET", "endpoints")["endpoints"] if e.get("name") == name]
    return found[0] if len(found) == 1 else None


def list_reads(emulator, status=None):
    return len([r for r in emulator.requests() if r["method"] == "GET" and r["path"] == "/endpoints"
                and (status is None or r["status"] == status)])


def wait_for(what, condition, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for %s" % what)


# ---------------------------------------------------------------------------
# ansible-rulebook


class Rulebook:
    """One ansible-rulebook process running a rulebook of the collection against one emulator."""

    def __init__(self, name, work_dir, emulator, collections, collection, venv, interval):
        self.name = name
        self.emulator = emulator
        self.output_path = os.path.join(work_dir, name + ".out")
        inventory = os.path.join(work_dir, "inventory.yml")
        variables = os.path.join(work_dir, "vars.yml")
        with open(inventory, "w") as handle:
            yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}, handle)
        with open(variables, "w") as handle:
            yaml.safe_dump({"novita_events_interval": interval}, handle)
        python = os.path.join(venv, "bin", "python")
        self.env = ansible_env(collections, {"NOVITA_API_KEY": emulator.api_key, "NOVITA_API_BASE_URL": emulator.url,
                                             "PATH": os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", ""),
                                             "ANSIBLE_PYTHON_INTERPRETER": python, "VIRTUAL_ENV": venv,
                                             # The events are read from the output file while the rulebook runs: unbuffered,
                                             # each printed event is there at once, not when a block of output fills up.
                                             "PYTHONUNBUFFERED": "1"})
        self.command = [os.path.join(venv, "bin", "ansible-rulebook"), "--rulebook", os.path.join(RULEBOOKS, name + ".yml"),
                        "-i", inventory, "--vars", variables, "--print-events"]
        self.cwd = collection
        self.process = None
        self.returncode = None

    def start(self):
        with open(self.output_path, "w") as output:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=output, stderr=subprocess.STDOUT)

    def wait(self, timeout=TIMEOUT):
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
            return False
        return True

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @property
    def output(self):
        with open(self.output_path) as handle:
            return handle.read()

    def events(self):
        """The novita events ansible-rulebook received, in order."""
        return received_events(self.output)

    def started(self):
        """The baseline poll was made and another after it: what changes now is an event."""
        return list_reads(self.emulator, 200) >= 2


def received_events(text):
    """The novita events in ansible-rulebook's --print-events output, in order.

    Each event is a banner, a "Ruleset:" line, an "Event:" line, the event as one pretty-printed Python literal and a
    closing rule. The playbooks the rulebook runs print to the same output from another thread, so their lines can fall
    between those parts (never inside the literal, which is one write): the literal is the first line that opens a dict
    after the banner, read up to the first line at which it is complete. A banner after which no such literal follows
    (Shutdown(...) and other non-event blocks) is not an event."""
    found = []
    lines = text.split("\n")
    starts = [text.count("\n", 0, match.end()) for match in EVENT_HEADER.finditer(text)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        opening = next((i for i in range(start, end) if lines[i].startswith("{")), None)
        if opening is None:
            continue
        for last in range(opening, end):
            if not lines[last].endswith("}"):
                continue
            try:
                event = ast.literal_eval("\n".join(lines[opening:last + 1]))
            except (ValueError, SyntaxError):
                continue
            if isinstance(event, dict) and "novita" in event:
                found.append(event["novita"])
            break
    return found


# ---------------------------------------------------------------------------
# the two scenarios


def page_seed(rulebook, emulator):
    """The endpoints the page rulebook starts with: their IDs."""
    return emulator.admin("POST", "seed", {"endpoints": [
        {"name": "eda-legacy", "envs": [{"key": "API_TOKEN", "value": rulebook.secret}]}, {"name": "eda-batch"}]})["ids"]


def page_scenario(rulebook, emulator, ids):
    """Failed, appeared, deleted, a run of failed polls; then a refused key. Returns the expected events."""
    legacy, batch = ids
    wait_for("the page rulebook's baseline", rulebook.started)
    emulator.admin("POST", "endpoint_state", {"id": legacy, "state": "failed", "error": "image pull failed", "message": "back-off"})
    emulator.admin("POST", "seed", {"endpoints": [{"name": "eda-new"}]})
    api_post(emulator, "/endpoint/delete", {"name": batch})
    wait_for("the changes to be polled", lambda: any(e["type"] == "deleted" for e in rulebook.events()))
    before = list_reads(emulator)
    emulator.admin("POST", "faults", {"method": "GET", "path": "/endpoints", "kind": "echo", "count": 3})
    wait_for("the echoed polls and a good one after them",
             lambda: list_reads(emulator) >= before + 3 and list_reads(emulator, 200) > before and not emulator.admin("GET", "faults")["faults"]
             and any(r["status"] == 200 for r in emulator.requests()[-1:]))
    emulator.admin("POST", "faults", {"method": "GET", "path": "/endpoints", "kind": "status", "status": 401, "count": 1000})
    return [
        ("state_changed", "eda-legacy", lambda e: e["to"] == {"state": "failed", "error": "image pull failed", "message": "back-off"}),
        ("appeared", "eda-new", lambda e: e["endpoint"]["name"] == "eda-new"),
        ("deleted", "eda-batch", lambda e: e["id"] == batch),
        ("poll_error", None, lambda e: e["error"]["status"] == 400 and e["error"]["reason"] and not e["error"]["auth_failure"]
         and e["error"]["failed_polls"] == 3 and "headers" in e["error"]["message"]),
        ("poll_error", None, lambda e: e["error"]["auth_failure"] and e["error"]["status"] == 401),
    ]


def max_num(side):
    return side["worker_config"]["max_num"]


def reconverge_seed(rulebook, emulator, seeds):
    """The endpoints the re-converge rulebook starts with, the declared ones as declared: their IDs."""
    return emulator.admin("POST", "seed", {"endpoints": seeds + [
        {"name": "eda-scratch", "envs": [{"key": "HF_TOKEN", "value": rulebook.secret}]}]})["ids"]


def reconverge_scenario(rulebook, emulator, declared, seeds, ids):
    """A declared endpoint scaled and another edited: each drifts and is re-converged. Returns the expected events and
    the names restored."""
    chat, embeddings = ids[0], ids[1]
    wait_for("the re-converge rulebook's baseline", rulebook.started)
    scaled = dict(seeds[0], id=chat, workerConfig=dict(seeds[0]["workerConfig"], maxNum=5))
    edited = dict(seeds[1], id=embeddings, image=dict(seeds[1]["image"], image="ghcr.io/someone/else:latest"))
    emulator.admin("POST", "seed", {"endpoints": [scaled, edited]})
    items = dict((item["name"], item) for item in declared)
    wait_for("both endpoints to be re-converged",
             lambda: len([e for e in rulebook.events() if e["type"] == "drift"]) == 2
             and all(by_name(emulator, name) is not None and not differs_from_declaration(by_name(emulator, name), items[name])
                     for name in ("eda-chat", "eda-embeddings")))
    wait_for("the restored endpoints to be polled", lambda: len([e for e in rulebook.events() if e["type"] != "drift"]) >= 4)
    emulator.admin("POST", "faults", {"method": "GET", "path": "/endpoints", "kind": "status", "status": 401, "count": 1000})
    return [
        ("scaled", "eda-chat", lambda e: max_num(e["from"]) == 2 and max_num(e["to"]) == 5),
        ("drift", "eda-chat", lambda e: max_num(e["from"]) == 5 and max_num(e["to"]) == 2 and e["diff"]["after"]["name"] == "eda-chat"),
        ("scaled", "eda-chat", lambda e: max_num(e["from"]) == 5 and max_num(e["to"]) == 2),
        ("config_changed", "eda-embeddings", lambda e: e["to"]["image"]["image"] == "ghcr.io/someone/else:latest"),
        ("drift", "eda-embeddings", lambda e: e["to"]["image"]["image"] == "ghcr.io/huggingface/text-embeddings-inference:1.5"),
        ("config_changed", "eda-embeddings", lambda e: e["to"]["image"]["image"] == "ghcr.io/huggingface/text-embeddings-inference:1.5"),
        ("poll_error", None, lambda e: e["error"]["auth_failure"]),
    ], [name for name in ("eda-chat", "eda-embeddings") if by_name(emulator, name) is not None
        and not differs_from_declaration(by_name(emulator, name), items[name])]


# ---------------------------------------------------------------------------
# judging


def matched(expected, received):
    """(labels of the expected events found, labels missing, events no expectation took), in order of ``expected``."""
    left = list(received)
    found, missing = [], []
    for kind, name, check in expected:
        label = "%s %s" % (kind, name or "")
        hit = None
        for event in left:
            try:
                if event["type"] == kind and event["name"] == name and check(event):
                    hit = event
                    break
            except (KeyError, TypeError):
                continue
        if hit is None:
            missing.append(label)
        else:
            found.append(label)
            left.remove(hit)
    return found, missing, left


def leaks(texts, secrets):
    return sum(text.count(secret) for text in texts for secret in secrets)


def run(args, work_dir):
    problems = check_tools(args.eda_venv)
    if problems:
        return problems, "eda: not run: %s" % problems[0]
    collections = collections_path(args.collections_path, work_dir)
    collection = os.path.join(collections, "ansible_collections", "novita", "cloud")
    declared, seeds = declared_endpoints(collection)
    emulators, rulebooks = [], []
    try:
        for name in ("page_on_failure", "reconverge_drift"):
            folder = os.path.join(work_dir, name)
            os.makedirs(folder)
            emulator = Emulator(folder, token("eda-key"))
            emulator.start()
            emulators.append(emulator)
            rulebook = Rulebook(name, folder, emulator, collections, collection, args.eda_venv, args.interval)
            rulebook.secret = token("eda-secret")
            rulebooks.append(rulebook)
        ids = [page_seed(rulebooks[0], emulators[0]), reconverge_seed(rulebooks[1], emulators[1], seeds)]
        for rulebook in rulebooks:
            rulebook.start()
        return judge(rulebooks, emulators, declared, seeds, ids)
    finally:
        for rulebook in rulebooks:
            rulebook.stop()
        for emulator in emulators:
            emulator.stop()


def judge(rulebooks, emulators, declared, seeds, ids):
    page, reconverge = rulebooks
    problems = []
    # The two scenarios at once, each against its own rulebook and emulator.
    outcome = {}

    def page_thread():
        try:
            outcome["page"] = page_scenario(page, emulators[0], ids[0])
        except RuntimeError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=page_thread)
    thread.start()
    try:
        more, restored = reconverge_scenario(reconverge, emulators[1], declared, seeds, ids[1])
    finally:
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    expected = outcome["page"]
    for rulebook in rulebooks:
        if not rulebook.wait(60) or rulebook.returncode != 0:
            problems.append("%s: ansible-rulebook did not end with its shutdown action (exit %s)" % (rulebook.name, rulebook.returncode))
        elif "has initiated shutdown" not in rulebook.output:
            problems.append("%s: ansible-rulebook ended without the shutdown action" % rulebook.name)
    total = found_count = 0
    for rulebook, wanted in ((page, expected), (reconverge, more)):
        found, missing, extra = matched(wanted, rulebook.events())
        total += len(wanted)
        found_count += len(found)
        problems += ["%s: no %s event as expected" % (rulebook.name, label) for label in missing]
        problems += ["%s: unexpected event %s %s" % (rulebook.name, e.get("type"), e.get("name")) for e in extra]
        print("%s: %d events received, %d of %d expected found" % (rulebook.name, len(rulebook.events()), len(found), len(wanted)))
    pages = [line for line in page.output.splitlines() if line.startswith("PAGE: ")]
    if len(pages) != 2 or "eda-legacy" not in pages[0] or "could not be read 3 times" not in pages[1]:
        problems.append("page_on_failure: expected a page for eda-legacy and one for the failed polls, printed: %s" % pages)
    problems += ["reconverge_drift: %s was not restored to its declaration" % name for name in ("eda-chat", "eda-embeddings")
                 if name not in restored]
    secrets = [e.api_key for e in emulators] + [r.secret for r in rulebooks]
    in_events = leaks([json.dumps(r.events()) for r in rulebooks], secrets)
    in_output = leaks([r.output for r in rulebooks], secrets)
    if in_events or in_output:
        problems.append("an API key or a secret env value is in %d events and %d times in ansible-rulebook's output" % (in_events, in_output))
    return problems, "eda: %d/%d events as expected; re-converge restored %d/2; secrets in events: %d" % (
        found_count, total, len(restored), in_events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--eda-venv", default=os.path.join(REPO_ROOT, ".tmp", "venv-eda"), help="the venv with ansible-rulebook")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between the source's polls (default 1)")
    parser.add_argument("--keep", metavar="DIR", help="keep the rulebooks' output and the emulators' logs in DIR")
    args = parser.parse_args()
    args.eda_venv = os.path.abspath(args.eda_venv)
    work_dir = make_work_dir("eda", args.keep)
    started = time.time()
    try:
        problems, summary = run(args, work_dir)
    except RuntimeError as exc:
        problems, summary = [str(exc)], "eda: not completed: %s" % exc
    for problem in problems:
        print("PROBLEM: " + problem)
    if problems or args.keep:
        print("the rulebooks' output and the emulators' logs are in %s" % work_dir)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    print("wall time %.1f s" % (time.time() - started))
    print(summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
