# shellcheck shell=bash
# shellcheck disable=SC2034  # EMULATOR_URL and EMULATOR_PID are for the scripts that source this
# Start and stop the Novita API emulator from a shell script; source this file.
#
#   emulator_start PYTHON WORK_DIR [emulator flags...]
#       starts tests/emulator/novita_emulator.py in the background on a free loopback port,
#       waits until it listens and sets EMULATOR_URL and EMULATOR_PID; its output (the URL, then
#       one access log line per request) goes to WORK_DIR/emulator.log. Returns non-zero (after
#       showing that log) if it did not start.
#   emulator_stop
#       stops it; safe to call more than once, so it can sit in an EXIT trap.

EMULATOR_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/novita_emulator.py"
EMULATOR_URL=""
EMULATOR_PID=""

emulator_start() {
    local python="$1" work_dir="$2"
    shift 2
    local url_file="${work_dir}/emulator.url" log_file="${work_dir}/emulator.log"
    rm -f "${url_file}"
    "${python}" "${EMULATOR_SCRIPT}" --port 0 --url-file "${url_file}" "$@" >"${log_file}" 2>&1 &
    EMULATOR_PID=$!
    # The emulator writes its URL (atomically) once it is listening.
    for _ in $(seq 1 100); do
        [[ -s "${url_file}" ]] && break
        kill -0 "${EMULATOR_PID}" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! -s "${url_file}" ]]; then
        echo "The emulator did not start within 10 seconds; its log:" >&2
        cat "${log_file}" >&2
        return 1
    fi
    EMULATOR_URL="$(head -n 1 "${url_file}")"
}

emulator_stop() {
    if [[ -n "${EMULATOR_PID}" ]] && kill -0 "${EMULATOR_PID}" 2>/dev/null; then
        kill -TERM "${EMULATOR_PID}" 2>/dev/null || true
        wait "${EMULATOR_PID}" 2>/dev/null || true
    fi
    EMULATOR_PID=""
}

# For an integration target's runme.sh (ansible-test or by hand):
#   emulator_integration_setup [emulator flags...]
# starts the emulator on the controller's Python in a temporary directory (both removed
# on EXIT), with the given flags (e.g. --profile documented), exports NOVITA_API_BASE_URL,
# NOVITA_API_KEY (the emulator's default key) and NOVITA_EMULATOR_URL for the playbooks,
# gives the implicit localhost the Python that runs ansible-playbook (ansible-test poisons
# ANSIBLE_PYTHON_INTERPRETER on purpose), and sets INVENTORY_ARGS to ansible-test's
# inventory when there is one. It may be called again: the emulator it started before is
# stopped and its directory removed first, so every call gives a fresh emulator.
#   emulator_integration_profiles
# prints the emulator profiles a target runs its playbooks under, one fresh emulator each:
# $NOVITA_EMULATOR_PROFILES when set (e.g. "documented", to iterate on one), else the
# emulator_profiles file in the target's directory, else "strict documented". A runme.sh does:
#   emulator_integration_each_profile playbook.yml [more.yml...] -- "$@"
# which, for each profile, starts a fresh emulator with --profile <profile> and runs the
# playbooks with -e emulator_profile=<profile> and the arguments after "--".
EMULATOR_WORK_DIR=""
INVENTORY_ARGS=()

emulator_integration_cleanup() {
    emulator_stop
    if [[ -n "${EMULATOR_WORK_DIR}" ]]; then
        rm -rf "${EMULATOR_WORK_DIR}"
    fi
    EMULATOR_WORK_DIR=""
}

emulator_integration_profiles() {
    # ansible-test passes no NOVITA_* variable to runme.sh: tools/run-tests.sh writes the profiles
    # into an emulator_profiles file next to each target's runme.sh in its stage instead.
    local file_profiles=""
    [[ -f emulator_profiles ]] && file_profiles="$(cat emulator_profiles)"
    echo "${NOVITA_EMULATOR_PROFILES:-${file_profiles:-strict documented}}"
}

emulator_integration_each_profile() {
    local playbooks=() profiles=() profile playbook
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        playbooks+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    read -r -a profiles <<<"$(emulator_integration_profiles)"
    for profile in "${profiles[@]}"; do
        echo "=== ${PWD##*/}: emulator profile ${profile}"
        emulator_integration_setup --profile "${profile}" || return 1
        for playbook in "${playbooks[@]}"; do
            ansible-playbook "${INVENTORY_ARGS[@]}" "${playbook}" -e emulator_profile="${profile}" "$@" || return 1
        done
    done
}

emulator_integration_setup() {
    emulator_integration_cleanup
    EMULATOR_WORK_DIR="$(mktemp -d)"
    trap emulator_integration_cleanup EXIT
    emulator_start "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" "${EMULATOR_WORK_DIR}" "$@" || return 1
    export NOVITA_API_BASE_URL="${EMULATOR_URL}"
    export NOVITA_API_KEY="emulator-key"
    export NOVITA_EMULATOR_URL="${EMULATOR_URL}"
    export ANSIBLE_PYTHON_INTERPRETER='{{ ansible_playbook_python }}'
    local inventory="${INVENTORY_PATH:-../../inventory}"
    INVENTORY_ARGS=()
    if [[ -f "${inventory}" ]]; then
        INVENTORY_ARGS=(-i "${inventory}")
    fi
}
