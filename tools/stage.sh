#!/usr/bin/env bash
# Copy the collection to .tmp/collections/ansible_collections/novita/cloud, fresh.
#
# ansible-test only works on a collection that really sits at
# .../ansible_collections/<namespace>/<name> (it resolves symlinks), so the
# ansible-test steps run in this copy. In a git work tree the copy holds the
# tracked files plus the untracked ones that are not ignored, i.e. exactly what
# a commit would contain; outside git it copies the tree minus local debris.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rm -rf "${STAGE_DIR}"
mkdir -p "${STAGE_DIR}"
cd "${ROOT}"

# Paths that never belong in the copy, even if .gitignore is missing or wrong.
is_debris() {
    case "$1" in
        .git/* | .tmp/* | .venv/* | .ansible/* | collections/* | tests/output/* | tests/integration/inventory) return 0 ;;
        */__pycache__/* | __pycache__/* | */.pytest_cache/* | .pytest_cache/* | *.pyc) return 0 ;;
    esac
    return 1
}

list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard
    else
        find . -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\0'
    fi
}

while IFS= read -r -d '' path; do
    # ls-files --cached still lists tracked files deleted from the work tree.
    if [[ -e "${path}" || -L "${path}" ]] && ! is_debris "${path}"; then
        printf '%s\0' "${path}"
    fi
done < <(list_files) | tar --null --no-recursion -T - -cf - | tar -C "${STAGE_DIR}" -xf -

# ansible-test picks its file list from the nearest enclosing .git. Without a
# repository of its own the copy would be read through the work tree's one,
# which ignores .tmp/, and ansible-test would see no files at all.
if command -v git >/dev/null 2>&1; then
    git -C "${STAGE_DIR}" init --quiet
fi

echo "Staged $(find "${STAGE_DIR}" -type f | wc -l) files in ${STAGE_DIR}"
