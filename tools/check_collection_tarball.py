"""Check a built collection tarball: required files present, no local debris."""

from __future__ import annotations

import sys
import tarfile

REQUIRED = ('MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml')

# Top-level paths that are build tooling or leftovers, never collection content.
FORBIDDEN_PREFIXES = (
    '.ansible/', '.ci/', '.git/', '.gitignore', '.ansible-lint', '.tmp/', '.venv/',
    'Makefile', 'collections/', 'tools/', 'tests/output/', 'tests/integration/inventory',
)

# Directory names that are debris wherever they appear.
FORBIDDEN_PARTS = ('__pycache__', '.pytest_cache')


def find_problems(names):
    """Return a list of problems with the given tarball member names."""
    problems = ['missing %s' % name for name in REQUIRED if name not in names]

    for name in sorted(names):
        parts = name.split('/')

        if name.startswith(FORBIDDEN_PREFIXES) or any(part in FORBIDDEN_PARTS for part in parts):
            problems.append('unexpected %s' % name)
        elif name.endswith(('.tar.gz', '.pyc')):
            problems.append('unexpected %s' % name)

    return problems


def main():
    """Check the tarball named on the command line."""
    if len(sys.argv) != 2:
        sys.exit('usage: check_collection_tarball.py TARBALL')

    with tarfile.open(sys.argv[1]) as tarball:
        names = {member.name.removeprefix('./').rstrip('/') for member in tarball.getmembers()}

    problems = find_problems(names)

    for problem in problems:
        print(problem)

    if problems:
        return 1

    print('%s: %d entries, no debris' % (sys.argv[1], len(names)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
