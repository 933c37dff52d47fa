# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Check an execution environment build context written by ``ansible-builder create``.

Usage: check_ee_context.py CONTEXT_DIR COLLECTIONS_ROOT

- CONTEXT_DIR/Containerfile exists, installs ansible-core and ansible-runner, and
  its galaxy stage installs _build/requirements.yml into /usr/share/ansible/collections,
  which the final image copies;
- _build/requirements.yml installs novita.cloud;
- ansible-builder's own introspection script (shipped in the context, run in the
  image build) finds no Python or system requirements in the collection under
  COLLECTIONS_ROOT: the modules need nothing but ansible-core.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import subprocess
import sys

import yaml

FQCN = 'novita.cloud'


def check(context, collections_root):
    """Return (problems, facts) for the build context."""
    problems = []
    containerfile = os.path.join(context, 'Containerfile')
    if not os.path.isfile(containerfile):
        return ['no Containerfile in %s' % context], []
    with open(containerfile, encoding='utf-8') as handle:
        text = handle.read()

    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', text, re.MULTILINE)
    refs = refs.group(1).split() if refs else []
    for package in ('ansible-core', 'ansible-runner'):
        if not any(ref.startswith(package) for ref in refs):
            problems.append('the Containerfile does not install %s (ANSIBLE_INSTALL_REFS=%s)' % (package, refs))

    if not re.search(r'ansible-galaxy collection install .*-r requirements\.yml --collections-path "/usr/share/ansible/collections"', text):
        problems.append('the Containerfile does not install _build/requirements.yml into /usr/share/ansible/collections')
    if 'COPY --from=galaxy /usr/share/ansible /usr/share/ansible' not in text.split('FROM base AS final', 1)[-1]:
        problems.append('the final stage does not copy the installed collections')

    requirements = os.path.join(context, '_build', 'requirements.yml')
    names = []
    if os.path.isfile(requirements):
        with open(requirements, encoding='utf-8') as handle:
            names = [entry.get('name') if isinstance(entry, dict) else entry
                     for entry in (yaml.safe_load(handle) or {}).get('collections', [])]
    if FQCN not in names:
        problems.append('_build/requirements.yml does not install %s (collections: %s)' % (FQCN, names))

    introspect = os.path.join(context, '_build', 'scripts', 'introspect.py')
    result = subprocess.run([sys.executable, introspect, 'introspect', collections_root],
                            capture_output=True, text=True, check=False)
    deps = yaml.safe_load(result.stdout) if result.returncode == 0 else None
    if not isinstance(deps, dict):
        problems.append('introspect.py failed: %s' % (result.stderr.strip() or result.stdout.strip()))
        deps = {}
    elif deps.get('python') or deps.get('system'):
        problems.append('introspection found requirements: python %s, system %s' % (deps.get('python'), deps.get('system')))

    facts = ['Containerfile installs %s' % ' '.join(refs), '%s from _build/requirements.yml' % FQCN,
             'introspection: %d python / %d system requirements' % (len(deps.get('python') or []), len(deps.get('system') or []))]
    return problems, facts


def main():
    """Check the context named on the command line."""
    if len(sys.argv) != 3:
        sys.exit('usage: check_ee_context.py CONTEXT_DIR COLLECTIONS_ROOT')
    problems, facts = check(sys.argv[1], sys.argv[2])
    for problem in problems:
        print(problem)
    print('ee context %s: %s' % ('FAILED' if problems else 'OK', '; '.join(facts)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
