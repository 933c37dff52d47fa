#!/usr/bin/env bash
# make demo: run examples/endpoint.yml five times against the local emulator.
#
#   1 create   2 rerun (must write nothing)   3 scale to 3 in --check --diff
#   (must write nothing)   4 scale to 3   5 delete
#
# Needs only ansible-core: it uses the light venv .tmp/venv-run and the collection
# linked by make dev (tools/dev.sh), not the dev venv or the staged copy. One line
# per phase: the venv (created or updated only when needed), the link, the emulator,
# then each run. Exits non-zero if a run fails or if run 2 or 3 sent a write request.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=${SECONDS}
ensure_run_venv
echo "demo: ansible-core $(run_core_version) from ${RUN_VENV#"${ROOT}"/}"
ensure_dev_link
echo "demo: novita.cloud from this checkout, through ${DEV_LINK#"${ROOT}"/}"
run_py="${RUN_VENV}/bin/python"
requests_tool="${ROOT}/tests/emulator/emulator_requests.py"

demo_dir="${TMP_DIR}/demo"
rm -rf "${demo_dir}"
mkdir -p "${demo_dir}"
# shellcheck source=../tests/emulator/emulator.sh source-path=SCRIPTDIR
. "${ROOT}/tests/emulator/emulator.sh"
trap emulator_stop EXIT
printf 'demo: starting the emulator: '
emulator_start "${run_py}" "${demo_dir}" || { echo; exit 1; }
# shellcheck disable=SC2153  # EMULATOR_URL is set by emulator_start
emulator_url="${EMULATOR_URL}"
echo "${emulator_url} (its log, one line per request: ${demo_dir#"${ROOT}"/}/emulator.log)"
export NOVITA_API_BASE_URL="${emulator_url}"
export NOVITA_API_KEY="emulator-key"
export NOVITA_EMULATOR_URL="${emulator_url}"
export ANSIBLE_COLLECTIONS_PATH="${DEV_COLLECTIONS}"
export ANSIBLE_PYTHON_INTERPRETER='{{ ansible_playbook_python }}'
# The example targets the implicit localhost on purpose; skip the warnings about it.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export PATH="${RUN_VENV}/bin:${PATH}"

cd "${ROOT}"
problems=()

# run_example NUMBER TITLE COUNT_WRITES [ansible-playbook args...]
run_example() {
    local number="$1" title="$2" count_writes="$3"
    shift 3

    echo
    echo "=== ${number}/5 ${title}"
    echo "=== ansible-playbook examples/endpoint.yml${*:+ $*}"

    if [[ "${count_writes}" == yes ]]; then
        "${run_py}" "${requests_tool}" clear "${emulator_url}"
    fi

    if ! ansible-playbook examples/endpoint.yml "$@"; then
        echo
        echo "DEMO FAILED: run ${number} (${title}) failed"
        exit 1
    fi

    if [[ "${count_writes}" == yes ]]; then
        local report writes status=0
        # --expect 0: exits 1 (after listing them) when the run sent any write request.
        report="$("${run_py}" "${requests_tool}" writes "${emulator_url}" --expect 0 2>/dev/null)" || status=$?
        writes="$(tail -n 1 <<<"${report}")"
        echo "Write requests (POST) the emulator received during this run: ${writes}"
        if [[ ${status} -ne 0 ]]; then
            head -n -1 <<<"${report}"
            problems+=("run ${number} (${title}) sent ${writes:-an unknown number of} write request(s), expected none")
        fi
    fi
}

run_example 1 "create the endpoint" no
run_example 2 "run again: nothing to change" yes
run_example 3 "preview scaling to 3 workers (--check --diff)" yes -e endpoint_max_num=3 --check --diff
run_example 4 "scale to 3 workers" no -e endpoint_max_num=3
run_example 5 "delete the endpoint" no -e endpoint_state=absent

echo
if [[ ${#problems[@]} -gt 0 ]]; then
    printf 'DEMO FAILED: %s\n' "${problems[@]}"
    exit 1
fi
echo "Demo OK: 5 runs, runs 2 and 3 sent no write request ($((SECONDS - started))s)"
