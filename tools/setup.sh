#!/usr/bin/env bash
# Installs everything the collection's lab and tests need: OS packages for the
# local lab and a pinned Python toolchain in .venv/. Idempotent; a no-op when
# everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(systemd-container debootstrap dpkg-dev openssh-client openssl iproute2 make git shellcheck)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "setup: missing OS packages: ${missing[*]} (run as root, or: sudo apt-get install --no-install-recommends ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing OS packages: ${missing[*]}"
  # --no-install-recommends: libnss-mymachines would otherwise edit the host's nsswitch.conf.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing Python requirements into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" >"$stamp"
fi
