# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shell commands in docs/ work as written.

Each shell block in docs/ is preceded by ``<!-- tested: KIND -->`` (docs/README.md explains the kinds):
  doc-commands  run here, in a scratch copy of the repository, with a scratch HOME; no host is contacted
  syntax        each ansible-playbook line runs with --syntax-check, each ansible line with --list-hosts
  make-target   each ``make X`` names a target of the Makefile
  a path        an existing test that runs the commands
  by hand ... / not run ...   stated on the page, with the reason
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.join(ROOT, '.venv', 'bin')
DOCS = os.path.join(ROOT, 'docs')
BLOCK = re.compile(r'(?:<!--\s*tested:\s*(?P<kind>.*?)\s*-->\s*\n)?```(?P<lang>sh|bash|console|shell)\n(?P<body>.*?)```', re.S)


def doc_files():
    out = []
    for folder, _dirs, names in os.walk(DOCS):
        out += [os.path.join(folder, n) for n in names if n.endswith('.md')]
    return sorted(out)


def blocks(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    for match in BLOCK.finditer(text):
        yield match.group('kind'), match.group('body')


def command_lines(body):
    """Commands of a block, continuation lines joined, comments dropped."""
    joined = re.sub(r'\\\n\s*', ' ', body)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith('#')]


ALL_BLOCKS = [(os.path.relpath(p, ROOT), kind, body) for p in doc_files() for kind, body in blocks(p)]


def test_there_are_shell_blocks():
    assert len(ALL_BLOCKS) >= 10


@pytest.mark.parametrize('path, kind, body', ALL_BLOCKS, ids=['%s-%d' % (b[0], i) for i, b in enumerate(ALL_BLOCKS)])
def test_every_block_says_how_it_is_tested(path, kind, body):
    assert kind, '%s: shell block without <!-- tested: ... --> before it:\n%s' % (path, body)
    if kind in ('doc-commands', 'syntax', 'make-target') or kind.startswith(('by hand', 'not run')):
        return
    assert os.path.exists(os.path.join(ROOT, kind)), '%s: tested by %s, which does not exist' % (path, kind)


def test_make_targets_exist():
    with open(os.path.join(ROOT, 'Makefile'), encoding='utf-8') as handle:
        targets = set(re.findall(r'^([a-z][a-z-]*):', handle.read(), re.M))
    for path, kind, body in ALL_BLOCKS:
        if kind == 'make-target':
            for line in command_lines(body):
                words = line.split()
                assert words[0] == 'make' and set(words[1:]) <= targets, '%s: %s' % (path, line)


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    """A scratch copy of what the commands read, a scratch HOME, and the collection resolvable."""
    work = tmp_path_factory.mktemp('docs')
    repo, home = work / 'repo', work / 'home'
    repo.mkdir()
    home.mkdir()
    for name in ('inventories', 'playbooks', 'docs/examples'):
        shutil.copytree(os.path.join(ROOT, name), repo / name)
    for name in ('ansible.cfg', 'site.yml', 'failover-drill.yml'):
        shutil.copy(os.path.join(ROOT, name), repo / name)
    link = repo / 'collections' / 'ansible_collections' / 'ha_lb'
    link.mkdir(parents=True)
    (link / 'keepalived_nginx').symlink_to(ROOT)
    # The reference lab's vault password file, as its README asks for it (content irrelevant to these commands).
    (home / '.config' / 'ha_lb').mkdir(parents=True)
    (home / '.config' / 'ha_lb' / 'lab.vault-pass').write_text('not-the-lab-password\n')
    env = dict(os.environ, HOME=str(home), PATH='%s:%s' % (BIN, os.environ.get('PATH', '')), ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_NOCOLOR='1')
    for var in ('ANSIBLE_CONFIG', 'ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_INVENTORY', 'ANSIBLE_VAULT_PASSWORD_FILE'):
        env.pop(var, None)
    return {'repo': str(repo), 'home': str(home), 'env': env}


def run(sandbox, script, stdin=''):
    result = subprocess.run(['bash', '-euo', 'pipefail', '-c', script], cwd=sandbox['repo'], env=sandbox['env'],
                            input=stdin, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, '%s\nrc=%d\nstdout:\n%s\nstderr:\n%s' % (
        script, result.returncode, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


@pytest.fixture(scope='module')
def quickstart_done(sandbox):
    """Run the quickstart's doc-commands blocks in order, as a user would."""
    outputs = []
    for kind, body in blocks(os.path.join(DOCS, 'quickstart.md')):
        if kind == 'doc-commands':
            outputs.append(run(sandbox, body, stdin='s3cret42\n'))
    return outputs


def test_quickstart_inventory_and_vault(sandbox, quickstart_done):
    copy, graph, vault, check = quickstart_done
    assert '@lb:' in graph and '|--lb-1' in graph and '@client:' in graph
    vault_file = os.path.join(sandbox['repo'], 'inventories', 'prod', 'group_vars', 'lb', 'vault.yml')
    with open(vault_file, encoding='utf-8') as handle:
        text = handle.read()
    assert text.startswith('vault_keepalived_auth_pass: !vault |') and '$ANSIBLE_VAULT;1.2;AES256;prod' in text
    assert 's3cret42' not in text
    # The check prints the length of the decrypted secret, not the secret.
    assert '"msg": 8' in check or 'msg: 8' in check
    assert 's3cret42' not in check
    mode = os.stat(os.path.join(sandbox['home'], '.config', 'ha_lb', 'prod.vault-pass')).st_mode & 0o777
    assert mode == 0o600


SYNTAX = [(p, body) for p, kind, body in ALL_BLOCKS if kind == 'syntax']


@pytest.mark.parametrize('path, body', SYNTAX, ids=['%s-%d' % (b[0], i) for i, b in enumerate(SYNTAX)])
def test_playbook_and_ad_hoc_commands_parse(sandbox, quickstart_done, path, body):
    for line in command_lines(body):
        if line.startswith('source '):
            continue
        if line.startswith('ansible-playbook '):
            run(sandbox, line + ' --syntax-check')
        elif line.startswith('ansible '):
            hosts = run(sandbox, line + ' --list-hosts')
            assert 'hosts (' in hosts and 'hosts (0)' not in hosts, '%s: %s matched no host' % (path, line)
        else:
            pytest.fail('%s: a syntax block holds only ansible and ansible-playbook lines, not: %s' % (path, line))


def test_ansible_doc_shows_the_module(sandbox):
    raw = run(sandbox, 'ansible-doc ha_lb.keepalived_nginx.vip_owner')
    text = ' '.join(raw.split())
    assert 'MODULE' in text and 'ha_lb.keepalived_nginx.vip_owner' in text
    assert 'reports whether the host holds a virtual IP (IPv4 or IPv6), and on which interface' in text
    for option in ('vip', 'interface', 'state', 'timeout', 'poll_interval', 'instance', 'state_file', 'pid_file'):
        assert re.search(r'^\s*[-=]?\s*%s\s' % option, raw, re.M), option


def test_module_reference_agrees_with_ansible_doc(sandbox):
    """docs/modules/vip_owner.md holds the facts ansible-doc reports: options, defaults, choices, return values."""
    import json  # pylint: disable=import-outside-toplevel

    doc = json.loads(run(sandbox, 'ansible-doc --json ha_lb.keepalived_nginx.vip_owner'))
    data = doc['ha_lb.keepalived_nginx.vip_owner']
    with open(os.path.join(DOCS, 'modules', 'vip_owner.md'), encoding='utf-8') as handle:
        page = handle.read()
    assert data['doc']['short_description'] in page
    for name, option in data['doc']['options'].items():
        row = [line for line in page.splitlines() if line.startswith('| `%s` |' % name)]
        assert row, 'option %s missing from the module reference' % name
        assert '| %s |' % option['type'] in row[0], name
        if 'default' in option and option['default'] is not None:
            default = option['default']
            assert '`%s`' % (int(default) if isinstance(default, float) and default.is_integer() else default) in row[0], name
        for choice in option.get('choices', []):
            assert '`%s`' % choice in row[0], name
    for name in data['return']:
        assert '| `%s` |' % name in page, 'return value %s missing' % name
    for example in ('Wait until the backup has taken the VIP', 'Report which balancer holds the VIP'):
        assert example in data['examples'] and example in page
