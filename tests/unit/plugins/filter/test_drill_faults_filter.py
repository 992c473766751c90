# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The drill_faults filter: the table of fault kinds as the failover_drill role reads it."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.drill_faults import FilterModule
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_faults import fault_names

F = FilterModule().filters()


def test_registered():
    assert sorted(F) == ['drill_faults']


class TestFaults:
    def test_one_kind(self):
        entry = F['drill_faults']('link_down')
        assert entry['target_unreachable'] is True and entry['fault_tasks'] == 'fault_link_down.yml'

    def test_a_list_and_all(self):
        assert [e['name'] for e in F['drill_faults'](['crash', 'stop'])] == ['crash', 'stop']
        assert [e['name'] for e in F['drill_faults']('all')] == list(fault_names())
        assert [e['name'] for e in F['drill_faults'](['all'])] == list(fault_names())

    @pytest.mark.parametrize('selection', ['meteor', ['stop', 'meteor'], None])
    def test_unknown(self, selection):
        with pytest.raises(AnsibleFilterError, match='drill_faults: '):
            F['drill_faults'](selection)
