# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The value checks of every role variable that ends up in nginx.conf or keepalived.conf.

One table per role maps a variable to the kind of value it must hold; each kind says in
words what it allows and gives an example, so a message names the variable, its value,
what is allowed and how to fix it. The daemons' own config tests (``nginx -t``,
``keepalived --config-test``) stay as the last line of defence behind these checks.
"""

from __future__ import annotations

import ipaddress
import re

from collections.abc import Mapping

_UNSAFE = re.compile(r'[\s;{}"\'#\\]')
_NGINX_TIME = re.compile(r'^(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+$')
_NGINX_SIZE = re.compile(r'^[0-9]+[kKmMgG]?$')
_DIGITS = re.compile(r'^[0-9]+$')
_SIGNED = re.compile(r'^-?[0-9]+$')
_DECIMAL = re.compile(r'^[0-9]+(?:\.[0-9]+)?$')
_URL = re.compile(r'^https?://[^\s"\'\\]+$')
_USER = re.compile(r'^[a-z_][a-z0-9_.-]*\$?$')
_HEADER_NAME = re.compile(r'^[A-Za-z0-9!#$%&*+.^_`|~-]+$')
_UNIT = re.compile(r'^[A-Za-z0-9:_.@-]+$')
NEXT_UPSTREAM = ('error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403',
                 'http_404', 'http_429', 'non_idempotent', 'off')
# keepalived's limits for a vrrp_script weight.
WEIGHT_MIN, WEIGHT_MAX = -253, 253


def _text(value):
    return '' if value is None else str(value)


def _shown(value):
    """A value in a message: quoted so that empty values and spaces show."""
    if value is None:
        return 'unset'
    return repr(value) if isinstance(value, str) else _text(value)


def _word(value):
    """One word of a configuration file: not empty, no blank, quote, brace, semicolon, hash or backslash."""
    return isinstance(value, str) and value != '' and not _UNSAFE.search(value)


def _count(value, minimum=0):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= minimum
    return isinstance(value, str) and bool(_DIGITS.match(value)) and int(value) >= minimum


def _number(value, minimum=0.0):
    """A plain decimal number (no sign, no exponent) of at least ``minimum``."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= minimum
    return isinstance(value, str) and bool(_DECIMAL.match(value)) and float(value) >= minimum


def _absolute_path(value):
    return _word(value) and value.startswith('/')


def _log_target(value, allow_off):
    if allow_off and value == 'off':
        return True
    return _absolute_path(value) or value == 'stderr' or (_word(value) and value.startswith('syslog:'))


def _next_upstream(value):
    words = _text(value).split()
    return bool(words) and all(word in NEXT_UPSTREAM for word in words) and ('off' not in words or len(words) == 1)


def _headers(value):
    if not isinstance(value, Mapping):
        return False
    return all(isinstance(name, str) and _HEADER_NAME.match(name) and isinstance(item, (str, int, float))
               and not isinstance(item, bool) and not re.search(r'["\\\r\n]', _text(item))
               for name, item in value.items())


def _version_or_empty(value):
    """Empty (the version the OS release packages) or a version such as 1.26 or 2.3.3."""
    return value == '' or (isinstance(value, str) and bool(re.match(r'^[0-9]+\.[0-9]+(\.[0-9]+)?$', value)))


def _listen_address(value):
    if value in ('', '*'):
        return True
    try:
        ipaddress.ip_address(_text(value).strip('[]'))
    except ValueError:
        return False
    return True


def _raw_lines(value):
    return isinstance(value, list) and all(
        isinstance(line, str) and line.strip() != '' and '\n' not in line and '\r' not in line
        and line.count('{') == line.count('}') for line in value)


def _weight(value):
    return (isinstance(value, int) and not isinstance(value, bool) and WEIGHT_MIN <= value <= WEIGHT_MAX) or (
        isinstance(value, str) and bool(_SIGNED.match(value)) and WEIGHT_MIN <= int(value) <= WEIGHT_MAX)


def _command(value):
    """A script line keepalived runs: not empty, one line, no double quote (it is written inside quotes)."""
    return isinstance(value, str) and value.strip() != '' and not re.search(r'["\r\n]', value)


TLS_PROTOCOLS = ('TLSv1.2', 'TLSv1.3')


def _tls_protocols(value):
    # TLS 1.0 and 1.1 are deprecated (RFC 8996): not offered here.
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(item in TLS_PROTOCOLS for item in value)


# kind -> (test, what it allows, an example of a valid value)
KINDS = {
    'port': (lambda v: _count(v, 1) and int(v) <= 65535, 'a TCP port 1-65535', '80'),
    'count': (_count, 'a whole number, 0 or more', '0'),
    'positive': (lambda v: _count(v, 1), 'a whole number, 1 or more', '1'),
    'workers': (lambda v: v == 'auto' or _count(v, 1), 'auto or a whole number, 1 or more', 'auto'),
    'nginx_time': (lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and bool(_NGINX_TIME.match(_text(v))),
                   'an nginx time: digits with an optional unit ms, s, m, h, d, w, M or y, without blanks', '30s'),
    'nginx_size': (lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and bool(_NGINX_SIZE.match(_text(v))),
                   'an nginx size: digits with an optional unit k or m', '64k'),
    'word': (_word, 'one word: not empty, without blanks, quotes, braces, semicolons, # or backslashes', 'web_backends'),
    'unit': (lambda v: isinstance(v, str) and bool(_UNIT.match(v)), 'a systemd unit or process name', 'nginx'),
    'server_names': (lambda v: isinstance(v, str) and v.strip() != '' and not re.search(r'[;{}"\'#]', v),
                     'one or more server names separated by blanks, without quotes, braces, semicolons or #',
                     'www.example.com example.com'),
    'location': (lambda v: _word(v) and v.startswith('/'), 'a URI path starting with /, one word', '/healthz'),
    'access_log': (lambda v: _log_target(v, True), 'off, stderr, syslog:... or an absolute path',
                   '/var/log/nginx/access.log'),
    'error_log': (lambda v: _log_target(v, False), 'stderr, syslog:... or an absolute path', '/var/log/nginx/error.log'),
    'root': (lambda v: v == '' or _absolute_path(v), 'empty (the OS default) or an absolute path', '/srv/www'),
    'absolute_path': (_absolute_path, 'an absolute path, one word', '/etc/keepalived/check_nginx.sh'),
    'url': (lambda v: isinstance(v, str) and bool(_URL.match(v)), 'an http:// or https:// URL without blanks or quotes',
            'http://127.0.0.1/healthz'),
    'next_upstream': (_next_upstream, 'blank-separated words among %s (off alone)' % ', '.join(NEXT_UPSTREAM),
                      'error timeout http_502'),
    'headers': (_headers, 'a dict of header names (letters, digits, -) to values without double quotes, '
                'backslashes or line breaks', '{X-Served-By: lb}'),
    'nginx_value': (lambda v: isinstance(v, str) and v.strip() != '' and not re.search(r'[;{}"\r\n]', v),
                    'one nginx value: not empty, without quotes, braces, semicolons or line breaks', '$remote_addr'),
    'listen_address': (_listen_address, 'empty (every address), * or one IP address (the VIP)', '198.51.100.140'),
    'user': (lambda v: isinstance(v, str) and bool(_USER.match(v)), 'a user name', 'root'),
    'raw_lines': (_raw_lines, 'a list of one-line strings, each with as many { as }', "['vrrp_garp_master_delay 1']"),
    'weight': (_weight, 'a whole number from %d to %d' % (WEIGHT_MIN, WEIGHT_MAX), '0'),
    'health_targets': (lambda v: isinstance(v, (list, tuple)) and all(
        isinstance(t, str) and (bool(_URL.match(t)) or bool(re.match(r'^tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$', t)))
        for t in v), 'a list of http:// or https:// URLs and tcp://HOST:PORT addresses', '[http://127.0.0.1/healthz]'),
    'tls_protocols': (_tls_protocols, 'a list of TLS versions among %s' % ', '.join(TLS_PROTOCOLS), '[TLSv1.2, TLSv1.3]'),
    'tls_session_cache': (lambda v: isinstance(v, str) and bool(re.match(r'^(off|none|shared:[A-Za-z0-9_]+:[0-9]+[km]?)$', v)),
                          'off, none or shared:NAME:SIZE', 'shared:ha_lb_tls:10m'),
    'days': (lambda v: _count(v, 0), 'a whole number of days, 0 or more', '21'),
    'nginx_version': (_version_or_empty, 'empty (the version the OS packages) or a version such as 1.26.3', '1.26.3'),
    'keepalived_version': (_version_or_empty, 'empty (the version the OS packages) or a version such as 2.3.3',
                           '2.3.3'),
    'seconds': (lambda v: _number(v) and float(v) > 0, 'a number of seconds above 0', '1'),
    'wait_seconds': (lambda v: _count(v, 0), 'a whole number of seconds, 0 or more', '2'),
    'delay': (_number, 'a number of seconds, 0 or more (decimals allowed)', '5'),
    'listen': (lambda v: isinstance(v, str) and bool(re.match(r'^(\[[0-9A-Fa-f:.]+\]|[0-9.]*):[0-9]{1,5}$', v))
               and 1 <= int(v.rsplit(':', 1)[1]) <= 65535, 'an address and a port, ADDRESS:PORT or :PORT', ':9113'),
    'tag': (lambda v: isinstance(v, str) and bool(re.match(r'^[A-Za-z0-9_.-]{1,32}$', v)),
            'a syslog tag: 1-32 letters, digits, dots, dashes or underscores', 'ha-lb-keepalived'),
}

# The variables each role writes into a configuration file, and their kind. Variables that have a
# check of their own (ports, methods, backends, the health check's mode, the instances) are not here.
SETTINGS = {
    'nginx_web': {
        'nginx_web_server_name': 'server_names',
        'nginx_web_worker_processes': 'workers',
        'nginx_web_worker_connections': 'positive',
        'nginx_web_worker_rlimit_nofile': 'positive',
        'nginx_web_keepalive_timeout': 'nginx_time',
        'nginx_web_keepalive_requests': 'positive',
        'nginx_web_access_log': 'access_log',
        'nginx_web_error_log': 'error_log',
    },
    'nginx_lb': {
        'nginx_lb_listen_address': 'listen_address',
        'nginx_lb_server_name': 'server_names',
        'nginx_lb_health_location': 'location',
        'nginx_lb_upstream_name': 'word',
        'nginx_lb_hash_key': 'nginx_value',
        'nginx_lb_max_fails': 'count',
        'nginx_lb_fail_timeout': 'nginx_time',
        'nginx_lb_proxy_next_upstream': 'next_upstream',
        'nginx_lb_proxy_next_upstream_tries': 'count',
        'nginx_lb_proxy_connect_timeout': 'nginx_time',
        'nginx_lb_proxy_read_timeout': 'nginx_time',
        'nginx_lb_proxy_send_timeout': 'nginx_time',
        'nginx_lb_response_headers': 'headers',
        'nginx_lb_upstream_keepalive': 'count',
        'nginx_lb_upstream_keepalive_requests': 'positive',
        'nginx_lb_upstream_keepalive_timeout': 'nginx_time',
        'nginx_lb_worker_processes': 'workers',
        'nginx_lb_worker_connections': 'positive',
        'nginx_lb_worker_rlimit_nofile': 'positive',
        'nginx_lb_keepalive_timeout': 'nginx_time',
        'nginx_lb_keepalive_requests': 'positive',
        'nginx_lb_access_log': 'access_log',
        'nginx_lb_error_log': 'error_log',
        'nginx_lb_tls_protocols': 'tls_protocols',
        'nginx_lb_tls_ciphers': 'nginx_value',
        'nginx_lb_tls_session_cache': 'tls_session_cache',
        'nginx_lb_tls_session_timeout': 'nginx_time',
        'nginx_lb_tls_expiry_warning_days': 'days',
        'nginx_lb_nginx_version': 'nginx_version',
        'nginx_lb_drain_timeout': 'positive',
        'nginx_lb_stub_status_port': 'port',
        'nginx_lb_metrics_listen': 'listen',
    },
    'keepalived': {
        'keepalived_router_id': 'word',
        'keepalived_version': 'keepalived_version',
        'keepalived_script_user': 'user',
        'keepalived_global_defs_extra': 'raw_lines',
        'keepalived_health_check_name': 'word',
        'keepalived_health_check_service': 'unit',
        'keepalived_health_check_process': 'unit',
        'keepalived_health_check_url': 'url',
        'keepalived_health_check_targets': 'health_targets',
        'keepalived_health_check_timeout': 'positive',
        'keepalived_health_check_start_wait': 'wait_seconds',
        'keepalived_health_check_weight': 'weight',
        'keepalived_health_check_script_path': 'absolute_path',
        'keepalived_notify_script_path': 'absolute_path',
        'keepalived_log_tag': 'tag',
        'keepalived_metrics_interval': 'positive',
        'keepalived_metrics_textfile_dir': 'absolute_path',
        'keepalived_garp_master_delay': 'wait_seconds',
        'keepalived_garp_master_repeat': 'positive',
        'keepalived_garp_master_refresh': 'wait_seconds',
        'keepalived_garp_master_refresh_repeat': 'positive',
        'keepalived_vrrp_startup_delay': 'delay',
        'keepalived_maintenance_dir': 'absolute_path',
        'keepalived_switchover_timeout': 'seconds',
    },
}

# Keys of a keepalived_vrrp_scripts entry.
VRRP_SCRIPT_KINDS = {'interval': 'seconds', 'timeout': 'seconds', 'fall': 'positive', 'rise': 'positive',
                     'weight': 'weight'}


def problem(name, value, kind):
    """The message for a value that is not of its kind, or None when it is."""
    test, allowed, example = KINDS[kind]
    try:
        if test(value):
            return None
    except (TypeError, ValueError):
        pass
    return '%s=%s is not valid: it must be %s (e.g. %s). Fix it in the inventory.' % (name, _shown(value), allowed, example)


def check_settings(role, settings):
    """One message per variable of ``role`` in ``settings`` (name -> value) whose value is not of its kind."""
    table = SETTINGS[role]
    messages = []
    for name in table:
        if name in settings:
            message = problem(name, settings[name], table[name])
            if message:
                messages.append(message)
    return messages


def check_vrrp_scripts(scripts, reserved_name):
    """keepalived_vrrp_scripts: a list of dicts, each with a unique name, a script and valid timings."""
    if not isinstance(scripts, list):
        return ['keepalived_vrrp_scripts=%s is not valid: it must be a list of dicts. Fix it in the inventory.'
                % _shown(scripts)]
    messages = []
    names = [reserved_name]
    for index, script in enumerate(scripts):
        where = 'keepalived_vrrp_scripts[%d]' % index
        if not isinstance(script, Mapping):
            messages.append('%s=%s is not valid: it must be a dict with name and script. Fix it in the inventory.'
                            % (where, _shown(script)))
            continue
        name = script.get('name')
        message = problem(where + '.name', name, 'word')
        if message is None and name in names:
            message = ('%s.name=%s is not valid: another vrrp_script (or the health check, %s) has that name. '
                       'Give each vrrp_script its own name.' % (where, _shown(name), reserved_name))
        names.append(name)
        if message:
            messages.append(message)
        message = check_command(where + '.script', script.get('script'))
        if message:
            messages.append(message)
        for key, kind in VRRP_SCRIPT_KINDS.items():
            if key in script:
                message = problem('%s.%s' % (where, key), script[key], kind)
                if message:
                    messages.append(message)
    return messages


def vrrp_script_names(scripts):
    return [script.get('name') for script in scripts if isinstance(script, Mapping)] if isinstance(scripts, list) else []


def check_command(name, value):
    if _command(value):
        return None
    return ('%s=%s is not valid: it must be the command to run, on one line and without double quotes '
            '(e.g. /usr/local/bin/notify.sh). Fix it in the inventory.' % (name, _shown(value)))
