# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make ``ansible_collections.ha_lb.keepalived_nginx`` importable under plain pytest.

The repository carries ``collections/ansible_collections/ha_lb/keepalived_nginx``, a link
back to its root. ansible-test provides the import path itself, so the link is only
added when the collection cannot be imported already.
"""

from __future__ import annotations

import os
import sys

try:
    import ansible_collections.ha_lb.keepalived_nginx.plugins  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'collections'))
