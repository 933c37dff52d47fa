# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the README's emulator section verbatim, as a new user would from a fresh clone.

The README marks its shell blocks with an HTML comment before the fence:

    <!-- readme-test: emulator-terminal-1 -->     started in the background (bash -c): the emulator
    <!-- readme-test: emulator-terminal-2 -->     run after it, all such blocks in order, in one
                                                  bash -e (make dev, the export line, the playbook,
                                                  the request log commands)

The blocks run in a copy of the work tree's tracked and untracked-but-not-ignored files (what a
commit would hold, as tools/stage.sh copies them), with HOME an empty directory, no ANSIBLE_* or
NOVITA_* variable, and no venv of this checkout on PATH. pip keeps its cache (PIP_CACHE_DIR) and
the user's pip configuration file (PIP_CONFIG_FILE), so packages are not downloaded again.

Checks: terminal 2 exits 0; make dev printed the README's export line; every ansible-playbook recap
has failed=0 and the first run created the endpoint; the request log command listed
POST /endpoint/create; terminal 1 printed access log lines, the create's among them;
tools/requirements-run.txt and constraints-run.txt pin what tools/requirements.txt and
constraints.txt pin. The last line is a summary.

Usage: python tests/readme/readme_test.py [--work-dir DIR] [--readme PATH]
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
API_PREFIX = "/gpu-instance/openapi/v1"
TERMINAL_1 = "emulator-terminal-1"
TERMINAL_2 = "emulator-terminal-2"
MARK = re.compile(r"^<!--\s*readme-test:\s*(?P<name>[\w.-]+)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")
RECAP = re.compile(r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)")
ACCESS_LINE = re.compile(r"^\S+ (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}|-) \d+ms$")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
# What never belongs in the copy (as in tools/stage.sh).
DEBRIS = re.compile(r"^(\.git|\.tmp|\.venv|\.ansible|collections|tests/output)/|^tests/integration/inventory$|(^|/)(__pycache__|\.pytest_cache)/|\.pyc$")
START_TIMEOUT = 15
RUN_TIMEOUT = 900


class ReadmeFailure(Exception):
    """What went wrong, in one line."""


def marked_blocks(readme):
    """{name: [block text, ...]} for every fenced block right after a readme-test mark."""
    with open(readme, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    blocks = {}
    index = 0
    while index < len(lines):
        mark = MARK.match(lines[index])
        index += 1
        if not mark:
            continue
        while index < len(lines) and not lines[index].strip():
            index += 1
        fence = FENCE.match(lines[index]) if index < len(lines) else None
        if not fence or fence.group("lang") not in ("bash", "sh", "console", ""):
            raise ReadmeFailure(f"{os.path.basename(readme)}: the mark {mark.group('name')} is not followed by a ```bash block")
        body = []
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1
        blocks.setdefault(mark.group("name"), []).append("\n".join(body) + "\n")
    return blocks


def work_tree_files():
    """The paths git would commit: tracked and untracked-but-not-ignored files that exist."""
    try:
        listing = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ReadmeFailure(f"cannot list the work tree's files with git: {exc}") from exc
    paths = []
    for path in sorted(set(listing.decode("utf-8", "surrogateescape").split("\0"))):
        full = os.path.join(ROOT, path)
        if path and not DEBRIS.search(path) and (os.path.lexists(full)):
            paths.append(path)
    return paths


def copy_work_tree(destination):
    for path in work_tree_files():
        source = os.path.join(ROOT, path)
        target = os.path.join(destination, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)


def fresh_shell_env(home):
    """The environment of a new terminal: this one's, minus what this checkout's tooling set."""
    real_home = os.path.expanduser("~")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ANSIBLE_", "NOVITA_", "MAKE", "PYTEST_"))
           and name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHON", "MFLAGS")}
    hidden = [os.path.realpath(os.path.join(ROOT, ".venv")), os.path.realpath(os.path.join(ROOT, ".tmp"))]
    if os.environ.get("VIRTUAL_ENV"):
        hidden.append(os.path.realpath(os.environ["VIRTUAL_ENV"]))
    kept = [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
            if entry and not any(os.path.realpath(entry) == h or os.path.realpath(entry).startswith(h + os.sep) for h in hidden)]
    env["PATH"] = os.pathsep.join(kept)
    env["HOME"] = home
    xdg_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(real_home, ".cache")
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or os.path.join(xdg_cache, "pip")
    user_pip_config = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(real_home, ".config"), "pip", "pip.conf")
    if "PIP_CONFIG_FILE" not in env and os.path.isfile(user_pip_config):
        env["PIP_CONFIG_FILE"] = user_pip_config
    env.pop("XDG_CACHE_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    return env


def check_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the emulator binds (http.server sets SO_REUSEADDR): only a listener makes the port taken,
        # not the TIME_WAIT connections a previous run left.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ReadmeFailure(f"port {port}, which the README's emulator block uses, is taken ({exc.strerror}): "
                                "stop what listens there (an emulator left running?) and run again") from exc


def wait_for_url(process, log_path, url):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if url in read(log_path):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise ReadmeFailure(f"terminal 1 did not print {url} within {START_TIMEOUT}s (exit status {process.poll()})")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def pins(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return {match.group("name").lower(): match.group("version") for match in map(PIN.match, handle) if match}


def check_run_pins():
    """The light venv's pins must be the dev venv's: one ansible-core for make demo and make test."""
    dev = pins("tools/constraints.txt")
    dev.update(pins("tools/requirements.txt"))
    problems = [f"{name}=={version} (dev: {dev.get(name, 'not pinned')})"
                for path in ("tools/requirements-run.txt", "tools/constraints-run.txt")
                for name, version in pins(path).items() if dev.get(name) != version]
    if problems:
        raise ReadmeFailure("tools/*-run.txt pin other versions than tools/requirements.txt and constraints.txt: " + ", ".join(problems))


def check_outputs(terminal_2_script, terminal_1, terminal_2):
    """Return (runs, API requests) after checking both terminals' output."""
    printed = terminal_2.splitlines()
    for line in terminal_2_script.splitlines():
        if line.startswith("export ANSIBLE_COLLECTIONS_PATH=") and line not in printed:
            raise ReadmeFailure(f"make dev did not print the README's export line: {line}")
    recaps = [match.groupdict() for match in map(RECAP.match, terminal_2.splitlines()) if match]
    if not recaps:
        raise ReadmeFailure("terminal 2 shows no ansible-playbook recap for localhost")
    failed = [recap for recap in recaps if recap["failed"] != "0" or recap["unreachable"] != "0"]
    if failed:
        raise ReadmeFailure(f"an ansible-playbook run failed: {failed[0]}")
    if recaps[0]["changed"] == "0":
        raise ReadmeFailure("the first run of examples/endpoint.yml changed nothing on an empty emulator")
    if not re.search(r"^POST /endpoint/create 200$", terminal_2, re.MULTILINE):
        raise ReadmeFailure("the request log command in terminal 2 did not list 'POST /endpoint/create 200'")
    access = [match for match in map(ACCESS_LINE.match, terminal_1.splitlines()) if match]
    api = [match for match in access if match.group("path").startswith(API_PREFIX + "/")]
    if not any(match.group("method") == "POST" and match.group("path") == API_PREFIX + "/endpoint/create" for match in api):
        raise ReadmeFailure(f"terminal 1 printed no access log line for POST {API_PREFIX}/endpoint/create")
    return len(recaps), len(api)


def show(title, text):
    print(f"--- {title}")
    print(text.rstrip("\n") or "(nothing)")


def run(work_dir, readme):
    check_run_pins()
    blocks = marked_blocks(readme)
    for name in (TERMINAL_1, TERMINAL_2):
        if name not in blocks:
            raise ReadmeFailure(f"{os.path.basename(readme)} has no block marked <!-- readme-test: {name} -->")
    if len(blocks[TERMINAL_1]) != 1:
        raise ReadmeFailure(f"{os.path.basename(readme)} marks {len(blocks[TERMINAL_1])} blocks {TERMINAL_1}, expected 1")
    terminal_1_block = blocks[TERMINAL_1][0]
    terminal_2_script = "\n".join(blocks[TERMINAL_2])
    port_flag = re.search(r"--port[= ](\d+)", terminal_1_block)
    if not port_flag or port_flag.group(1) == "0":
        raise ReadmeFailure(f"the {TERMINAL_1} block names no fixed --port")
    port = int(port_flag.group(1))
    check_port_free(port)

    shutil.rmtree(work_dir, ignore_errors=True)
    clone, home = os.path.join(work_dir, "clone"), os.path.join(work_dir, "home")
    os.makedirs(home)
    copy_work_tree(clone)
    env = fresh_shell_env(home)
    log_1, log_2 = os.path.join(work_dir, "terminal-1.log"), os.path.join(work_dir, "terminal-2.log")
    print(f"copied the work tree to {os.path.relpath(clone, ROOT)}; HOME={os.path.relpath(home, ROOT)}")
    print(f"terminal 1 (background): {terminal_1_block.strip()}")
    with open(log_1, "w", encoding="utf-8") as out_1, \
            subprocess.Popen(["bash", "-c", terminal_1_block], cwd=clone, env=env, stdout=out_1, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True) as emulator:
        try:
            wait_for_url(emulator, log_1, f"http://127.0.0.1:{port}")
            print(f"terminal 2 (bash -e):\n{terminal_2_script.rstrip()}")
            started = time.monotonic()
            with open(log_2, "w", encoding="utf-8") as out_2:
                try:
                    status = subprocess.run(["bash", "-e", "-c", terminal_2_script], cwd=clone, env=env, stdout=out_2,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT,
                                            check=False).returncode
                except subprocess.TimeoutExpired:
                    status = f"no exit within {RUN_TIMEOUT}s"
            elapsed = time.monotonic() - started
        finally:
            stop(emulator)
    terminal_1, terminal_2 = read(log_1), read(log_2)
    show("terminal 2 output", terminal_2)
    show("terminal 1 output", terminal_1)
    if status != 0:
        raise ReadmeFailure(f"terminal 2 exited with {status}")
    runs, requests = check_outputs(terminal_2_script, terminal_1, terminal_2)
    print(f"terminal 2 took {elapsed:.0f}s")
    return (f"README: {1 + len(blocks[TERMINAL_2])} blocks run verbatim, examples/endpoint.yml converged "
            f"({runs} runs, {requests} API requests in the emulator's access log)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--work-dir", default=os.path.join(ROOT, ".tmp", "readme"), help="where the copy and its HOME go (emptied first)")
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    args = parser.parse_args(argv)
    try:
        print(run(os.path.abspath(args.work_dir), args.readme))
    except ReadmeFailure as exc:
        print(f"README: FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
