"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test builds the virtual environments of its sanity tests without pip and
then runs ``~/.ansible/test/cache/get_pip_<version>.py``, which it downloads from a
host that this project's machines cannot reach. ``tools/setup-ansible-test.sh``
copies this file there under that name, next to pip's wheel from PyPI; run that
way, it installs pip out of the wheel into the new environment.
"""

from __future__ import annotations

import glob
import importlib
import os
import sys

# Options that only the real get-pip script understands; pip itself rejects them.
GET_PIP_ONLY_OPTIONS = frozenset(('--no-setuptools', '--no-wheel'))


def wanted_pip_version(args, script_path):
    """Return the pip version requested as ``pip==X`` in args, else the one in the script's name."""
    for arg in args:
        if arg.startswith('pip=='):
            return arg[len('pip=='):]

    name = os.path.splitext(os.path.basename(script_path))[0]

    if name.startswith('get_pip_'):
        return name[len('get_pip_'):].replace('_', '.')

    return '*'


def find_pip_wheel(cache_dir, version):
    """Return the path of pip's wheel for the given version in cache_dir."""
    pattern = os.path.join(cache_dir, 'pip-%s-*.whl' % version)
    wheels = sorted(glob.glob(pattern))

    if not wheels:
        sys.exit('get-pip stand-in: no wheel matches %s; run tools/setup-ansible-test.sh' % pattern)

    return wheels[-1]


def main():
    """Install pip (plus whatever else is asked for) using pip's own wheel from the cache."""
    script_path = os.path.abspath(__file__)
    cache_dir = os.path.dirname(script_path)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    wheel = find_pip_wheel(cache_dir, wanted_pip_version(args, script_path))

    # pip runs straight out of its wheel (a zip), the same way get-pip runs it.
    sys.path.insert(0, wheel)
    pip_main = importlib.import_module('pip._internal.cli.main').main

    return pip_main(['install', '--upgrade', '--force-reinstall', '--find-links', cache_dir] + args)


if __name__ == '__main__':
    sys.exit(main())
