"""make bench: request counts and wall times of the collection's modules against the local emulator.

Usage: python tools/bench.py [--latency MS] [--rounds N] [--items N] [--sizes 10,100,300] [--no-doc]

Starts tests/emulator/novita_emulator.py with --latency-ms, runs the playbooks in tools/bench/
with ansible-playbook (per-task wall times come from the callback in tools/bench/callback_plugins)
and prints:
  1. requests per scenario, counted from the emulator's request log, next to the minimum each needs;
  2. a no-op novita_endpoint loop against an ansible.builtin.uri GET loop of the same endpoint;
  3. unchanged fleets of several sizes: a loop of novita_endpoint against novita_endpoint_fleet.
The results replace the part of docs/benchmark.md between its bench markers (unless --no-doc).
Exits 1 if a scenario's request count differs from its minimum, or the fleet of 100 reads more
than its list pages (+1); the timing targets are reported, not enforced (the machine is shared).
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
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / 'tools' / 'bench'
EMULATOR = ROOT / 'tests' / 'emulator' / 'novita_emulator.py'
DOC = ROOT / 'docs' / 'benchmark.md'
DOC_BEGIN = '<!-- bench:begin -->'
DOC_END = '<!-- bench:end -->'
API_PREFIX = '/gpu-instance/openapi/v1'
API_KEY = 'emulator-key'
PAGE_SIZE = 100
NOOP_TARGET = 1.25
FLEET_TIME_TARGET = 5.0


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
         False, lambda: p() + 2, 'list pages + limits + update'),
        ('novita_endpoint update, wait=true', 'endpoint.yml', {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 3}}},
         False, lambda: p() + 3, 'list pages + limits + update + 1 poll (serving at once)'),
        ('novita_endpoint create, wait=false', 'endpoint.yml', {'bench_args': dict(new, name='bench-new', wait=False)},
         False, lambda: p() + 2, 'list pages + limits + create'),
        ('novita_endpoint delete, wait=false', 'endpoint.yml', {'bench_args': {'name': 'bench-del', 'state': 'absent', 'wait': False}},
         False, lambda: p() + 1, 'list pages + delete'),
        ('novita_endpoint check mode, update', 'endpoint.yml', {'bench_args': {'name': 'bench-one', 'worker_config': {'max_num': 5}}},
         True, lambda: p() + 1, 'list pages + limits'),
        ('fleet of 3 unchanged', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 3}}, {'name': 'bench-two'}, {'name': 'bench-new'}]},
         False, p, 'list pages'),
        ('fleet of 3, 1 update + 1 create, wait=false', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 4}}, {'name': 'bench-two'}, dict(new, name='bench-three')],
          'bench_wait': False},
         False, lambda: p() + 3, 'list pages + limits + update + create'),
        ('fleet of 3 check mode, 2 updates', 'fleet.yml',
         {'bench_endpoints': [{'name': 'bench-one', 'worker_config': {'max_num': 6}}, {'name': 'bench-two', 'worker_config': {'max_num': 2}},
                              {'name': 'bench-new'}]},
         True, lambda: p() + 1, 'list pages + limits'),
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


def write_doc(text):
    content = DOC.read_text(encoding='utf-8') if DOC.exists() else ''
    if DOC_BEGIN not in content or DOC_END not in content:
        raise SystemExit('%s has no %s ... %s section to write the results into' % (DOC, DOC_BEGIN, DOC_END))
    head, rest = content.split(DOC_BEGIN, 1)
    dummy, tail = rest.split(DOC_END, 1)
    DOC.write_text(head + DOC_BEGIN + '\n' + text + '\n' + DOC_END + tail, encoding='utf-8')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--latency', type=int, default=20, help='emulator latency per API request in ms (default 20)')
    parser.add_argument('--rounds', type=int, default=5, help='rounds of the no-op comparison (default 5)')
    parser.add_argument('--items', type=int, default=30, help='items per loop in the no-op comparison (default 30)')
    parser.add_argument('--sizes', default='10,100,300', help='fleet sizes, comma-separated (default 10,100,300)')
    parser.add_argument('--skip', default='', help='comma-separated parts to skip: requests, noop, fleets')
    parser.add_argument('--no-doc', action='store_true', help='do not write the results into docs/benchmark.md')
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(',')))
    sizes = [int(s) for s in args.sizes.split(',') if s]

    info = machine()
    print('Machine: %(cpus)s CPUs, %(model)s; Python %(python)s; ansible-core %(ansible_core)s' % info, flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='novita-bench-') as work_dir:
        emulator = Emulator(work_dir, args.latency)
        try:
            runner = Runner(work_dir, emulator)
            requests_rows, noop, fleet_rows = [], None, []
            if 'requests' not in skip:
                print('1/3 requests per scenario ...', flush=True)
                requests_rows = scenario_requests(emulator, runner)
            if 'noop' not in skip:
                print('2/3 no-op novita_endpoint against uri ...', flush=True)
                noop = noop_vs_uri(emulator, runner, args.rounds, args.items)
            if 'fleets' not in skip:
                print('3/3 fleets of %s ...' % ', '.join(map(str, sizes)), flush=True)
                fleet_rows = fleets(emulator, runner, sizes)
        finally:
            emulator.stop()
    problems, notes = check(requests_rows, noop, fleet_rows)
    notes.append('Bench wall time %.0f s.' % (time.monotonic() - started))
    text = report(info, args.latency, requests_rows, noop, fleet_rows, problems, notes)
    print()
    print(text)
    if not args.no_doc and skip:
        print('\nNot written into %s: parts were skipped' % DOC.relative_to(ROOT))
    elif not args.no_doc:
        write_doc(text)
        print('\nWrote the results into %s' % DOC.relative_to(ROOT))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
