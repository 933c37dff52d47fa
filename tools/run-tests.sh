#!/usr/bin/env bash
# Run the collection's checks: tools/run-tests.sh [STEP...] (default: all, in order).
#
# Each step's full output goes to .tmp/logs/<step>.log; the console gets one line
# per step ("PASS sanity (23s)" / "FAIL sanity (23s) - see .tmp/logs/sanity.log"
# plus the log's tail) and a last line "N passed, N failed". Exits 1 if any failed.
# A step that reports figures (docs, galaxy, ee, runner, faults, ...) adds its
# summary line to its PASS/FAIL line: "PASS runner (58s): ansible-runner: 3/3 ...".
set -uo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STEPS=(sanity units integration lint docs changelog build readme examples adopt galaxy ee runner faults badinput secrets race livecheck clients eda)
# Known steps that run only when asked for by name.
EXTRA_STEPS=()
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
    # NOVITA_EMULATOR_PROFILES (make test-matrix sets it) picks the emulator profiles the targets run
    # under; ansible-test passes no such variable on, so it goes into a file next to each runme.sh.
    if [[ -n "${NOVITA_EMULATOR_PROFILES:-}" ]]; then
        local runme
        for runme in "${STAGE_DIR}"/tests/integration/targets/*/runme.sh; do
            echo "${NOVITA_EMULATOR_PROFILES}" >"$(dirname "${runme}")/emulator_profiles"
        done
        echo "emulator profiles: ${NOVITA_EMULATOR_PROFILES}"
    fi
    cd "${STAGE_DIR}" && ansible-test integration --python "${PYVER}" --color no
}

step_lint() {
    # Lints the work tree (.ansible-lint excludes the staged copy and other
    # debris); the collection's own modules resolve through the staged copy.
    cd "${ROOT}" && ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}" \
        ansible-lint --offline --profile production --nocolor || return 1
    # A user's playbook that takes the key from NOVITA_API_KEY: not even a warning.
    ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}" \
        ansible-lint --offline --profile production --nocolor --strict tests/lint/user_playbook.yml
}

# Run a command; its last non-empty output line becomes the step's summary.
summarized() {
    local output="${STEP_SUMMARY}.out" rc
    "$@" 2>&1 | tee "${output}"
    rc=${PIPESTATUS[0]}
    grep -v '^[[:space:]]*$' "${output}" | tail -n 1 >"${STEP_SUMMARY}"
    rm -f "${output}"
    return "${rc}"
}

# Build the collection tarball into $1 (from the work tree: galaxy.yml's build_ignore
# is what keeps .venv, .tmp, tools, ... out of it) and check it holds no debris.
# Sets TARBALL.
build_tarball() {
    local dist="$1"
    rm -rf "${dist}" && mkdir -p "${dist}" || return 1
    (cd "${ROOT}" && ansible-galaxy collection build --force --output-path "${dist}" .) || return 1
    local tarballs=("${dist}"/"${COLLECTION_NAMESPACE}"-"${COLLECTION_NAME}"-*.tar.gz)
    [[ -f "${tarballs[0]}" ]] || { echo "no tarball in ${dist}"; return 1; }
    TARBALL="${tarballs[0]}"
    "${VENV_PY}" "${TOOLS_DIR}/check_collection_tarball.py" "${TARBALL}"
}

step_docs() {
    cd "${STAGE_DIR}" && ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}" \
        antsibull-docs lint-collection-docs --plugin-docs . || return 1
    # What ansible-doc shows a user: the rendered text of every module, checked for broken markup.
    "${VENV_PY}" "${ROOT}/tests/matrix/doc_markup.py" --collections-path "${COLLECTIONS_ROOT}" || return 1
    # The event source's reference page, which antsibull-docs does not write: current with its DOCUMENTATION.
    "${VENV_PY}" "${ROOT}/tools/eda_docs.py" --check || return 1
    # The HTML site (.tmp/docsite/build/html): fails on any markup warning.
    summarized "${TOOLS_DIR}/docs-site.sh"
}

step_changelog() {
    cd "${ROOT}" && antsibull-changelog lint
}

step_build() {
    build_tarball "${TMP_DIR}/dist"
}

step_readme() {
    # The README's emulator section, run verbatim in a fresh copy of the work tree with an empty
    # HOME: terminal 1 in the background, terminal 2 with bash -e (make dev, export, playbook).
    cd "${ROOT}" && summarized "${VENV_PY}" tests/readme/readme_test.py --work-dir "${TMP_DIR}/readme"
}

step_examples() {
    run_matrix_script tests/matrix/examples_test.py
}

step_adopt() {
    # Export a seeded account of 56+ endpoints with examples/adopt.yml, audit it in check mode (strict and documented
    # profiles): every declared endpoint unchanged, no write request, the shared name flagged and refused.
    run_matrix_script tests/matrix/adopt_test.py
}

step_clients() {
    # The real clients of Novita's API (the novita CLI 0.1.0 and novita-sdk 0.5.0 from PyPI, in a pinned
    # venv of their own) against the emulator in the documented profile: N/M calls accepted per client,
    # each call a client's own known bug breaks listed as such; fails when the emulator refuses a call
    # the documented API accepts.
    local clients_venv="${TMP_DIR}/venv-clients"
    "${TOOLS_DIR}/ensure-venv.sh" "${clients_venv}" "${TOOLS_DIR}/clients-requirements.txt" \
        "${TOOLS_DIR}/clients-constraints.txt" || return 1
    cd "${STAGE_DIR}" && summarized "${clients_venv}/bin/python" tests/clients/real_clients.py
}

step_eda() {
    # Event-Driven Ansible end to end: the real ansible-rulebook, from its own pinned venv (.tmp/venv-eda), runs the
    # rulebooks of extensions/eda/rulebooks as written against the emulator; its rule engine needs Java 17.
    if ! command -v java >/dev/null 2>&1; then
        echo "eda: java not found: ansible-rulebook needs a Java 17 runtime (apt-get install openjdk-17-jre-headless)" | tee "${STEP_SUMMARY}"
        return 1
    fi
    "${TOOLS_DIR}/ensure-venv.sh" "${TMP_DIR}/venv-eda" "${TOOLS_DIR}/eda-requirements.txt" "${TOOLS_DIR}/eda-constraints.txt" || return 1
    summarized "${VENV_PY}" "${ROOT}/tests/matrix/eda_test.py" --collections-path "${COLLECTIONS_ROOT}" --eda-venv "${TMP_DIR}/venv-eda"
}

step_galaxy() {
    # Galaxy's own import checks (metadata, docs, ansible-lint, ...) on the built
    # tarball, offline, with galaxy-importer from its own pinned venv.
    local work="${TMP_DIR}/galaxy-import" importer_venv="${TMP_DIR}/venv-importer"
    "${TOOLS_DIR}/ensure-venv.sh" "${importer_venv}" "${TOOLS_DIR}/importer-requirements.txt" \
        "${TOOLS_DIR}/importer-constraints.txt" || return 1
    build_tarball "${work}/dist" || return 1
    # importer_result.json is written to the current directory.
    cd "${work}" && rm -f importer_result.json importer.log || return 1
    PATH="${importer_venv}/bin:${PATH}" "${importer_venv}/bin/python" -m galaxy_importer.main "${TARBALL}" \
        2>&1 | tee importer.log
    local rc=${PIPESTATUS[0]}
    local findings
    findings="$(grep -E '^(WARNING|ERROR|CRITICAL)|Traceback' importer.log)"
    if [[ ${rc} -ne 0 || -n "${findings}" ]] || ! grep -q 'Importer processing completed successfully' importer.log; then
        echo "galaxy-importer: exit ${rc}; findings:"
        echo "${findings:-none}"
        return 1
    fi
    echo "galaxy-importer $("${importer_venv}/bin/python" -c 'import galaxy_importer; print(galaxy_importer.__version__)' 2>/dev/null):" \
        "$(basename "${TARBALL}") imported, no warning" >"${STEP_SUMMARY}"
}

step_ee() {
    # ansible-builder writes the execution environment's build context from
    # meta/execution-environment.yml (building the image needs podman/docker).
    local context="${TMP_DIR}/ee/context"
    rm -rf "${context}"
    cd "${STAGE_DIR}" && ansible-builder create --file meta/execution-environment.yml \
        --context "${context}" --output-filename Containerfile || return 1
    "${VENV_PY}" "${TOOLS_DIR}/check_ee_context.py" "${context}" "${COLLECTIONS_ROOT}" | tee "${STEP_SUMMARY}.out"
    local rc=${PIPESTATUS[0]}
    # The decision environment (meta/decision-environment.yml) for rulebook activations: ansible-rulebook and Java 17.
    local de_context="${TMP_DIR}/de/context" de="decision environment: ansible-rulebook and Java 17"
    rm -rf "${de_context}"
    if ! (cd "${STAGE_DIR}" && ansible-builder create --file meta/decision-environment.yml --context "${de_context}" \
            --output-filename Containerfile) || ! grep -rq "ansible-rulebook" "${de_context}" \
            || ! grep -rq "java-17-openjdk-headless" "${de_context}"; then
        de="decision environment: its build context lacks ansible-rulebook or Java 17 (meta/decision-environment.yml)"
        rc=1
    fi
    echo "${de}"
    echo "$(tail -n 1 "${STEP_SUMMARY}.out"); ${de}" >"${STEP_SUMMARY}" && rm -f "${STEP_SUMMARY}.out"
    return "${rc}"
}

step_runner() {
    # An AWX-style job: ansible-runner with the credential type's injected env.
    cd "${STAGE_DIR}" && summarized "${VENV_PY}" tests/runner/runner_test.py \
        --collections-path "${COLLECTIONS_ROOT}" --work-dir "${TMP_DIR}/runner"
}

# The matrix scripts: each takes --collections-path, prints a table and a summary line.
run_matrix_script() {
    local script="${ROOT}/$1"
    if [[ ! -f "${script}" ]]; then
        echo "missing ${1}" | tee "${STEP_SUMMARY}"
        return 1
    fi
    summarized "${VENV_PY}" "${script}" --collections-path "${COLLECTIONS_ROOT}"
}

step_faults() {
    run_matrix_script tests/matrix/fault_matrix.py
}

step_badinput() {
    run_matrix_script tests/matrix/bad_input_matrix.py
}

step_secrets() {
    run_matrix_script tests/matrix/secret_hygiene.py
}

step_race() {
    run_matrix_script tests/matrix/race.py
}

step_livecheck() {
    # The live contract check (tools/live_check.py) with an emulator process standing in for the
    # real API, in both profiles, read-only and --write: no difference and every write step as
    # expected (--expect-no-differences), and neither the API key nor the secret env value in any
    # report or output. The real API is never called here.
    local work="${TMP_DIR}/live-check/emulator" key secret profile mode report output status runs=0 failed=0 leaks=0
    rm -rf "${work}" && mkdir -p "${work}" || return 1
    key="livecheck-key-$("${VENV_PY}" -c 'import secrets; print(secrets.token_hex(12))')" || return 1
    secret="livecheck-secret-$("${VENV_PY}" -c 'import secrets; print(secrets.token_hex(12))')" || return 1
    for profile in strict documented; do
        for mode in read-only write; do
            report="${work}/${profile}-${mode}.json"
            output="${work}/${profile}-${mode}.out"
            local args=(--against-emulator "${profile}" --expect-no-differences --report "${report}")
            if [[ ${mode} == write ]]; then
                args+=(--write --collections-path "${COLLECTIONS_ROOT}")
            fi
            runs=$((runs + 1))
            echo "== ${profile}, ${mode}"
            # Key and secret go by environment, never on a command line.
            NOVITA_API_KEY="${key}" NOVITA_LIVE_CHECK_SECRET_VALUE="${secret}" \
                "${VENV_PY}" "${TOOLS_DIR}/live_check.py" "${args[@]}" 2>&1 | tee "${output}"
            status=${PIPESTATUS[0]}
            if [[ ${status} -ne 0 ]]; then
                echo "live check (${profile}, ${mode}) exited ${status}"
                failed=$((failed + 1))
            fi
            if grep -F -q -e "${key}" -e "${secret}" "${output}" "${report}" 2>/dev/null; then
                echo "the API key or the secret value is in ${output#"${ROOT}"/} or ${report#"${ROOT}"/}"
                leaks=$((leaks + 1))
            fi
        done
    done
    # Totals from the reports; a write run that did not send the secret would make the search above meaningless.
    local totals
    totals="$("${VENV_PY}" - "${work}"/*.json <<'PY'
import json
import sys

differences = steps = steps_ok = unsent = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    differences += len(report["differences"])
    write_run = report.get("write_run")
    if write_run:
        steps += len(write_run["steps"])
        steps_ok += sum(1 for step in write_run["steps"] if step.get("as_expected"))
        unsent += write_run.get("secret_env_sent") is not True
print(f"{differences} differences, write steps {steps_ok}/{steps} as expected, write runs without the secret: {unsent}")
PY
)" || return 1
    [[ ${totals} == *"write runs without the secret: 0" ]] || failed=$((failed + 1))
    echo "live check against the emulator: $((runs - failed))/${runs} runs passed (strict, documented; read-only, --write)," \
        "${totals}; key or secret found: ${leaks}" | tee "${STEP_SUMMARY}"
    [[ ${failed} -eq 0 && ${leaks} -eq 0 ]]
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
            echo "unknown step '${step}' (known: ${ALL_STEPS[*]} ${EXTRA_STEPS[*]})" >&2
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

    local passed=0 failed=0 log summary
    for step in "${steps[@]}"; do
        log="${LOG_DIR}/${step}.log"
        STEP_SUMMARY="${LOG_DIR}/${step}.summary"
        rm -f "${STEP_SUMMARY}"
        started=${SECONDS}
        # Each step runs in a subshell so its cd/exports stay local to it.
        if ("step_${step}") </dev/null >"${log}" 2>&1; then
            summary="$(head -n 1 "${STEP_SUMMARY}" 2>/dev/null || true)"
            echo "PASS ${step} ($((SECONDS - started))s)${summary:+: ${summary}}"
            passed=$((passed + 1))
        else
            summary="$(head -n 1 "${STEP_SUMMARY}" 2>/dev/null || true)"
            echo "FAIL ${step} ($((SECONDS - started))s)${summary:+: ${summary}} - see ${log#"${ROOT}"/}"
            print_tail "${log}"
            failed=$((failed + 1))
        fi
    done

    echo "${passed} passed, ${failed} failed"
    [[ ${failed} -eq 0 ]]
}

main "$@"
