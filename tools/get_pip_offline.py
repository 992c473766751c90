"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from a host outside the package registries
unless a copy is cached. This stand-in bootstraps pip from the interpreter's
bundled wheel and installs the requested packages from the configured index.
"""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
env = dict(os.environ)
# ansible-test hides the machine's pip configuration; the index and certificates live there.
if env.get("PIP_CONFIG_FILE") == os.devnull:
    del env["PIP_CONFIG_FILE"]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", *args], env=env)
