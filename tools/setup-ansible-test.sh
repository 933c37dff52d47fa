#!/usr/bin/env bash
# Let ansible-test build its sanity-test venvs without reaching its CI file host:
# put pip's wheel (from PyPI, at the version the installed ansible-test pins)
# and our get-pip stand-in (tools/get_pip_standin.py) into ~/.ansible/test/cache/.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
activate_venv

cache_dir="${HOME}/.ansible/test/cache"

# The pip version comes from ansible-test itself; the regex is a fallback in case
# the private helper's signature changes.
pip_version="$("${VENV_PY}" - <<'PY'
import re
import types

try:
    from ansible_test._internal.python_requirements import get_venv_packages
    print(get_venv_packages(types.SimpleNamespace(version='%d.%d' % __import__('sys').version_info[:2]))['pip'])
except Exception:  # pylint: disable=broad-except
    import ansible_test._internal.python_requirements as reqs
    with open(reqs.__file__, encoding='utf-8') as handle:
        print(re.search(r"pip='([^']+)'", handle.read()).group(1))
PY
)"

mkdir -p "${cache_dir}"

if ! compgen -G "${cache_dir}/pip-${pip_version}-*.whl" >/dev/null; then
    echo "Downloading pip ${pip_version} wheel into ${cache_dir}"
    "${VENV_PY}" -m pip download --quiet --disable-pip-version-check \
        --no-deps --only-binary=:all: --dest "${cache_dir}" "pip==${pip_version}"
fi

standin="${cache_dir}/get_pip_${pip_version//./_}.py"
install -m 0644 "${TOOLS_DIR}/get_pip_standin.py" "${standin}"
echo "ansible-test get-pip stand-in: ${standin} (pip ${pip_version})"
