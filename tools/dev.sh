#!/usr/bin/env bash
# make dev: use this checkout as the installed novita.cloud collection.
#
# Links .tmp/dev/collections/ansible_collections/novita/cloud to the checkout (a symlink,
# so every edit counts at once; nothing is copied), makes sure .tmp/venv-run holds
# ansible-core (tools/requirements-run.txt), and prints, as its last line, the one
# export line that points ANSIBLE_COLLECTIONS_PATH at the link and puts the venv's
# ansible-playbook first on PATH. The line uses $PWD: paste it from the repository root.
# Running it again changes nothing and takes well under a second.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_run_venv
ensure_dev_link

echo "novita.cloud: ${DEV_LINK#"${ROOT}"/} -> this checkout (a symlink: your edits count at once)"
echo "ansible-core $(run_core_version): ${RUN_VENV#"${ROOT}"/}/bin (ansible-playbook, ansible-galaxy, ansible-doc)"
echo "Paste this line into your shell from the repository root ($ROOT):"
# shellcheck disable=SC2016  # $PWD and $PATH are for the user's shell to expand
printf 'export ANSIBLE_COLLECTIONS_PATH="$PWD/%s" PATH="$PWD/%s/bin:$PATH"\n' "${DEV_COLLECTIONS#"${ROOT}"/}" "${RUN_VENV#"${ROOT}"/}"
