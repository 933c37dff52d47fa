# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Adopt: export a seeded account with examples/adopt.yml, then audit it with the exported files in check mode.

Seeds (POST /_emulator/seed) an account of many varied endpoints: envs (unicode, empty, with = and spaces), local and
network volume mounts (the network storage by a unique name, by a name two storages share, in another cluster),
health paths, commands, registry credentials (by a unique name, by a name two credentials share, an ID no credential
has), both policy types, endpoints scaled to zero or in another state, app names given or the API's default,
unicode names, and two endpoints that share a name. Then, in each emulator profile, runs the commands of the guide
docs/docsite/rst/adopt.rst as written:

    ansible-playbook examples/adopt.yml
    ansible-playbook examples/adopt.yml -e adopt_step=apply -e @vault.yml --check --diff

(vault.yml here is a plain vars file with the seeded registry passwords). The export must declare every endpoint
whose name is unique and flag the shared name (a comment in endpoints.yml, a warning); the audit must report
changed=0 for every storage, credential and endpoint, and the emulator must have received no write request. A
declaration of the shared name must make the fleet fail before any write, naming both IDs.

Usage (dev venv python):
    python tests/matrix/adopt_test.py [--collections-path DIR] [--profiles strict,documented] [--endpoints N] [--keep DIR]

The last line is "adopt: N/N endpoints round-tripped with 0 changes"; exits 1 on any problem.
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

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

API_KEY = "adopt-key-" + binascii.hexlify(os.urandom(6)).decode("ascii")
RUN_TIMEOUT = 300
RESULT_LINE = re.compile(r"^(?:ok|changed|fatal|failed): \[localhost\](?:: FAILED!)? => (\{.*\})\s*$")
RECAP = re.compile(r"localhost\s*: ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)")
DUPLICATE = "dup-pair"
PASSWORDS = {"dockerhub-private": "emulator-password-1", "ghcr-team": "emulator-password-2", "quay-bot": "quay-pw-3",
             "twin-registry": "twin-pw"}
SEED_AUTHS = [{"id": "auth-3", "name": "quay-bot", "username": "bot", "password": PASSWORDS["quay-bot"]},
              {"id": "auth-4", "name": "twin-registry", "username": "twin", "password": PASSWORDS["twin-registry"]},
              {"id": "auth-5", "name": "twin-registry", "username": "twin", "password": PASSWORDS["twin-registry"]}]
SEED_STORAGES = [{"storageId": "ns-3", "storageName": "checkpoints", "storageSize": 50, "clusterId": "cluster-1"},
                 {"storageId": "ns-4", "storageName": "twin-store", "storageSize": 20, "clusterId": "cluster-1"},
                 {"storageId": "ns-5", "storageName": "twin-store", "storageSize": 20, "clusterId": "cluster-1"}]
NAMES = ("svc-%02d", "模型-%02d", "café %02d ✓", "Embeddings_%02d", "llm.%02d")
IMAGES = ("vllm/vllm-openai:v0.6.%d", "ghcr.io/huggingface/text-embeddings-inference:1.%d", "registry.example.com:5000/team/sdxl:2.%d")
AUTH_IDS = ("", "", "auth-1", "auth-2", "auth-3", "auth-4", "auth-gone")
ENV_VALUES = ("info", "", "true", "a=b c", "välue ✓", "hf_%08d", "0")
MOUNTS = (
    None,  # the create default: 30 GB local at /workspace
    [],
    [{"type": "local", "size": 50, "mountPath": "/data"}],
    [{"type": "network", "id": "ns-1", "mountPath": "/models"}, {"type": "local", "size": 30, "mountPath": "/workspace"}],
    [{"type": "network", "id": "ns-3", "mountPath": "/ckpt"}],
    [{"type": "network", "id": "ns-4", "mountPath": "/shared"}],
    [{"type": "network", "id": "ns-2", "mountPath": "/datasets"}],
)
CLUSTERS = {"ns-1": "cluster-1", "ns-2": "cluster-2", "ns-3": "cluster-1", "ns-4": "cluster-1"}


def seeded_endpoint(index):
    """One endpoint, API-shaped, its shape chosen by ``index`` so that every combination turns up over 50 endpoints."""
    endpoint = {
        "name": NAMES[index % len(NAMES)] % index,
        "products": [{"id": str(1 + index % 3)}],
        "rootfsSize": (100, 50, 200)[index % 3],
        "image": {"image": IMAGES[index % len(IMAGES)] % index, "authId": AUTH_IDS[index % len(AUTH_IDS)],
                  "command": ("", "serve --port 8000", "python -m server --workers 2")[index % 3]},
        "ports": [{"port": (8000, 8080, 7860, 3000)[index % 4]}],
        "workerConfig": {"minNum": (0, 1, 0, 2)[index % 4], "maxNum": (1, 3, 2, 4)[index % 4], "freeTimeout": (300, 60, 900)[index % 3],
                         "maxConcurrent": (1, 4, 16)[index % 3], "gpuNum": (1, 1, 2)[index % 3]},
        "policy": {"type": ("queue", "concurrency")[index % 2], "value": (1, 5, 60, 10)[index % 4]},
        "healthy": {"path": ("/health", "/ready", "", "/v1/models")[index % 4]},
        "envs": [{"key": "VAR_%d" % k, "value": (ENV_VALUES[(index + k) % len(ENV_VALUES)].replace("%08d", "%08d" % index)
                                                 if "%08d" in ENV_VALUES[(index + k) % len(ENV_VALUES)] else ENV_VALUES[(index + k) % len(ENV_VALUES)])}
                 for k in range(index % 4)],
    }
    if index % 5 == 1:
        endpoint["appName"] = "app-%02d" % index
    if index % 7 == 3:
        endpoint["workerConfig"]["requestTimeout"] = 120
    if index % 6 == 2:
        endpoint["workerConfig"]["cudaVersion"] = "12.4"
    if index % 11 == 4:
        endpoint["state"] = {"state": "stopped", "error": "", "message": "scaled to zero"}
    mounts = MOUNTS[index % len(MOUNTS)]
    if mounts is not None:
        endpoint["volumeMounts"] = mounts
        clusters = [CLUSTERS[m["id"]] for m in mounts if m["type"] == "network"]
        if clusters:
            endpoint["clusterID"] = clusters[0]
        if index % 13 == 12 and clusters:
            endpoint["clusterID"] = "cluster-2" if clusters[0] == "cluster-1" else "cluster-1"  # a storage of another cluster
    return endpoint


def account(count):
    endpoints = [seeded_endpoint(index) for index in range(count)]
    endpoints += [{"name": DUPLICATE, "image": {"image": "nginx:1.27"}}, {"name": DUPLICATE, "image": {"image": "nginx:1.27"}, "ports": [{"port": 80}]}]
    return {"auths": SEED_AUTHS, "storages": SEED_STORAGES, "endpoints": endpoints}


class Profile:
    """The export and the audit against one emulator of one profile."""

    def __init__(self, name, work_dir, collections, count):
        self.name = name
        self.dir = os.path.join(work_dir, name)
        os.makedirs(self.dir)
        self.collections = collections
        self.count = count
        self.problems = []
        self.ids = []
        self.declared = 0
        self.unchanged = 0
        self.writes = []
        self.seconds = {}

    def run(self, emulator, args, json_output=False):
        env = ansible_env(self.collections, {"NOVITA_API_KEY": API_KEY, "NOVITA_API_BASE_URL": emulator.url})
        if json_output:
            # Each task result on one line, as JSON (-v prints them).
            env.update(ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_CALLBACK_FORMAT_PRETTY="0")
            args = args + ["-v"]
        started = time.time()
        done = subprocess.run([ansible_playbook()] + args, env=env, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False, timeout=RUN_TIMEOUT)
        return done, time.time() - started

    def execute(self):
        with Emulator(self.dir, API_KEY, ["--profile", self.name, "--quiet"]) as emulator:
            self.ids = emulator.admin("POST", "seed", account(self.count))["ids"]
            playbook = os.path.join(self.collections, "ansible_collections", "novita", "cloud", "examples", "adopt.yml")
            emulator.admin("DELETE", "requests")
            done, self.seconds["export"] = self.run(emulator, [playbook])
            self.check_export(done, emulator)
            if self.problems:
                return
            vault = os.path.join(self.dir, "vault.yml")
            with open(vault, "w", encoding="utf-8") as handle:
                yaml.safe_dump({"vault_novita_registry_passwords": PASSWORDS}, handle)
            emulator.admin("DELETE", "requests")
            done, self.seconds["audit"] = self.run(emulator, [playbook, "-e", "adopt_step=apply", "-e", "@" + vault, "--check", "--diff"],
                                                   json_output=True)
            self.check_audit(done, emulator)
            self.check_duplicate_refused(emulator)

    def check_export(self, done, emulator):
        if done.returncode != 0:
            self.problems.append("the export failed (exit %d):\n%s" % (done.returncode, done.stdout[-3000:]))
            return
        writes = [r for r in emulator.requests() if r["method"] != "GET"]
        if writes:
            self.problems.append("the export sent writes: %s" % ["%s %s" % (r["method"], r["path"]) for r in writes])
        with open(os.path.join(self.dir, "adopted", "endpoints.yml"), encoding="utf-8") as handle:
            text = handle.read()
        declared = yaml.safe_load(text)["novita_endpoints"]
        self.declared = len(declared)
        expected = sorted(seeded_endpoint(index)["name"] for index in range(self.count))
        if sorted(d["name"] for d in declared) != expected:
            self.problems.append("endpoints.yml declares %s, expected every seeded name but %s: %s" % (
                len(declared), DUPLICATE, sorted(set(expected) ^ set(d["name"] for d in declared))))
        dup_ids = self.ids[-2:]
        if not all("NOT DECLARED %s (id %s)" % (DUPLICATE, i) in text for i in dup_ids):
            self.problems.append("endpoints.yml does not flag the shared name %s with both IDs %s" % (DUPLICATE, dup_ids))
        if "not unique: %s (%s)" % (DUPLICATE, ", ".join(sorted(dup_ids))) not in done.stdout:
            self.problems.append("the export gave no warning naming %s and its IDs" % DUPLICATE)
        for must in ("auth_name: ghcr-team", "storage_name: models", "auth_id: auth-4", "auth_id: auth-gone", "id: ns-4", "app_name: app-01"):
            if must not in text:
                self.problems.append("endpoints.yml has no %r" % must)
        if any(value in open(os.path.join(self.dir, "adopted", "registry_auths.yml"), encoding="utf-8").read() for value in PASSWORDS.values()):
            self.problems.append("registry_auths.yml holds a password")

    def check_audit(self, done, emulator):
        self.writes = ["%s %s" % (r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]
        fleet, recap = task_result(done.stdout, "Converge the endpoints"), RECAP.search(done.stdout)
        if fleet is None or recap is None:
            self.problems.append("the audit's output has no result of the fleet task or no recap (exit %d):\n%s" % (
                done.returncode, done.stdout[-3000:]))
            return
        records = fleet.get("endpoints") or []
        self.unchanged = sum(1 for r in records if not r["changed"] and not r["failed"] and r["action"] == "unchanged")
        for record in records:
            if record["changed"] or record["failed"] or record["action"] != "unchanged":
                self.problems.append("audit: %s (%s): %s %s" % (record["name"], record["id"], record["action"], record.get("msg", "")))
        if done.returncode != 0 or recap.group("changed") != "0" or recap.group("failed") != "0":
            self.problems.append("the audit exited %d with changed=%s failed=%s:\n%s" % (
                done.returncode, recap.group("changed"), recap.group("failed"), done.stdout[-3000:]))
        if len(records) != self.declared:
            self.problems.append("the fleet audited %d endpoints, %d are declared" % (len(records), self.declared))
        if self.writes:
            self.problems.append("the audit sent writes: %s" % self.writes)

    def check_duplicate_refused(self, emulator):
        """A declaration of the shared name: the fleet must fail before any write, naming both IDs."""
        playbook = os.path.join(self.dir, "duplicate.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            json.dump([{"name": "Declare the shared name", "hosts": "localhost", "gather_facts": False, "tasks": [{
                "name": "Fleet with the shared name", "novita.cloud.novita_endpoint_fleet": {"endpoints": [{"name": DUPLICATE}]},
                "check_mode": True}]}], handle)
        emulator.admin("DELETE", "requests")
        done, dummy = self.run(emulator, [playbook])
        ids = sorted(self.ids[-2:])
        if done.returncode == 0 or "2 endpoints are named %s (IDs: %s)" % (DUPLICATE, ", ".join(ids)) not in done.stdout:
            self.problems.append("a declaration of %s was not refused naming %s:\n%s" % (DUPLICATE, ids, done.stdout[-1500:]))
        if any(r["method"] != "GET" for r in emulator.requests()):
            self.problems.append("the refused declaration of %s sent a write" % DUPLICATE)


def task_result(output, task):
    """The JSON result line of ``task`` in ansible-playbook -v output with the json result format, or None."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("TASK [%s]" % task):
            for after in lines[index + 1:]:
                match = RESULT_LINE.match(after)
                if match:
                    return json.loads(match.group(1))
                if after.startswith("TASK ["):
                    return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--profiles", default="strict,documented", help="emulator profiles, comma-separated (default strict,documented)")
    parser.add_argument("--endpoints", type=int, default=56, help="endpoints with unique names to seed, at least 50 (default 56)")
    parser.add_argument("--keep", metavar="DIR", help="keep the runs' files and output in DIR")
    options = parser.parse_args()
    if options.endpoints < 50:
        parser.error("--endpoints must be at least 50")
    work_dir = make_work_dir("adopt", options.keep)
    started = time.time()
    profiles = []
    try:
        collections = collections_path(options.collections_path, work_dir)
        for name in filter(None, options.profiles.split(",")):
            profile = Profile(name, work_dir, collections, options.endpoints)
            profiles.append(profile)
            try:
                profile.execute()
            except Exception as exc:  # pylint: disable=broad-except
                profile.problems.append("the run could not be made: %s: %s" % (type(exc).__name__, exc))
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    return report(profiles, options.endpoints, time.time() - started)


def report(profiles, count, elapsed):
    print_table(("profile", "seeded", "declared", "unchanged in check mode", "audit writes", "export (s)", "audit (s)", "result"),
                [(p.name, count + 2, p.declared, p.unchanged, len(p.writes), "%.1f" % p.seconds.get("export", 0), "%.1f" % p.seconds.get("audit", 0),
                  "FAIL" if p.problems else "ok") for p in profiles])
    for profile in profiles:
        for problem in profile.problems:
            print("PROBLEM %s: %s" % (profile.name, problem))
    failed = any(p.problems for p in profiles) or not profiles
    round_tripped = min(p.unchanged for p in profiles) if profiles and not failed else 0
    print("%d endpoints seeded (%s shared by 2, flagged and refused) in profiles %s; %.1f s" % (
        count + 2, DUPLICATE, ", ".join(p.name for p in profiles), elapsed))
    print("adopt: %d/%d endpoints round-tripped with %d changes" % (
        round_tripped, count, sum(len(p.writes) for p in profiles) + sum(1 for p in profiles for x in p.problems if x.startswith("audit:"))))
    return 1 if failed or round_tripped != count else 0


if __name__ == "__main__":
    sys.exit(main())
