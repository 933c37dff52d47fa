#!/usr/bin/env bash
# Create a venv and install a requirements file into it, pinned by a constraints file.
#
#   tools/ensure-venv.sh                                  the dev venv: .venv from
#                                                         tools/requirements.txt + tools/constraints.txt
#                                                         (or $NOVITA_VENV from $NOVITA_REQUIREMENTS, see lib.sh)
#   tools/ensure-venv.sh VENV REQUIREMENTS CONSTRAINTS [PYTHON]
#                                                         any other venv (galaxy-importer, test matrix,
#                                                         .tmp/venv-run for make dev/demo/install)
#
# Does nothing when the venv already holds exactly these two files (their sha256 is
# kept in VENV/.requirements.sha256). PYTHON defaults to $PYTHON, else python3.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv="${1:-${VENV}}"
requirements="${2:-${REQUIREMENTS}}"
constraints="${3:-${CONSTRAINTS}}"
python="${4:-${PYTHON}}"
venv_py="${venv}/bin/python"
stamp="${venv}/.requirements.sha256"
wanted="$(cat "${requirements}" "${constraints}" | sha256sum | cut -d' ' -f1)"

if [[ -x "${venv_py}" && -f "${stamp}" && "$(cat "${stamp}")" == "${wanted}" ]]; then
    touch "${stamp}"  # newer than the requirements file again, for make
    exit 0
fi

if ! "${venv_py}" -c 'import sys' >/dev/null 2>&1; then
    echo "Creating ${venv#"${ROOT}"/} with $(command -v "${python}" || echo "${python}")"
    rm -rf "${venv}"
    "${python}" -m venv "${venv}"
fi

# pip's own chatter goes to a log; only a failure shows it.
mkdir -p "${LOG_DIR}"
pip_log="${LOG_DIR}/pip-$(basename "${venv}" | sed "s/^\.//").log"
# The constraints files pin exactly the packages their venv holds: count the pins.
packages="$(grep -c -E '^[A-Za-z0-9][^=[:space:]]*==' "${constraints}" || true)"
echo "Installing ${packages} packages (${requirements#"${ROOT}"/}, pinned by ${constraints#"${ROOT}"/})" \
    "into ${venv#"${ROOT}"/} (log: ${pip_log#"${ROOT}"/})"
rm -f "${stamp}"
if ! "${venv_py}" -m pip install --disable-pip-version-check -r "${requirements}" -c "${constraints}" >"${pip_log}" 2>&1; then
    echo "pip install failed; the end of ${pip_log}:" >&2
    grep -v 'WARNING: Location .* is ignored' "${pip_log}" | tail -n 30 >&2
    exit 1
fi
echo "${wanted}" > "${stamp}"
