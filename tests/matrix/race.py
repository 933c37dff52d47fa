# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Race: two ansible-playbook runs create the same name at the same time; one endpoint, credential or storage must be left.

Starts one emulator whose every API request takes --latency-ms (default 300), so that both runs look the
name up before either creates it. In each of --rounds rounds (default 10), two ansible-playbook processes
are started together, each running novita.cloud.novita_endpoint to create the same new name (unique per
round) with wait; then, in each of --resource-rounds rounds (default 3) per module, the same with
novita.cloud.novita_registry_auth and novita.cloud.novita_network_storage (both runs declare the same values).
After both have ended, the emulator (GET /_emulator/endpoints, /auths, /storages) must hold exactly one
resource with that name, and either both runs succeeded and report it, or one succeeded with it and the
other failed with a message naming it. The emulator's request log tells how many creates were really sent
(2 when the runs did race).

Usage (dev venv python):
    python tests/matrix/race.py [--collections-path DIR] [--rounds N] [--resource-rounds N] [--latency-ms MS] [--keep DIR]

Prints a table and a last line "race: N/N rounds left exactly one endpoint, credential or storage (...)"; exits 1
when a round did not.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import binascii
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

API_KEY = "race-key-" + binascii.hexlify(os.urandom(6)).decode("ascii")
RUN_TIMEOUT = 180  # seconds one ansible-playbook run may take

RACE_PASSWORD = "race-password-" + binascii.hexlify(os.urandom(6)).decode("ascii")


class Kind:
    """One module the race runs: its task, the key of its result, the emulator's admin list of its resources and its create."""

    def __init__(self, label, module, args, result_key, admin_list, id_key, name_key, create_path, created_name):
        self.label = label  # how the summary names one resource
        self.module = module
        self.args = args
        self.result_key = result_key
        self.admin_list = admin_list  # GET /_emulator/<admin_list> answers {<admin_list>: [...]}
        self.id_key = id_key
        self.name_key = name_key
        self.create_path = create_path
        self.created_name = created_name  # the name a logged create request's body asks for

    def playbook(self):
        """JSON is YAML: one task creating the resource, its failure kept, not fatal; the minimal callback prints its result."""
        return [{
            "name": "Race to create one %s" % self.label,
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "Create the %s" % self.label, self.module: self.args, "ignore_errors": True}],
        }]

    def left(self, emulator, name):
        return [str(item.get(self.id_key)) for item in emulator.admin("GET", self.admin_list)[self.admin_list] if item.get(self.name_key) == name]


KINDS = {
    "endpoint": Kind("endpoint", "novita.cloud.novita_endpoint", {
        "name": "{{ race_name }}",
        "product_id": "1",
        "image": {"image": "nginx:1.27"},
        "port": 8000,
        "worker_config": {"min_num": 1, "max_num": 2},
        "envs": {"RUN": "{{ race_run }}"},
        "wait": True,
        "wait_timeout": 60,
        "timeout": 10,
    }, "endpoint", "endpoints", "id", "name", "/endpoint/create", lambda body: (body.get("endpoint") or {}).get("name")),
    "registry_auth": Kind("credential", "novita.cloud.novita_registry_auth", {
        "name": "{{ race_name }}",
        "username": "race-bot",
        "password": RACE_PASSWORD,
        "timeout": 10,
    }, "registry_auth", "auths", "id", "name", "/repository/auth/save", lambda body: body.get("name")),
    "network_storage": Kind("storage", "novita.cloud.novita_network_storage", {
        "name": "{{ race_name }}",
        "cluster_id": "cluster-1",
        "size": 10,
        "timeout": 10,
    }, "network_storage", "storages", "storageId", "storageName", "/networkstorage/create", lambda body: body.get("storageName")),
}
RESULT_LINE = re.compile(r"^localhost \| (?P<word>[A-Z]+)!? => ", re.MULTILINE)
WARNING_LINE = re.compile(r"^\[WARNING\]: (.*)$", re.MULTILINE)


def start_run(work_dir, collections, emulator, kind, round_no, run, name):
    """Start one ansible-playbook run; returns (process, log path, log file handle)."""
    log_path = os.path.join(work_dir, "%s-round-%02d-%s.log" % (kind, round_no, run))
    log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    env = ansible_env(collections, {"NOVITA_API_KEY": API_KEY, "NOVITA_API_BASE_URL": emulator.url, "ANSIBLE_STDOUT_CALLBACK": "minimal"})
    extra = json.dumps({"race_name": name, "race_run": run})
    process = subprocess.Popen([ansible_playbook(), os.path.join(work_dir, "playbook-%s.json" % kind), "-e", extra],  # pylint: disable=consider-using-with
                               env=env, cwd=work_dir, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path, log


def finish_run(process, log_path, log):
    """Wait for a run; returns its task result (a dict, ``failed`` set from the status word) or None, and the exit status."""
    try:
        status = process.wait(RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        status = process.wait()
    log.close()
    with open(log_path, encoding="utf-8") as handle:
        output = handle.read()
    result = None
    match = RESULT_LINE.search(output)
    if match:
        try:
            result, _end = json.JSONDecoder().raw_decode(output[match.end():])
        except ValueError:
            result = None
        if isinstance(result, dict):
            result["failed"] = match.group("word") in ("FAILED", "UNREACHABLE")
            # The callback shows the module's warnings apart from the result.
            result.setdefault("warnings", [line for line in WARNING_LINE.findall(output) if not line.startswith("Deprecation warnings can be disabled")])
        else:
            result = None
    return result, status


def describe(kind, result, left_ids, created):
    """(short text for the table, outcome): outcome is "ok", "failed clearly" or "bad".

    ``created``: whether this run's create request was applied (the emulator's log shows it by the RUN env value), None
    when the log cannot tell (two runs send the same credential or storage).
    """
    if result is None:
        return "no result", "bad"
    if result.get("failed"):
        msg = str(result.get("msg") or "")
        named = [i for i in left_ids if i in msg]
        text = "failed: %s" % (msg[:90] + ("..." if len(msg) > 90 else ""))
        return text, ("failed clearly" if len(left_ids) == 1 and named else "bad")
    resource_id = (result.get(kind.result_key) or {}).get("id")
    deleted = result.get("duplicate_deleted_id") or ", ".join(result.get("duplicate_deleted_ids") or [])
    if deleted:
        text = "kept %s, deleted %s" % (resource_id, deleted)
    elif created or created is None and result.get("changed"):
        text = "created %s" % resource_id
    else:
        text = "found %s, %s" % (resource_id, "updated it" if result.get("changed") else "unchanged")
    if len(left_ids) != 1 or resource_id != left_ids[0]:
        return text + " (not the %s left)" % kind.label, "bad"
    if kind.result_key == "endpoint":
        state = ((result.get("endpoint") or {}).get("state") or {}).get("state")
        if state != "serving":
            return text + " (state %s)" % state, "bad"
    return text, "ok"


def run_round(work_dir, collections, emulator, kind_name, round_no):
    kind = KINDS[kind_name]
    name = "race-%02d-%s" % (round_no, binascii.hexlify(os.urandom(3)).decode("ascii"))
    emulator.admin("DELETE", "requests")
    started = time.time()
    runs = [start_run(work_dir, collections, emulator, kind_name, round_no, run, name) for run in ("a", "b")]
    finished = [finish_run(*run) for run in runs]
    elapsed = time.time() - started
    left_ids = kind.left(emulator, name)
    creates = [r for r in emulator.requests()
               if r["method"] == "POST" and r["path"] == kind.create_path and r["status"] == 200 and kind.created_name(r["body"] or {}) == name]
    creators = None
    if kind_name == "endpoint":
        creators = set(dict((e.get("key"), e.get("value")) for e in (r["body"]["endpoint"].get("envs") or [])).get("RUN") for r in creates)
    texts, outcomes, warnings = [], [], []
    for run, (result, _status) in zip(("a", "b"), finished):
        text, outcome = describe(kind, result, left_ids, None if creators is None else run in creators)
        texts.append(text)
        outcomes.append(outcome)
        warnings.extend((result or {}).get("warnings") or [])
    ok = len(left_ids) == 1 and "bad" not in outcomes and outcomes.count("failed clearly") <= 1
    verdict = "both succeeded" if outcomes == ["ok", "ok"] else "one failed clearly" if ok else "NOT OK"
    return {
        "kind": kind_name, "label": kind.label, "round": round_no, "name": name, "a": texts[0], "b": texts[1], "left": len(left_ids),
        "creates": len(creates), "warnings": warnings, "ok": ok, "verdict": verdict, "seconds": elapsed,
        "statuses": [status for _result, status in finished],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of two racing endpoint runs (default 10)")
    parser.add_argument("--resource-rounds", type=int, default=3,
                        help="rounds of two racing runs of novita_registry_auth and of novita_network_storage each (default 3; 0: none)")
    parser.add_argument("--latency-ms", type=int, default=300, help="emulator latency per API request, at least 250 (default 300)")
    parser.add_argument("--keep", metavar="DIR", help="keep the playbooks and the runs' output in DIR")
    options = parser.parse_args()
    if options.latency_ms < 250:
        parser.error("--latency-ms must be at least 250, or the runs may not race")
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    if options.resource_rounds < 0:
        parser.error("--resource-rounds must be at least 0")

    work_dir = make_work_dir("race", options.keep)
    started = time.time()
    rounds = []
    plan = [("endpoint", options.rounds), ("registry_auth", options.resource_rounds), ("network_storage", options.resource_rounds)]
    try:
        collections = collections_path(options.collections_path, work_dir)
        for kind_name, dummy in plan:
            with open(os.path.join(work_dir, "playbook-%s.json" % kind_name), "w", encoding="utf-8") as handle:
                json.dump(KINDS[kind_name].playbook(), handle, indent=1)
        with Emulator(work_dir, API_KEY, ["--latency-ms", str(options.latency_ms)]) as emulator:
            for kind_name, count in plan:
                for round_no in range(1, count + 1):
                    rounds.append(run_round(work_dir, collections, emulator, kind_name, round_no))
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)

    print_table(("module", "round", "run A", "run B", "creates sent", "left", "warnings", "s"),
                [(r["kind"], r["round"], r["a"], r["b"], r["creates"], r["left"], len(r["warnings"]), "%.1f" % r["seconds"]) for r in rounds])
    print("")
    for r in rounds:
        for warning in r["warnings"]:
            print("%s round %d warning: %s" % (r["kind"], r["round"], warning))
        if not r["ok"]:
            print("%s round %d (%s) NOT OK: %d %s(s) left; run A: %s; run B: %s; exit statuses %s"
                  % (r["kind"], r["round"], r["name"], r["left"], r["label"], r["a"], r["b"], r["statuses"]))
    print("")
    for kind_name, count in plan:
        if count:
            mine = [r for r in rounds if r["kind"] == kind_name]
            print("%s: rounds where both runs sent a create: %d/%d" % (kind_name, sum(1 for r in mine if r["creates"] >= 2), len(mine)))
    print("emulator latency %d ms per request; took %.0f s" % (options.latency_ms, time.time() - started))
    good = sum(1 for r in rounds if r["ok"])
    per_kind = ", ".join("%s %d/%d" % (KINDS[k].label, sum(1 for r in rounds if r["kind"] == k and r["ok"]), count) for k, count in plan if count)
    print("race: %d/%d rounds left exactly one endpoint, credential or storage (%s; both succeeded: %d, one failed clearly: %d)"
          % (good, len(rounds), per_kind, sum(1 for r in rounds if r["verdict"] == "both succeeded"),
             sum(1 for r in rounds if r["verdict"] == "one failed clearly")))
    return 0 if good == len(rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
