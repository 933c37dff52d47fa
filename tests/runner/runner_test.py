#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run the collection the way AWX / Ansible Automation Platform runs a job.

AWX hands a job to ansible-runner: a private data directory with project/,
inventory/ and env/envvars, where envvars holds what the job's credentials inject.
This test builds such a directory for each scenario, with env/envvars rendered
from the injectors of extensions/awx/novita_credential_type.yml exactly as AWX
renders them (a sandboxed Jinja2 environment; inputs left empty are undefined
and render as ''), runs ``ansible-runner run <dir> -p <playbook>`` and checks:

- set: the base URL points at the API emulator (started here, accepting only the
  test key): the run succeeds, the emulator got only requests with the injected
  key, the writes were exactly create then delete (the rerun and the second
  delete wrote nothing);
- empty / absent: the credential's optional base URL is '' or missing, so
  NOVITA_API_BASE_URL is injected as ''; the module must use
  https://api.novita.ai. HTTPS goes to a local recording proxy that refuses every
  tunnel (nothing leaves the machine), and the proxy must have been asked for
  api.novita.ai:443;
- in every scenario the key appears in none of the runner's artifacts (stdout,
  stderr, job events), except ansible-runner's own 0600 record of the job's
  environment (artifacts/<job>/command).

Usage: runner_test.py --collections-path DIR [--work-dir DIR]
DIR holds ansible_collections/novita/cloud (for example the staged copy).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import importlib.util
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_DIR = os.path.dirname(os.path.dirname(HERE))
CREDENTIAL_TYPE = os.path.join(COLLECTION_DIR, 'extensions', 'awx', 'novita_credential_type.yml')
EMULATOR = os.path.join(COLLECTION_DIR, 'tests', 'emulator', 'novita_emulator.py')

TEST_KEY = 'sk-runner-test-0123456789abcdef'
INJECTED_ENV = ('NOVITA_API_KEY', 'NOVITA_API_BASE_URL')
# The keys AWX's credential type input schema accepts for a field (older AWX
# releases reject any other key, `default` included).
AWX_FIELD_KEYS = frozenset(('id', 'label', 'type', 'help_text', 'secret', 'multiline', 'choices', 'format', 'ask_at_runtime'))
PROXY_VARS = ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY')


def load_credential_type(path):
    """The credential type definition, after checking it has the shape AWX accepts."""
    with open(path, encoding='utf-8') as handle:
        definition = yaml.safe_load(handle)

    problems = []
    fields = {field.get('id'): field for field in definition.get('inputs', {}).get('fields', [])}
    for field_id, field in fields.items():
        unknown = sorted(set(field) - AWX_FIELD_KEYS)
        if unknown:
            problems.append('field %s has keys AWX rejects: %s' % (field_id, ', '.join(unknown)))
        if 'label' not in field:
            problems.append('field %s has no label' % field_id)
    if sorted(fields) != ['api_base_url', 'api_key']:
        problems.append('input fields are %s, expected api_base_url and api_key' % sorted(fields))
    if fields.get('api_key', {}).get('secret') is not True:
        problems.append('api_key is not secret')
    if definition.get('inputs', {}).get('required') != ['api_key']:
        problems.append('inputs.required must be [api_key]')
    if definition.get('kind') not in ('cloud', 'net'):
        problems.append('kind must be cloud or net for a custom credential type')
    env = definition.get('injectors', {}).get('env', {})
    if tuple(sorted(env)) != tuple(sorted(INJECTED_ENV)):
        problems.append('injectors.env sets %s, expected %s' % (sorted(env), sorted(INJECTED_ENV)))
    if problems:
        raise SystemExit('%s:\n  %s' % (path, '\n  '.join(problems)))
    return definition


def render_injected_env(definition, inputs):
    """Render injectors.env the way AWX does for a credential with these inputs.

    AWX puts only non-empty inputs into the template namespace and renders each
    template in an ImmutableSandboxedEnvironment, so an empty or missing optional
    field renders as ''.
    """
    namespace = dict((key, value) for key, value in inputs.items() if value)
    sandbox = ImmutableSandboxedEnvironment()
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in definition['injectors']['env'].items())


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy on 127.0.0.1 that records each request line and refuses it with 403."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.request_lines = []
        self.lock = threading.Lock()
        socketserver.ThreadingTCPServer.__init__(self, ('127.0.0.1', 0), RecordingProxyHandler)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]


class RecordingProxyHandler(socketserver.StreamRequestHandler):

    def handle(self):
        self.request.settimeout(10)
        line = self.rfile.readline(8192).decode('latin-1').strip()
        while self.rfile.readline(8192).strip():
            pass
        with self.server.lock:
            self.server.request_lines.append(line)
        self.wfile.write(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')


def start_emulator():
    spec = importlib.util.spec_from_file_location('novita_emulator', EMULATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    emulator = module.Emulator(api_key=TEST_KEY)
    emulator.start()
    return emulator


def emulator_requests(url):
    with urllib.request.urlopen(url + '/_emulator/requests', timeout=10) as response:
        return json.load(response)['requests']


def write_private_data_dir(work_dir, name, playbook, envvars):
    """An ansible-runner private data directory, as AWX lays one out for a job."""
    pdd = os.path.join(work_dir, name)
    shutil.rmtree(pdd, ignore_errors=True)
    os.makedirs(os.path.join(pdd, 'env'))
    os.makedirs(os.path.join(pdd, 'inventory'))
    shutil.copytree(os.path.join(HERE, 'project'), os.path.join(pdd, 'project'))
    with open(os.path.join(pdd, 'inventory', 'hosts'), 'w', encoding='utf-8') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    envvars_path = os.path.join(pdd, 'env', 'envvars')
    with open(envvars_path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(envvars, handle, default_flow_style=False)
    os.chmod(envvars_path, 0o600)
    return pdd


def run_runner(pdd, playbook):
    """Run ansible-runner; return (exit code, status, artifacts dir, seconds)."""
    started = time.time()
    ident = 'job'
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-runner'), 'run', pdd, '-p', playbook, '--ident', ident]
    if not os.path.exists(command[0]):
        command[0] = 'ansible-runner'
    with open(os.path.join(pdd, 'runner-console.log'), 'w', encoding='utf-8') as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    artifacts = os.path.join(pdd, 'artifacts', ident)
    status = None
    if os.path.exists(os.path.join(artifacts, 'status')):
        with open(os.path.join(artifacts, 'status'), encoding='utf-8') as handle:
            status = handle.read().strip()
    return code, status, artifacts, time.time() - started


def files_containing(directory, secret):
    """Relative paths of the files under directory whose content contains secret."""
    found = []
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, 'rb') as handle:
                if secret.encode('utf-8') in handle.read():
                    found.append(os.path.relpath(path, directory))
    return sorted(found)


def check_artifacts(artifacts, problems):
    """The key must not appear in the job's output: stdout, stderr, job events, fact cache.

    The one exception is ``command``: ansible-runner itself records the job's whole
    environment there (the same values as env/envvars, which AWX writes and deletes
    with the private data directory), readable by its owner only.
    """
    if not os.path.isdir(os.path.join(artifacts, 'job_events')) or not os.listdir(os.path.join(artifacts, 'job_events')):
        problems.append('no job events in %s' % artifacts)
    leaked = [path for path in files_containing(artifacts, TEST_KEY) if path != 'command']
    if leaked:
        problems.append('the API key appears in the artifacts: %s' % ', '.join(leaked))
    command = os.path.join(artifacts, 'command')
    if os.path.exists(command) and os.stat(command).st_mode & 0o077:
        problems.append('%s is readable by others' % command)


def scenario_emulator(definition, args, base_env):
    problems = []
    emulator = start_emulator()
    try:
        inputs = {'api_key': TEST_KEY, 'api_base_url': emulator.url}
        injected = render_injected_env(definition, inputs)
        if injected != {'NOVITA_API_KEY': TEST_KEY, 'NOVITA_API_BASE_URL': emulator.url}:
            problems.append('injectors rendered %r' % sorted(injected))
        envvars = dict(base_env, **injected)
        pdd = write_private_data_dir(args.work_dir, 'base-url-set', 'endpoint.yml', envvars)
        code, status, artifacts, seconds = run_runner(pdd, 'endpoint.yml')
        if code != 0 or status != 'successful':
            problems.append('ansible-runner exited %s with status %s (see %s)' % (code, status, os.path.join(artifacts, 'stdout')))
        requests = emulator_requests(emulator.url)
    finally:
        emulator.stop()

    bad_auth = [r for r in requests if r['auth'] != 'ok']
    if not requests:
        problems.append('the emulator received no request')
    if bad_auth:
        problems.append('%d request(s) without the injected key: %s' % (len(bad_auth), [(r['method'], r['path'], r['auth']) for r in bad_auth]))
    agents = sorted(set(r['user_agent'].split('/')[0] for r in requests))
    if agents != ['novita.cloud']:
        problems.append('unexpected User-Agent(s): %s' % agents)
    writes = [(r['method'], r['path']) for r in requests if r['method'] != 'GET']
    if writes != [('POST', '/endpoint/create'), ('POST', '/endpoint/delete')]:
        problems.append('writes were %s, expected create then delete' % writes)
    check_artifacts(artifacts, problems)
    summary = '%d requests, all with the injected key; writes: %s' % (len(requests), ', '.join(path for _method, path in writes))
    return problems, seconds, summary


def scenario_default_url(definition, args, base_env, name, inputs):
    problems = []
    injected = render_injected_env(definition, inputs)
    if injected != {'NOVITA_API_KEY': TEST_KEY, 'NOVITA_API_BASE_URL': ''}:
        problems.append('injectors rendered %r, expected an empty NOVITA_API_BASE_URL' % sorted(injected))
    proxy = RecordingProxy()
    thread = threading.Thread(target=proxy.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        envvars = dict(base_env, https_proxy=proxy.url, HTTPS_PROXY=proxy.url, **injected)
        pdd = write_private_data_dir(args.work_dir, name, 'default_url.yml', envvars)
        code, status, artifacts, seconds = run_runner(pdd, 'default_url.yml')
    finally:
        proxy.shutdown()
        proxy.server_close()
    if code != 0 or status != 'successful':
        problems.append('ansible-runner exited %s with status %s (see %s)' % (code, status, os.path.join(artifacts, 'stdout')))
    connects = [line for line in proxy.request_lines if line.startswith('CONNECT ')]
    targets = sorted(set(line.split()[1] for line in connects))
    if targets != ['api.novita.ai:443']:
        problems.append('proxy saw %s, expected CONNECT api.novita.ai:443' % (proxy.request_lines or 'nothing'))
    check_artifacts(artifacts, problems)
    summary = 'NOVITA_API_BASE_URL=\'\' -> %d CONNECT %s (refused locally)' % (len(connects), ', '.join(targets) or '-')
    return problems, seconds, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--collections-path', required=True, help='directory that holds ansible_collections/novita/cloud')
    parser.add_argument('--work-dir', default=os.path.join(os.getcwd(), 'runner-test'), help='where the private data directories go')
    parser.add_argument('--credential-type', default=CREDENTIAL_TYPE)
    args = parser.parse_args()
    args.work_dir = os.path.abspath(args.work_dir)
    collections_path = os.path.abspath(args.collections_path)
    if not os.path.isfile(os.path.join(collections_path, 'ansible_collections', 'novita', 'cloud', 'galaxy.yml')) and \
            not os.path.isfile(os.path.join(collections_path, 'ansible_collections', 'novita', 'cloud', 'MANIFEST.json')):
        raise SystemExit('no novita.cloud collection under %s' % collections_path)

    definition = load_credential_type(args.credential_type)
    for var in PROXY_VARS:
        os.environ.pop(var, None)
    base_env = {
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
    }

    empty = {'api_key': TEST_KEY, 'api_base_url': ''}
    absent = {'api_key': TEST_KEY}
    scenarios = [
        ('base URL set', lambda: scenario_emulator(definition, args, base_env)),
        ('base URL empty', lambda: scenario_default_url(definition, args, base_env, 'base-url-empty', empty)),
        ('base URL absent', lambda: scenario_default_url(definition, args, base_env, 'base-url-absent', absent)),
    ]
    failed = 0
    for title, scenario in scenarios:
        problems, seconds, summary = scenario()
        print('%s %-16s %5.1fs  %s' % ('PASS' if not problems else 'FAIL', title, seconds, summary))
        for problem in problems:
            print('    ' + problem)
        failed += bool(problems)
    print('ansible-runner: %d/%d scenarios passed (AWX-rendered credential env, key in no job output)'
          % (len(scenarios) - failed, len(scenarios)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
