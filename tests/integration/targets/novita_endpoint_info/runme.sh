#!/usr/bin/env bash
# Integration test for novita.cloud.novita_endpoint_info and examples/drift_audit.yml
# against the local emulator.
#
# ansible-test runs this script in a copy of the target inside a temporary tree;
# the "needs/file/..." aliases copy the emulator and the examples to the same
# relative places there (../../../emulator and ../../../../examples from here),
# which are also their places in the repository when the script is run by hand.
# The playbooks take their shared task files and profile facts from
# ../setup_novita_emulator (needs/target/setup_novita_emulator).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR source=../../../emulator/emulator.sh
. ../../../emulator/emulator.sh
NOVITA_EXAMPLES_DIR="$(cd ../../../../examples && pwd -P)"
export NOVITA_EXAMPLES_DIR

# Both playbooks run once per emulator profile (strict, then documented: the API's statuses
# and states differ, see docs/emulator.md), each time against a fresh emulator; they assert
# the profile's values from emulator_profile.
emulator_integration_each_profile playbook.yml drift_audit.yml -- "$@"
