#!/usr/bin/env bash
# Integration test for novita.cloud.novita_endpoint_fleet against the local emulator.
#
# How the emulator is found: ansible-test does not run a target in the
# collection. It copies the target to
#   <collection>/tests/output/.tmp/integration/novita_endpoint_fleet-<random>-<unicode>/tests/integration/targets/novita_endpoint_fleet/
# and runs this script there, so nothing outside the target is reachable by a
# relative path unless the target asks for it. The "needs/file/tests/emulator/..."
# aliases are that request: ansible-test copies the file to the same relative place
# in the temporary tree (<tmp>/tests/emulator/), which is
# ../../../emulator/ from here - and, by the same path, from the target in the
# repository when the script is run by hand. As a fallback, ansible-test's
# ANSIBLE_COLLECTIONS_PATH is the directory holding ansible_collections/, so
# the whole collection is at $ANSIBLE_COLLECTIONS_PATH/ansible_collections/novita/cloud.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

emulator_dir="../../../emulator"
if [[ ! -f "${emulator_dir}/emulator.sh" && -n "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    emulator_dir="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/novita/cloud/tests/emulator"
fi
if [[ ! -f "${emulator_dir}/emulator.sh" ]]; then
    echo "runme.sh: cannot find tests/emulator/emulator.sh" >&2
    exit 1
fi
# shellcheck source=/dev/null
. "${emulator_dir}/emulator.sh"

work_dir="$(mktemp -d)"
cleanup() {
    emulator_stop
    rm -rf "${work_dir}"
}
trap cleanup EXIT

# The controller's Python (set by ansible-test), so the emulator runs on the
# interpreter that is under test.
emulator_start "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" "${work_dir}"
# shellcheck disable=SC2153  # EMULATOR_URL is set by emulator_start
emulator_url="${EMULATOR_URL}"
export NOVITA_API_BASE_URL="${emulator_url}"
export NOVITA_API_KEY="emulator-key"
export NOVITA_EMULATOR_URL="${emulator_url}"

# ansible-test sets ANSIBLE_PYTHON_INTERPRETER to a poison value so that every
# host gets its interpreter from the inventory; the implicit localhost is not
# in the inventory, so give it the Python that runs ansible-playbook.
export ANSIBLE_PYTHON_INTERPRETER='{{ ansible_playbook_python }}'

inventory="${INVENTORY_PATH:-../../inventory}"
inventory_args=()
if [[ -f "${inventory}" ]]; then
    inventory_args=(-i "${inventory}")
fi

ansible-playbook "${inventory_args[@]}" playbook.yml "$@"
