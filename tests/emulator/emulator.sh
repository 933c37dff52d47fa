# shellcheck shell=bash
# shellcheck disable=SC2034  # EMULATOR_URL and EMULATOR_PID are for the scripts that source this
# Start and stop the Novita API emulator from a shell script; source this file.
#
#   emulator_start PYTHON WORK_DIR [emulator flags...]
#       starts tests/emulator/novita_emulator.py in the background on a free loopback port,
#       waits until it listens and sets EMULATOR_URL and EMULATOR_PID; its output goes to
#       WORK_DIR/emulator.log. Returns non-zero (after showing that log) if it did not start.
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
