#!/usr/bin/env bash
# Run the collection's checks: tools/run-tests.sh [STEP...] (default: all, in order).
#
# Each step's full output goes to .tmp/logs/<step>.log; the console gets one line
# per step ("PASS sanity (23s)" / "FAIL sanity (23s) - see .tmp/logs/sanity.log"
# plus the log's tail) and a last line "N passed, N failed". Exits 1 if any failed.
set -uo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STEPS=(sanity units integration lint docs changelog build)
TAIL_LINES=40
# pip chatter from ansible-test building its sanity venvs (first run on a
# machine): kept in the log, left out of the tail printed on failure.
PIP_NOISE='^[[:space:]]*(Looking in (indexes|links):|WARNING: Location .* is ignored|Collecting |Downloading |Processing /|Installing collected packages:|Successfully installed |Requirement already satisfied|Using cached |Obtaining |━)'

# ansible-test output is for log files: no colour escapes.
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0

step_sanity() {
    # No tests/sanity/ignore-*.txt: every finding must be fixed, not ignored.
    local ignores=("${STAGE_DIR}"/tests/sanity/ignore-*.txt)
    if [[ -e "${ignores[0]}" ]]; then
        echo "sanity ignore files are not allowed: ${ignores[*]#"${STAGE_DIR}"/}"
        return 1
    fi
    cd "${STAGE_DIR}" && ansible-test sanity --python "${PYVER}" --color no
}

step_units() {
    cd "${STAGE_DIR}" && ansible-test units --python "${PYVER}" --color no
}

step_integration() {
    cd "${STAGE_DIR}" && ansible-test integration --python "${PYVER}" --color no
}

step_lint() {
    # Lints the work tree (.ansible-lint excludes the staged copy and other
    # debris); the collection's own modules resolve through the staged copy.
    cd "${ROOT}" && ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}" \
        ansible-lint --offline --profile production --nocolor
}

step_docs() {
    cd "${STAGE_DIR}" && ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}" \
        antsibull-docs lint-collection-docs --plugin-docs .
}

step_changelog() {
    cd "${ROOT}" && antsibull-changelog lint
}

step_build() {
    # Built from the work tree (not the staged copy) so that galaxy.yml's
    # build_ignore is what keeps .venv, .tmp, tools, ... out of the tarball.
    local dist="${TMP_DIR}/dist"
    rm -rf "${dist}" && mkdir -p "${dist}" || return 1
    cd "${ROOT}" && ansible-galaxy collection build --force --output-path "${dist}" . || return 1
    local tarballs=("${dist}"/"${COLLECTION_NAMESPACE}"-"${COLLECTION_NAME}"-*.tar.gz)
    [[ -f "${tarballs[0]}" ]] || { echo "no tarball in ${dist}"; return 1; }
    "${VENV_PY}" "${TOOLS_DIR}/check_collection_tarball.py" "${tarballs[0]}"
}

# The last lines of a log, indented, without pip's download chatter.
print_tail() {
    grep -Ev "${PIP_NOISE}" "$1" | tail -n "${TAIL_LINES}" | sed 's/^/    /'
}

fail_setup() {
    local started="$1" steps="$2"
    echo "FAIL setup ($((SECONDS - started))s) - see .tmp/logs/setup.log"
    print_tail "${LOG_DIR}/setup.log"
    echo "0 passed, ${steps} failed"
    exit 1
}

main() {
    local steps=("$@")
    [[ ${#steps[@]} -gt 0 ]] || steps=("${ALL_STEPS[@]}")

    local step
    for step in "${steps[@]}"; do
        if ! declare -F "step_${step}" >/dev/null; then
            echo "unknown step '${step}' (known: ${ALL_STEPS[*]})" >&2
            exit 2
        fi
    done

    mkdir -p "${LOG_DIR}"
    local started=${SECONDS}
    {
        "${TOOLS_DIR}/ensure-venv.sh" &&
            "${TOOLS_DIR}/setup-ansible-test.sh" &&
            "${TOOLS_DIR}/stage.sh"
    } >"${LOG_DIR}/setup.log" 2>&1 || fail_setup "${started}" "${#steps[@]}"

    activate_venv
    PYVER="$(venv_python_version)" || fail_setup "${started}" "${#steps[@]}"

    local passed=0 failed=0 log
    for step in "${steps[@]}"; do
        log="${LOG_DIR}/${step}.log"
        started=${SECONDS}
        # Each step runs in a subshell so its cd/exports stay local to it.
        if ("step_${step}") </dev/null >"${log}" 2>&1; then
            echo "PASS ${step} ($((SECONDS - started))s)"
            passed=$((passed + 1))
        else
            echo "FAIL ${step} ($((SECONDS - started))s) - see ${log#"${ROOT}"/}"
            print_tail "${log}"
            failed=$((failed + 1))
        fi
    done

    echo "${passed} passed, ${failed} failed"
    [[ ${failed} -eq 0 ]]
}

main "$@"
