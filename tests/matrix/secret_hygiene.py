# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret hygiene of novita.cloud.novita_endpoint: no API key or secret_envs value in anything Ansible writes.

Starts the emulator with a random API key, runs tests/matrix/secrets/secret_scenarios.yml at -vvvv with
--diff and ANSIBLE_LOG_PATH (key and secrets passed only in the environment), then searches stdout,
stderr, the log file and the registered results the playbook dumped for every secret value: none may
appear. It also proves that the secrets were really sent (the emulator's request log, read here and
never printed) and that ordinary values are not over-redacted (they must be visible).

Usage (dev venv python):
    python tests/matrix/secret_hygiene.py [--collections-path DIR] [--keep DIR]

Exits 1 on any occurrence of a secret or any missing ordinary value.
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

from matrix_common import HERE, Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

PLAYBOOK = os.path.join(HERE, "secrets", "secret_scenarios.yml")
ENDPOINT_NAME = "hyg-endpoint"


def random_hex(size=12):
    return binascii.hexlify(os.urandom(size)).decode("ascii")


def make_values():
    """Fresh random values for one run: the secrets, and ordinary values that must stay visible."""
    secrets = {
        "API key": "nvk-hyg-" + random_hex(),
        "wrong API key": "nvk-hyg-wrong-" + random_hex(),
        "HF_TOKEN (first)": "hf_hyg1" + random_hex(),
        "HF_TOKEN (rotated)": "hf_hyg2" + random_hex(),
        "DB_PASSWORD": "pw-hyg-" + random_hex(),
    }
    ordinary = {
        "image": "registry.example.invalid/hyg-app:" + random_hex(4),
        "plain env value": "plain-hyg-" + random_hex(4),
    }
    return secrets, ordinary


def count(text, value):
    return text.count(value)


def run_scenarios(emulator, secrets, ordinary, work_dir, collections):
    """Run the playbook; returns (exit code, {output name: text})."""
    results_path = os.path.join(work_dir, "results.json")
    log_path = os.path.join(work_dir, "ansible.log")
    env = ansible_env(collections, {
        "NOVITA_API_KEY": secrets["API key"],
        "NOVITA_API_BASE_URL": emulator.url,
        "ANSIBLE_LOG_PATH": log_path,
        "HYG_SECRET_ONE": secrets["HF_TOKEN (first)"],
        "HYG_SECRET_TWO": secrets["HF_TOKEN (rotated)"],
        "HYG_SECRET_THREE": secrets["DB_PASSWORD"],
        "HYG_WRONG_KEY": secrets["wrong API key"],
        "HYG_PLAIN_VALUE": ordinary["plain env value"],
        "HYG_IMAGE": ordinary["image"],
        "HYG_RESULTS": results_path,
    })
    run = subprocess.run([ansible_playbook(), "-vvvv", "--diff", PLAYBOOK], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=work_dir, check=False)
    outputs = {"stdout": run.stdout.decode("utf-8", "replace"), "stderr": run.stderr.decode("utf-8", "replace")}
    for name, path in (("log file", log_path), ("results", results_path)):
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                outputs[name] = handle.read()
        else:
            outputs[name] = None
    for name, text in outputs.items():
        with open(os.path.join(work_dir, "output-%s.txt" % name.replace(" ", "-")), "w") as handle:
            handle.write(text or "")
    return run.returncode, outputs


def check_wire(requests, secrets):
    """Problems if the emulator did not receive the secrets where they belong (the proof they were used)."""
    problems = []

    def envs_of(body):
        body = body or {}
        body = body.get("endpoint", body)
        return dict((e.get("key"), e.get("value")) for e in body.get("envs") or [])

    creates = [r for r in requests if r["path"] == "/endpoint/create" and r["status"] == 200]
    updates = [r for r in requests if r["path"] == "/endpoint/update"]
    applied = [r for r in updates if r["status"] == 200]
    faulted = [r for r in updates if r["fault"]]
    if len(creates) != 1:
        problems.append("expected 1 create, saw %d" % len(creates))
    elif envs_of(creates[0]["body"]).get("HF_TOKEN") != secrets["HF_TOKEN (first)"] or \
            envs_of(creates[0]["body"]).get("DB_PASSWORD") != secrets["DB_PASSWORD"]:
        problems.append("the create body did not carry the first HF_TOKEN and DB_PASSWORD")
    if len(faulted) != 1 or envs_of(faulted[0]["body"]).get("HF_TOKEN") != secrets["HF_TOKEN (rotated)"]:
        problems.append("the refused update did not carry the rotated HF_TOKEN")
    if len(applied) != 3:
        problems.append("expected 3 applied updates, saw %d" % len(applied))
    else:
        if envs_of(applied[0]["body"]).get("HF_TOKEN") != secrets["HF_TOKEN (first)"]:
            problems.append("the ordinary update did not keep the first HF_TOKEN")
        if envs_of(applied[1]["body"]).get("HF_TOKEN") != secrets["HF_TOKEN (rotated)"]:
            problems.append("the rotation update did not carry the rotated HF_TOKEN")
        if envs_of(applied[2]["body"]).get("HF_TOKEN") != secrets["HF_TOKEN (rotated)"]:
            problems.append("the update that names no secret did not keep the rotated HF_TOKEN")
        if any(envs_of(r["body"]).get("DB_PASSWORD") != secrets["DB_PASSWORD"] for r in applied):
            problems.append("an update lost DB_PASSWORD")
    if not [r for r in requests if r["path"] == "/endpoint/delete" and r["status"] == 200]:
        problems.append("no delete was applied")
    rejected = [r for r in requests if r["auth"] != "ok"]
    if [(r["auth"], r["status"]) for r in rejected] != [("invalid", 401)]:
        problems.append("expected exactly one request with a rejected key (401), saw %s" % [(r["auth"], r["status"]) for r in rejected])
    accepted = [r for r in requests if r["auth"] == "ok"]
    if len(accepted) < 10:
        problems.append("only %d requests were accepted with the API key" % len(accepted))
    return problems, len(accepted)


def check_results(results):
    """Problems with what the scenarios returned (changed flags, failures, masking)."""
    problems = []
    expect = [
        ("check_create", lambda r: r["changed"] and not r.get("failed") and r["endpoint"]["id"] is None),
        ("created", lambda r: r["changed"] and not r.get("failed")),
        ("rerun", lambda r: not r["changed"] and not r.get("failed")),
        ("refused_update", lambda r: r.get("failed") and "HTTP 400" in r["msg"]),
        ("updated", lambda r: r["changed"] and r["endpoint"]["worker_config"]["max_num"] == 2),
        ("rotated", lambda r: r["changed"] and r["diff"]["after"]["envs"]["HF_TOKEN"] == "******** (changed)"),
        ("rotated_again", lambda r: not r["changed"] and not r.get("failed")),
        ("scaled_plain", lambda r: r["changed"] and r["endpoint"]["worker_config"]["max_num"] == 3),
        ("over_limit", lambda r: r.get("failed") and "worker_config.max_num: 60 is outside the allowed range" in r["msg"]),
        ("bad_key", lambda r: r.get("failed") and "rejected the API key (401)" in r["msg"]),
        ("deleted", lambda r: r["changed"] and r["diff"]["after"] == {}),
    ]
    for step, predicate in expect:
        result = results.get(step)
        try:
            good = result is not None and predicate(result)
        except (KeyError, TypeError):
            good = False
        if not good:
            problems.append("step %s did not behave as expected: %s" % (step, json.dumps(result)[:400]))
    return problems


def leaked_paths(results, secrets):
    """[(path in the registered results, secret name)] for every value that holds a secret; the values are never printed."""
    found = []

    def walk(data, path):
        if isinstance(data, dict):
            for key, value in data.items():
                walk(value, "%s.%s" % (path, key) if path else str(key))
        elif isinstance(data, list):
            for index, value in enumerate(data):
                walk(value, "%s[%d]" % (path, index))
        elif isinstance(data, str):
            found.extend((path, name) for name, value in secrets.items() if value in data or value[-24:] in data)

    walk(results, "")
    return found


def ordinary_checks(outputs, results, ordinary):
    """(what, visible?) for values that must NOT be redacted."""
    stdout, log, dump = outputs["stdout"], outputs["log file"] or "", outputs["results"] or ""

    def get(path, data=results):
        for key in path:
            data = data[key] if isinstance(data, dict) and key in data else None
        return data

    diff_max_num = re.search(r'^\+\s*"max_num": 2,?$', stdout, re.M)
    return [
        ("image name in stdout", ordinary["image"] in stdout),
        ("image name in the log file", ordinary["image"] in log),
        ("plain env value in stdout", ordinary["plain env value"] in stdout),
        ("plain env value in the returned endpoint", get(("created", "endpoint", "envs", "PLAIN_VALUE")) == ordinary["plain env value"]),
        ('"max_num": 2 in the returned endpoint', '"max_num": 2' in dump and get(("updated", "endpoint", "worker_config", "max_num")) == 2),
        ('"max_num": 2 as an added line of the diff in stdout', bool(diff_max_num)),
        ("plain env value in the diff", get(("check_create", "diff", "after", "envs", "PLAIN_VALUE")) == ordinary["plain env value"]),
        ("secret names with masked values in the returned endpoint", get(("created", "endpoint", "envs")) == {
            "LOG_LEVEL": "info", "PLAIN_VALUE": ordinary["plain env value"], "HF_TOKEN": "********", "DB_PASSWORD": "********"}),
        ("the rotation shown as a change in the diff", '"HF_TOKEN": "******** (changed)"' in stdout),
        ("the limits error in stdout", "worker_config.max_num: 60 is outside the allowed range 0 to 50" in stdout),
        ("the 401 error in stdout", "rejected the API key (401)" in stdout),
        ("the endpoint name in the log file", ENDPOINT_NAME in log),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--keep", metavar="DIR", help="keep the outputs in DIR (they hold no secret if the test passes)")
    options = parser.parse_args()

    secrets, ordinary = make_values()
    work_dir = make_work_dir("secret-hygiene", options.keep)
    started = time.time()
    try:
        collections = collections_path(options.collections_path, work_dir)
        with Emulator(work_dir, secrets["API key"]) as emulator:
            # The next update is refused with an error that repeats the API key and the secret it was sent,
            # as a careless API might: the module must not pass either on.
            emulator.admin("POST", "faults", {
                "method": "POST", "path": "/endpoint/update", "status": 400, "count": 1,
                "body": {"code": 400, "message": "rejected env HF_TOKEN=%s for key %s" % (secrets["HF_TOKEN (rotated)"], secrets["API key"])}})
            returncode, outputs = run_scenarios(emulator, secrets, ordinary, work_dir, collections)
            requests = emulator.requests()
        return report(returncode, outputs, requests, secrets, ordinary, time.time() - started)
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)


def report(returncode, outputs, requests, secrets, ordinary, elapsed):
    problems = []
    if returncode != 0:
        problems.append("ansible-playbook exited %s" % returncode)
    results = {}
    if outputs["results"] is None:
        problems.append("the playbook wrote no results")
    else:
        results = json.loads(outputs["results"])
        problems.extend(check_results(results))
    if outputs["log file"] is None:
        problems.append("ANSIBLE_LOG_PATH was not written")

    # Occurrences of each secret in each output; the random part alone is searched too, so that a value
    # shown with its prefix cut off still counts.
    rows = []
    total = 0
    for name, value in secrets.items():
        core = value[-24:]
        row = [name]
        for output in ("stdout", "stderr", "log file", "results"):
            text = outputs[output] or ""
            hits = max(count(text, value), count(text, core))
            total += hits
            row.append(hits)
        rows.append(row)
    sizes = ["%s %d B" % (k, len(v or "")) for k, v in outputs.items()]
    leaks = leaked_paths(results, secrets)
    print_table(("secret", "stdout", "stderr", "log file", "results"), rows)
    print("")
    wire_problems, accepted = check_wire(requests, secrets)
    problems.extend(wire_problems)
    print("outputs searched: %s" % ", ".join(sizes))
    for path, name in leaks:
        print("secret in the registered result: %s holds the %s" % (path, name))
    print("emulator log: %d requests, %d accepted with the API key; secrets found on the wire where expected: %s"
          % (len(requests), accepted, "yes" if not wire_problems else "NO"))
    checks = ordinary_checks(outputs, results, ordinary) if results else []
    print("")
    print_table(("ordinary value (must be visible)", "visible"), [(what, "yes" if ok else "NO") for what, ok in checks])
    visible = sum(1 for dummy, ok in checks if ok)
    if total:
        problems.append("%d occurrence(s) of secret values in the outputs" % total)
    if visible != len(checks) or not checks:
        problems.append("ordinary values missing: %s" % ", ".join(what for what, ok in checks if not ok))
    print("")
    print("scenarios took %.1f s" % elapsed)
    for problem in problems:
        print("MISMATCH " + problem)
    print("secret hygiene: %d occurrences of %d secret values in %d outputs (stdout, stderr, log file, results); ordinary values visible: %d/%d"
          % (total, len(secrets), len(outputs), visible, len(checks)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
