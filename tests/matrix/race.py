# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Race: two ansible-playbook runs create the same endpoint name at the same time; one endpoint must be left.

Starts one emulator whose every API request takes --latency-ms (default 300), so that both runs look the
name up before either creates it. In each of --rounds rounds (default 10), two ansible-playbook processes
are started together, each running novita.cloud.novita_endpoint to create the same new name (unique per
round) with wait. After both have ended, the emulator (GET /_emulator/endpoints) must hold exactly one
endpoint with that name, and either both runs succeeded and report that endpoint, or one succeeded with
it and the other failed with a message naming it. The emulator's request log tells how many creates were
really sent (2 when the runs did race).

Usage (dev venv python):
    python tests/matrix/race.py [--collections-path DIR] [--rounds N] [--latency-ms MS] [--keep DIR]

Prints a table and a last line "race: N/N rounds left exactly one endpoint (...)"; exits 1 when a round did not.
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

# JSON is YAML: one task creating the endpoint, its failure kept, not fatal; the minimal callback prints its result.
PLAYBOOK = [{
    "name": "Race to create one endpoint",
    "hosts": "localhost",
    "gather_facts": False,
    "tasks": [{
        "name": "Create the endpoint",
        "novita.cloud.novita_endpoint": {
            "name": "{{ race_name }}",
            "product_id": "1",
            "image": {"image": "nginx:1.27"},
            "port": 8000,
            "worker_config": {"min_num": 1, "max_num": 2},
            "envs": {"RUN": "{{ race_run }}"},
            "wait": True,
            "wait_timeout": 60,
            "timeout": 10,
        },
        "ignore_errors": True,
    }],
}]
RESULT_LINE = re.compile(r"^localhost \| (?P<word>[A-Z]+)!? => ", re.MULTILINE)
WARNING_LINE = re.compile(r"^\[WARNING\]: (.*)$", re.MULTILINE)


def start_run(work_dir, collections, emulator, round_no, run, name):
    """Start one ansible-playbook run; returns (process, log path, log file handle)."""
    log_path = os.path.join(work_dir, "round-%02d-%s.log" % (round_no, run))
    log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    env = ansible_env(collections, {"NOVITA_API_KEY": API_KEY, "NOVITA_API_BASE_URL": emulator.url, "ANSIBLE_STDOUT_CALLBACK": "minimal"})
    extra = json.dumps({"race_name": name, "race_run": run})
    process = subprocess.Popen([ansible_playbook(), os.path.join(work_dir, "playbook.json"), "-e", extra],  # pylint: disable=consider-using-with
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


def describe(result, left_ids, created):
    """(short text for the table, outcome): outcome is "ok", "failed clearly" or "bad".

    ``created``: whether this run's create request was applied (the emulator's log shows it by the RUN env value).
    """
    if result is None:
        return "no result", "bad"
    if result.get("failed"):
        msg = str(result.get("msg") or "")
        named = [i for i in left_ids if i in msg]
        text = "failed: %s" % (msg[:90] + ("..." if len(msg) > 90 else ""))
        return text, ("failed clearly" if len(left_ids) == 1 and named else "bad")
    endpoint_id = (result.get("endpoint") or {}).get("id")
    if result.get("duplicate_deleted_id"):
        text = "adopted %s, deleted its own %s" % (endpoint_id, result["duplicate_deleted_id"])
    elif created:
        text = "created %s" % endpoint_id
    else:
        text = "found %s, %s" % (endpoint_id, "updated it" if result.get("changed") else "unchanged")
    state = ((result.get("endpoint") or {}).get("state") or {}).get("state")
    if len(left_ids) != 1 or endpoint_id != left_ids[0]:
        return text + " (not the endpoint left)", "bad"
    if state != "serving":
        return text + " (state %s)" % state, "bad"
    return text, "ok"


def run_round(work_dir, collections, emulator, round_no):
    name = "race-%02d-%s" % (round_no, binascii.hexlify(os.urandom(3)).decode("ascii"))
    emulator.admin("DELETE", "requests")
    started = time.time()
    runs = [start_run(work_dir, collections, emulator, round_no, run, name) for run in ("a", "b")]
    finished = [finish_run(*run) for run in runs]
    elapsed = time.time() - started
    left = [e for e in emulator.admin("GET", "endpoints")["endpoints"] if e.get("name") == name]
    left_ids = [str(e.get("id")) for e in left]
    creates = [r for r in emulator.requests()
               if r["method"] == "POST" and r["path"] == "/endpoint/create" and r["status"] == 200
               and ((r["body"] or {}).get("endpoint") or {}).get("name") == name]
    creators = set(dict((e.get("key"), e.get("value")) for e in (r["body"]["endpoint"].get("envs") or [])).get("RUN") for r in creates)
    texts, outcomes, warnings = [], [], []
    for run, (result, _status) in zip(("a", "b"), finished):
        text, outcome = describe(result, left_ids, run in creators)
        texts.append(text)
        outcomes.append(outcome)
        warnings.extend((result or {}).get("warnings") or [])
    ok = len(left) == 1 and "bad" not in outcomes and outcomes.count("failed clearly") <= 1
    kind = "both succeeded" if outcomes == ["ok", "ok"] else "one failed clearly" if ok else "NOT OK"
    return {
        "round": round_no, "name": name, "a": texts[0], "b": texts[1], "left": len(left), "creates": len(creates),
        "warnings": warnings, "ok": ok, "kind": kind, "seconds": elapsed, "statuses": [status for _result, status in finished],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of two racing runs (default 10)")
    parser.add_argument("--latency-ms", type=int, default=300, help="emulator latency per API request, at least 250 (default 300)")
    parser.add_argument("--keep", metavar="DIR", help="keep the playbook and the runs' output in DIR")
    options = parser.parse_args()
    if options.latency_ms < 250:
        parser.error("--latency-ms must be at least 250, or the runs may not race")
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")

    work_dir = make_work_dir("race", options.keep)
    started = time.time()
    rounds = []
    try:
        collections = collections_path(options.collections_path, work_dir)
        with open(os.path.join(work_dir, "playbook.json"), "w", encoding="utf-8") as handle:
            json.dump(PLAYBOOK, handle, indent=1)
        with Emulator(work_dir, API_KEY, ["--latency-ms", str(options.latency_ms)]) as emulator:
            for round_no in range(1, options.rounds + 1):
                rounds.append(run_round(work_dir, collections, emulator, round_no))
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)

    print_table(("round", "run A", "run B", "creates sent", "endpoints left", "warnings", "s"),
                [(r["round"], r["a"], r["b"], r["creates"], r["left"], len(r["warnings"]), "%.1f" % r["seconds"]) for r in rounds])
    print("")
    for r in rounds:
        for warning in r["warnings"]:
            print("round %d warning: %s" % (r["round"], warning))
        if not r["ok"]:
            print("round %d (%s) NOT OK: %d endpoint(s) left; run A: %s; run B: %s; exit statuses %s"
                  % (r["round"], r["name"], r["left"], r["a"], r["b"], r["statuses"]))
    raced = sum(1 for r in rounds if r["creates"] >= 2)
    print("")
    print("emulator latency %d ms per request; rounds where both runs sent a create: %d/%d; took %.0f s"
          % (options.latency_ms, raced, len(rounds), time.time() - started))
    good = sum(1 for r in rounds if r["ok"])
    print("race: %d/%d rounds left exactly one endpoint (both succeeded: %d, one failed clearly: %d)"
          % (good, len(rounds), sum(1 for r in rounds if r["kind"] == "both succeeded"), sum(1 for r in rounds if r["kind"] == "one failed clearly")))
    return 0 if good == len(rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
