# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filter of the collection's handler: the reloads the flags on a host ask for."""

from __future__ import annotations

from collections.abc import Mapping

ACTIONS = ('reloaded', 'restarted')
FLAG_PREFIX = 'ha_lb_'


def pending_reloads(local_facts):
    """``ansible_local`` -> [{flag, unit, action}] for every flag of the collection that names a unit to act on.

    A flag is a local fact ``ha_lb_*`` holding ``{"pending": true, "unit": ..., "action": ...}``; other
    local facts, and flags without a unit or with an unknown action, are left alone. Sorted by flag name.
    """
    if not isinstance(local_facts, Mapping):
        return []
    found = []
    for name in sorted(local_facts):
        fact = local_facts[name]
        if not (isinstance(name, str) and name.startswith(FLAG_PREFIX) and isinstance(fact, Mapping)):
            continue
        unit, action = fact.get('unit'), fact.get('action', 'reloaded')
        if fact.get('pending') is True and isinstance(unit, str) and unit and action in ACTIONS:
            found.append({'flag': name, 'unit': unit, 'action': action})
    return found


class FilterModule:
    def filters(self):
        return {'pending_reloads': pending_reloads}
