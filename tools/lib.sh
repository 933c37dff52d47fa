# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this
# Shared settings for the tools/*.sh scripts; source it, do not run it.
#
# Layout (all of it ignored by git and by `ansible-galaxy collection build`):
#   .venv/                                       dev venv built from tools/requirements.txt
#   .tmp/collections/ansible_collections/novita/cloud
#                                                staged copy the ansible-test steps run in
#   .tmp/logs/<step>.log                         full output of each make test step
#   .tmp/dist/                                   built collection tarball
#   .tmp/docsite/build/html/                     the HTML docs site (make docs-site)
#   .tmp/ee/, .tmp/runner/, .tmp/galaxy-import/  ee, runner and galaxy steps' work
#   .tmp/venv-importer/                          galaxy-importer's own venv
#   .tmp/venv-<core>/, .tmp/matrix/<core>/       make test-matrix: venv; stage and logs per ansible-core
#   .tmp/venv-run/                               ansible-core alone (tools/requirements-run.txt):
#                                                make dev, make demo, make install
#   .tmp/dev/collections/ansible_collections/novita/cloud
#                                                make dev: a symlink to the checkout itself
#   .tmp/demo/                                   make demo's emulator log
#   .tmp/readme/                                 make readme: the copy the README's blocks run in

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "${TOOLS_DIR}/.." && pwd -P)"
PYTHON="${PYTHON:-python3}"
TMP_DIR="${ROOT}/.tmp"
# tools/test-matrix.sh points these at another venv, stage and log directory per
# (ansible-core, Python) cell; by default they are the dev venv's.
VENV="${NOVITA_VENV:-${ROOT}/.venv}"
VENV_PY="${VENV}/bin/python"
REQUIREMENTS="${NOVITA_REQUIREMENTS:-${TOOLS_DIR}/requirements.txt}"
CONSTRAINTS="${NOVITA_CONSTRAINTS:-${TOOLS_DIR}/constraints.txt}"
LOG_DIR="${NOVITA_LOG_DIR:-${TMP_DIR}/logs}"
COLLECTIONS_ROOT="${NOVITA_COLLECTIONS_ROOT:-${TMP_DIR}/collections}"
COLLECTION_NAMESPACE="novita"
COLLECTION_NAME="cloud"
STAGE_DIR="${COLLECTIONS_ROOT}/ansible_collections/${COLLECTION_NAMESPACE}/${COLLECTION_NAME}"
# The light venv for running the collection (not for developing it): ansible-core only.
RUN_VENV="${TMP_DIR}/venv-run"
RUN_REQUIREMENTS="${TOOLS_DIR}/requirements-run.txt"
RUN_CONSTRAINTS="${TOOLS_DIR}/constraints-run.txt"
# make dev: ANSIBLE_COLLECTIONS_PATH=${DEV_COLLECTIONS} finds the checkout through DEV_LINK.
DEV_COLLECTIONS="${TMP_DIR}/dev/collections"
DEV_LINK="${DEV_COLLECTIONS}/ansible_collections/${COLLECTION_NAMESPACE}/${COLLECTION_NAME}"
# DEV_LINK's target, relative so that it survives moving the checkout: five levels up
# from .tmp/dev/collections/ansible_collections/novita is the repository root.
DEV_LINK_TARGET="../../../../.."

# Put the dev venv first on PATH (ansible-test, ansible-lint, shellcheck, pythonX.Y).
activate_venv() {
    export VIRTUAL_ENV="${VENV}"
    export PATH="${VENV}/bin:${PATH}"
    unset PYTHONHOME
}

# "3.11" for the venv's interpreter: ansible-test must always get --python X.Y,
# or sanity also tries every pythonX.Y shim on PATH and fails on the broken ones.
venv_python_version() {
    "${VENV_PY}" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
}

# The light venv (.tmp/venv-run), created or updated by ensure-venv.sh, which says what it
# does (creating, installing N packages) and prints nothing when the venv is current.
ensure_run_venv() {
    "${TOOLS_DIR}/ensure-venv.sh" "${RUN_VENV}" "${RUN_REQUIREMENTS}" "${RUN_CONSTRAINTS}"
}

# The version of ansible-core pinned in tools/requirements-run.txt.
run_core_version() {
    sed -n 's/^ansible-core==\([^[:space:]]*\).*/\1/p' "${RUN_REQUIREMENTS}"
}

# Make DEV_LINK a symlink to the checkout (kept when it already is one).
ensure_dev_link() {
    if [[ -L "${DEV_LINK}" && "$(readlink "${DEV_LINK}")" == "${DEV_LINK_TARGET}" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "${DEV_LINK}")"
    # A copy or a link left by something else; never a part of the checkout.
    rm -rf "${DEV_LINK}"
    ln -s "${DEV_LINK_TARGET}" "${DEV_LINK}"
}
