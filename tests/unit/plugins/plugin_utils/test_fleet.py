# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The checks across the pairs of a fleet and the VRIDs chosen for them (plugins/plugin_utils/fleet.py)."""

from __future__ import annotations

import copy

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.fleet import (
    fleet, plan_waves, reserved_set, rounds, stop_reason, summary_lines, to_update,
)


def pair_hosts(pair, number, vrid=None, domain=None, vips=None, services=None):
    """The two balancers of one pair, as the fleet check reads them from hostvars."""
    instance = {'name': 'VI_%s' % pair.upper(), 'virtual_ipaddresses': vips or ['10.0.%d.100/24' % number]}
    if vrid is not None:
        instance['virtual_router_id'] = vrid
    entry = {'pair': pair, 'instances': [instance], 'services': services or [], 'listen_address': '',
             'listen_port': 80}
    if domain is not None:
        entry['l2_domain'] = domain
    return {'%s-%d' % (pair, side): copy.deepcopy(entry) for side in (1, 2)}


def inventory(*pairs, play_hosts=None, **extra):
    balancers = {}
    for hosts in pairs:
        balancers.update(hosts)
    return dict({'balancers': balancers, 'play_hosts': play_hosts if play_hosts is not None else list(balancers)},
                **extra)


def test_twenty_pairs_with_their_own_vrids_and_vips_pass():
    result = fleet(inventory(*(pair_hosts('p%02d' % n, n, vrid=n) for n in range(1, 21))))
    assert result['errors'] == []
    assert len(result['pairs']) == 20
    assert result['pairs']['p07'] == {'members': ['p07-1', 'p07-2'], 'l2_domain': 'default', 'vips': ['10.0.7.100'],
                                      'vrids': {'VI_P07': 7}}


def test_one_vrid_in_two_pairs_of_one_domain_is_refused_with_both_names():
    errors = fleet(inventory(pair_hosts('a', 1, vrid=80), pair_hosts('b', 2, vrid=80)))['errors']
    assert errors == ['virtual_router_id 80 is used by a (VI_A), b (VI_B) in the layer-2 domain default (IPv4): VRRP '
                      'routers that hear each other need distinct VRIDs. Give one of them another virtual_router_id, '
                      'or set keepalived_l2_domain when the pairs are on separate networks.']


def test_the_same_vrid_in_other_domains_or_ip_versions_is_fine():
    assert fleet(inventory(pair_hosts('a', 1, vrid=80, domain='dc1'), pair_hosts('b', 2, vrid=80, domain='dc2')))[
        'errors'] == []
    assert fleet(inventory(pair_hosts('a', 1, vrid=80), pair_hosts('b', 2, vrid=80, vips=['2001:db8::100/64'])))[
        'errors'] == []


def test_a_pair_must_agree_on_its_domain():
    hosts = pair_hosts('a', 1, vrid=1, domain='dc1')
    hosts['a-2']['l2_domain'] = 'dc2'
    assert fleet(inventory(hosts))['errors'] == [
        'keepalived_l2_domain differs between the balancers of the pair a (dc1, dc2): the balancers of a pair share one '
        'layer-2 network; set one keepalived_l2_domain for the pair (its group_vars).']


def test_a_vip_of_two_pairs_is_refused_in_any_domain():
    errors = fleet(inventory(pair_hosts('a', 1, vrid=1, domain='dc1', vips=['10.9.9.9/24']),
                             pair_hosts('b', 2, vrid=2, domain='dc2', vips=['10.9.9.9/24'])))['errors']
    assert errors == ['The VIP 10.9.9.9 belongs to the pairs a, b: a VIP belongs to one pair of the fleet (keepalived '
                      'deletes the address it gives up, and two pairs would answer ARP for it). Give each pair its own '
                      'VIPs in keepalived_instances.']


def test_a_service_on_another_pairs_vip_is_refused():
    services = [{'name': 'api', 'listen_address': '10.0.1.100', 'port': 443}]
    errors = fleet(inventory(pair_hosts('a', 1, vrid=1), pair_hosts('b', 2, vrid=2, services=services)))['errors']
    assert errors == ['nginx_lb_services[api] of the pair b listens on 10.0.1.100 port 443, a VIP of the pair a: no two '
                      'services of the fleet share one VIP:port. Bind the service to a VIP of b.']
    own = [{'name': 'api', 'listen_address': '10.0.2.100', 'port': 443}, {'name': 'web'}]
    assert fleet(inventory(pair_hosts('a', 1, vrid=1), pair_hosts('b', 2, vrid=2, services=own)))['errors'] == []


def test_a_limit_that_splits_a_pair_is_refused_unless_allowed():
    pairs = (pair_hosts('a', 1, vrid=1), pair_hosts('b', 2, vrid=2))
    errors = fleet(inventory(*pairs, play_hosts=['a-1', 'a-2', 'b-1']))['errors']
    assert len(errors) == 1 and errors[0].startswith(
        'The run splits the pair b: b-1 is in it, b-2 is not (--limit). A pair\'s checks and its rolling update need '
        'every balancer of the pair: limit the run to whole pairs (--limit b), or set keepalived_allow_partial_pair=true')
    assert fleet(inventory(*pairs, play_hosts=['a-1', 'b-1'], allow_partial_pair=True))['errors'] == []
    # Whole pairs, or no balancer at all (a run on the backends), split nothing.
    assert fleet(inventory(*pairs, play_hosts=['a-1', 'a-2']))['errors'] == []
    assert fleet(inventory(*pairs, play_hosts=['web-1']))['errors'] == []


def test_chosen_vrids_are_stable_collision_free_and_skip_reserved_and_given_ones():
    pairs = [pair_hosts('p%02d' % n, n) for n in range(1, 41)] + [pair_hosts('fixed', 99, vrid=7)]
    data = inventory(*pairs, reserved_vrids=['1-6', 8, '200-255'])
    first = fleet(data)
    assert first['errors'] == []
    chosen = [vrid for pair in first['vrids'].values() for vrid in pair.values()]
    assert len(chosen) == 40 and len(set(chosen)) == 40
    assert not set(chosen) & (reserved_set(['1-6', 8, '200-255']) | {7})
    # The same inventory gives the same VRIDs, whatever the order the hosts come in.
    shuffled = dict(reversed(list(data['balancers'].items())))
    assert fleet(dict(data, balancers=shuffled))['vrids'] == first['vrids']
    # Each instance tries VRIDs in an order drawn from its own names: a pair added to the fleet moves
    # another pair's chosen VRID only where both want the same one, and the moved pair goes on to a VRID
    # of its own order, not to its neighbour's. Here the newcomer (checked first, by name) takes one
    # pair's VRID; nothing else moves. Pin a chosen VRID in the inventory to keep it for good.
    before = fleet(inventory(*pairs[:40]))['vrids']
    grown = fleet(inventory(*pairs[:40], pair_hosts('b', 98)))
    assert grown['errors'] == []
    moved = [pair for pair in before if grown['vrids'][pair] != before[pair]]
    assert moved == ['p06'] and grown['vrids']['b']['VI_B'] == before['p06']['VI_P06']
    assert first['pairs']['fixed']['vrids'] == {'VI_FIXED': 7}


def test_a_full_domain_and_bad_reserved_ranges_are_named():
    full = fleet(inventory(pair_hosts('a', 1), reserved_vrids=['1-255']))['errors']
    assert full == ['No free virtual_router_id for a (VI_A) in the layer-2 domain default (IPv4): every VRID of 1-255 '
                    'is used or reserved (keepalived_reserved_vrids). Split the fleet into more keepalived_l2_domain, '
                    'or free some.']
    bad = fleet(inventory(pair_hosts('a', 1, vrid=1), reserved_vrids=['300-310']))['errors']
    assert bad == ["keepalived_reserved_vrids: '300-310' is neither a VRID (1-255) nor a range such as 200-255. Fix it "
                   'in the inventory.']


def test_the_one_pair_lab_is_a_fleet_of_one():
    hosts = pair_hosts('lb', 1, vrid=80)
    result = fleet(inventory(hosts))
    assert result['errors'] == [] and list(result['pairs']) == ['lb'] and result['vrids'] == {}


# ---------------------------------------------------------------- the rolling update's waves

RUN = ['pair_01', 'pair_02', 'pair_03', 'pair_04', 'pair_05']


def test_the_canary_goes_alone_then_the_others_together():
    assert plan_waves(RUN, {}) == ([['pair_01'], ['pair_02', 'pair_03', 'pair_04', 'pair_05']], [])
    assert plan_waves(RUN, {'fleet_canary_pair': 'pair_03', 'fleet_wave_size': 2}) == (
        [['pair_03'], ['pair_01', 'pair_02'], ['pair_04', 'pair_05']], [])
    assert plan_waves(RUN, {'fleet_canary': 'false', 'fleet_wave_size': '3'}) == (
        [['pair_01', 'pair_02', 'pair_03'], ['pair_04', 'pair_05']], [])
    # One pair: no canary of its own, it is the whole run.
    assert plan_waves(['lb'], {}) == ([['lb']], [])


def test_bad_wave_settings_are_named():
    settings = {'fleet_wave_size': 'x', 'fleet_max_fail_percentage': 150, 'fleet_canary': 'maybe',
                'fleet_canary_pair': 'pair_99'}
    _waves, errors = plan_waves(RUN, settings)
    assert [e.split('=')[0] for e in errors] == ['fleet_wave_size', 'fleet_max_fail_percentage', 'fleet_canary',
                                                 'fleet_canary_pair']
    assert 'is not a pair of this run (pair_01, pair_02, pair_03, pair_04, pair_05)' in errors[3]


def test_rounds_take_one_balancer_per_pair_in_the_given_order():
    order = ['b1', 'c1', 'a2', 'a1', 'b2', 'c2']
    pair_of = {'a1': 'A', 'a2': 'A', 'b1': 'B', 'b2': 'B', 'c1': 'C', 'c2': 'C'}
    assert rounds(order, pair_of, [['A'], ['B', 'C']]) == [
        {'wave': 0, 'pairs': ['A'], 'balancers': ['a2']}, {'wave': 0, 'pairs': ['A'], 'balancers': ['a1']},
        {'wave': 1, 'pairs': ['B', 'C'], 'balancers': ['b1', 'c1']},
        {'wave': 1, 'pairs': ['B', 'C'], 'balancers': ['b2', 'c2']}]
    # A pair with nothing running has no round; a pair of three has a third.
    assert rounds(['a1', 'c1', 'c2', 'c3'], dict(pair_of, c3='C'), [['A', 'B', 'C']]) == [
        {'wave': 0, 'pairs': ['A', 'B', 'C'], 'balancers': ['a1', 'c1']},
        {'wave': 0, 'pairs': ['A', 'B', 'C'], 'balancers': ['c2']},
        {'wave': 0, 'pairs': ['A', 'B', 'C'], 'balancers': ['c3']}]


PAIRS = {name: {'members': ['%s-a' % name, '%s-b' % name]} for name in RUN}
WAVES = [['pair_01'], RUN[1:]]


def test_the_update_stops_when_the_canary_fails():
    assert stop_reason(WAVES, PAIRS, [], {}) == ''
    assert 'the canary pair pair_01 failed' in stop_reason(WAVES, PAIRS, ['pair_01-a'], {'fleet_max_fail_percentage': 50})


def test_the_update_stops_past_the_share_of_failed_pairs():
    assert '1 of the run\'s 5 pairs failed (pair_02: 20%), more than fleet_max_fail_percentage=0' in stop_reason(
        WAVES, PAIRS, ['pair_02-b'], {})
    assert stop_reason(WAVES, PAIRS, ['pair_02-b'], {'fleet_max_fail_percentage': 20}) == ''
    assert stop_reason(WAVES, PAIRS, ['pair_02-b', 'pair_03-a'], {'fleet_max_fail_percentage': 20}) != ''
    # Without a canary, a failure of the first pair counts like any other.
    assert stop_reason([RUN], PAIRS, ['pair_01-a'], {'fleet_canary': False, 'fleet_max_fail_percentage': 25}) == ''


def test_the_summary_says_per_pair_what_happened():
    hosts = {'pair_01-a': {'in_run': True, 'changes': ['/etc/nginx/nginx.conf'], 'done': True},
             'pair_01-b': {'in_run': True, 'done': True},
             'pair_02-a': {'in_run': True}, 'pair_02-b': {'in_run': True, 'done': True},
             'pair_03-a': {'in_run': True, 'stopped': True}, 'pair_03-b': {'in_run': True, 'stopped': True},
             'pair_04-a': {'in_run': True, 'done': True}, 'pair_04-b': {'in_run': True, 'done': True}}
    assert summary_lines(PAIRS, hosts) == ['pair_01: changed (pair_01-a: /etc/nginx/nginx.conf)',
                                           'pair_02: FAILED on pair_02-a', 'pair_03: stopped before its turn',
                                           'pair_04: unchanged']


def test_the_stop_reads_fleet_canary_as_the_waves_do():
    # "False" from -e is false for the waves and for the stop alike: no pair is a canary then.
    waves, _errors = plan_waves(RUN, {'fleet_canary': 'False', 'fleet_wave_size': 1})
    assert waves[0] == ['pair_01'] and len(waves) == 5
    assert stop_reason(waves, PAIRS, ['pair_01-a'], {'fleet_canary': 'False', 'fleet_max_fail_percentage': 25}) == ''
    assert fleet(inventory(pair_hosts('a', 1, vrid=1), pair_hosts('b', 2, vrid=2),
                           waves={'fleet_canary': 'no', 'fleet_max_fail_percentage': '30'}))['wave_settings'] == {
        'fleet_canary': False, 'fleet_max_fail_percentage': 30}


def test_only_balancers_whose_nginx_or_keepalived_package_would_change_take_a_round():
    would_change = {
        'lb-01a': {'nginx_lb': ['/etc/nginx/nginx.conf', 'reloaded nginx'], 'keepalived': []},
        'lb-01b': {'nginx_lb': [], 'keepalived': ['/etc/keepalived/keepalived.conf', 'reloaded keepalived']},
        'lb-02a': {'nginx_lb': [], 'keepalived': ['packages keepalived', 'restarted keepalived']},
        'lb-02b': {'nginx_lb': [], 'keepalived': []},
    }
    # keepalived's configuration alone is applied on every balancer together, after the rounds.
    assert to_update(['lb-02a', 'lb-01b', 'lb-01a', 'lb-02b'], would_change) == ['lb-02a', 'lb-01a']
    # A balancer without a record (it failed its check) takes no round.
    assert to_update(['lb-03a', 'lb-01a'], would_change) == ['lb-01a']
    assert to_update([], would_change) == []
