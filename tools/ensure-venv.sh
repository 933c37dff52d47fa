#!/usr/bin/env bash
# Create .venv with $PYTHON (default python3) and install tools/requirements.txt
# into it, pinned by tools/constraints.txt. Does nothing when the venv already holds exactly
# these two files (their sha256 is kept in .venv/.requirements.sha256).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

requirements="${TOOLS_DIR}/requirements.txt"
constraints="${TOOLS_DIR}/constraints.txt"
stamp="${VENV}/.requirements.sha256"
wanted="$(cat "${requirements}" "${constraints}" | sha256sum | cut -d' ' -f1)"

if [[ -x "${VENV_PY}" && -f "${stamp}" && "$(cat "${stamp}")" == "${wanted}" ]]; then
    touch "${stamp}"  # newer than the requirements file again, for make
    exit 0
fi

if ! "${VENV_PY}" -c 'import sys' >/dev/null 2>&1; then
    echo "Creating ${VENV} with $(command -v "${PYTHON}" || echo "${PYTHON}")"
    rm -rf "${VENV}"
    "${PYTHON}" -m venv "${VENV}"
fi

# pip's own chatter goes to a log; only a failure shows it.
mkdir -p "${LOG_DIR}"
pip_log="${LOG_DIR}/venv.log"
echo "Installing ${requirements#"${ROOT}"/} into ${VENV} (log: ${pip_log#"${ROOT}"/})"
rm -f "${stamp}"
if ! "${VENV_PY}" -m pip install --disable-pip-version-check -r "${requirements}" -c "${constraints}" >"${pip_log}" 2>&1; then
    echo "pip install failed; the end of ${pip_log}:" >&2
    grep -v 'WARNING: Location .* is ignored' "${pip_log}" | tail -n 30 >&2
    exit 1
fi
echo "${wanted}" > "${stamp}"
