#!/usr/bin/python

# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vip_owner
short_description: Report whether this host holds a virtual IP, and wait until it does or does not
version_added: 1.0.0
description:
  - Reads C(ip -o addr show) and C(ip -o link show) and reports whether the host holds a virtual IP
    (IPv4 or IPv6), and on which interface.
  - An address counts as held only when its interface is up with carrier (C(UP) and C(LOWER_UP)) and,
    for IPv6, the address is neither C(tentative) nor C(dadfailed). An address that is present but not
    usable is reported as RV(configured) but not RV(held).
  - Adds keepalived's own view, read-only, namely whether keepalived runs (pid file, else the process list)
    and the VRRP state of an instance as written by a notify script into a state file.
    keepalived is never signalled (no C(SIGUSR1) data dumps).
  - With O(state), polls until the host holds (V(present)) or no longer holds (V(absent)) the VIP and
    returns the time waited; fails at the deadline with a message that says what was seen last.
  - Never changes anything on the host.
author:
  - ha_lb maintainers (@ha-lb)
options:
  vip:
    description:
      - The virtual IP, as an address or as address/prefix (V(198.51.100.140), V(198.51.100.140/24),
        V(2001:db8::140/64)).
      - Matching is by address; when a prefix is given and differs from the configured one, the result
        says so in RV(prefix_match) and the module warns.
    type: str
    required: true
  interface:
    description:
      - Only count the VIP when it is on this interface (IPv4 alias labels such as C(host0:1) belong to C(host0)).
      - By default any interface counts.
    type: str
  state:
    description:
      - V(present) waits until the host holds the VIP, V(absent) until it does not.
      - Omit it to report the current state without waiting.
    type: str
    choices: [present, absent]
  timeout:
    description:
      - Seconds to wait for O(state) before failing. V(0) checks once.
    type: float
    default: 30
  poll_interval:
    description:
      - Seconds between two checks while waiting for O(state).
    type: float
    default: 0.1
  instance:
    description:
      - Name of the keepalived VRRP instance whose state to report (for example V(VI_1)).
      - When set and O(state_file) is not, the state file is C(/run/keepalived/<instance>.state).
    type: str
  state_file:
    description:
      - File a keepalived notify script writes on every transition. Its last line is a bare state
        (V(MASTER)) or the notify arguments joined by spaces (V(INSTANCE VI_1 MASTER 100)).
      - The state is trusted only while keepalived runs and the file is newer than the running daemon;
        otherwise the VRRP state is V(STOP) (keepalived not running) or V(unknown).
    type: path
  pid_file:
    description:
      - keepalived's main pid file. When it is missing or stale the process list is searched.
    type: path
    default: /run/keepalived.pid
notes:
  - Check mode is fully supported; the module behaves identically in check mode because it only reads.
  - The time waited is measured with the host's monotonic clock. RV(observed_monotonic) is that clock's value
    when the condition was seen, so it can be compared with other timestamps taken with C(CLOCK_MONOTONIC)
    on hosts that share a kernel (containers); RV(observed_wall) is the wall clock for everything else.
extends_documentation_fragment:
  - ha_lb.keepalived_nginx.read_only
"""

EXAMPLES = r"""
- name: Report which balancer holds the VIP
  ha_lb.keepalived_nginx.vip_owner:
    vip: 198.51.100.140
    instance: VI_1
  register: vip

- name: Show the answer
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} holds={{ vip.held }} on {{ vip.interface }}, keepalived {{ vip.keepalived.vrrp_state }}"

- name: Wait until the backup has taken the VIP
  ha_lb.keepalived_nginx.vip_owner:
    vip: 198.51.100.140/24
    interface: host0
    state: present
    timeout: 10
    poll_interval: 0.05
  delegate_to: lb-2

- name: Wait until the old master has released it
  ha_lb.keepalived_nginx.vip_owner:
    vip: 2001:db8:58::140
    state: absent
    timeout: 5
  delegate_to: lb-1
"""

RETURN = r"""
held:
  description:
    - Whether the host holds the VIP (configured on a non-loopback interface that is up with carrier, address usable).
    - A copy on the loopback interface does not count; see RV(loopback).
  returned: always
  type: bool
  sample: true
configured:
  description: Whether the address is configured on a non-loopback interface of the host, usable or not.
  returned: always
  type: bool
  sample: true
loopback:
  description:
    - Whether a copy of the address is on a loopback interface, as the keepalived role's C(keepalived_loopback_vips) puts it.
    - Such a copy answers traffic that reaches the host but is never announced, so it does not make the host a holder.
  returned: always
  type: bool
  sample: false
address:
  description: The VIP address, normalised.
  returned: always
  type: str
  sample: 198.51.100.140
family:
  description: Address family of the VIP.
  returned: always
  type: str
  sample: ipv4
interface:
  description: Interface holding the VIP (or carrying it unusably); null when it is not configured.
  returned: always
  type: str
  sample: host0
prefixlen:
  description: Prefix length the VIP is configured with; null when it is not configured.
  returned: always
  type: int
  sample: 24
prefix_match:
  description: Whether the configured prefix equals the one given in O(vip); null when none was given or the VIP is absent.
  returned: always
  type: bool
  sample: true
reason:
  description: One sentence describing the finding.
  returned: always
  type: str
  sample: 198.51.100.140/24 is held on host0
matches:
  description: Every address entry that matched, with its flags and link state.
  returned: always
  type: list
  elements: dict
  sample:
    - interface: host0
      address: 198.51.100.140
      prefixlen: 24
      scope: global
      flags: [secondary]
      secondary: true
      label: host0
      usable: true
      link_up: true
      held: true
keepalived:
  description: keepalived's view of itself, read without signalling it.
  returned: always
  type: dict
  contains:
    running:
      description: Whether a keepalived process runs.
      type: bool
      sample: true
    pid:
      description: Main keepalived pid, null when not running.
      type: int
      sample: 812
    vrrp_pid:
      description: Pid of the VRRP child process (C(vrrp.pid) next to O(pid_file)), null when it does not run.
      type: int
      sample: 813
    instance:
      description: The O(instance) asked for.
      type: str
      sample: VI_1
    state_file:
      description: State file read, null when none.
      type: str
      sample: /run/keepalived/VI_1.state
    state_file_state:
      description: State found in the state file, whether trusted or not.
      type: str
      sample: MASTER
    state_file_age:
      description: Seconds since the state file was written.
      type: float
      sample: 12.5
    vrrp_state:
      description: The instance's VRRP state, V(MASTER), V(BACKUP), V(FAULT), V(STOP) or V(unknown).
      type: str
      sample: MASTER
    state_source:
      description: Where RV(keepalived.vrrp_state) comes from (V(state_file), V(stale_state_file), V(not_running)) or null.
      type: str
      sample: state_file
elapsed:
  description: Seconds spent waiting for O(state); 0 without O(state).
  returned: always
  type: float
  sample: 0.853
polls:
  description: Number of checks made.
  returned: always
  type: int
  sample: 9
observed_monotonic:
  description: The host's C(CLOCK_MONOTONIC) in seconds when the reported result was read.
  returned: always
  type: float
  sample: 81234.5123
observed_wall:
  description: Wall clock (seconds since the epoch) when the reported result was read.
  returned: always
  type: float
  sample: 1764100000.123
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vip import (
    VipError,
    default_state_file,
    find_vip,
    keepalived_view,
    parse_vip,
)


def _run_ip(module, ip_bin, args):
    cmd = [ip_bin, '-o'] + args
    rc, stdout, stderr = module.run_command(cmd)
    if rc != 0:
        module.fail_json(msg='%s failed with rc %d' % (' '.join(cmd), rc), rc=rc, stdout=stdout, stderr=stderr)
    return stdout


def observe(module, ip_bin):
    """One read of the host's addresses and links, with the clocks at that moment."""
    addr = _run_ip(module, ip_bin, ['addr', 'show'])
    link = _run_ip(module, ip_bin, ['link', 'show'])
    mono = time.monotonic()
    wall = time.time()
    try:
        found = find_vip(module.params['vip'], addr, link, module.params['interface'])
    except VipError as exc:
        module.fail_json(msg='cannot parse ip output: %s' % exc, stdout=addr + link, stderr='')
    found['observed_monotonic'] = round(mono, 6)
    found['observed_wall'] = round(wall, 6)
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type='str', required=True),
            interface=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent']),
            timeout=dict(type='float', default=30),
            poll_interval=dict(type='float', default=0.1),
            instance=dict(type='str'),
            state_file=dict(type='path'),
            pid_file=dict(type='path', default='/run/keepalived.pid'),
        ),
        supports_check_mode=True,
    )
    # ip's output is parsed: keep it in the C locale.
    module.run_command_environ_update = dict(LANGUAGE='C', LC_ALL='C')

    params = module.params
    try:
        parse_vip(params['vip'])
        state_file = params['state_file'] or default_state_file(params['instance'])
    except VipError as exc:
        module.fail_json(msg=str(exc))
    if params['timeout'] < 0:
        module.fail_json(msg='timeout must be 0 or more, got %s' % params['timeout'])
    if params['poll_interval'] <= 0:
        module.fail_json(msg='poll_interval must be more than 0, got %s' % params['poll_interval'])

    ip_bin = module.get_bin_path('ip', required=True)

    wanted = params['state']
    start = time.monotonic()
    deadline = start + params['timeout']
    polls = 0
    while True:
        found = observe(module, ip_bin)
        polls += 1
        if wanted is None or found['held'] == (wanted == 'present'):
            met = True
            break
        now = time.monotonic()
        if now >= deadline:
            met = False
            break
        # Sleep to the next poll, never past the deadline: the last check happens at it.
        time.sleep(max(0.0, min(params['poll_interval'], deadline - now)))

    found['elapsed'] = round(found['observed_monotonic'] - start, 3) if wanted else 0.0
    found['polls'] = polls
    found['keepalived'] = keepalived_view(
        instance=params['instance'],
        state_file=state_file,
        pid_file=params['pid_file'],
        # keepalived writes its VRRP child's pid file next to the main one.
        vrrp_pid_file=os.path.join(os.path.dirname(params['pid_file']), 'vrrp.pid'),
        now=time.time(),
    )

    if found['prefix_match'] is False:
        module.warn('%s is configured with prefix /%s, not /%s as given'
                    % (found['address'], found['prefixlen'], found['requested_prefixlen']))
    del found['requested_prefixlen']

    if not met:
        ka = found['keepalived']
        module.fail_json(
            msg='Timed out after %.1f s waiting for %s to be %s on this host: %s (keepalived %s, VRRP state %s)'
            % (params['timeout'], found['address'], wanted, found['reason'],
               'running' if ka['running'] else 'not running', ka['vrrp_state']),
            changed=False, **found)
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
