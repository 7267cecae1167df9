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

"""The boot API process's application, health check and server."""

import http.client
import os
import stat
import threading
import time

import pytest

from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.bootapi import server as server_mod
from tests.harness import client as harness_client
from tests.unit import fakes


def test_serves_what_the_filter_serves(make_node):
    _node, mac = make_node()
    path = '/v1/boot/%s/boot.ipxe' % mac
    ours = fakes.make_boot_api().get(path)
    theirs = fakes.make_app().get(path)
    assert ours.body == theirs.body == fakes.SCRIPT
    assert fakes.headers_of(ours) == fakes.headers_of(theirs)


@pytest.mark.parametrize('path', ['/', '/v1', '/v1/nodes', '/v1/lookup',
                                  '/v1/boot-explain', '/v1/boot-explain/x',
                                  '/healthz', '/health/x', '/v1/boot/zz/a'])
def test_everything_else_is_the_generic_404(make_node, path):
    _node, mac = make_node()
    api = fakes.make_boot_api()
    resp = api.get(path, status=404)
    unknown = api.get('/v1/boot/52:54:00:ff:00:01/boot.ipxe', status=404)
    assert resp.body == unknown.body == fakes.NOT_FOUND
    assert fakes.headers_of(resp) == fakes.headers_of(unknown)


def test_no_concurrency_cap(make_node, overrides):
    """[boot_config]max_concurrent_requests is the in-API filter's: here
    the server's threads bound the requests in flight."""
    _node, mac = make_node()
    overrides('max_concurrent_requests', 1, 'boot_config')
    overrides('max_concurrent_wait', 0, 'boot_config')
    release = threading.Event()

    class Slow(fakes.Shims):
        def get_boot_config(self, context, node, name):
            release.wait(5)
            return super().get_boot_config(context, node, name)

    api = fakes.make_boot_api(client=Slow())
    results = []
    threads = [threading.Thread(target=lambda: results.append(api.get(
        '/v1/boot/%s/boot.ipxe' % mac, expect_errors=True).status_int))
        for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    release.set()
    for t in threads:
        t.join(10)
    assert results == [200] * 4


def test_health(ironic_db):
    resp = fakes.make_boot_api(client=fakes.Shims(down=['c2'])).get('/health')
    assert resp.status_int == 200
    assert resp.json == {'database': True, 'shims': {'c1': True,
                                                     'c2': False}}
    assert resp.headers['Cache-Control'] == 'no-store'
    head = fakes.make_boot_api().head('/health')
    assert head.status_int == 200 and head.body == b''


def test_health_without_the_database():
    class NoDatabase(lookup.NodeLookup):
        def ping(self):
            raise ConnectionRefusedError('database')

    resp = fakes.make_boot_api(find_node=NoDatabase()).get('/health',
                                                           status=503)
    assert resp.json == {'database': False,
                         'shims': {'c1': True, 'c2': True}}


def _get(conn):
    try:
        conn.request('GET', '/health')
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader('Server')
    finally:
        conn.close()


class Options:
    host_ip = '127.0.0.1'
    unix_socket = None
    unix_socket_mode = None
    threads = 4
    backlog = 64

    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_server_on_tcp_sized_as_configured(ironic_db):
    from tests.harness import net
    port = net.free_port()
    svc = server_mod.BootAPIServer(fakes.make_boot_api().app,
                                   Options(port=port))
    assert svc.server.request_queue_size == 64
    assert svc.server.keep_alive_conn_limit == 64
    assert svc.server.requests.min == 4
    svc.start()
    try:
        # Accepting every queued connection at a wake-up of the selector.
        assert isinstance(svc.server._connections,
                          server_mod._DrainingConnections)
        status, _body, name = _get(http.client.HTTPConnection(
            '127.0.0.1', port, timeout=5))
    finally:
        svc.stop()
    assert (status, name) == (200, 'ironic-boot-config-api')


def test_server_on_a_unix_socket(ironic_db, tmp_path):
    path = str(tmp_path / 'boot.sock')
    with open(path, 'w'):
        pass  # a stale socket file from a previous run is replaced
    svc = server_mod.BootAPIServer(fakes.make_boot_api().app, Options(
        port=0, unix_socket=path, unix_socket_mode=0o660))
    svc.start()
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        status = harness_client.unix_request(path, '/health').status
    finally:
        svc.stop()
    assert status == 200
    assert not os.path.exists(path)
