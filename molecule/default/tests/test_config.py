# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rendered configuration holds the inventory's values and passes the daemons' own checks."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize('name', ['lb-1', 'lb-2'])
def test_keepalived_conf_holds_the_inventory(hosts, hostvars, instance, interface, name):
    conf = hosts[name].file('/etc/keepalived/keepalived.conf')
    # It holds the VRRP secret: not readable by others.
    assert conf.user == 'root' and conf.mode & 0o007 == 0
    text = conf.content_string
    node = instance['nodes'][name]
    peers = [hostvars[other]['ansible_host'] for other in instance['nodes'] if other != name]
    block = re.search(r'vrrp_instance %s \{(.*?)\n\}' % re.escape(instance['name']), text, flags=re.S).group(1)
    words = [' '.join(line.split()) for line in block.splitlines()]
    expected = [
        f"state {node['state']}", f"priority {node['priority']}", f'interface {interface}',
        f"virtual_router_id {instance['virtual_router_id']}", f"advert_int {instance['advert_int']}",
        f"unicast_src_ip {hostvars[name]['ansible_host']}", *peers,
        *(f'{address} dev {interface}' for address in instance['virtual_ipaddresses']),
        'auth_type PASS', f"auth_pass {hostvars[name]['vault_keepalived_auth_pass']}",
    ]
    for line in expected:
        assert line in words, line
    assert f"router_id {hostvars[name]['keepalived_router_id']}" in text
    assert 'enable_script_security' in text


@pytest.mark.parametrize('name', ['lb-1', 'lb-2'])
def test_health_script_is_safe_for_script_security(hosts, name):
    script = hosts[name].file('/etc/keepalived/check_nginx.sh')
    assert script.user == 'root' and script.group == 'root'
    assert script.mode == 0o755
    assert hosts[name].run('/etc/keepalived/check_nginx.sh').rc == 0


@pytest.mark.parametrize('name', ['lb-1', 'lb-2'])
def test_nginx_upstream_holds_the_web_group(hosts, hostvars, inventory, name):
    text = hosts[name].file('/etc/nginx/nginx.conf').content_string
    # The pool of the HTTP services (the stream service's pool has the same hosts, in a block of its own).
    pool = re.search(r'^    upstream web_backends \{\n(.*?)^    \}', text, flags=re.M | re.S).group(1)
    servers = re.findall(r'^\s*server (\S+:\d+)', pool, flags=re.M)
    assert servers == [f"{hostvars[web]['ansible_host']}:80" for web in inventory['web']['hosts']]
    stream = re.search(r'^stream \{\n(.*?)^\}', text, flags=re.M | re.S).group(1)
    assert re.findall(r'^\s*server (\S+:\d+)', stream, flags=re.M) == servers
    for directive in ('keepalive 64;', 'proxy_http_version 1.1;', 'worker_processes auto;'):
        assert directive in text


@pytest.mark.parametrize('name', ['web-1', 'web-2', 'lb-1', 'lb-2'])
def test_nginx_accepts_its_configuration(hosts, name):
    result = hosts[name].run('nginx -t')
    assert result.rc == 0, result.stderr


@pytest.mark.parametrize('name', ['lb-1', 'lb-2'])
def test_keepalived_accepts_its_configuration(hosts, name):
    result = hosts[name].run('keepalived --config-test')
    assert result.rc == 0, result.stderr


@pytest.mark.parametrize('name', ['web-1', 'web-2'])
def test_backend_page_names_the_host(hosts, hostvars, name):
    assert hosts[name].check_output('curl -s http://127.0.0.1/') == f'Served by {name}'
