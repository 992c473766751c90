# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a client sees through the VIP."""

from __future__ import annotations

from conftest import curl_many, wait_until


def test_requests_alternate_between_the_backends(hosts, vip, vip_answering):
    # A backend that failed a request (an earlier test or drill stopped it) is left out of the
    # rotation until nginx_lb_fail_timeout (10 s) has passed: wait until both answer again.
    wait_until(lambda: {answer[1] for answer in curl_many(hosts['client'], f'http://{vip}/', 2)} == {'web-1', 'web-2'},
               30, interval=1, message='both backends back in the rotation')
    answers = curl_many(hosts['client'], f'http://{vip}/', 10)
    assert [answer[0] for answer in answers] == ['200'] * 10, answers
    backends = [answer[1] for answer in answers]
    assert set(backends) == {'web-1', 'web-2'}, backends
    assert all(first != second for first, second in zip(backends, backends[1:])), backends


def test_a_stopped_backend_costs_no_request(hosts, vip, vip_answering):
    web1 = hosts['web-1']
    try:
        web1.check_output('systemctl stop nginx')
        answers = curl_many(hosts['client'], f'http://{vip}/', 50)
        failed = [answer for answer in answers if answer[0] != '200']
        assert len(answers) == 50
        assert not failed, f'{len(failed)} of 50 requests failed: {failed[:5]}'
        assert {answer[1] for answer in answers} == {'web-2'}
    finally:
        web1.run('systemctl start nginx')
    # Back in rotation once nginx's fail_timeout lets it try web-1 again.
    wait_until(lambda: 'web-1' in {answer[1] for answer in curl_many(hosts['client'], f'http://{vip}/', 4)},
               20, interval=0.5, message='web-1 serving again')
