# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The documentation's examples, run as written with real ansible-playbook against the emulator.

For every module in plugins/modules, the EXAMPLES string (read from the module file, not imported) becomes one
play: hosts localhost, gather_facts false, the example tasks exactly as written and in order. Every playbook in
examples/ (a YAML list of plays; a vars-only file such as examples/declared_endpoints.yml is not one, but must be
used by one) runs as it is. Each run gets a fresh emulator process, seeded with the endpoints the examples refer
to (CASES below), and the variables the examples expect from a vault come from tests/matrix/examples_vars.yml,
passed with -e @file, as does novita_api_base_url (the emulator's URL, for an example that sets the connection
in module_defaults).

Every task must succeed: no failed, unreachable, ignored or rescued task, and no module example may mark a task as
expected to fail (ignore_errors, rescue). A failed task is printed with the module's msg. Each run also checks
what the emulator received and holds afterwards (a create example must have created...), and that the stand-in
vault values never appear in the output.

Usage (dev venv python, from anywhere):
    python tests/matrix/examples_test.py [--collections-path DIR] [--keep DIR] [--only NAME]... [--jobs N] [--profile P]

DIR contains ansible_collections/novita/cloud; without it the work tree holding this script is used. NAME is a
module name (novita_endpoint) or a playbook file name (endpoint.yml). Exits 1 on any problem.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import HERE, Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

VARS_FILE = os.path.join(HERE, "examples_vars.yml")
WRITE_PATHS = ("/endpoint/create", "/endpoint/update", "/endpoint/delete")
CREATE, UPDATE, DELETE = ("POST " + path for path in WRITE_PATHS)
SAVE_AUTH, DELETE_AUTH = "POST /repository/auth/save", "POST /repository/auth/delete"
CREATE_STORAGE, DELETE_STORAGE = "POST /networkstorage/create", "POST /networkstorage/delete"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)")
TASK_LINE = re.compile(r"^TASK \[(.*)\] \*+$")
FAILED_LINE = re.compile(r"^(?:fatal|failed): \[[^\]]+\](?: \(item=.*?\))?(?:: (?:FAILED|UNREACHABLE)!)? => (\{.*\})\s*$")
# Keys that make a task's failure pass: an example must not rely on them.
EXPECTED_FAILURE_KEYS = ("ignore_errors", "ignore_unreachable", "rescue")


def endpoint_by_name(endpoints, name):
    found = [e for e in endpoints if e.get("name") == name]
    return found[0] if len(found) == 1 else None


def check_endpoint(run):
    """novita_endpoint's examples create, update, recreate and finally delete llama-chat, with two lookups by name."""
    problems = []
    for write in (CREATE, UPDATE, DELETE):
        if write not in run.writes:
            problems.append("the emulator received no %s" % write)
    for read in ("GET /repository/auths", "GET /networkstorages/list"):
        if read not in run.reads:
            problems.append("no %s: the lookup by name did not happen" % read)
    if run.writes.count(CREATE) < 2:
        problems.append("expected a create and the create of the recreate, saw %d create(s)" % run.writes.count(CREATE))
    if run.endpoints:
        problems.append("the last example deletes the endpoint, but the emulator holds %s" % [e.get("name") for e in run.endpoints])
    return problems


def check_info(run):
    """novita_endpoint_info's examples only read, except the last one, which scales the seeded endpoint to the account's limit."""
    problems = []
    if run.writes != [UPDATE]:
        problems.append("expected exactly one write (%s), saw %s" % (UPDATE, run.writes))
    if "GET /endpoint/limit" not in run.reads:
        problems.append("the limits were not read")
    chat = endpoint_by_name(run.endpoints, "llama-chat")
    limit = run.limits.get("maxWorkerNum")
    if chat is None or int(chat["workerConfig"]["maxNum"]) != limit:
        problems.append("llama-chat was not scaled to maxWorkerNum %s: %s" % (limit, chat and chat["workerConfig"]))
    return problems


def check_fleet(run):
    """The fleet's examples create two endpoints, delete team-a-old, scale both to 4 and only preview the exclusive delete;
    someone-elses, outside the team-a- scope, is not touched."""
    problems = []
    if endpoint_by_name(run.endpoints, "someone-elses") is None:
        problems.append("someone-elses, outside the exclusive scope, is gone")
    names = sorted(e.get("name") for e in run.endpoints if e.get("name") != "someone-elses")
    if names != ["team-a-chat", "team-a-embed", "team-a-experiment"]:
        problems.append("the emulator holds %s, expected team-a-chat, team-a-embed and (previewed, not deleted) team-a-experiment" % names)
    for name in ("team-a-chat", "team-a-embed"):
        endpoint = endpoint_by_name(run.endpoints, name)
        if endpoint is not None and int(endpoint["workerConfig"]["maxNum"]) != 4:
            problems.append("%s has maxNum %s, expected 4" % (name, endpoint["workerConfig"]["maxNum"]))
    if run.writes.count(CREATE) != 2 or run.writes.count(DELETE) != 1:
        problems.append("expected 2 creates and 1 delete, saw %s" % run.writes)
    return problems


def check_endpoint_playbook(run):
    """examples/endpoint.yml on an empty account: one create, and demo-llm exists."""
    problems = []
    if run.writes != [CREATE]:
        problems.append("expected exactly one write (%s), saw %s" % (CREATE, run.writes))
    if [e.get("name") for e in run.endpoints] != ["demo-llm"]:
        problems.append("the emulator holds %s, expected demo-llm" % [e.get("name") for e in run.endpoints])
    return problems


def check_drift_audit(run):
    """examples/drift_audit.yml on an account that has exactly the declared endpoints: no drift, and no write at all."""
    problems = []
    if run.writes:
        problems.append("the audit must never write, but sent %s" % run.writes)
    if " 0 with drift" not in run.output:
        problems.append("the audit's summary does not report 0 endpoints with drift")
    return problems


def setup_declared_endpoints(run):
    """Create every endpoint that the playbook's vars_files declare (novita_endpoints), as declared, the way
    tests/integration/targets/novita_endpoint_info/drift_audit.yml does; this run is not counted as examples."""
    vars_files = []
    for play in run.plays:
        vars_files.extend(os.path.join(os.path.dirname(run.playbook), f) for f in play.get("vars_files") or ())
    task = {
        "name": "Create every declared endpoint as declared",
        "novita.cloud.novita_endpoint": dict(
            (key, "{{ item.%s | default(omit) }}" % key)
            for key in ("name", "product_id", "app_name", "rootfs_size", "image", "port", "worker_config", "policy", "healthy", "envs",
                        "volume_mounts", "cluster_id")),
        "loop": "{{ novita_endpoints }}",
        "loop_control": {"label": "{{ item.name }}"},
    }
    task["novita.cloud.novita_endpoint"]["secret_envs"] = "{{ (novita_endpoint_secrets | default({}))[item.name] | default(omit) }}"
    play = {"name": "Create the declared endpoints", "hosts": "localhost", "gather_facts": False, "vars_files": vars_files, "tasks": [task]}
    return [play]


def check_stack(run):
    """examples/stack.yml: from nothing it creates the storage, the credential and the endpoint (in that order), which
    uses both; the same run again, and in check mode with diff (the audit of all three), changes and writes nothing;
    with stack_state=absent it deletes the endpoint first, then the credential and the storage, and nothing is left."""
    problems = []
    if run.writes != [CREATE_STORAGE, SAVE_AUTH, CREATE]:
        problems.append("the first run should create the storage, the credential and the endpoint in that order, but sent %s" % run.writes)
    endpoint = endpoint_by_name(run.after["converge"]["endpoints"], "chat-stack")
    auths = [a for a in run.after["converge"]["auths"] if a.get("name") == "chat-stack-registry"]
    storages = [st for st in run.after["converge"]["storages"] if st.get("storageName") == "chat-stack-models"]
    if endpoint is None or len(auths) != 1 or len(storages) != 1:
        problems.append("after the first run the emulator should hold one endpoint, credential and storage of the stack")
    else:
        if endpoint["image"].get("authId") != auths[0]["id"]:
            problems.append("the endpoint's authId %s is not the credential %s" % (endpoint["image"].get("authId"), auths[0]["id"]))
        if [m.get("id") for m in endpoint.get("volumeMounts") or [] if m.get("type") == "network"] != [storages[0]["storageId"]]:
            problems.append("the endpoint does not mount the storage %s: %s" % (storages[0]["storageId"], endpoint.get("volumeMounts")))
    for label in ("rerun", "audit"):
        if run.later[label]["writes"] or run.later[label]["changed"]:
            problems.append("the %s should change and write nothing, but reported changed=%d and sent %s"
                            % (label, run.later[label]["changed"], run.later[label]["writes"]))
    if run.later["teardown"]["writes"] != [DELETE, DELETE_AUTH, DELETE_STORAGE]:
        problems.append("the teardown should delete the endpoint, then the credential, then the storage, but sent %s"
                        % run.later["teardown"]["writes"])
    left = run.after["teardown"]
    if endpoint_by_name(left["endpoints"], "chat-stack") or any(a.get("name") == "chat-stack-registry" for a in left["auths"]) \
            or any(st.get("storageName") == "chat-stack-models" for st in left["storages"]):
        problems.append("something of the stack is left after the teardown")
    for label, later in sorted(run.later.items()):
        if later["problem"]:
            problems.append("the %s run: %s" % (label, later["problem"]))
    return problems


# What each run is seeded with, what it must have done (check), and any setup play run before it (not counted).
# A module or playbook without an entry runs on an empty emulator with the common checks only.
SEEDED_ENV = [{"key": "LOG_LEVEL", "value": "info"}, {"key": "HF_TOKEN", "value": "{{ vault_hf_token }}"}]
CASES = {
    "novita_endpoint": dict(check=check_endpoint),
    "novita_endpoint_info": dict(
        # The placeholder ID of the examples (and of the RETURN samples), and a second endpoint to list.
        seed=[{"id": "3f2a9c0e7b1d4a55", "name": "llama-chat", "appName": "llama-chat", "envs": SEEDED_ENV},
              {"name": "embeddings", "image": {"image": "ghcr.io/huggingface/text-embeddings-inference:1.5"}, "ports": [{"port": 80}]}],
        check=check_info),
    "novita_endpoint_fleet": dict(
        # team-a-old is deleted by the first example; team-a-experiment is what the exclusive preview would delete.
        seed=[{"name": "team-a-old"}, {"name": "team-a-experiment"}, {"name": "someone-elses"}],
        check=check_fleet),
    "endpoint.yml": dict(check=check_endpoint_playbook),
    # eda-chat scaled behind Ansible's back is brought back to its declaration, eda-embeddings (not there) is created.
    "reconverge_endpoint.yml": dict(
        seed=[{"name": "eda-chat", "image": {"image": "vllm/vllm-openai:v0.6.0", "command": "--model facebook/opt-125m"},
               "workerConfig": {"minNum": 0, "maxNum": 5, "gpuNum": 1}}],
        check=lambda run: ["after the run the emulator holds %s, expected eda-chat with 2 workers at most and eda-embeddings"
                           % [(e.get("name"), e.get("workerConfig", {}).get("maxNum")) for e in run.endpoints]]
        if sorted((e.get("name"), e.get("workerConfig", {}).get("maxNum")) for e in run.endpoints) != [("eda-chat", 2), ("eda-embeddings", 1)]
        or "POST /endpoint/update" not in run.writes else []),
    "drift_audit.yml": dict(setup=setup_declared_endpoints, check=check_drift_audit),
    # Run again as written (nothing to change), then torn down; check_stack judges all three runs.
    "stack.yml": dict(then=[("rerun", []), ("audit", ["--check", "--diff"]), ("teardown", ["-e", "stack_state=absent"])], check=check_stack),
    # The export writes no request; the audit of the exported files (the seeded registry passwords standing in for the vault)
    # changes and writes nothing; the two endpoints named twin get no declaration.
    "adopt.yml": dict(
        seed=[{"name": "chat", "appName": "chat", "image": {"image": "vllm/vllm-openai:latest", "authId": "auth-2", "command": "serve"},
               "envs": [{"key": "LOG_LEVEL", "value": "info"}], "clusterID": "cluster-1",
               "volumeMounts": [{"type": "network", "id": "ns-1", "mountPath": "/models"}]}, {"name": "twin"}, {"name": "twin"}],
        then=[(step, ["-e", "adopt_step=apply", "-e", json.dumps({"vault_novita_registry_passwords": {
            "dockerhub-private": "emulator-password-1", "ghcr-team": "emulator-password-2"}})] + extra)
            for step, extra in (("audit", ["--check", "--diff"]), ("apply", []))],
        # The guide's last command, the apply without --check, changes and writes nothing either: the export is the account.
        check=lambda run: ["the export sent %s" % run.writes] * bool(run.writes) + [
            "the %s: %s" % (step, run.later[step]) for step in ("audit", "apply")
            if run.later[step]["problem"] or run.later[step]["writes"] or run.later[step]["changed"]] + [
            "the export does not flag the name twin"] * ("not unique: twin (" not in run.output)),
}


def load_vars():
    with open(VARS_FILE) as handle:
        values = yaml.safe_load(handle)
    if not isinstance(values, dict) or not values.get("vault_novita_api_key"):
        raise SystemExit("%s must define vault_novita_api_key" % VARS_FILE)
    return values


def module_examples(path):
    """The EXAMPLES string of a module file, read with ast (the module is not imported)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXAMPLES" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def leaf_tasks(tasks):
    """The tasks of a task list, the tasks of its blocks counted instead of the blocks."""
    found = []
    for task in tasks or ():
        if isinstance(task, dict) and any(k in task for k in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                found.extend(leaf_tasks(task.get(key)))
        else:
            found.append(task)
    return found


def expected_failures(tasks):
    """Tasks (and blocks) that let a failure pass: their names."""
    found = []
    for task in tasks or ():
        if not isinstance(task, dict):
            continue
        if any(k in task for k in EXPECTED_FAILURE_KEYS):
            found.append(task.get("name", "(unnamed)"))
        found.extend(expected_failures(task.get("block")) + expected_failures(task.get("always")))
    return found


def is_playbook(data):
    return isinstance(data, list) and bool(data) and all(
        isinstance(p, dict) and ("hosts" in p or "import_playbook" in p or "ansible.builtin.import_playbook" in p) for p in data)


class Run:
    """One ansible-playbook run of a module's EXAMPLES or of an examples/ playbook, against an emulator of its own."""

    def __init__(self, name, kind, playbook, plays, tasks, work_dir):
        self.name, self.kind, self.playbook, self.plays, self.tasks = name, kind, playbook, plays, tasks
        self.dir = os.path.join(work_dir, re.sub(r"[^\w.-]", "_", name))
        os.makedirs(self.dir)
        self.case = CASES.get(os.path.basename(playbook) if kind == "playbook" else name, {})
        self.problems = []
        self.failures = []  # (task, msg)
        self.recap = None
        self.output = ""
        self.seconds = 0.0
        self.requests, self.endpoints, self.limits = [], [], {}
        # The runs after the first one (CASES "then"): label -> writes and problem; the emulator's store after each run.
        self.later = {}
        self.after = {}

    @property
    def writes(self):
        return ["%s %s" % (r["method"], r["path"]) for r in self.requests if r["method"] != "GET" or r["path"] in WRITE_PATHS]

    @property
    def reads(self):
        return ["%s %s" % (r["method"], r["path"]) for r in self.requests if r["method"] == "GET"]

    def execute(self, collections, values, profile):
        started = time.time()
        emulator = Emulator(self.dir, values["vault_novita_api_key"], ["--profile", profile])
        try:
            emulator.start()
            seed = json.loads(json.dumps(self.case.get("seed", [])).replace("{{ vault_hf_token }}", str(values.get("vault_hf_token", ""))))
            if seed:
                emulator.admin("POST", "seed", {"endpoints": seed})
            env = ansible_env(collections, {"NOVITA_API_KEY": values["vault_novita_api_key"], "NOVITA_API_BASE_URL": emulator.url})
            env.pop("HF_TOKEN", None)  # examples/ playbooks read it with a default: keep the runs reproducible
            command = [ansible_playbook(), "-e", "@" + VARS_FILE, "-e", "novita_api_base_url=" + emulator.url]
            if self.case.get("setup"):
                setup = os.path.join(self.dir, "setup.yml")
                with open(setup, "w") as handle:
                    json.dump(self.case["setup"](self), handle, indent=1)
                done = subprocess.run(command + [setup], env=env, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      universal_newlines=True, check=False)
                if done.returncode != 0:
                    self.problems.append("the setup run failed:\n" + done.stdout[-3000:])
                    return
            emulator.admin("DELETE", "requests")
            done = subprocess.run(command + [self.playbook], env=env, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, check=False)
            self.output = done.stdout
            with open(os.path.join(self.dir, "ansible-playbook.out"), "w") as handle:
                handle.write(self.output)
            self.requests = emulator.requests()
            self.endpoints = emulator.admin("GET", "endpoints")["endpoints"]
            self.limits = emulator.admin("GET", "limits")
            self.after["converge"] = self.store(emulator)
            for label, args in self.case.get("then", ()):
                emulator.admin("DELETE", "requests")
                later = subprocess.run(command + args + [self.playbook], env=env, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       universal_newlines=True, check=False)
                with open(os.path.join(self.dir, "ansible-playbook-%s.out" % label), "w") as handle:
                    handle.write(later.stdout)
                recap = [m for m in (RECAP.match(line) for line in later.stdout.splitlines()) if m]
                failed = later.returncode != 0 or not recap or any(int(m.group(5)) or int(m.group(4)) for m in recap)
                self.later[label] = {
                    "writes": ["%s %s" % (r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"],
                    "changed": sum(int(m.group(3)) for m in recap),
                    "problem": ("failed (exit %d):\n%s" % (later.returncode, later.stdout[-2000:])) if failed else None,
                }
                self.after[label] = self.store(emulator)
            self.judge(done.returncode, values)
        finally:
            emulator.stop()
            self.seconds = time.time() - started

    @staticmethod
    def store(emulator):
        """The emulator's endpoints, registry credentials and network storages as it holds them."""
        return {"endpoints": emulator.admin("GET", "endpoints")["endpoints"], "auths": emulator.admin("GET", "auths").get("auths", []),
                "storages": emulator.admin("GET", "storages").get("storages", [])}

    def judge(self, returncode, values):
        task = None
        for line in self.output.splitlines():
            match = TASK_LINE.match(line)
            if match:
                task = match.group(1)
                continue
            match = FAILED_LINE.match(line)
            if match:
                try:
                    result = json.loads(match.group(1))
                    msg = result.get("msg") or json.dumps(result)[:500]
                except ValueError:
                    msg = line
                self.failures.append((task, msg))
            match = RECAP.match(line)
            if match:
                self.recap = dict(zip(("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"),
                                      (int(n) for n in match.groups()[1:])))
        if self.recap is None:
            self.problems.append("ansible-playbook exited %s without a recap:\n%s" % (returncode, self.output[-3000:]))
            return
        if returncode != 0 and not self.failures:
            self.problems.append("ansible-playbook exited %s:\n%s" % (returncode, self.output[-3000:]))
        for key in ("failed", "unreachable", "rescued", "ignored"):
            if self.recap[key]:
                self.problems.append("%s=%d in the recap" % (key, self.recap[key]))
        if self.kind == "module" and self.recap["skipped"]:
            self.problems.append("%d example task(s) skipped" % self.recap["skipped"])
        if self.ok() != len(self.tasks):
            self.problems.append("%d of %d tasks ran and succeeded" % (self.ok(), len(self.tasks)))
        for name in ("vault_hf_token", "vault_novita_api_key", "vault_registry_password", "vault_registry_password_next"):
            if values.get(name) and str(values[name]) in self.output:
                self.problems.append("the value of %s appears in the output" % name)
        if not self.failures and self.case.get("check"):
            self.problems.extend(self.case["check"](self))

    def ok(self):
        if self.recap is None:
            return 0
        done = self.recap["ok"] + (self.recap["skipped"] if self.kind == "playbook" else 0)
        return min(done, len(self.tasks))


def module_runs(root, work_dir, only):
    runs, problems = [], []
    for path in sorted(glob.glob(os.path.join(root, "plugins", "modules", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name.startswith("_") or (only and name not in only):
            continue
        text = module_examples(path)
        tasks = yaml.safe_load(text) if text else None
        if not isinstance(tasks, list) or not tasks:
            problems.append("%s: no EXAMPLES tasks" % name)
            continue
        for task in expected_failures(tasks):
            problems.append("%s: the example %r lets a failure pass (%s); an example must succeed as written"
                            % (name, task, ", ".join(EXPECTED_FAILURE_KEYS)))
        run = Run(name, "module", None, None, leaf_tasks(tasks), work_dir)
        run.playbook = os.path.join(run.dir, "examples.yml")
        with open(run.playbook, "w") as handle:
            handle.write("---\n- name: EXAMPLES of novita.cloud.%s\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" % name)
            handle.write("".join(("    " + line if line.strip() else line) for line in text.strip("\n").splitlines(True)) + "\n")
        runs.append(run)
    return runs, problems


def playbook_runs(root, work_dir, only):
    runs, problems, var_files, used = [], [], [], set()
    for path in sorted(glob.glob(os.path.join(root, "examples", "*.yml")) + glob.glob(os.path.join(root, "examples", "*.yaml"))):
        with open(path) as handle:
            data = yaml.safe_load(handle)
        if not is_playbook(data):
            var_files.append(path)
            continue
        for play in data:
            used.update(os.path.normpath(os.path.join(os.path.dirname(path), f)) for f in play.get("vars_files") or ())
        if only and os.path.basename(path) not in only:
            continue
        tasks = []
        for play in data:
            for key in ("pre_tasks", "tasks", "post_tasks"):
                tasks.extend(leaf_tasks(play.get(key)))
        runs.append(Run("examples/" + os.path.basename(path), "playbook", path, data, tasks, work_dir))
    for path in var_files:
        if os.path.normpath(path) not in used:
            problems.append("examples/%s is neither a playbook nor a vars file that a playbook in examples/ uses" % os.path.basename(path))
    return runs, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collections-path", help="directory containing ansible_collections/novita/cloud (default: this work tree)")
    parser.add_argument("--keep", metavar="DIR", help="write the playbooks, outputs and emulator logs to DIR and keep them")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this module's EXAMPLES or this examples/ playbook (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="ansible-playbook runs in parallel, each with its own emulator (default 2)")
    parser.add_argument("--profile", default="strict", choices=("strict", "documented"), help="the emulator's profile (default strict)")
    options = parser.parse_args()

    values = load_vars()
    work_dir = make_work_dir("examples-test", options.keep)
    started = time.time()
    try:
        collections = collections_path(options.collections_path, work_dir)
        root = os.path.join(collections, "ansible_collections", "novita", "cloud")
        runs, problems = module_runs(root, work_dir, options.only)
        more_runs, more_problems = playbook_runs(root, work_dir, options.only)
        runs += more_runs
        problems += more_problems
        if not runs:
            parser.error("nothing to run")
        pending = list(runs)
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not pending:
                        return
                    run = pending.pop(0)
                try:
                    run.execute(collections, values, options.profile)
                except Exception as exc:  # pylint: disable=broad-except
                    run.problems.append("the run could not be made: %s" % exc)

        threads = [threading.Thread(target=worker) for dummy in range(max(1, min(options.jobs, len(runs))))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return report(runs, problems, time.time() - started)
    finally:
        if not options.keep:
            shutil.rmtree(work_dir, ignore_errors=True)


def report(runs, problems, elapsed):
    rows = []
    for run in runs:
        result = "ok" if not run.problems and not run.failures else "FAIL"
        rows.append((run.name, len(run.tasks), run.ok(), len(run.failures), len(run.writes), "%.1f" % run.seconds, result))
        for task, msg in run.failures:
            problems.append("%s: task %r failed: %s" % (run.name, task, msg))
        problems.extend("%s: %s" % (run.name, problem) for problem in run.problems)
    print_table(("examples", "tasks", "ok", "failed", "writes", "seconds", "result"), rows)
    print("")
    print("%d ansible-playbook runs took %.1f s" % (len(runs), elapsed))
    for problem in problems:
        print("PROBLEM " + problem)
    modules = [r for r in runs if r.kind == "module"]
    playbooks = [r for r in runs if r.kind == "playbook"]
    total = sum(len(r.tasks) for r in runs)
    passed = sum(r.ok() for r in runs)
    print("examples: %d/%d tasks ok in %d module EXAMPLES blocks (%s) and %d playbooks"
          % (passed, total, len(modules), ", ".join("%s %d" % (r.name, len(r.tasks)) for r in modules), len(playbooks)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
