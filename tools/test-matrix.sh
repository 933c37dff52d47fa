#!/usr/bin/env bash
# make test-matrix: ansible-test sanity, units and integration on every supported
# ansible-core line, each in its own venv, stage directory and log directory:
#
#   ansible-core 2.16 on Python 3.11   .tmp/venv-2.16   (tools/matrix/ansible-core-2.16*.txt)
#   ansible-core 2.19 on Python 3.11   .venv            (the dev venv, tools/requirements.txt)
#   ansible-core 2.21 on Python 3.12   .tmp/venv-2.21   (tools/matrix/ansible-core-2.21*.txt)
#
# Stage and logs: .tmp/matrix/<core>/collections/..., .tmp/matrix/<core>/logs/<step>.log.
# Prints one line per (core, step) and a summary; the last line is "N passed, N failed".
# MATRIX_CORES="2.16 2.21" runs a subset. Python 3.11 is $PYTHON (python3) or
# python3.11; Python 3.12 is pyenv's 3.12.1 or python3.12 on PATH.
set -uo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STEPS=(sanity units integration)
# The emulator profiles differ in what the API answers, not in anything ansible-core does: make test
# runs the integration targets under both, each matrix line under the strict one only (MATRIX_EMULATOR_PROFILES
# overrides that, e.g. "strict documented").
MATRIX_EMULATOR_PROFILES="${MATRIX_EMULATOR_PROFILES:-strict}"

python_for() {
    local version="$1" candidate
    local pyenv_root=""
    command -v pyenv >/dev/null 2>&1 && pyenv_root="$(pyenv root 2>/dev/null)"
    for candidate in "${PYTHON}" "python${version}" "${pyenv_root:+${pyenv_root}/versions/}"*"/bin/python${version}"; do
        if [[ -n "${candidate}" ]] && "${candidate}" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '${version}' else 1)" >/dev/null 2>&1; then
            command -v "${candidate}"
            return 0
        fi
    done
    for candidate in "${pyenv_root}/versions/${version}".*/bin/"python${version}"; do
        [[ -x "${candidate}" ]] && { echo "${candidate}"; return 0; }
    done
    return 1
}

# cell CORE PYTHON_VERSION: set NOVITA_* for one cell (empty requirements = the dev venv).
cell_env() {
    local core="$1"
    export NOVITA_COLLECTIONS_ROOT="${TMP_DIR}/matrix/${core}/collections"
    export NOVITA_LOG_DIR="${TMP_DIR}/matrix/${core}/logs"
    if [[ "${core}" == 2.19 ]]; then
        unset NOVITA_VENV NOVITA_REQUIREMENTS NOVITA_CONSTRAINTS
    else
        export NOVITA_VENV="${TMP_DIR}/venv-${core}"
        export NOVITA_REQUIREMENTS="${TOOLS_DIR}/matrix/ansible-core-${core}.txt"
        export NOVITA_CONSTRAINTS="${TOOLS_DIR}/matrix/ansible-core-${core}-constraints.txt"
    fi
}

declare -A CELL_PYTHON=([2.16]=3.11 [2.19]=3.11 [2.21]=3.12)
read -r -a cores <<<"${MATRIX_CORES:-2.16 2.19 2.21}"

started_all=${SECONDS}
passed=0
failed=0
summary=()
for core in "${cores[@]}"; do
    pyver="${CELL_PYTHON[${core}]:-}"
    if [[ -z "${pyver}" ]]; then
        echo "unknown ansible-core line ${core} (known: ${!CELL_PYTHON[*]})" >&2
        exit 2
    fi
    cell_started=${SECONDS}
    if ! python="$(python_for "${pyver}")"; then
        echo "FAIL ansible-core ${core} / Python ${pyver}: no python${pyver} found"
        failed=$((failed + ${#STEPS[@]}))
        summary+=("${core}/py${pyver}: no Python ${pyver}")
        continue
    fi
    (
        cell_env "${core}"
        export PYTHON="${python}"
        export NOVITA_EMULATOR_PROFILES="${MATRIX_EMULATOR_PROFILES}"
        # run-tests.sh builds the cell's venv, its get-pip stand-in and its stage,
        # then prints "PASS sanity (..s)" lines and "N passed, N failed".
        "${TOOLS_DIR}/run-tests.sh" "${STEPS[@]}"
    ) >"${TMP_DIR}/matrix-${core}.out" 2>&1
    cell_pass=0
    cell_fail=0
    while IFS= read -r line; do
        case "${line}" in
            PASS\ *) cell_pass=$((cell_pass + 1)); echo "PASS ansible-core ${core} / py${pyver} ${line#PASS }" ;;
            FAIL\ *) cell_fail=$((cell_fail + 1)); echo "FAIL ansible-core ${core} / py${pyver} ${line#FAIL }" ;;
            [0-9]*\ passed,\ [0-9]*\ failed) ;;
            *) echo "    ${line}" ;;
        esac
    done <"${TMP_DIR}/matrix-${core}.out"
    if [[ $((cell_pass + cell_fail)) -ne ${#STEPS[@]} ]]; then
        cell_fail=$((${#STEPS[@]} - cell_pass))
    fi
    passed=$((passed + cell_pass))
    failed=$((failed + cell_fail))
    core_version="$("${TMP_DIR}/venv-${core}/bin/python" -c 'import ansible; print(ansible.__version__)' 2>/dev/null ||
        "${VENV_PY}" -c 'import ansible; print(ansible.__version__)' 2>/dev/null)"
    summary+=("ansible-core ${core_version:-${core}} / Python ${pyver}: ${cell_pass}/${#STEPS[@]} steps passed ($((SECONDS - cell_started))s)")
    rm -f "${TMP_DIR}/matrix-${core}.out"
done

echo
echo "Matrix summary ($((SECONDS - started_all))s):"
printf '  %s\n' "${summary[@]}"
echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
