#!/usr/bin/env bash
# Build the collection's HTML documentation site into .tmp/docsite/build/html.
#
# Runs on the staged copy (tools/stage.sh first) with the dev venv's tools:
#   1. antsibull-docs sphinx-init writes a Sphinx project into .tmp/docsite;
#   2. its build.sh renders the module pages from the plugins' own
#      DOCUMENTATION/EXAMPLES/RETURN, the guides listed in
#      docs/docsite/extra-docs.yml (docs/docsite/rst/*.rst), and runs sphinx-build.
# The build is offline: intersphinx gets no remote inventories, so references
# into docs.ansible.com cannot resolve. Exactly those (ALLOWED_UNDEFINED_LABELS)
# are tolerated; any other warning or error in the build log fails the build.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
activate_venv

DOCSITE_DIR="${TMP_DIR}/docsite"
HTML_DIR="${DOCSITE_DIR}/build/html"
BUILD_LOG="${DOCSITE_DIR}/build.log"
FQCN="${COLLECTION_NAMESPACE}.${COLLECTION_NAME}"

# Labels of the Ansible documentation that antsibull-docs' generated pages link
# to; offline they are reported as undefined. Guides should not add to this list
# without a reason: an undefined label is a broken link on the site.
ALLOWED_UNDEFINED_LABELS=(ansible_configuration_settings common_return_values)

if [[ ! -f "${STAGE_DIR}/galaxy.yml" ]]; then
    echo "no staged collection in ${STAGE_DIR}; run tools/stage.sh first" >&2
    exit 1
fi

# Only the staged copy, not a collection installed elsewhere on the machine.
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

rm -rf "${DOCSITE_DIR}"
mkdir -p "${DOCSITE_DIR}"
chmod 0700 "${DOCSITE_DIR}"  # sphinx-init wants a directory only its owner can write

antsibull-docs sphinx-init --use-current --lenient --squash-hierarchy \
    --dest-dir "${DOCSITE_DIR}" "${FQCN}"

# No network: do not let intersphinx try to download the inventories.
cat >>"${DOCSITE_DIR}/conf.py" <<'EOF'

# Added by tools/docs-site.sh: the build runs offline, so no intersphinx inventories.
intersphinx_mapping = {}
project = 'novita.cloud'
copyright = 'novita.cloud contributors'
html_title = 'novita.cloud collection documentation'
html_short_title = 'novita.cloud documentation'
EOF

echo "Building the site (log: ${BUILD_LOG#"${ROOT}"/})"
if ! "${DOCSITE_DIR}/build.sh" >"${BUILD_LOG}" 2>&1; then
    tail -n 40 "${BUILD_LOG}"
    echo "docs site: build.sh failed" >&2
    exit 1
fi

problems=()

# Warnings and errors from antsibull-docs, docutils and Sphinx, minus the allowed labels.
allowed_re="$(printf "undefined label: '%s'|" "${ALLOWED_UNDEFINED_LABELS[@]}")"
allowed_re="${allowed_re%|}"
mapfile -t findings < <(grep -E 'WARNING|ERROR|CRITICAL|SEVERE|Traceback' "${BUILD_LOG}" | grep -Ev "${allowed_re}" || true)
if [[ ${#findings[@]} -gt 0 ]]; then
    problems+=("the build log has ${#findings[@]} warning/error line(s):")
    problems+=("${findings[@]/#/  }")
fi

# Every module and every guide has its page.
cd "${STAGE_DIR}"
for module in plugins/modules/*.py; do
    name="$(basename "${module}" .py)"
    [[ "${name}" == __init__ ]] && continue
    page="${HTML_DIR}/${name}_module.html"
    [[ -s "${page}" ]] || problems+=("no page for module ${name} (${page#"${ROOT}"/})")
done
guides=0
for guide in docs/docsite/rst/*.rst; do
    [[ -e "${guide}" ]] || continue
    guides=$((guides + 1))
    page="${HTML_DIR}/docsite/$(basename "${guide}" .rst).html"
    [[ -s "${page}" ]] || problems+=("no page for guide ${guide} (${page#"${ROOT}"/}); is it listed in docs/docsite/extra-docs.yml?")
done

if [[ ${#problems[@]} -gt 0 ]]; then
    printf '%s\n' "${problems[@]}"
    echo "docs site: FAILED" >&2
    exit 1
fi

pages="$(find "${HTML_DIR}" -name '*.html' | wc -l)"
allowed="$(grep -cE "${allowed_re}" "${BUILD_LOG}" || true)"
echo "docs site: ${pages} HTML pages (${guides} guides) in ${HTML_DIR#"${ROOT}"/}/index.html;" \
    "${allowed} offline-only undefined label(s), no other warning"
