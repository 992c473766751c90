# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filter of the failover_drill role: the table of fault kinds (documented in the sidecar YAML file)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_faults import (
    UnknownFault,
    fault_entries,
    fault_entry,
)


def drill_faults(selection):
    """Entries of the fault table: one kind's entry for a name, a list for a list of names, every entry for 'all'."""
    try:
        if selection == 'all' or selection == ['all']:
            return fault_entries()
        if isinstance(selection, str):
            return fault_entry(selection)
        return [fault_entry(name) for name in selection]
    except (UnknownFault, TypeError) as exc:
        raise AnsibleFilterError('drill_faults: %s' % exc)


class FilterModule:
    def filters(self):
        return {'drill_faults': drill_faults}
