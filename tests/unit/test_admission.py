# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

import ipaddress
import logging

import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import admission
from tests.unit import fakes

PROXIES = [ipaddress.ip_network('10.0.0.0/24'),
           ipaddress.ip_network('fd00::/64')]


@pytest.mark.parametrize('environ,parse,expected', [
    pytest.param({'REMOTE_ADDR': '192.0.2.7'}, False, '192.0.2.7',
                 id='peer'),
    pytest.param({'REMOTE_ADDR': '2001:db8::7'}, False, '2001:db8::7',
                 id='peer-v6'),
    pytest.param({}, False, '', id='no-peer'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '192.0.2.9'}, False, '10.0.0.1',
                 id='parsing-off'),
    # A machine that reaches the API itself: its header is its own word.
    pytest.param({'REMOTE_ADDR': '198.51.100.9',
                  'HTTP_X_FORWARDED_FOR': '192.0.2.9'}, True,
                 '198.51.100.9', id='direct-forger-xff'),
    pytest.param({'REMOTE_ADDR': '198.51.100.9',
                  'HTTP_FORWARDED': 'for=192.0.2.9'}, True, '198.51.100.9',
                 id='direct-forger-forwarded'),
    pytest.param({'REMOTE_ADDR': '198.51.100.9',
                  'HTTP_X_FORWARDED_FOR': 'not an address'}, True,
                 '198.51.100.9', id='direct-garbage-ignored'),
    # Through a trusted proxy: the address it appended.
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '192.0.2.9'}, True, '192.0.2.9',
                 id='proxy-xff'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_FORWARDED': 'for=192.0.2.9;proto=http'}, True,
                 '192.0.2.9', id='proxy-forwarded'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_FORWARDED': 'for="[2001:db8::9]:4711"'}, True,
                 '2001:db8::9', id='proxy-forwarded-v6-port'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_FORWARDED': 'for=192.0.2.9:80'}, True, '192.0.2.9',
                 id='proxy-forwarded-port'),
    # The sender's forged hop left of the one the proxy appended.
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '192.0.2.50, 198.51.100.9'}, True,
                 '198.51.100.9', id='forged-through-proxy-xff'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1', 'HTTP_FORWARDED':
                  'for=192.0.2.50, for=198.51.100.9'}, True,
                 '198.51.100.9', id='forged-through-proxy-forwarded'),
    # Two trusted hops: the machine is the first untrusted from the right.
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '6.6.6.6, 192.0.2.9, 10.0.0.2'},
                 True, '192.0.2.9', id='two-hops-xff'),
    pytest.param({'REMOTE_ADDR': 'fd00::1', 'HTTP_FORWARDED':
                  'for=6.6.6.6, for=192.0.2.9, for="[fd00::2]"'}, True,
                 '192.0.2.9', id='two-hops-forwarded-v6-proxies'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '10.0.0.7, 10.0.0.2'}, True,
                 '10.0.0.7', id='only-proxies'),
    # The sender's own garbage, left of what the proxy appended: unread.
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '\x1b[2J, 192.0.2.9'}, True,
                 '192.0.2.9', id='garbage-left-of-the-client'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1',
                  'HTTP_X_FORWARDED_FOR': '::ffff:192.0.2.7'}, True,
                 '192.0.2.7', id='proxy-xff-v4-mapped'),
    pytest.param({'REMOTE_ADDR': '10.0.0.1'}, True, '10.0.0.1',
                 id='proxy-without-header'),
    pytest.param({'REMOTE_ADDR': '', 'HTTP_X_FORWARDED_FOR': '192.0.2.9'},
                 True, '', id='no-peer-not-a-unix-socket'),
])
def test_client_address(environ, parse, expected):
    client = admission.ClientAddress(parse, PROXIES)
    assert client(environ) == expected


def test_a_unix_socket_peer_is_the_proxy():
    client = admission.ClientAddress(True, [], unix_socket=True)
    assert client({'REMOTE_ADDR': '',
                   'HTTP_X_FORWARDED_FOR': '192.0.2.9'}) == '192.0.2.9'
    assert client({'HTTP_FORWARDED': 'for=192.0.2.9'}) == '192.0.2.9'
    # A TCP peer of a server that also has a unix socket is not.
    assert client({'REMOTE_ADDR': '198.51.100.9',
                   'HTTP_X_FORWARDED_FOR': '192.0.2.9'}) == '198.51.100.9'


@pytest.mark.parametrize('environ,reason', [
    pytest.param({'HTTP_X_FORWARDED_FOR': '192.0.2.9',
                  'HTTP_FORWARDED': 'for=192.0.2.9'}, 'both',
                 id='both-headers'),
    pytest.param({'HTTP_X_FORWARDED_FOR': '192.0.2.9, unknown'},
                 'not an IP address', id='xff-garbage'),
    pytest.param({'HTTP_X_FORWARDED_FOR': '192.0.2.9, 10.0.0.2, unknown'},
                 'not an IP address', id='xff-garbage-after-a-proxy'),
    pytest.param({'HTTP_FORWARDED': 'for=_hidden'}, 'not an IP address',
                 id='forwarded-obfuscated'),
    pytest.param({'HTTP_FORWARDED': 'proto=https'}, 'not an IP address',
                 id='forwarded-no-for'),
    pytest.param({'HTTP_X_FORWARDED_FOR': '192.0.2.9, \x1b[31mred'},
                 r'\x1b[31mred', id='escape-logged-escaped'),
])
def test_a_trusted_header_that_names_no_client_is_refused(environ, reason):
    client = admission.ClientAddress(True, PROXIES)
    with pytest.raises(exception.Refused) as refused:
        client(dict(environ, REMOTE_ADDR='10.0.0.1'))
    assert reason in str(refused.value)
    assert '\x1b' not in str(refused.value)
    assert refused.value.check == 'forwarded header'


def test_source_filter():
    import ipaddress
    allow_all = admission.SourceFilter([])
    assert allow_all.allows('203.0.113.1') and allow_all.allows('')
    nets = admission.SourceFilter([ipaddress.ip_network('192.0.2.0/24'),
                                   ipaddress.ip_network('2001:db8::/64')])
    assert nets.allows('192.0.2.200')
    assert nets.allows('2001:db8::1')
    assert not nets.allows('192.0.3.1')
    assert not nets.allows('2001:db9::1')
    assert not nets.allows('')
    assert not nets.allows('not-an-ip')
    assert not nets.allows('192.0.2.1\n')


def test_rate_limit_burst_then_refill():
    limiter = admission.RateLimiter(rate=2.0, burst=3, max_sources=10)
    assert [limiter.allows('a', now=0) for _ in range(4)] == [True, True,
                                                              True, False]
    assert limiter.allows('b', now=0)             # per source
    assert not limiter.allows('a', now=0.4)       # 0.8 token
    assert limiter.allows('a', now=0.5)           # 1 token
    assert [limiter.allows('a', now=100) for _ in range(4)] == [True, True,
                                                                True, False]


def test_rate_limit_table_is_bounded():
    limiter = admission.RateLimiter(rate=1.0, burst=1, max_sources=100)
    for n in range(10000):
        limiter.allows('10.0.%d.%d' % (n // 256, n % 256), now=0)
    assert len(limiter) == 100
    # The most recent sources are remembered (and refused), the oldest not.
    assert not limiter.allows('10.0.39.15', now=0)     # n = 9999
    assert limiter.allows('10.0.0.0', now=0)


def test_rate_limit_off():
    limiter = admission.RateLimiter(rate=0, burst=1, max_sources=1)
    assert all(limiter.allows('a', now=0) for _ in range(1000))
    assert len(limiter) == 0


def test_concurrency_cap():
    cap = admission.ConcurrencyCap(2)
    assert cap.enter() and cap.enter()
    assert not cap.enter()
    cap.leave()
    assert cap.enter()
    unlimited = admission.ConcurrencyCap(0)
    assert all(unlimited.enter() for _ in range(100))


def test_concurrency_cap_waits_for_a_slot():
    import threading
    import time
    cap = admission.ConcurrencyCap(1, wait=0.3)
    assert cap.enter()
    started = time.monotonic()
    assert not cap.enter()
    assert 0.25 <= time.monotonic() - started < 1
    threading.Timer(0.1, cap.leave).start()
    started = time.monotonic()
    assert cap.enter()
    assert 0.05 <= time.monotonic() - started < 0.3


def test_refusal_log_first_at_once_then_a_summary_per_interval(caplog):
    caplog.set_level(logging.DEBUG, logger='ironic_boot_config_mw')
    clock = fakes.Clock()
    log = admission.RefusalLog(interval=60, clock=clock)

    def warnings():
        return [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]

    log.refused('[boot_config]allowed_source_cidrs', '198.51.100.1',
                'not allowed')
    assert len(warnings()) == 1
    assert 'Refused 1 ' in warnings()[0]
    for n in range(10):
        clock.now += 1
        log.refused('[boot_config]max_concurrent_requests',
                    '192.0.2.%d' % n, 'cap')
    log.refused('[boot_config]rate_limit', '192.0.2.99', 'too fast')
    log.tick()
    assert len(warnings()) == 1  # not due yet: counted
    clock.now += 60
    log.tick()
    assert len(warnings()) == 2
    assert warnings()[1].startswith('Refused 11 /v1/boot request(s)')
    assert '[boot_config]max_concurrent_requests 10, ' \
        '[boot_config]rate_limit 1;' in warnings()[1]
    assert 'the last from 192.0.2.99: too fast' in warnings()[1]
    # Every refusal at DEBUG too; nothing pending, nothing logged.
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 12
    clock.now += 600
    log.tick()
    assert len(warnings()) == 2


@pytest.mark.parametrize('remote,expected', [
    ('::ffff:192.0.2.7', '192.0.2.7'),
    ('::FFFF:192.0.2.7', '192.0.2.7'),
    ('[::ffff:192.0.2.7]:4711', '192.0.2.7'),
    ('::ffff:c000:207', '192.0.2.7'),
    ('2001:db8::7', '2001:db8::7'),
    ('::1', '::1'),
    ('', ''),
    ('not-an-address', 'not-an-address'),
])
def test_ipv4_mapped_peers_are_ipv4(remote, expected):
    """A dual-stack socket ([api]host_ip = ::) sees IPv4 machines as
    ::ffff:a.b.c.d."""
    assert admission.ClientAddress()({'REMOTE_ADDR': remote}) == expected


def test_ipv4_mapped_peer_matches_an_ipv4_network_and_ipv6_still_works():
    import ipaddress
    sources = admission.SourceFilter([ipaddress.ip_network('192.0.2.0/24'),
                                      ipaddress.ip_network('2001:db8::/64')])
    for remote, allowed in (('::ffff:192.0.2.7', True),
                            ('::ffff:198.51.100.7', False),
                            ('2001:db8::7', True), ('2001:db9::7', False)):
        source = admission.ClientAddress()({'REMOTE_ADDR': remote})
        assert sources.allows(source) is allowed, remote
