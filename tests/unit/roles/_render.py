# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Render the roles' templates the way Ansible does, without any host.

Variables are layered with Ansible's precedence: role defaults, then the inventory
(read by Ansible's own InventoryManager/VariableManager), then the role's vars/main.yml
and the OS-family vars file, then per-test overrides.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.manager import VariableManager

REPO = pathlib.Path(__file__).resolve().parents[3]
ROLES = REPO / 'roles'
INVENTORIES = REPO / 'inventories'
ROLE_NAMES = ('nginx_web', 'nginx_lb', 'keepalived')

FACTS = {
    'Debian': {'os_family': 'Debian', 'distribution': 'Debian', 'distribution_major_version': '12'},
    'RedHat': {'os_family': 'RedHat', 'distribution': 'RedHat', 'distribution_major_version': '9'},
}

_LOADER = DataLoader()


def _install_collection_finder():
    """Let templates find the collection's own filters and lookups, as ansible-playbook does
    (another test may have installed a finder of its own: it is replaced)."""
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    path = str(REPO / 'collections')
    current = AnsibleCollectionConfig.collection_finder
    if current is None or path not in getattr(current, '_n_configured_paths', []):
        # Modules imported before through the plain sys.path entry would shadow the finder's.
        for name in [name for name in sys.modules if name == 'ansible_collections' or name.startswith('ansible_collections.')]:
            del sys.modules[name]
        _AnsibleCollectionFinder(paths=[path])._install()


def _trusted(value):
    """Mark strings as templates, as Ansible does for role and vars files it loads itself."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


_install_collection_finder()


def load_yaml(path: pathlib.Path):
    """Load a role's YAML file with templatable strings."""
    return _trusted(_LOADER.load_from_file(str(path)) or {})


def host_vars(inventory: str, host: str) -> dict:
    """Variables Ansible gives ``host`` from inventories/<inventory> (hostvars, groups included)."""
    inv = InventoryManager(loader=_LOADER, sources=[str(INVENTORIES / inventory)])
    manager = VariableManager(loader=_LOADER, inventory=inv)
    variables = dict(manager.get_vars(host=inv.get_host(host)))
    # Without a play, Ansible leaves hostvars out; the templates read other hosts' addresses from it.
    variables['hostvars'] = {other.name: dict(manager.get_vars(host=other)) for other in inv.get_hosts()}
    if 'nginx_lb_services' in variables:
        variables['nginx_lb_services'] = _without_missing_tls_files(variables['nginx_lb_services'])
    return variables


def _without_missing_tls_files(services):
    """The local inventory's certificate files are issued by ``labctl up`` into the lab cache: where
    they do not exist (no lab was ever started here), a TLS service gets a throwaway certificate for
    its names and its key as PEM text instead, so rendering needs no lab."""
    from tls_fixtures import NOW, cert_pem, issue, key, key_pem
    result = []
    for service in services:
        tls = service.get('tls') or {}
        files = [tls.get(name) for name in ('certificate_file', 'key_file') if tls.get(name)]
        if files and not all(pathlib.Path(path).is_file() for path in files):
            names = service.get('server_names') or ['localhost']
            private = key()
            age = (datetime.datetime.now(datetime.timezone.utc) - NOW).days
            tls = {name: value for name, value in tls.items() if name not in ('certificate_file', 'key_file')}
            tls.update(certificate=cert_pem(issue(private, names[0], names=names, days=(age - 1, age + 90))),
                       key=key_pem(private))
            service = dict(service, tls=tls)
        result.append(service)
    return result


def role_vars(role: str, os_family: str, inventory: str | None = None, host: str = 'lb-1', **overrides) -> dict:
    _install_collection_finder()
    variables: dict = {}
    variables.update(load_yaml(ROLES / role / 'defaults' / 'main.yml'))
    if inventory:
        variables.update(host_vars(inventory, host))
    else:
        variables.update({'inventory_hostname': host, 'groups': {}, 'hostvars': {}})
    variables.update(load_yaml(ROLES / role / 'vars' / 'main.yml'))
    variables.update(load_yaml(ROLES / role / 'vars' / f'{os_family}.yml'))
    variables.update({
        'ansible_facts': dict(FACTS[os_family]),
        'ansible_managed': 'Ansible managed',
        'ansible_check_mode': False,
        'role_path': str(ROLES / role),
    })
    variables.update(overrides)
    return variables


def render(role: str, template: str, variables: dict) -> str:
    _install_collection_finder()
    text = (ROLES / role / 'templates' / template).read_text()
    templar = Templar(loader=_LOADER, variables=variables)
    return templar.template(trust_as_template(text))
