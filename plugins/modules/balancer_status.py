#!/usr/bin/python

# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: balancer_status
short_description: Report a balancer's VIPs, keepalived states, configuration digests and certificates in one read
version_added: 1.2.0
description:
  - Reads, in one call, what the fleet status reports of a balancer. Namely which of the given VIPs it holds
    and the VRRP state keepalived wrote for each instance (as M(ha_lb.keepalived_nginx.vip_owner)
    reads them), a digest of each given configuration file, and the PEM text of the given certificate files.
  - A V(keepalived) configuration's digest leaves out the lines that differ between the balancers of a pair
    by design (C(router_id), an instance's C(state), C(priority) and C(interface), the unicast source and peers,
    the interface after C(dev)) and the VRRP password, so equal digests within a pair mean no drift.
  - Returns certificates only. A file that holds a private key, or no certificate, is reported without its text.
  - Never changes anything on the host.
author:
  - ha_lb maintainers (@ha-lb)
options:
  vips:
    description:
      - The VIPs to look for, each with the keepalived instance it belongs to.
    type: list
    elements: dict
    default: []
    suboptions:
      vip:
        description: The VIP, as an address or address/prefix.
        type: str
        required: true
      instance:
        description: The keepalived VRRP instance whose state to report with it.
        type: str
  state_dir:
    description: The directory the keepalived notify script writes C(<instance>.state) to.
    type: path
    default: /run/keepalived
  pid_file:
    description: keepalived's main pid file.
    type: path
    default: /run/keepalived.pid
  configs:
    description: Configuration files to digest (sha256).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      kind:
        description: V(plain) digests the whole file; V(keepalived) only the lines the balancers of a pair share.
        type: str
        choices: [plain, keepalived]
        default: plain
  certificates:
    description: Certificate files (PEM) whose text to return; shell patterns are expanded (V(/etc/nginx/tls/*.crt)).
    type: list
    elements: path
    default: []
notes:
  - Check mode is fully supported; the module only reads.
extends_documentation_fragment:
  - ha_lb.keepalived_nginx.read_only
"""

EXAMPLES = r"""
- name: Read the balancer's state for the fleet status
  ha_lb.keepalived_nginx.balancer_status:
    vips:
      - vip: 198.51.100.140/24
        instance: VI_WEB
    configs:
      - path: /etc/nginx/nginx.conf
      - path: /etc/keepalived/keepalived.conf
        kind: keepalived
    certificates: [/etc/nginx/tls/*.crt]
  register: status
"""

RETURN = r"""
vips:
  description: One entry per VIP asked for.
  returned: always
  type: list
  elements: dict
  sample: [{vip: 198.51.100.140/24, address: 198.51.100.140, instance: VI_WEB, held: true, interface: host0,
            loopback: false, vrrp_state: MASTER, keepalived_running: true}]
keepalived_running:
  description: Whether keepalived runs on the host.
  returned: always
  type: bool
  sample: true
configs:
  description: One entry per configuration file, with its sha256 (null when the file is missing or unreadable).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nginx/nginx.conf, kind: plain, exists: true, sha256: 815df3d6ffb8...}]
certificates:
  description: The certificate files found, each with its PEM text (null when the file holds anything private).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nginx/tls/web.crt, pem: "-----BEGIN CERTIFICATE-----..."}]
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.balancer import config_digest, is_certificate_text
from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vip import (
    VipError,
    default_state_file,
    find_vip,
    keepalived_view,
)


def _read(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _ip(module, ip_bin, what):
    rc, stdout, stderr = module.run_command([ip_bin, '-o', what, 'show'])
    if rc != 0:
        module.fail_json(msg='ip -o %s show failed with rc %d' % (what, rc), rc=rc, stdout=stdout, stderr=stderr)
    return stdout


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vips=dict(type='list', elements='dict', default=[], options=dict(
                vip=dict(type='str', required=True),
                instance=dict(type='str'),
            )),
            state_dir=dict(type='path', default='/run/keepalived'),
            pid_file=dict(type='path', default='/run/keepalived.pid'),
            configs=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                kind=dict(type='str', choices=['plain', 'keepalived'], default='plain'),
            )),
            certificates=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    module.run_command_environ_update = dict(LANGUAGE='C', LC_ALL='C')
    params = module.params
    ip_bin = module.get_bin_path('ip', required=True)
    addr, link = _ip(module, ip_bin, 'addr'), _ip(module, ip_bin, 'link')
    vrrp_pid_file = os.path.join(os.path.dirname(params['pid_file']), 'vrrp.pid')

    vips, running = [], None
    for entry in params['vips']:
        try:
            found = find_vip(entry['vip'], addr, link)
            state_file = default_state_file(entry['instance'], params['state_dir']) if entry['instance'] else None
        except VipError as exc:
            module.fail_json(msg='vips: %s' % exc)
        view = keepalived_view(instance=entry['instance'], state_file=state_file, pid_file=params['pid_file'],
                               vrrp_pid_file=vrrp_pid_file, now=time.time())
        running = view['running']
        vips.append({'vip': entry['vip'], 'address': found['address'], 'instance': entry['instance'],
                     'held': found['held'], 'interface': found['interface'], 'loopback': found['loopback'],
                     'vrrp_state': view['vrrp_state'], 'keepalived_running': view['running']})
    if running is None:
        running = keepalived_view(pid_file=params['pid_file'], vrrp_pid_file=vrrp_pid_file)['running']

    configs = []
    for entry in params['configs']:
        text = _read(entry['path'])
        configs.append({'path': entry['path'], 'kind': entry['kind'], 'exists': text is not None,
                        'sha256': None if text is None else config_digest(text, entry['kind'])})

    certificates = []
    for pattern in params['certificates']:
        for path in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            text = _read(path)
            if text is not None:
                certificates.append({'path': path, 'pem': text if is_certificate_text(text) else None})

    module.exit_json(changed=False, vips=vips, keepalived_running=running, configs=configs, certificates=certificates)


if __name__ == '__main__':
    main()
