#!/usr/bin/env bash
# make install [COLLECTIONS_PATH=DIR]: build this checkout's collection tarball and install it
# into DIR (default ~/.ansible/collections), replacing a novita.cloud already there.
#
# Uses ansible-galaxy from the light venv .tmp/venv-run (created when missing). The tarball
# is built into .tmp/dist as make build does; galaxy.yml's build_ignore keeps the build
# tooling, venvs and .tmp out of it.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dest="${COLLECTIONS_PATH:-}"
[[ -n "${dest}" ]] || dest="${HOME}/.ansible/collections"
# A "~" that reached us unexpanded (quoted on the command line) means the home directory.
# shellcheck disable=SC2088  # the literal "~" is what is looked for
if [[ "${dest}" == "~" || "${dest}" == "~/"* ]]; then
    dest="${HOME}${dest:1}"
fi
[[ "${dest}" == /* ]] || dest="${PWD}/${dest}"

ensure_run_venv
galaxy="${RUN_VENV}/bin/ansible-galaxy"
dist="${TMP_DIR}/dist"
mkdir -p "${dist}"

cd "${ROOT}"
build_output="$("${galaxy}" collection build --force --output-path "${dist}" .)" || {
    echo "${build_output}" >&2
    exit 1
}
# "Created collection for novita.cloud at /.../novita-cloud-0.1.0.tar.gz"
tarball="$(sed -n 's/^Created collection for .* at //p' <<<"${build_output}" | tail -n 1)"
if [[ ! -f "${tarball}" ]]; then
    echo "ansible-galaxy collection build did not say where the tarball is:" >&2
    echo "${build_output}" >&2
    exit 1
fi
echo "Built ${tarball#"${ROOT}"/}"

mkdir -p "${dest}"
# ansible-galaxy's own warning about a DIR outside the configured paths is replaced by the hint below
# (on a reinstall it wrongly calls DIR "part of the pip Ansible package").
ANSIBLE_GALAXY_COLLECTIONS_PATH_WARNING=false "${galaxy}" collection install --force -p "${dest}" "${tarball}"
installed="${dest%/}/ansible_collections/${COLLECTION_NAMESPACE}/${COLLECTION_NAME}"
if [[ ! -f "${installed}/MANIFEST.json" ]]; then
    echo "ansible-galaxy collection install did not install ${installed}" >&2
    exit 1
fi
version="$("${RUN_VENV}/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
    "${installed}/MANIFEST.json")"
echo "Installed novita.cloud ${version} into ${installed}"
# Where ansible-playbook looks (ANSIBLE_COLLECTIONS_PATH, else its defaults; an ansible.cfg may say otherwise).
IFS=: read -r -a searched <<<"${ANSIBLE_COLLECTIONS_PATH:-${HOME}/.ansible/collections:/usr/share/ansible/collections}"
for path in "${searched[@]}"; do
    path="${path/#\~/${HOME}}"
    [[ "${path%/}" == "${dest%/}" ]] && exit 0
done
echo "${dest} is not on Ansible's collections path; before running your playbooks:"
echo "export ANSIBLE_COLLECTIONS_PATH=\"${dest}\""
