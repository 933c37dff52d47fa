# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret hygiene of novita.cloud.novita_endpoint and novita_registry_auth: no API key, secret_envs value or registry password in anything Ansible writes.

Starts the emulator with a random API key, runs tests/matrix/secrets/secret_scenarios.yml at -vvvv with
--diff and ANSIBLE_LOG_PATH (key and secrets passed only in the environment), then searches stdout,
stderr, the log file and the registered results the playbook dumped for every secret value: none may
appear, written as is, JSON-escaped or URL-encoded. It also proves that the secrets were really sent
(the emulator's request log, read here and never printed) and that ordinary values are not
over-redacted (they must be visible).

The playbook's last part puts the emulator's ``echo`` fault on every write path (create, update, a
scale-only update, a fleet create and update, delete): the API refuses the request with a 400 whose
message quotes the request body and headers, the API key included. Among the secrets are a
``secret_envs`` value with a ``"`` and a ``ß`` (so its JSON-escaped forms differ from it) and the value
of a variable another task set, which the scale-only task does not declare at all.

Registry credentials: a credential is created, run again, its password rotated while an endpoint uses it
(repoint_endpoints), a save is refused by the ``echo`` fault (its reply quotes the password), and
novita_registry_auth_info lists every credential, among them one seeded here with a password no task
ever holds (the API lists passwords in clear). The save bodies in the emulator's request log prove that
each password was really sent.

secret_envs given as strings: a JSON string and a ``KEY=value`` string, to novita_endpoint (a create, an
update, and a task refused for another option) and to the fleet (an update and a create). Ansible turns the
string into a dict only after it has chosen what to hide (the whole string), so without the modules' own
hiding the converted values would be printed in the invocation at -vvv and written to the log file. The
create and update bodies prove that each value was really sent.

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
from urllib.parse import quote, quote_plus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from matrix_common import HERE, Emulator, ansible_env, ansible_playbook, collections_path, make_work_dir, print_table  # noqa: E402

PLAYBOOK = os.path.join(HERE, "secrets", "secret_scenarios.yml")
ENDPOINT_NAME = "hyg-endpoint"
REGISTRY_NAME = "hyg-registry"
REGISTRY_ECHO_NAME = "hyg-registry-echo"
REGISTRY_SEEDED_NAME = "hyg-registry-seeded"
REGISTRY_USER_ENDPOINT = "hyg-registry-user"
STRING_NAME = "hyg-string"
STRING_FLEET_NAME = "hyg-string-fleet"


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
        "ECHO_TOKEN (plain ASCII)": "echo-hyg-" + random_hex(),
        'ECHO_QUOTED (with " and \u00df)': 'q"u\u00df-hyg-' + random_hex(),
        "SIDE_VALUE (undeclared, scale-only task)": "side-hyg-" + random_hex(),
        "registry password (first)": "reg-hyg1-" + random_hex(),
        "registry password (rotated)": "reg-hyg2-" + random_hex(),
        "registry password (echoed save)": "reg-hyg-echo-" + random_hex(),
        "registry password (seeded, in no task)": "reg-hyg-seed-" + random_hex(),
        "JSON_TOKEN (secret_envs as a JSON string)": "json-hyg-" + random_hex(),
        "KV_TOKEN (secret_envs as a KEY=value string)": "kv-hyg-" + random_hex(),
        "FLEET_JSON_TOKEN (fleet, JSON string)": "fjson-hyg-" + random_hex(),
        "FLEET_KV_TOKEN (fleet, KEY=value string)": "fkv-hyg-" + random_hex(),
    }
    ordinary = {
        "image": "registry.example.invalid/hyg-app:" + random_hex(4),
        "plain env value": "plain-hyg-" + random_hex(4),
        "registry username": "hyg-bot-" + random_hex(4),
    }
    return secrets, ordinary


# How a secret may be written where it leaks: as is, JSON-escaped (once, with or without \uXXXX escapes, or
# twice, as in a JSON message that quotes a JSON body) and URL-encoded.
FORMS = ("literal", "JSON-escaped", "URL-encoded")


def secret_forms(value):
    """{form name: set of strings}; the literal one is not repeated under the other names."""
    json_ascii = json.dumps(value)[1:-1]
    json_text = json.dumps(value, ensure_ascii=False)[1:-1]
    escaped = set((json_ascii, json_text, json.dumps(json_ascii)[1:-1], json.dumps(json_text)[1:-1]))
    encoded = set((quote(value, safe=""), quote_plus(value), quote(value, safe="").lower()))
    return {"literal": set((value,)), "JSON-escaped": escaped - set((value,)), "URL-encoded": encoded - set((value,)) - escaped}


def core(value):
    """The random end of a secret: the same in every form, so it counts a value however it was escaped or cut."""
    return value[-24:]


def occurrences(text, value):
    """Occurrences of a secret in a text: of its random part, or of a whole form if that counts more."""
    forms = secret_forms(value)
    return max([text.count(core(value))] + [text.count(form) for group in forms.values() for form in group])


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
        "HYG_ECHO_TOKEN": secrets["ECHO_TOKEN (plain ASCII)"],
        "HYG_ECHO_QUOTED": secrets['ECHO_QUOTED (with " and \u00df)'],
        "HYG_SIDE_VALUE": secrets["SIDE_VALUE (undeclared, scale-only task)"],
        "HYG_REGISTRY_USER": ordinary["registry username"],
        "HYG_REGISTRY_PASSWORD_ONE": secrets["registry password (first)"],
        "HYG_REGISTRY_PASSWORD_TWO": secrets["registry password (rotated)"],
        "HYG_REGISTRY_PASSWORD_ECHO": secrets["registry password (echoed save)"],
        "HYG_JSON_TOKEN": secrets["JSON_TOKEN (secret_envs as a JSON string)"],
        "HYG_KV_TOKEN": secrets["KV_TOKEN (secret_envs as a KEY=value string)"],
        "HYG_FLEET_JSON_TOKEN": secrets["FLEET_JSON_TOKEN (fleet, JSON string)"],
        "HYG_FLEET_KV_TOKEN": secrets["FLEET_KV_TOKEN (fleet, KEY=value string)"],
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

    def named(r):
        body = r["body"] or {}
        return body.get("endpoint", body).get("name") == ENDPOINT_NAME

    # The main scenarios' endpoint only: the echo scenarios have endpoints of their own (check_echo).
    creates = [r for r in requests if r["path"] == "/endpoint/create" and r["status"] == 200 and named(r)]
    updates = [r for r in requests if r["path"] == "/endpoint/update" and named(r)]
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
    problems.extend(check_registry_wire(requests, secrets))
    problems.extend(check_string_wire(requests, secrets))
    rejected = [r for r in requests if r["auth"] != "ok"]
    if [(r["auth"], r["status"]) for r in rejected] != [("invalid", 401)]:
        problems.append("expected exactly one request with a rejected key (401), saw %s" % [(r["auth"], r["status"]) for r in rejected])
    accepted = [r for r in requests if r["auth"] == "ok"]
    if len(accepted) < 10:
        problems.append("only %d requests were accepted with the API key" % len(accepted))
    return problems, len(accepted)


def check_registry_wire(requests, secrets):
    """Problems if the registry passwords were not sent where they belong: the save bodies, the repoint, the old credential's delete."""
    problems = []
    saves = [r for r in requests if r["method"] == "POST" and r["path"] == "/repository/auth/save"]
    sent = [((r["body"] or {}).get("name"), (r["body"] or {}).get("password"), r["status"]) for r in saves]
    expected = [(REGISTRY_NAME, secrets["registry password (first)"], 200), (REGISTRY_NAME, secrets["registry password (rotated)"], 200),
                (REGISTRY_ECHO_NAME, secrets["registry password (echoed save)"], 400)]
    if sent != expected:
        # Never the values: which save differs, and how.
        problems.append("expected 3 credential saves (create, rotation, echoed) with their passwords, saw %d: %s"
                        % (len(sent), ", ".join("%s %s%s" % (name, status, "" if (name, password, status) in expected else " (wrong password)")
                                                for name, password, status in sent)))
    repoints = [r for r in requests if r["path"] == "/endpoint/update" and r["status"] == 200
                and (r["body"] or {}).get("name") == REGISTRY_USER_ENDPOINT]
    if len(repoints) != 1 or not ((repoints[0]["body"] or {}).get("image") or {}).get("authId"):
        problems.append("the endpoint using the credential was not repointed by one update (saw %d)" % len(repoints))
    if len([r for r in requests if r["path"] == "/repository/auth/delete" and r["status"] == 200]) != 1:
        problems.append("the rotation did not delete the old credential")
    return problems


def check_string_wire(requests, secrets):
    """Problems if the secret_envs given as strings were not sent, converted, in the bodies of the string scenarios."""
    def sent(path, name):
        bodies = [r["body"] or {} for r in requests if r["path"] == path and r["status"] == 200
                  and ((r["body"] or {}).get("endpoint", r["body"] or {})).get("name") == name]
        return [dict((e.get("key"), e.get("value")) for e in body.get("endpoint", body).get("envs") or []) for body in bodies]

    expected = [
        ("create with a JSON string", sent("/endpoint/create", STRING_NAME), 1, {"JSON_TOKEN": "JSON_TOKEN (secret_envs as a JSON string)"}),
        ("updates with a KEY=value string, then the fleet's JSON string", sent("/endpoint/update", STRING_NAME), 2,
         {"KV_TOKEN": "KV_TOKEN (secret_envs as a KEY=value string)", "JSON_TOKEN": "JSON_TOKEN (secret_envs as a JSON string)"}),
        ("fleet create with a KEY=value string", sent("/endpoint/create", STRING_FLEET_NAME), 1,
         {"FLEET_KV_TOKEN": "FLEET_KV_TOKEN (fleet, KEY=value string)"}),
    ]
    problems = []
    for what, bodies, count, carried in expected:
        if len(bodies) != count or any(bodies[-1].get(key) != secrets[name] for key, name in carried.items()):
            problems.append("the %s did not carry %s (saw %d bodies)" % (what, ", ".join(sorted(carried)), len(bodies)))
    updates = sent("/endpoint/update", STRING_NAME)
    if len(updates) == 2 and updates[1].get("FLEET_JSON_TOKEN") != secrets["FLEET_JSON_TOKEN (fleet, JSON string)"]:
        problems.append("the fleet update did not carry FLEET_JSON_TOKEN")
    return problems


# Echo faults, in the order the playbook queues them: (what, path, endpoint name, env values the body must carry).
ECHO_WRITES = (
    ("novita_endpoint create", "/endpoint/create", "hyg-echo", ("ECHO_TOKEN", "ECHO_QUOTED")),
    ("novita_endpoint update", "/endpoint/update", "hyg-echo", ("ECHO_TOKEN", "ECHO_QUOTED", "SIDE_VALUE")),
    ("novita_endpoint scale-only update", "/endpoint/update", "hyg-echo", ("ECHO_TOKEN", "ECHO_QUOTED", "SIDE_VALUE")),
    ("fleet create", "/endpoint/create", "hyg-echo-fleet", ("ECHO_TOKEN", "ECHO_QUOTED")),
    ("fleet update", "/endpoint/update", "hyg-echo", ("ECHO_TOKEN", "ECHO_QUOTED", "SIDE_VALUE")),
    ("novita_endpoint delete", "/endpoint/delete", None, ()),
    ("novita_registry_auth save", "/repository/auth/save", REGISTRY_ECHO_NAME, ("password",)),
)
ECHO_SECRET_NAMES = {"ECHO_TOKEN": "ECHO_TOKEN (plain ASCII)", "ECHO_QUOTED": 'ECHO_QUOTED (with " and \u00df)',
                     "SIDE_VALUE": "SIDE_VALUE (undeclared, scale-only task)", "password": "registry password (echoed save)"}


def check_echo(requests, secrets):
    """([(write, fired, carried the secrets)], problems): every echo fault fired on a request whose body held the secrets.

    The echo's reply quotes that body and the Authorization header, so the secrets and the API key were in the
    error the module got; the log is read here and never printed.
    """
    echoed = [r for r in requests if r["fault_kind"] == "echo"]
    rows, problems = [], []
    for what, path, name, env_names in ECHO_WRITES:
        match = None
        for entry in echoed:
            body = entry["body"] or {}
            body = body.get("endpoint", body)
            if entry["path"] == path and (name is None or body.get("name") == name):
                match = entry
                break
        if match is None:
            rows.append((what, "no", "-"))
            problems.append("the echo fault did not fire on the %s" % what)
            continue
        echoed.remove(match)
        body = match["body"] or {}
        envs = dict((e.get("key"), e.get("value")) for e in body.get("endpoint", body).get("envs") or [])
        envs["password"] = body.get("password")  # a registry credential save
        carried = all(envs.get(key) == secrets[ECHO_SECRET_NAMES[key]] for key in env_names)
        rows.append((what, "yes (HTTP %s)" % match["status"], ", ".join(env_names + ("API key",)) if carried else "NO"))
        if not carried or match["status"] != 400:
            problems.append("the echo on the %s did not carry %s" % (what, ", ".join(env_names)))
    return rows, problems


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
        ("echo_create", lambda r: r.get("failed") and "HTTP 400" in r["msg"]),
        ("echo_created", lambda r: r["changed"] and not r.get("failed")),
        ("side_set", lambda r: r["changed"] and not r.get("failed")),
        ("echo_update", lambda r: r.get("failed") and "HTTP 400" in r["msg"]),
        ("echo_scale", lambda r: r.get("failed") and "HTTP 400" in r["msg"]),
        ("echo_fleet", lambda r: r.get("failed") and sorted((e["name"], e["failure"]["status"]) for e in r["endpoints"] if e["failed"])
         == [("hyg-echo", 400), ("hyg-echo-fleet", 400)]),
        ("echo_delete", lambda r: r.get("failed") and "HTTP 400" in r["msg"]),
        ("echo_deleted", lambda r: r["changed"] and not r.get("failed")),
        ("reg_created", lambda r: r["changed"] and r["action"] == "created" and r["registry_auth"]["id"]
         and "password" not in r["registry_auth"] and r["diff"]["after"]["password"] == "********"),
        ("reg_rerun", lambda r: not r["changed"] and r["action"] == "unchanged" and not r.get("failed")),
        ("reg_user", lambda r: r["changed"] and r["endpoint"]["image"]["auth_id"] == results["reg_created"]["registry_auth"]["id"]),
        ("reg_rotated", lambda r: r["changed"] and r["action"] == "replaced" and r["replaced_auth_id"] == results["reg_created"]["registry_auth"]["id"]
         and [e["name"] for e in r["repointed_endpoints"]] == [REGISTRY_USER_ENDPOINT]
         and r["diff"]["before"]["password"] == "********" and r["diff"]["after"]["password"] == "******** (changed)"),
        ("reg_echo", lambda r: r.get("failed") and "HTTP 400" in r["msg"] and not r["changed"]),
        ("string_created", lambda r: r["changed"] and r["action"] == "created" and r["endpoint"]["envs"]["JSON_TOKEN"] == "********"),
        ("string_updated", lambda r: r["changed"] and r["action"] == "updated" and r["endpoint"]["envs"]["KV_TOKEN"] == "********"),
        ("string_refused", lambda r: r.get("failed") and "argument 'port' is of type" in r["msg"]),
        ("string_fleet", lambda r: not r.get("failed") and [e["action"] for e in r["endpoints"]] == ["updated", "created"]),
        ("string_deleted", lambda r: r["changed"] and [e["action"] for e in r["endpoints"]] == ["deleted", "deleted"]),
        ("reg_info", lambda r: not r.get("failed") and not any("password" in a for a in r["registry_auths"])
         and sorted(a["name"] for a in r["registry_auths"] if a["name"].startswith("hyg-")) == [REGISTRY_NAME, REGISTRY_SEEDED_NAME]
         and [e["name"] for a in r["registry_auths"] if a["name"] == REGISTRY_NAME for e in a["used_by"]] == [REGISTRY_USER_ENDPOINT]),
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


def hidden_in_invocation(text, name):
    """Whether ``text`` shows a module invocation whose secret_envs holds ``name`` with its value hidden by Ansible."""
    return re.search(r'"secret_envs": \{[^{}]*"%s": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' % re.escape(name), text) is not None


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
        ("the echoed request in the echo errors, secrets masked", "invalid request: {" in stdout and "Bearer ********" in stdout),
        ("plain env value in the echo error of the task declaring it", ordinary["plain env value"] in str(get(("echo_create", "msg")))),
        # At -vvvv every result carries api_requests (searched for secrets with the rest of the output above).
        ("api_requests (-vvvv) of the update in its result", any(
            r.get("method") == "POST" and r.get("path") == "/endpoint/update" and r.get("status") == 200 for r in get(("updated", "api_requests")) or [])),
        ("api_requests (-vvvv) of the refused update in its failed result", any(
            r.get("path") == "/endpoint/update" and r.get("status") == 400 for r in get(("refused_update", "api_requests")) or [])),
        ("api_requests (-vvvv) of the fleet in its failed result", any(
            r.get("path") == "/endpoint/create" for r in get(("echo_fleet", "api_requests")) or [])),
        ("registry username in the returned credential", get(("reg_created", "registry_auth", "username")) == ordinary["registry username"]),
        ("registry username in the diff in stdout", '"username": "%s"' % ordinary["registry username"] in stdout),
        ("the rotation shown as a password change in the diff", '"password": "******** (changed)"' in stdout),
        ("the endpoint using the credential named in the rotation result",
         [e.get("name") for e in get(("reg_rotated", "repointed_endpoints")) or []] == [REGISTRY_USER_ENDPOINT]),
        ("the seeded credential's username in the info result", any(
            a.get("name") == REGISTRY_SEEDED_NAME and a.get("username") == "hyg-seeded-bot" for a in get(("reg_info", "registry_auths")) or [])),
        # The invocation (printed at -vvv, not registered) shows secret_envs converted to a dict: names shown, values hidden.
        ("the JSON string's variable in the invocation in stdout and the log file, value hidden",
         all(hidden_in_invocation(text, "JSON_TOKEN") for text in (stdout, log))),
        ("the KEY=value string's variable in the invocation in stdout and the log file, value hidden",
         all(hidden_in_invocation(text, "KV_TOKEN") for text in (stdout, log))),
        ("the fleet's variables from both strings in its invocation in stdout, values hidden",
         hidden_in_invocation(stdout, "FLEET_JSON_TOKEN") and hidden_in_invocation(stdout, "FLEET_KV_TOKEN")),
        ("the echoed save in its error, username shown, password masked", "invalid request: {" in str(get(("reg_echo", "msg")))
         and ordinary["registry username"] in str(get(("reg_echo", "msg"))) and "********" in str(get(("reg_echo", "msg")))),
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
            # A credential no task holds: the API lists its password in clear, novita_registry_auth_info must not return it.
            emulator.admin("POST", "seed", {"auths": [{"name": REGISTRY_SEEDED_NAME, "username": "hyg-seeded-bot",
                                                       "password": secrets["registry password (seeded, in no task)"]}]})
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

    # Occurrences of each secret in each output, in any of its forms; the random part alone is searched too,
    # so that a value shown with its prefix cut off or escaped differently still counts.
    rows = []
    form_rows = []
    total = 0
    for name, value in secrets.items():
        row = [name]
        for output in ("stdout", "stderr", "log file", "results"):
            hits = occurrences(outputs[output] or "", value)
            total += hits
            row.append(hits)
        rows.append(row)
        forms = secret_forms(value)
        form_rows.append([name] + [sum((outputs[output] or "").count(form) for output in outputs for form in forms[kind]) if forms[kind] else "(same)"
                                   for kind in FORMS] + [sum((outputs[output] or "").count(core(value)) for output in outputs)])
    sizes = ["%s %d B" % (k, len(v or "")) for k, v in outputs.items()]
    leaks = leaked_paths(results, secrets)
    print_table(("secret", "stdout", "stderr", "log file", "results"), rows)
    print("")
    print_table(("secret (all outputs)",) + FORMS + ("random part",), form_rows)
    print("")
    wire_problems, accepted = check_wire(requests, secrets)
    problems.extend(wire_problems)
    echo_rows, echo_problems = check_echo(requests, secrets)
    problems.extend(echo_problems)
    print_table(("write refused with the echo fault", "fired", "its reply quoted"), echo_rows)
    print("")
    print("outputs searched: %s" % ", ".join(sizes))
    for path, name in leaks:
        print("secret in the registered result: %s holds the %s" % (path, name))
    print("emulator log: %d requests, %d accepted with the API key; secrets found on the wire where expected: %s"
          % (len(requests), accepted, "yes" if not wire_problems and not echo_problems else "NO"))
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
    echo_fired = sum(1 for row in echo_rows if row[1] != "no")
    print("secret hygiene: %d occurrences of %d secret values (literal, JSON-escaped, URL-encoded) in %d outputs (stdout, stderr, log file,"
          " results); echo faults quoting them: %d/%d writes; ordinary values visible: %d/%d"
          % (total, len(secrets), len(outputs), echo_fired, len(ECHO_WRITES), visible, len(checks)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
