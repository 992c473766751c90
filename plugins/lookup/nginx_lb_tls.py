# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: nginx_lb_tls
short_description: The certificate chain and key of every TLS service of nginx_lb
description:
  - Internal to the collection; the nginx_lb role calls it. Its input may change in any release, so do not call it
    from playbooks of your own.
  - For each service of O(_terms) with a C(tls) key, the PEM text of its certificate chain and of its key, either
    as given in C(certificate) and C(key) (typically vaulted variables) or read on the controller from C(certificate_file)
    and C(key_file). A relative path is looked for as the file lookup looks for it (the role's and the playbook's
    C(files/) directories, then the playbook's directory); a file encrypted with ansible-vault is decrypted.
  - The text is returned with surrounding blank lines removed and one final newline, so every balancer gets the
    same bytes.
options:
  _terms:
    description: The services (C(nginx_lb_services)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
# Inside the role only.
- ansible.builtin.debug:
    msg: "{{ query('ha_lb.keepalived_nginx.nginx_lb_tls', nginx_lb_services) | first | list }}"
"""

RETURN = r"""
_raw:
  description: One dict, service name -> {certificate, key}, for the services that have C(tls).
  type: list
  elements: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase


def _pem(text):
    return str(text).strip() + '\n' if str(text).strip() else ''


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        services = []
        for term in terms:
            services += term if isinstance(term, list) else [term]
        found = {}
        for service in services:
            if not isinstance(service, Mapping) or not isinstance(service.get('tls'), Mapping):
                continue
            tls = service['tls']
            pair = {}
            for content, path in (('certificate', 'certificate_file'), ('key', 'key_file')):
                if tls.get(content) is not None:
                    pair[content] = _pem(tls[content])
                elif tls.get(path):
                    name = str(tls[path])
                    where = self.find_file_in_search_path(variables, 'files', name, ignore_missing=True)
                    if not where:
                        raise AnsibleError('nginx_lb_services[%s].tls.%s=%s: no such file on the controller: give '
                                           'an absolute path, or put it in the playbook\'s files/ directory.'
                                           % (service.get('name'), path, name))
                    pair[content] = _pem(self._loader.get_text_file_contents(where))
                else:
                    pair[content] = ''
            found[str(service.get('name'))] = pair
        return [found]
