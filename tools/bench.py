"""make bench: request counts and wall times of the collection's modules against the local emulator.

Usage: python tools/bench.py [--latency MS] [--rounds N] [--items N] [--sizes 10,100,300] [--skip P,..] [--only P,..] [--no-doc]

Starts tests/emulator/novita_emulator.py with --latency-ms, runs the playbooks in tools/bench/
with ansible-playbook (per-task wall times come from the callback in tools/bench/callback_plugins)
and prints:
  1. requests per scenario, counted from the emulator's request log, next to the minimum each needs;
  2. a no-op novita_endpoint loop against an ansible.builtin.uri GET loop of the same endpoint;
  3. unchanged fleets of several sizes: a loop of novita_endpoint against novita_endpoint_fleet;
  4. one novita_endpoint_fleet task updating 300 seeded endpoints (concurrency 16) against the emulator
     with a rate limit of 10 requests a second (burst 10) and no added latency: requests, 429s, wall time
     against requests / rate.
  5. adopting 1,000 endpoints: novita_endpoint_info with output: declaration (time, requests, peak memory of the
     module process), the fleet in check mode with the exported declarations (the same figures; no change), and the
     1,000 declarations with 100 of them changed converged under the rate limit of part 4.
Parts: requests, noop, fleets, ratelimit, adopt; --skip leaves some out, --only runs only those given
(`make bench BENCH_ARGS="--only ratelimit"`, `--only adopt`).
The results of parts 1 to 3 replace the part of docs/benchmark.md between its bench markers when all
three ran, those of part 4 the part between its bench:ratelimit markers when it ran, those of part 5 the part
between its bench:adopt markers (unless --no-doc).
Exits 1 if a scenario's request count differs from its minimum, the fleet of 100 reads more than its
list pages (+1), or an endpoint of part 4 failed or did not converge; the timing targets are reported,
not enforced (the machine is shared).
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / 'tools' / 'bench'
EMULATOR = ROOT / 'tests' / 'emulator' / 'novita_emulator.py'
DOC = ROOT / 'docs' / 'benchmark.md'
DOC_BEGIN = '<!-- bench:begin -->'
DOC_END = '<!-- bench:end -->'
DOC_RATE_BEGIN = '<!-- bench:ratelimit:begin -->'
DOC_RATE_END = '<!-- bench:ratelimit:end -->'
PARTS = ('requests', 'noop', 'fleets', 'ratelimit', 'adopt')
DOC_ADOPT_BEGIN = '<!-- bench:adopt:begin -->'
DOC_ADOPT_END = '<!-- bench:adopt:end -->'
MEMORY_TARGET_MB = 200
API_PREFIX = '/gpu-instance/openapi/v1'
API_KEY = 'emulator-key'
PAGE_SIZE = 100
NOOP_TARGET = 1.25
FLEET_TIME_TARGET = 5.0
RATE_TARGET = 1.5  # wall time at most this many times requests / rate
SAMPLE_SECONDS = 0.25  # how often part 4 reads /_emulator/stats


class Emulator:
    """The emulator as a child process, with its admin interface."""

    def __init__(self, work_dir, latency_ms):
        url_file = Path(work_dir) / 'emulator.url'
        self.log = open(Path(work_dir) / 'emulator.log', 'w', encoding='utf-8')  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, str(EMULATOR), '--port', '0', '--url-file', str(url_file), '--api-key', API_KEY,
             '--latency-ms', str(latency_ms)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not (url_file.exists() and url_file.stat().st_size):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit('the emulator did not start; see %s' % self.log.name)
            time.sleep(0.05)
        self.url = url_file.read_text(encoding='utf-8').strip()

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + '/_emulator' + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def requests(self):
        return self.admin('GET', '/requests')['requests']

    def clear(self):
        self.admin('DELETE', '/requests')

    def seed(self, endpoints):
        return self.admin('POST', '/seed', {'endpoints': endpoints})['ids']

    def count(self):
        return len(self.admin('GET', '/endpoints')['endpoints'])

    def endpoints(self):
        return self.admin('GET', '/endpoints')['endpoints']

    def stats(self):
        return self.admin('GET', '/stats')

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Runner:
    """Runs the bench playbooks against the emulator and returns the per-task wall times."""

    def __init__(self, work_dir, emulator):
        self.work_dir = Path(work_dir)
        collections = self.work_dir / 'collections'
        (collections / 'ansible_collections' / 'novita').mkdir(parents=True)
        (collections / 'ansible_collections' / 'novita' / 'cloud').symlink_to(ROOT)
        self.env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(collections),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_CALLBACK_PLUGINS=str(BENCH_DIR / 'callback_plugins'),
            ANSIBLE_CALLBACKS_ENABLED='bench_timer',
            ANSIBLE_LOCALHOST_WARNING='false',
            ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_DEPRECATION_WARNINGS='false',
            NOVITA_API_BASE_URL=emulator.url,
            NOVITA_API_KEY=API_KEY,
        )
        self.playbook_bin = str(Path(sys.executable).parent / 'ansible-playbook')
        self.runs = 0

    def run(self, playbook, variables, check=False):
        self.runs += 1
        vars_file = self.work_dir / ('vars-%d.json' % self.runs)
        times_file = self.work_dir / ('times-%d.json' % self.runs)
        log_file = self.work_dir / ('run-%d.log' % self.runs)
        vars_file.write_text(json.dumps(variables), encoding='utf-8')
        command = [self.playbook_bin, str(BENCH_DIR / playbook), '-e', '@%s' % vars_file]
        if check:
            command += ['-e', 'bench_check=true']
        env = dict(self.env, NOVITA_BENCH_TIMES=str(times_file))
        with open(log_file, 'w', encoding='utf-8') as log:
            status = subprocess.call(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(self.work_dir))
        if status != 0:
            tail = log_file.read_text(encoding='utf-8').splitlines()[-30:]
            raise SystemExit('ansible-playbook %s failed (exit %d):\n%s' % (playbook, status, '\n'.join(tail)))
        return json.loads(times_file.read_text(encoding='utf-8'))


def pages(total):
    return max(1, math.ceil(total / PAGE_SIZE))


def summarise(requests):
    counts = {}
    for request in requests:
        key = '%s %s' % (request['method'], request['path'])
        counts[key] = counts.get(key, 0) + 1
    return ', '.join('%s x%d' % item for item in counts.items())


def task_seconds(times, name):
    return [t['seconds'] for t in times if t['name'] == name]


# ---------------------------------------------------------------------------
# 1. requests per scenario

def scenario_requests(emulator, runner):
    emulator.admin('POST', '/reset')
    emulator.seed([
        {'id': '00000000000000b1', 'name': 'bench-one'},
        {'id': '00000000000000b2', 'name': 'bench-two'},
        {'id': '00000000000000b3', 'name': 'bench-del'},
    ])
    new = {'product_id': '1', 'image': {'image': 'nginx:latest'}, 'port': 8000}

    def p():
        return pages(emulator.count())

    # (label, playbook, variables, check mode, minimum as a function of the list pages, why)
    scenarios = [
        ('novita_endpoint unchanged, by id', 'endpoint.yml', {'bench_args': {'id': '00000000000000b1', 'worker_config': {'max_num': 1}}},
         False, lambda: 1, 'GET /endpoint'),
        ('novita_endpoint unchanged, by name', 'endpoint.yml', {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 1}}},
         False, p, 'list pages'),
        ('novita_endpoint update, wait=false', 'endpoint.yml',
         {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 2}, 'wait': False}},
         False, lambda: p() + 3, 'list pages + read by ID + limits + update'),
        ('novita_endpoint update, wait=true', 'endpoint.yml', {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 3}}},
         False, lambda: p() + 4, 'list pages + read by ID + limits + update + 1 poll (serving at once)'),
        ('novita_endpoint create, wait=false', 'endpoint.yml', {'bench_args': dict(new, name='bench-new', wait=False)},
         False, lambda: 2 * p() + 2, 'list pages + limits + create + list pages (concurrent-create check)'),
        ('novita_endpoint delete, wait=false', 'endpoint.yml', {'bench_args': {'name': 'bench-del', 'state': 'absent', 'wait': False}},
         False, lambda: p() + 1, 'list pages + delete'),
        ('novita_endpoint check mode, update', 'endpoint.yml', {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 5}}},
         True, lambda: p() + 2, 'list pages + read by ID + limits'),
        ('fleet of 3 unchanged', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 3}}, {'name': 'bench-two'}, {'name': 'bench-new'}]},
         False, p, 'list pages'),
        ('fleet of 3, 1 update + 1 create, wait=false', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 4}}, {'name': 'bench-two'}, dict(new, name='bench-three')],
          'bench_wait': False},
         False, lambda: 2 * p() + 5, 'list pages + 2 reads by ID + limits + update + create + list pages (concurrent-create check)'),
        ('fleet of 3 check mode, 2 updates', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 6}}, {'name': 'bench-two', 'worker_config': {'max_num': 2}},
                              {'name': 'bench-new'}]},
         True, lambda: p() + 3, 'list pages + 2 reads by ID + limits'),
    ]
    rows = []
    for label, playbook, variables, check, minimum, why in scenarios:
        expected = minimum()  # before the run: a create or delete changes the page count only afterwards
        emulator.clear()
        runner.run(playbook, variables, check=check)
        logged = emulator.requests()
        rows.append({'scenario': label, 'requests': len(logged), 'minimum': expected, 'why': why, 'sent': summarise(logged)})
    return rows


# ---------------------------------------------------------------------------
# 2. no-op novita_endpoint against uri

def noop_vs_uri(emulator, runner, rounds, items):
    emulator.admin('POST', '/reset')
    endpoint_id = emulator.seed([{'name': 'bench-noop'}])[0]
    emulator.clear()
    times = runner.run('noop_vs_uri.yml', {'bench_rounds': rounds, 'bench_items': items, 'bench_endpoint_id': endpoint_id,
                                           'bench_api_url': emulator.url + API_PREFIX, 'bench_api_key': API_KEY})
    module = task_seconds(times, 'Bench noop novita_endpoint round')
    uri = task_seconds(times, 'Bench uri GET round')
    if len(module) != rounds or len(uri) != rounds:
        raise SystemExit('expected %d timed rounds of each loop, got %d and %d' % (rounds, len(module), len(uri)))
    logged = emulator.requests()
    ratios = [m / u for m, u in zip(module, uri)]
    return {'module': module, 'uri': uri, 'ratios': ratios, 'median_ratio': statistics.median(ratios),
            'requests': len(logged), 'expected_requests': 2 * rounds * items, 'sent': summarise(logged)}


# ---------------------------------------------------------------------------
# 3. unchanged fleets: loop against fleet module

def fleets(emulator, runner, sizes):
    rows = []
    for size in sizes:
        emulator.admin('POST', '/reset')
        names = ['bench-fleet-%04d' % i for i in range(size)]
        emulator.seed([{'name': name} for name in names])
        declarations = [{'name': name, 'worker_config': {'max_num': 1}} for name in names]
        row = {'size': size, 'pages': pages(size)}
        for kind, playbook, task in (('loop', 'loop.yml', 'Bench a loop of novita_endpoint'),
                                     ('fleet', 'fleet.yml', 'Bench novita_endpoint_fleet')):
            emulator.clear()
            times = runner.run(playbook, {'bench_endpoints': declarations})
            logged = emulator.requests()
            row[kind + '_seconds'] = task_seconds(times, task)[0]
            row[kind + '_requests'] = len(logged)
            row[kind + '_only_list'] = all(r['method'] == 'GET' and r['path'] == '/endpoints' for r in logged)
            row[kind + '_sent'] = summarise(logged)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# 4. one fleet task updating many endpoints under a rate limit

def result_playbook(work_dir, filename, play, task):
    """A playbook in the work directory: one play of ``task`` (which registers ``bench_result``), whose result is then
    written to ``bench_result_file`` for the bench to read."""
    path = Path(work_dir) / filename
    # JSON is YAML.
    path.write_text(json.dumps([{
        'name': play, 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [
            dict(task, register='bench_result'),
            {'name': 'Write the result',
             'ansible.builtin.copy': {'dest': '{{ bench_result_file }}', 'content': '{{ bench_result | to_json }}', 'mode': '0600'}},
        ],
    }], indent=1), encoding='utf-8')
    return path


def ratelimit_playbook(work_dir):
    """One novita_endpoint_fleet task under a rate limit."""
    return result_playbook(work_dir, 'ratelimit.yml', 'One novita_endpoint_fleet task under a rate limit', {
        'name': 'Bench novita_endpoint_fleet under a rate limit',
        'novita.cloud.novita_endpoint_fleet': {'endpoints': '{{ bench_endpoints }}', 'concurrency': '{{ bench_concurrency }}',
                                               'wait': '{{ bench_wait }}'},
        'ignore_errors': True})


def ratelimit(emulator, runner, work_dir, size, rate, burst, concurrency, wait):
    emulator.admin('POST', '/reset')
    names = ['bench-rate-%04d' % i for i in range(size)]
    emulator.seed([{'name': name, 'workerConfig': {'maxNum': 1}} for name in names])
    emulator.admin('POST', '/config', {'latency_ms': 0, 'rate_limit': rate, 'rate_burst': burst})  # the bucket starts full
    emulator.clear()
    emulator.admin('DELETE', '/stats')
    result_file = Path(work_dir) / 'ratelimit-result.json'
    declarations = [{'name': name, 'worker_config': {'max_num': 2}} for name in names]
    samples = []  # (seconds since the start, requests, 429s), from /_emulator/stats every SAMPLE_SECONDS
    done = threading.Event()

    def sample():
        while not done.wait(SAMPLE_SECONDS):
            try:
                now = emulator.stats()
            except OSError:
                continue
            samples.append((time.monotonic() - started, now['requests'], now['rate_limited']))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    try:
        times = runner.run(ratelimit_playbook(work_dir), {'bench_endpoints': declarations, 'bench_concurrency': concurrency,
                                                          'bench_wait': wait, 'bench_result_file': str(result_file)})
    finally:
        done.set()
        sampler.join()
    run_seconds = time.monotonic() - started
    stats = emulator.stats()
    # The API phase: from the last sample before the first request to the first sample that saw them all.
    first = max([t for t, n, _l in samples if n == 0] or [0.0])
    last = min([t for t, n, _l in samples if n >= stats['requests']] or [run_seconds])
    logged = emulator.requests()
    emulator.admin('POST', '/config', {'rate_limit': 0})
    result = json.loads(result_file.read_text(encoding='utf-8'))
    items = result.get('endpoints') or []
    stored = dict((e['name'], e) for e in emulator.endpoints() if e.get('name') in set(names))
    converged = sum(1 for item in items if not item.get('failed') and item.get('changed')
                    and str((stored.get(item.get('name')) or {}).get('workerConfig', {}).get('maxNum')) == '2')
    failures = [item for item in items if item.get('failed')]
    seconds = task_seconds(times, 'Bench novita_endpoint_fleet under a rate limit')[0]
    limited = [r for r in logged if r.get('fault_kind') == 'rate_limit']
    # Waves: runs of 429s in the log with no answered request between them (the threads in flight when the bucket ran dry).
    waves = sum(1 for i, r in enumerate(logged) if r.get('fault_kind') == 'rate_limit' and (i == 0 or logged[i - 1].get('fault_kind') != 'rate_limit'))
    by_kind = {}  # 'METHOD /path' -> [requests, of them 429]
    for request in logged:
        key = '%s %s' % (request['method'], request['path'])
        entry = by_kind.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += request.get('fault_kind') == 'rate_limit'
    return {
        'size': size, 'rate': rate, 'burst': burst, 'concurrency': concurrency, 'wait': wait,
        'requests': stats['requests'], 'limited': stats['rate_limited'], 'by_status': stats['by_status'],
        'accepted': stats['requests'] - stats['rate_limited'], 'logged_limited': len(limited),
        'converged': converged, 'failures': len(failures), 'failure_msgs': [f.get('msg') for f in failures[:3]],
        'task_failed': bool(result.get('failed')), 'seconds': seconds, 'run_seconds': run_seconds,
        'by_kind': by_kind, 'waves': waves, 'api_seconds': last - first, 'samples': samples,
    }


# ---------------------------------------------------------------------------
# 5. adopting 1,000 endpoints: export, check-mode fleet, converge with 100 updates under the rate limit

def adopt_account(size):
    """``size`` endpoints of varied shapes: every 10th pulls with a registry credential, every 7th mounts a network storage."""
    endpoints = []
    for index in range(size):
        endpoint = {'name': 'bench-adopt-%04d' % index, 'workerConfig': {'maxNum': 1 + index % 3, 'minNum': index % 2},
                    'envs': [{'key': 'LOG_LEVEL', 'value': 'info'}, {'key': 'INDEX', 'value': str(index)}],
                    'image': {'image': 'vllm/vllm-openai:v0.6.%d' % (index % 10), 'authId': 'auth-1' if index % 10 == 0 else ''}}
        if index % 7 == 0:
            endpoint.update(clusterID='cluster-1', volumeMounts=[{'type': 'network', 'id': 'ns-1', 'mountPath': '/models'}])
        endpoints.append(endpoint)
    return endpoints


def rss_interpreter(work_dir):
    """A Python interpreter for the modules that runs the real one and appends its peak RSS (KiB) and arguments to the file
    named by NOVITA_BENCH_RSS: the peak memory of each module process."""
    path = Path(work_dir) / 'rss-python'
    path.write_text('#!%s\nimport os, resource, subprocess, sys\ncode = subprocess.call([%r] + sys.argv[1:])\n'
                    'with open(os.environ["NOVITA_BENCH_RSS"], "a") as handle:\n'
                    '    handle.write("%%d %%s\\n" %% (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, " ".join(sys.argv[1:])))\n'
                    'sys.exit(code)\n' % (sys.executable, sys.executable), encoding='utf-8')
    path.chmod(0o755)
    return path


def module_rss_mb(rss_file, module):
    """The peak RSS in MB of the ``module`` processes that wrote to ``rss_file``."""
    found = [int(line.split()[0]) for line in rss_file.read_text(encoding='utf-8').splitlines() if 'AnsiballZ_%s.py' % module in line]
    return max(found) / 1024.0 if found else None


def adopt_playbook(work_dir):
    """One export of every endpoint as declarations."""
    return result_playbook(work_dir, 'adopt-export.yml', 'Export every endpoint', {
        'name': 'Bench novita_endpoint_info output declaration',
        'novita.cloud.novita_endpoint_info': {'output': 'declaration'}})


def adopt(emulator, runner, work_dir, size, updates, rate, burst, concurrency):
    emulator.admin('POST', '/reset')
    emulator.seed(adopt_account(size))
    rss_file = Path(work_dir) / 'rss.txt'
    # The implicit localhost's interpreter is a host variable: only an extra variable overrides it.
    interpreter = {'ansible_python_interpreter': str(rss_interpreter(work_dir))}
    runner.env.update(NOVITA_BENCH_RSS=str(rss_file), ANSIBLE_PIPELINING='0')
    rows = {}
    try:
        result_file = Path(work_dir) / 'adopt-export.json'
        adopt_run(emulator, runner, rss_file, 'export', adopt_playbook(work_dir), dict(interpreter, bench_result_file=str(result_file)),
                  'Bench novita_endpoint_info output declaration', 'novita_endpoint_info', rows)
        declarations = json.loads(result_file.read_text(encoding='utf-8'))['declarations']
        rows['export']['declared'] = len(declarations)
        adopt_run(emulator, runner, rss_file, 'check', 'fleet.yml', dict(interpreter, bench_endpoints=declarations), 'Bench novita_endpoint_fleet',
                  'novita_endpoint_fleet', rows, check=True)
        changed = copy_with_updates(declarations, updates)
        emulator.admin('POST', '/config', {'latency_ms': 0, 'rate_limit': rate, 'rate_burst': burst})
        result_file = Path(work_dir) / 'adopt-converge.json'
        adopt_run(emulator, runner, rss_file, 'converge', ratelimit_playbook(work_dir),
                  dict(interpreter, bench_endpoints=changed, bench_concurrency=concurrency, bench_wait=False, bench_result_file=str(result_file)),
                  'Bench novita_endpoint_fleet under a rate limit', 'novita_endpoint_fleet', rows)
        emulator.admin('POST', '/config', {'rate_limit': 0})
        result = json.loads(result_file.read_text(encoding='utf-8'))
        stored = dict((e['name'], e) for e in emulator.endpoints())
        rows['converge']['converged'] = sum(1 for d in changed if str(stored[d['name']]['workerConfig']['maxNum'])
                                            == str((d.get('worker_config') or {}).get('max_num', 1)))
        rows['converge']['updated'] = sum(1 for item in result.get('endpoints') or [] if item.get('changed'))
        rows['converge']['failed'] = sum(1 for item in result.get('endpoints') or [] if item.get('failed'))
    finally:
        for key in ('NOVITA_BENCH_RSS', 'ANSIBLE_PIPELINING'):
            runner.env.pop(key, None)
    uses = sum(1 for d in declarations if (d.get('image') or {}).get('auth_name'))
    storage_names = set(m['storage_name'] for d in declarations for m in d.get('volume_mounts') or [] if m.get('storage_name'))
    lookups = (1 if uses else 0) + len(storage_names)
    rows['export']['minimum'], rows['export']['why'] = pages(size) + 2, 'list pages + credential list + storage list page'
    rows['check']['minimum'], rows['check']['why'] = pages(size) + lookups, 'list pages + credential list + 1 storage lookup per storage name'
    rows['converge']['minimum'] = pages(size) + lookups + 1 + 3 * updates
    rows['converge']['why'] = 'the check\'s reads + limits + per update 2 reads by ID and the update'
    rows['meta'] = {'size': size, 'updates': updates, 'rate': rate, 'burst': burst, 'concurrency': concurrency}
    return rows


def copy_with_updates(declarations, updates):
    """The declarations, the first ``updates`` of every ``len // updates`` with a new ``max_num``."""
    changed = json.loads(json.dumps(declarations))
    step = max(1, len(changed) // updates)
    for item in changed[::step][:updates]:
        config = item.setdefault('worker_config', {})
        config['max_num'] = config.get('max_num', 1) + 1
    return changed


def adopt_run(emulator, runner, rss_file, label, playbook, variables, task, module, rows, check=False):
    emulator.clear()
    emulator.admin('DELETE', '/stats')
    if rss_file.exists():
        rss_file.unlink()
    times = runner.run(playbook, variables, check=check)
    logged = emulator.requests()
    stats = emulator.stats()
    rows[label] = {'seconds': task_seconds(times, task)[0], 'requests': stats['requests'], 'limited': stats['rate_limited'],
                   'writes': sum(1 for r in logged if r['method'] != 'GET' and r.get('fault_kind') != 'rate_limit'), 'sent': summarise(logged),
                   'rss_mb': module_rss_mb(rss_file, module)}
    return rows[label]


def report_adopt(info, rows, fleet_rows, problems):
    meta = rows['meta']
    out = ['Run %s UTC; emulator latency as parts 1 to 3 for the export and the check, rate limit %g requests/s (burst %g) and no'
           ' added latency for the converge.' % (datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), meta['rate'], meta['burst']),
           'Machine: %(cpus)s CPUs, %(model)s; Python %(python)s; ansible-core %(ansible_core)s; %(system)s.' % info, '',
           '### 5. Adopting %d endpoints' % meta['size'], '']
    table_rows = []
    for label, what in (('export', 'novita_endpoint_info, output: declaration'), ('check', 'fleet, check mode, the exported declarations'),
                        ('converge', 'fleet, %d updates, concurrency %d, wait: false' % (meta['updates'], meta['concurrency']))):
        row = rows[label]
        table_rows.append((what, row['requests'] - row['limited'], row['minimum'], row['why'], row['limited'], row['writes'],
                           '%.1f' % row['seconds'], '%.0f' % row['rss_mb'] if row['rss_mb'] else '?'))
    out.append(table(['run', 'requests answered', 'minimum', 'minimum is', '429s', 'writes answered', 'wall (s)', 'module peak RSS (MB)'], table_rows))
    out.append('')
    converge = rows['converge']
    ideal = converge['requests'] / meta['rate']
    out.append('%d declarations exported (%d endpoints); the check reported %s; the converge updated %d, %d failed, %d read back with the new'
               ' value. Sent: export %s; check %s.' % (
                   rows['export']['declared'], meta['size'], 'no change' if not rows['check']['writes'] else 'WRITES', converge['updated'],
                   converge['failed'], converge['converged'], rows['export']['sent'], rows['check']['sent']))
    out.append('')
    growth = [r for r in fleet_rows if r['size'] == 100]
    if growth:
        small = growth[0]
        out.append('From 100 to %d endpoints: the unchanged fleet of 100 took %.1f s for %d requests (part 3); the check of %d took %.1f s'
                   ' (%.1fx) for %d requests (%.1fx). Requests grow with the list pages (one per 100 endpoints) and the distinct'
                   ' credential and storage names, not with the endpoints; time and memory grow linearly with the declarations the'
                   ' module gets and compares.' % (meta['size'], small['fleet_seconds'], small['fleet_requests'], meta['size'],
                                                   rows['check']['seconds'], rows['check']['seconds'] / small['fleet_seconds'],
                                                   rows['check']['requests'], rows['check']['requests'] / float(small['fleet_requests'])))
        out.append('')
    out.append('### Targets')
    out.append('')
    for label in ('export', 'check', 'converge'):
        row = rows[label]
        answered = row['requests'] - row['limited']
        out.append('- %s: %d requests answered, minimum %d: %s; peak RSS %s MB, target < %d: %s.' % (
            label, answered, row['minimum'], 'met' if answered == row['minimum'] else 'MISSED', '%.0f' % row['rss_mb'] if row['rss_mb'] else '?',
            MEMORY_TARGET_MB, 'met' if row['rss_mb'] and row['rss_mb'] < MEMORY_TARGET_MB else 'MISSED'))
    out.append('- converge: wall %.1f s is %.2fx requests / rate (%d / %g = %.1f s): target <= %.1fx %s.' % (
        converge['seconds'], converge['seconds'] / ideal, converge['requests'], meta['rate'], ideal, RATE_TARGET,
        'met' if converge['seconds'] / ideal <= RATE_TARGET else 'MISSED'))
    out.extend('- FAILED: %s' % problem for problem in problems)
    return '\n'.join(out)


def check_adopt(rows):
    problems = []
    meta = rows['meta']
    if rows['check']['writes'] or rows['export']['writes']:
        problems.append('the export or the check sent writes: %s; %s' % (rows['export']['sent'], rows['check']['sent']))
    for label in ('export', 'check', 'converge'):
        answered = rows[label]['requests'] - rows[label]['limited']
        if answered != rows[label]['minimum']:
            problems.append('%s: %d requests answered, the minimum is %d (%s)' % (label, answered, rows[label]['minimum'], rows[label]['sent']))
    converge = rows['converge']
    if converge['failed'] or converge['updated'] != meta['updates'] or converge['converged'] != meta['size']:
        problems.append('converge: %d updated, %d failed, %d of %d hold their declared max_num' % (
            converge['updated'], converge['failed'], converge['converged'], meta['size']))
    return problems


# ---------------------------------------------------------------------------
# report

def machine():
    model = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    core = subprocess.run([str(Path(sys.executable).parent / 'ansible'), '--version'], capture_output=True, text=True, check=False).stdout
    match = re.search(r'core ([0-9][^\]\s]*)', core)
    return {'cpus': os.cpu_count(), 'model': model, 'python': platform.python_version(),
            'ansible_core': match.group(1) if match else 'unknown', 'system': platform.platform()}


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = ['| ' + ' | '.join(str(h).ljust(w) for h, w in zip(headers, widths)) + ' |',
             '|' + '|'.join('-' * (w + 2) for w in widths) + '|']
    lines += ['| ' + ' | '.join(str(c).ljust(w) for c, w in zip(r, widths)) + ' |' for r in rows]
    return '\n'.join(lines)


def report(info, latency, requests_rows, noop, fleet_rows, problems, notes):
    out = []
    out.append('Run %s UTC; emulator latency %d ms per API request.' % (datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), latency))
    out.append('Machine: %(cpus)s CPUs, %(model)s; Python %(python)s; ansible-core %(ansible_core)s; %(system)s.' % info)
    out.append('')
    if requests_rows:
        out.append('### 1. Requests per scenario (emulator request log)')
        out.append('')
        out.append(table(['scenario', 'requests', 'minimum', 'minimum is', 'sent'],
                         [(r['scenario'], r['requests'], r['minimum'], r['why'], r['sent']) for r in requests_rows]))
        out.append('')
    if noop:
        out.append('### 2. No-op novita_endpoint against ansible.builtin.uri (%d rounds of %d-item loops, interleaved)' % (
            len(noop['ratios']), noop['expected_requests'] // (2 * len(noop['ratios']))))
        out.append('')
        items = noop['expected_requests'] // (2 * len(noop['ratios']))
        out.append(table(['round', 'novita_endpoint (s)', 'uri (s)', 'ratio'],
                         [(i + 1, '%.2f' % m, '%.2f' % u, '%.2f' % r) for i, (m, u, r) in enumerate(zip(noop['module'], noop['uri'], noop['ratios']))]))
        out.append('')
        out.append('Median ratio %.2f (target <= %.2f); per item: novita_endpoint %.0f ms, uri %.0f ms (medians); requests %d (expected %d).' % (
            noop['median_ratio'], NOOP_TARGET, 1000 * statistics.median(noop['module']) / items, 1000 * statistics.median(noop['uri']) / items,
            noop['requests'], noop['expected_requests']))
        out.append('')
    if fleet_rows:
        out.append('### 3. Unchanged endpoints declared by name: a loop of novita_endpoint against novita_endpoint_fleet')
        out.append('')
        out.append(table(['endpoints', 'list pages', 'loop requests', 'loop wall (s)', 'fleet requests', 'fleet wall (s)', 'loop / fleet time'],
                         [(r['size'], r['pages'], r['loop_requests'], '%.1f' % r['loop_seconds'], r['fleet_requests'], '%.2f' % r['fleet_seconds'],
                           '%.1fx' % (r['loop_seconds'] / r['fleet_seconds'])) for r in fleet_rows]))
        out.append('')
        first, last = fleet_rows[0], fleet_rows[-1]
        if len(fleet_rows) > 1:
            out.append('Growth from %d to %d endpoints: loop %.1fx the time and %.0fx the requests; fleet %.1fx the time and %.0fx the requests.' % (
                first['size'], last['size'], last['loop_seconds'] / first['loop_seconds'], last['loop_requests'] / first['loop_requests'],
                last['fleet_seconds'] / first['fleet_seconds'], last['fleet_requests'] / first['fleet_requests']))
            out.append('')
    out.append('### Targets')
    out.append('')
    out.extend('- %s' % note for note in notes)
    if problems:
        out.extend('- FAILED: %s' % problem for problem in problems)
    return '\n'.join(out)


def report_ratelimit(info, row, problems):
    out = []
    out.append('Run %s UTC; emulator rate limit %g requests/s, burst %g, no added latency.' % (
        datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), row['rate'], row['burst']))
    out.append('Machine: %(cpus)s CPUs, %(model)s; Python %(python)s; ansible-core %(ansible_core)s; %(system)s.' % info)
    out.append('')
    out.append('### 4. One novita_endpoint_fleet task updating %d endpoints under a rate limit' % row['size'])
    out.append('')
    out.append('%d endpoints seeded, all declared with a new `max_num`, `concurrency: %d`, `wait: %s`.' % (
        row['size'], row['concurrency'], 'true' if row['wait'] else 'false'))
    out.append('')
    ideal = row['requests'] / row['rate']
    accepted_ideal = row['accepted'] / row['rate']
    out.append(table(['endpoints', 'requests sent', '429s received', 'answered', 'converged', 'failures', 'wall (s)',
                      'requests / rate (s)', 'wall / (requests / rate)', 'wall / (answered / rate)'],
                     [(row['size'], row['requests'], row['limited'], row['accepted'], row['converged'], row['failures'], '%.1f' % row['seconds'],
                       '%.1f' % ideal, '%.2f' % (row['seconds'] / ideal), '%.2f' % (row['seconds'] / accepted_ideal))]))
    out.append('')
    out.append('The 429s came in %d waves (runs of 429s in the request log with no answered request between them).' % row['waves'])
    out.append('Requests by kind (429s among them): %s. Status counts from `/_emulator/stats`: %s.' % (
        ', '.join('%s %d (%d)' % (kind, counts[0], counts[1]) for kind, counts in sorted(row['by_kind'].items())),
        ', '.join('%s: %d' % item for item in sorted(row['by_status'].items()))))
    out.append('')
    floor = max(0, row['accepted'] - row['burst']) / row['rate']
    out.append('Wall time is the task\'s (bench callback); the whole ansible-playbook run took %.1f s. Sampling `/_emulator/stats` every'
               ' %.2f s: the API requests went on for %.1f s of the task (the rest is the module starting and reporting); at %g requests/s'
               ' with a burst of %g, the %d answered requests need at least %.1f s.' % (
                   row['run_seconds'], SAMPLE_SECONDS, row['api_seconds'], row['rate'], row['burst'], row['accepted'], floor))
    out.append('')
    out.append('Requests answered and 429s per 5 s of the playbook run: %s.' % timeline(row['samples'], row['run_seconds']))
    out.append('')
    out.append('### Target')
    out.append('')
    ratio = row['seconds'] / ideal
    out.append('- All %d converged, no failure: %s (%d converged, %d failed).' % (
        row['size'], 'met' if row['converged'] == row['size'] and not row['failures'] else 'MISSED', row['converged'], row['failures']))
    out.append('- Wall time %.1f s is %.2fx requests / rate (%d / %g = %.1f s): target <= %.1fx %s.' % (
        row['seconds'], ratio, row['requests'], row['rate'], ideal, RATE_TARGET, 'met' if ratio <= RATE_TARGET else 'MISSED'))
    out.extend('- FAILED: %s' % problem for problem in problems)
    return '\n'.join(out)


def timeline(samples, total, step=5.0):
    """'0-5 s: 12 (+3 429s), ...' from cumulative (time, requests, 429s) samples."""
    parts = []
    previous = (0, 0)
    start = 0.0
    while start < total:
        inside = [s for s in samples if s[0] <= start + step]
        now = (inside[-1][1], inside[-1][2]) if inside else previous
        answered = (now[0] - now[1]) - (previous[0] - previous[1])
        limited = now[1] - previous[1]
        parts.append('%d-%d s: %d%s' % (start, start + step, answered, ' (+%d 429s)' % limited if limited else ''))
        previous = now
        start += step
    return ', '.join(parts)


def check_ratelimit(row):
    problems = []
    if row['failures'] or row['converged'] != row['size']:
        problems.append('%d of %d endpoints converged, %d failed%s' % (
            row['converged'], row['size'], row['failures'], (': ' + '; '.join(map(str, row['failure_msgs']))) if row['failure_msgs'] else ''))
    return problems


def check(requests_rows, noop, fleet_rows):
    problems, notes = [], []
    for row in requests_rows:
        if row['requests'] != row['minimum']:
            problems.append('%s sent %d requests, the minimum is %d (%s)' % (row['scenario'], row['requests'], row['minimum'], row['sent']))
    if requests_rows and not problems:
        notes.append('Every scenario sent exactly its minimum number of requests.')
    if noop:
        if noop['requests'] != noop['expected_requests']:
            problems.append('the no-op comparison sent %d requests, expected %d (%s)' % (noop['requests'], noop['expected_requests'], noop['sent']))
        notes.append('No-op novita_endpoint / uri median ratio %.2f: target <= %.2f %s.' % (
            noop['median_ratio'], NOOP_TARGET, 'met' if noop['median_ratio'] <= NOOP_TARGET else 'MISSED'))
    for row in fleet_rows:
        if not row['fleet_only_list'] or row['fleet_requests'] > row['pages'] + 1:
            problems.append('the fleet of %d sent %s; at most %d list reads and nothing else expected' % (row['size'], row['fleet_sent'], row['pages'] + 1))
        if row['size'] == 100:
            notes.append('Fleet of 100: %d list requests for %d page(s), nothing else: %s.' % (
                row['fleet_requests'], row['pages'], 'met' if row['fleet_only_list'] and row['fleet_requests'] <= row['pages'] + 1 else 'MISSED'))
            ratio = row['loop_seconds'] / row['fleet_seconds']
            notes.append('Fleet of 100 wall time is 1/%.1f of the loop: target <= 1/%.0f %s.' % (
                ratio, FLEET_TIME_TARGET, 'met' if ratio >= FLEET_TIME_TARGET else 'MISSED'))
    return problems, notes


def write_doc(text, begin=DOC_BEGIN, end=DOC_END):
    content = DOC.read_text(encoding='utf-8') if DOC.exists() else ''
    if begin not in content or end not in content:
        raise SystemExit('%s has no %s ... %s section to write the results into' % (DOC, begin, end))
    head, rest = content.split(begin, 1)
    dummy, tail = rest.split(end, 1)
    DOC.write_text(head + begin + '\n' + text + '\n' + end + tail, encoding='utf-8')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--latency', type=int, default=20, help='emulator latency per API request in ms (default 20)')
    parser.add_argument('--rounds', type=int, default=5, help='rounds of the no-op comparison (default 5)')
    parser.add_argument('--items', type=int, default=30, help='items per loop in the no-op comparison (default 30)')
    parser.add_argument('--sizes', default='10,100,300', help='fleet sizes, comma-separated (default 10,100,300)')
    parser.add_argument('--skip', default='', help='comma-separated parts to skip: %s' % ', '.join(PARTS))
    parser.add_argument('--only', default='', help='comma-separated parts to run, and no other: %s' % ', '.join(PARTS))
    parser.add_argument('--rate-size', type=int, default=300, help='endpoints of the rate-limit part (default 300)')
    parser.add_argument('--rate', type=float, default=10, help='rate limit of the rate-limit part, requests/s (default 10)')
    parser.add_argument('--rate-burst', type=float, default=10, help='burst of the rate-limit part (default 10)')
    parser.add_argument('--rate-concurrency', type=int, default=16, help='fleet concurrency of the rate-limit part (default 16)')
    parser.add_argument('--rate-wait', action='store_true', help='wait for each endpoint in the rate-limit part (default: wait: false)')
    parser.add_argument('--adopt-size', type=int, default=1000, help='endpoints of the adopt part (default 1000)')
    parser.add_argument('--adopt-updates', type=int, default=100, help='declarations the adopt part changes and converges (default 100)')
    parser.add_argument('--no-doc', action='store_true', help='do not write the results into docs/benchmark.md')
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(',')))
    only = set(filter(None, args.only.split(',')))
    unknown = (skip | only) - set(PARTS)
    if unknown:
        parser.error('unknown part(s): %s (known: %s)' % (', '.join(sorted(unknown)), ', '.join(PARTS)))
    if only:
        skip |= set(PARTS) - only
    sizes = [int(s) for s in args.sizes.split(',') if s]

    info = machine()
    print('Machine: %(cpus)s CPUs, %(model)s; Python %(python)s; ansible-core %(ansible_core)s' % info, flush=True)
    started = time.monotonic()
    rate_row = adopt_rows = None
    with tempfile.TemporaryDirectory(prefix='novita-bench-') as work_dir:
        emulator = Emulator(work_dir, args.latency)
        try:
            runner = Runner(work_dir, emulator)
            requests_rows, noop, fleet_rows = [], None, []
            if 'requests' not in skip:
                print('1/5 requests per scenario ...', flush=True)
                requests_rows = scenario_requests(emulator, runner)
            if 'noop' not in skip:
                print('2/5 no-op novita_endpoint against uri ...', flush=True)
                noop = noop_vs_uri(emulator, runner, args.rounds, args.items)
            if 'fleets' not in skip:
                print('3/5 fleets of %s ...' % ', '.join(map(str, sizes)), flush=True)
                fleet_rows = fleets(emulator, runner, sizes)
            if 'ratelimit' not in skip:
                print('4/5 fleet of %d under a rate limit of %g/s ...' % (args.rate_size, args.rate), flush=True)
                rate_row = ratelimit(emulator, runner, work_dir, args.rate_size, args.rate, args.rate_burst, args.rate_concurrency, args.rate_wait)
            if 'adopt' not in skip:
                print('5/5 adopting %d endpoints: export, check, converge %d updates under %g/s ...' % (
                    args.adopt_size, args.adopt_updates, args.rate), flush=True)
                adopt_rows = adopt(emulator, runner, work_dir, args.adopt_size, args.adopt_updates, args.rate, args.rate_burst, args.rate_concurrency)
        finally:
            emulator.stop()
    main_parts = not {'requests', 'noop', 'fleets'} <= skip
    problems, notes = check(requests_rows, noop, fleet_rows)
    notes.append('Bench wall time %.0f s.' % (time.monotonic() - started))
    text = report(info, args.latency, requests_rows, noop, fleet_rows, problems, notes) if main_parts else None
    rate_problems = check_ratelimit(rate_row) if rate_row else []
    rate_text = report_ratelimit(info, rate_row, rate_problems) if rate_row else None
    adopt_problems = check_adopt(adopt_rows) if adopt_rows else []
    adopt_text = report_adopt(info, adopt_rows, fleet_rows, adopt_problems) if adopt_rows else None
    for part in (text, rate_text, adopt_text):
        if part:
            print()
            print(part)
    if not args.no_doc:
        if text and not skip & {'requests', 'noop', 'fleets'}:
            write_doc(text)
            print('\nWrote the results of parts 1 to 3 into %s' % DOC.relative_to(ROOT))
        elif text:
            print('\nParts 1 to 3 not written into %s: some were skipped' % DOC.relative_to(ROOT))
        if rate_text:
            write_doc(rate_text, DOC_RATE_BEGIN, DOC_RATE_END)
            print('\nWrote the results of part 4 into %s' % DOC.relative_to(ROOT))
        if adopt_text:
            write_doc(adopt_text, DOC_ADOPT_BEGIN, DOC_ADOPT_END)
            print('\nWrote the results of part 5 into %s' % DOC.relative_to(ROOT))
    return 1 if problems or rate_problems or adopt_problems else 0


if __name__ == '__main__':
    sys.exit(main())
