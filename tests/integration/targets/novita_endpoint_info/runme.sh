#!/usr/bin/env bash
# Integration test for novita.cloud.novita_endpoint_info and examples/drift_audit.yml
# against the local emulator.
#
# ansible-test runs this script in a copy of the target inside a temporary tree;
# the "needs/file/..." aliases copy the emulator and the examples to the same
# relative places there (../../../emulator and ../../../../examples from here),
# which are also their places in the repository when the script is run by hand.
# As a fallback, the collection is at $ANSIBLE_COLLECTIONS_PATH/ansible_collections/novita/cloud.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

collection_dir="../../../.."
if [[ ! -f "${collection_dir}/tests/emulator/emulator.sh" && -n "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    collection_dir="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/novita/cloud"
fi
if [[ ! -f "${collection_dir}/tests/emulator/emulator.sh" || ! -f "${collection_dir}/examples/drift_audit.yml" ]]; then
    echo "runme.sh: cannot find tests/emulator/emulator.sh and examples/drift_audit.yml" >&2
    exit 1
fi
# shellcheck source=/dev/null
. "${collection_dir}/tests/emulator/emulator.sh"

work_dir="$(mktemp -d)"
cleanup() {
    emulator_stop
    rm -rf "${work_dir}"
}
trap cleanup EXIT

emulator_start "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" "${work_dir}"
# shellcheck disable=SC2153  # EMULATOR_URL is set by emulator_start
export NOVITA_API_BASE_URL="${EMULATOR_URL}"
export NOVITA_API_KEY="emulator-key"
export NOVITA_EMULATOR_URL="${EMULATOR_URL}"
NOVITA_EXAMPLES_DIR="$(cd "${collection_dir}/examples" && pwd -P)"
export NOVITA_EXAMPLES_DIR

# The implicit localhost is not in ansible-test's inventory: give it the Python
# that runs ansible-playbook (ansible-test poisons the default on purpose).
export ANSIBLE_PYTHON_INTERPRETER='{{ ansible_playbook_python }}'

inventory="${INVENTORY_PATH:-../../inventory}"
inventory_args=()
if [[ -f "${inventory}" ]]; then
    inventory_args=(-i "${inventory}")
fi

ansible-playbook "${inventory_args[@]}" playbook.yml "$@"
ansible-playbook "${inventory_args[@]}" drift_audit.yml "$@"
