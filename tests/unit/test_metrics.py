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

"""Outcome counters and the request timer go through Ironic's own
metrics_utils: here its statsd backend, to a real UDP socket."""

import socket

from ironic.conf import CONF
import pytest
import webtest

from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import middleware
from tests.unit import fakes


@pytest.fixture
def statsd(overrides):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    sock.settimeout(2)
    overrides('backend', 'statsd', 'metrics')
    overrides('statsd_host', '127.0.0.1', 'metrics_statsd')
    overrides('statsd_port', sock.getsockname()[1], 'metrics_statsd')
    overrides('global_prefix', 'test', 'metrics')
    yield sock
    sock.close()


def received(sock, count):
    return [sock.recv(4096).decode() for _ in range(count)]


def test_outcomes_are_counted_and_timed(statsd, make_node, overrides):
    overrides('allowed_source_cidrs', ['127.0.0.0/8'], 'boot_config')
    app = webtest.TestApp(middleware.BootConfigMiddleware(
        fakes.ironic_app, conf=CONF, find_node=lookup.NodeLookup(),
        client=fakes.Client()))
    _node, mac = make_node()
    inside = {'REMOTE_ADDR': '127.0.0.1'}
    app.get('/v1/boot/%s/boot.ipxe' % mac, extra_environ=inside)
    assert received(statsd, 2)[0] == 'test.boot_config.served:1|c'
    app.get('/v1/boot/52:54:00:ee:ee:01/boot.ipxe', status=404,
            extra_environ=inside)
    counter, timer = received(statsd, 2)
    assert counter == 'test.boot_config.not_found:1|c'
    assert timer.startswith('test.boot_config.request:') and \
        timer.endswith('|ms')
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=404,
            extra_environ={'REMOTE_ADDR': '192.0.2.1'})
    assert received(statsd, 2)[0] == 'test.boot_config.refused.source:1|c'


def test_failures_are_counted_apart(statsd, make_node):
    from keystoneauth1 import exceptions as ks_exceptions
    app = webtest.TestApp(middleware.BootConfigMiddleware(
        fakes.ironic_app, conf=CONF, find_node=lookup.NodeLookup(),
        client=fakes.Client(ks_exceptions.ConnectFailure('refused'))))
    _node, mac = make_node()
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    assert received(statsd, 2)[0] == 'test.boot_config.failed:1|c'
