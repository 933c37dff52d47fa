#!/usr/bin/env bash
# Integration test for novita.cloud.novita_registry_auth and novita_registry_auth_info against the local emulator.
#
# ansible-test runs this script in a copy of the target inside a temporary tree
# (tests/output/.tmp/integration/<target>-.../tests/integration/targets/<target>/);
# the "needs/file/tests/emulator/..." aliases copy the emulator to the same relative
# place there, ../../../emulator/ from here, which is also where it is in the
# repository when the script is run by hand. The playbooks take their shared task files
# and profile facts from ../setup_novita_emulator (needs/target/setup_novita_emulator).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR source=../../../emulator/emulator.sh
. ../../../emulator/emulator.sh

# The playbook runs once per emulator profile (strict, then documented: the API's statuses
# and states differ, see docs/emulator.md), each time against a fresh emulator; it asserts
# the profile's values from emulator_profile.
emulator_integration_each_profile playbook.yml -- "$@"
