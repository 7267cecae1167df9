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

"""Who a request comes from, and Ironic's switches, on real processes.

ironic-api with the filter (MariaDB, a conductor and its shim), header
parsing on, ``trusted_proxies = 127.0.0.1/32`` and an allow-list of one
machine, 127.0.0.9. In front of it Debian's nginx, as the proxies users
run: one appending ``X-Forwarded-For`` (Bifrost's), one appending RFC 7239
``Forwarded`` (nginx's documented map, what HAProxy's ``option forwarded``
sends), and two in a row. Machines connect from 127.0.0.9 (allowed) and
127.0.0.5 (not), directly or through a proxy, with headers of their own.

Then Ironic's switches: a second ironic-api with ``[api]
enable_ramdisk_endpoints = False`` answers ``/v1/lookup`` 403 and
``/v1/boot`` the generic 404 for the node the first serves; one with
``[DEFAULT]use_rpc_for_database = True`` does not start.
"""

from oslo_utils import netutils
import pytest

from tests.harness import client
from tests.harness import net
from tests.harness import nginx

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'
MACHINE, STRANGER, PROXY = '127.0.0.9', '127.0.0.5', '127.0.0.1'
NOT_FOUND = b'# Not Found\n'
SOURCES = {
    'DEFAULT': {'debug': 'true'},   # each refusal's reason, at DEBUG
    'oslo_middleware': {'enable_proxy_headers_parsing': 'true'},
    'boot_config': {'allowed_source_cidrs': MACHINE + '/32',
                    'trusted_proxies': PROXY + '/32'},
}
#: nginx's own recipe for appending to Forwarded (its $proxy_add_ for XFF).
FORWARDED_MAP = '''map $http_forwarded $proxy_add_forwarded {
  "" "for=$remote_addr";
  default "$http_forwarded, for=$remote_addr";
}
'''


def proxy(port, upstream, header):
    """A server block on 127.0.0.1:``port`` passing everything to
    ``upstream``, appending the client to ``header``."""
    value = {'X-Forwarded-For': '$proxy_add_x_forwarded_for',
             'Forwarded': '$proxy_add_forwarded'}[header]
    return (' server {\n  listen 127.0.0.1:%d;\n  location / {\n'
            '   proxy_pass %s;\n   proxy_set_header %s %s;\n  }\n }\n'
            % (port, upstream, header, value))


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('sources', db='mysql', conductor_hosts=[HOST],
                extra_conf=SOURCES) as c:
        yield c


@pytest.fixture(scope='module')
def proxies(cluster, tmp_path_factory):
    """``{name: port}`` of the proxies in front of the API."""
    api = cluster.api_url
    ports = {name: net.free_port() for name in ('xff', 'forwarded', 'outer')}
    servers = FORWARDED_MAP + ''.join([
        proxy(ports['xff'], api, 'X-Forwarded-For'),
        proxy(ports['forwarded'], api, 'Forwarded'),
        # Two hops: outer -> xff -> API.
        proxy(ports['outer'], 'http://127.0.0.1:%d' % ports['xff'],
              'X-Forwarded-For')])
    workdir = str(tmp_path_factory.mktemp('proxies'))
    proc = nginx.start_servers(workdir, servers,
                               [('127.0.0.1', port) for port in
                                ports.values()])
    cluster.processes.append(proc)
    return ports


def ask(port, node, source, headers=(), host=PROXY):
    return client.raw_request(host, port, '/v1/boot/%s/boot.ipxe' % node.mac,
                              source=source, headers=headers)


def test_direct_machines(cluster, node):
    api = netutils.urlsplit(cluster.api_url)
    owner = cluster.written_config(node.uuid)
    cases = {
        'allowed machine': ask(api.port, node, MACHINE, host=api.hostname),
        'forger, X-Forwarded-For': ask(
            api.port, node, STRANGER, [('X-Forwarded-For', MACHINE)],
            host=api.hostname),
        'forger, Forwarded': ask(
            api.port, node, STRANGER, [('Forwarded', 'for=' + MACHINE)],
            host=api.hostname),
    }
    print({name: resp.status for name, resp in cases.items()})
    assert cases['allowed machine'].body == owner
    assert [r.body for r in cases.values()][1:] == [NOT_FOUND] * 2


def test_through_trusted_proxies(cluster, node, proxies):
    owner = cluster.written_config(node.uuid)
    cases = {
        'X-Forwarded-For, machine': ask(proxies['xff'], node, MACHINE),
        'X-Forwarded-For, stranger': ask(proxies['xff'], node, STRANGER),
        'X-Forwarded-For, stranger forging it': ask(
            proxies['xff'], node, STRANGER, [('X-Forwarded-For', MACHINE)]),
        'X-Forwarded-For, stranger forging Forwarded': ask(
            proxies['xff'], node, STRANGER, [('Forwarded',
                                              'for=' + MACHINE)]),
        'Forwarded, machine': ask(proxies['forwarded'], node, MACHINE),
        'Forwarded, stranger forging it': ask(
            proxies['forwarded'], node, STRANGER,
            [('Forwarded', 'for=' + MACHINE)]),
        'two hops, machine': ask(proxies['outer'], node, MACHINE),
        'two hops, stranger forging': ask(
            proxies['outer'], node, STRANGER, [('X-Forwarded-For',
                                                MACHINE)]),
    }
    statuses = {name: resp.status for name, resp in cases.items()}
    print(statuses)
    assert statuses == {
        'X-Forwarded-For, machine': 200,
        'X-Forwarded-For, stranger': 404,
        'X-Forwarded-For, stranger forging it': 404,
        'X-Forwarded-For, stranger forging Forwarded': 404,
        'Forwarded, machine': 200,
        'Forwarded, stranger forging it': 404,
        'two hops, machine': 200,
        'two hops, stranger forging': 404,
    }
    assert {name: resp.body for name, resp in cases.items()
            if resp.status == 200} == dict.fromkeys(
        ['X-Forwarded-For, machine', 'Forwarded, machine',
         'two hops, machine'], owner)
    log = cluster.api_process.log()
    # The machine, not the proxy, in the filter's line.
    assert 'from %s: 200' % MACHINE in log
    assert 'from %s: 200' % PROXY not in log


def test_garbage_from_a_trusted_peer(cluster, node):
    """A hop that is not an address: the 404, and the log line escaped."""
    api = netutils.urlsplit(cluster.api_url)
    resp = ask(api.port, node, PROXY, [('X-Forwarded-For',
                                        '\x1b[31mred, \x1b[2J')],
               host=api.hostname)
    assert (resp.status, resp.body) == (404, NOT_FOUND)
    log = cluster.api_process.log()
    assert r'forwarded hop "\x1b[2J" is not an IP address' in log
    assert '\x1b' not in log


def test_ramdisk_endpoints_disabled(cluster, node):
    """Ironic 2026.2's switch for a public API: /v1/boot obeys it too."""
    from ironic.conf import api as ironic_api
    assert 'enable_ramdisk_endpoints' in {o.name for o in ironic_api.opts}
    url, proc = cluster.start_extra_api(
        'public-api', dict(SOURCES, api={'enable_ramdisk_endpoints':
                                         'false'}))
    port = netutils.urlsplit(url).port
    lookup = client.raw_request(
        PROXY, port, '/v1/lookup?addresses=%s' % node.mac,
        headers=[('X-OpenStack-Ironic-API-Version', 'latest')])
    boot = ask(port, node, MACHINE)
    main = ask(netutils.urlsplit(cluster.api_url).port, node, MACHINE)
    print('public API: lookup %d, boot %d; the other API: boot %d'
          % (lookup.status, boot.status, main.status))
    assert (lookup.status, boot.status, main.status) == (403, 404, 200)
    assert boot.body == NOT_FOUND
    assert '[api]enable_ramdisk_endpoints is False' in proc.log()
    assert '[api]enable_ramdisk_endpoints 1' in proc.log()


@pytest.mark.parametrize('command', ['ironic-api', 'ironic-boot-config-api'])
def test_use_rpc_for_database_stops_start_up(cluster, command):
    overrides = {'DEFAULT': {'use_rpc_for_database': 'true'}}
    name = 'no-db-%s' % command
    port = net.free_port()
    if command == 'ironic-api':
        overrides['api'] = {'port': str(port)}
        proc = cluster.spawn_api(name, cluster.write_conf(name, None,
                                                          overrides), port)
    else:
        overrides['boot_config_api'] = {'host_ip': '127.0.0.1',
                                        'port': str(port)}
        proc = cluster.spawn(name, command, cluster.write_conf(
            name, None, overrides))
    net.wait_for(lambda: not proc.alive(), 90, '%s to exit' % command)
    proc.stopped = True   # as it should: not a death for check_alive()
    lines = [line for line in proc.log().splitlines()
             if 'use_rpc_for_database' in line]
    print('%s exited %s: %s' % (command, proc.returncode, lines[-1:]))
    assert proc.returncode != 0
    assert lines and 'ironic-boot-config-api' in lines[-1]
    assert not net.listening('127.0.0.1', port)
