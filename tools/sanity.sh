#!/usr/bin/env bash
# Runs `ansible-test sanity` on a copy of the collection laid out where
# ansible-test needs it: build/ansible_collections/ha_lb/keepalived_nginx.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
dest=$root/build/ansible_collections/ha_lb/keepalived_nginx

pip_version=$("$venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cmp -s "$root/tools/get_pip_offline.py" "$cache" 2>/dev/null || cp "$root/tools/get_pip_offline.py" "$cache"

rm -rf "$dest"
mkdir -p "$dest"
# The collection's files as git sees them (tracked and new), without the link back to itself.
cd "$root"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do
    [[ $f != collections/* && ( -e $f || -L $f ) ]] && printf '%s\0' "$f"
  done |
  xargs -0 cp --parents -P -t "$dest"
cd "$dest"
# A repository of its own: the enclosing checkout ignores build/, and ansible-test lists files with git.
git init -q
PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --venv --requirements --python 3.11 --color no "$@"
