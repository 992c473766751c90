#!/usr/bin/python

# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: report_files
short_description: Write report files on the controller
version_added: 1.2.0
description:
  - Writes one or more files into a directory on the Ansible controller, creating the directory (mode C(0755))
    when it is missing; an existing directory is left as it is. The fleet status writes its JSON and Markdown
    reports with it.
  - Runs in the controller's own process, as an action plugin. It connects to no host and runs no module,
    whatever host the task runs for, so a task that runs once for a large inventory stays cheap.
  - Each file is written to a temporary file in the same directory, then renamed into place, so a reader never
    sees half a report. A file that already holds the content with the mode is left alone.
  - The content is not put in the task's result, and C(--diff) shows none of it.
author:
  - ha_lb maintainers (@ha-lb)
options:
  dest:
    description:
      - The directory on the controller to write the files to. A relative path is relative to the directory
        C(ansible-playbook) runs in.
    type: path
    required: true
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The file's name in O(dest), without a directory part, each name once.
        type: str
        required: true
      content:
        description:
          - The file's content, as text. Anything else is refused; render a dict or a list first, for example
            with P(ansible.builtin.to_nice_json#filter).
        type: str
        required: true
  mode:
    description:
      - The files' permissions, as an octal number in a quoted string such as V('0640'). An unquoted number is
        refused (YAML reads C(644) as the decimal number six hundred and forty-four).
    type: raw
    default: '0644'
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
"""

EXAMPLES = r"""
- name: Write the status as JSON and Markdown
  ha_lb.keepalived_nginx.report_files:
    dest: "{{ playbook_dir }}/reports"
    files:
      - name: status.json
        content: "{{ status | to_nice_json }}"
      - name: status.md
        content: "{{ status_markdown }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory written to.
  returned: success
  type: str
  sample: /home/ops/reports
paths:
  description: The files' paths, in the order of O(files).
  returned: success
  type: list
  elements: str
  sample: [/home/ops/reports/fleet-status-20261206T010203Z.json, /home/ops/reports/fleet-status-20261206T010203Z.md]
"""
