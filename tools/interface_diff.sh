#!/usr/bin/env bash
# What a user of the modules sees, compared between a commit and HEAD: every module's argument spec (as main()
# hands it to AnsibleModule) and its ansible-doc JSON. Prints the differences; no output means the same interface.
# Usage: tools/interface_diff.sh REV [OTHER_REV]   (OTHER_REV defaults to HEAD; run `make venv` first)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OLD="${1:?usage: tools/interface_diff.sh REV [OTHER_REV]}"
NEW="${2:-HEAD}"
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for side in old new; do
    rev=$OLD; [ "$side" = new ] && rev=$NEW
    mkdir -p "$WORK/$side/ansible_collections/novita/cloud"
    git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/$side/ansible_collections/novita/cloud"
    PYTHONPATH="$WORK/$side" "$PY" - > "$WORK/$side.txt" <<'PYEOF'
import importlib, json, pkgutil, re, subprocess, sys
from ansible.module_utils import basic

class Spec(Exception):
    pass

def capture(self, *args, **kwargs):
    raise Spec(kwargs)

basic.AnsibleModule.__init__ = capture
import ansible_collections.novita.cloud.plugins.modules as modules
for info in sorted(pkgutil.iter_modules(modules.__path__), key=lambda m: m.name):
    module = importlib.import_module(modules.__name__ + "." + info.name)
    try:
        module.main()
    except Spec as spec:
        text = json.dumps(spec.args[0], default=repr, sort_keys=True, indent=1)
        print("== %s argument spec\n%s" % (info.name, re.sub(r" at 0x[0-9a-f]+", "", text)))
    doc = json.loads(subprocess.check_output([sys.executable, "-m", "ansible.cli.doc", "--json", "-t", "module",
                                              "novita.cloud." + info.name], env=dict(__import__("os").environ,
                                              ANSIBLE_COLLECTIONS_PATH=sys.path[0] if sys.path[0] else "")))
    for value in doc.values():
        value["doc"].pop("filename", None)
    print("== %s docs\n%s" % (info.name, json.dumps(doc, sort_keys=True, indent=1)))
PYEOF
done
diff -u --label "$OLD" --label "$NEW" "$WORK/old.txt" "$WORK/new.txt" || true
