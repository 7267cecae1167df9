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

"""The Boot configuration API on a real multi-conductor Ironic.

One ``ironic-api`` with ``[api]middleware = boot_config`` and
``auth_strategy = http_basic``, two ``ironic-conductor`` processes on
127.0.0.2 and 127.0.0.3 with their own http_root and http_url, a shim beside
each, JSON-RPC, MariaDB. Nodes reach ``clean wait`` through real automated
cleaning, so every script served here was written by a real conductor.
"""

import os
import signal
import time

import pytest
import requests

from tests.harness import client
from tests.harness import net

pytestmark = pytest.mark.slow

IPXE_NODES = 8


@pytest.fixture(scope='module')
def cluster(launch):
    with launch(db='mysql', auth_strategy='http_basic') as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """The nodes of this module by role: EnrolledNodes."""
    api = cluster.client
    nodes = {'ipxe-%d' % n: api.create_node(nics=2)
             for n in range(IPXE_NODES)}
    nodes['http-ipxe'] = api.create_node(boot_interface='http-ipxe')
    nodes['fake-boot'] = api.create_node(boot_interface='fake')
    nodes['no-pxe'] = api.create_node(pxe_enabled=False)
    api.to_clean_wait(nodes.values())
    nodes['enroll'] = api.create_node()
    nodes['manageable'] = api.create_node()
    api.move([nodes['manageable']], ('manage', 'manageable'))
    return nodes


def script_of(c, uuid):
    """The script the owning conductor wrote, read from ITS http_root."""
    owner = c.owner(uuid)
    paths = {host: cond.config_path(uuid)
             for host, cond in c.conductors.items()}
    assert os.path.exists(paths[owner])
    assert not any(os.path.exists(p) for h, p in paths.items() if h != owner)
    with open(paths[owner], 'rb') as f:
        return owner, f.read()


def forms(m):
    """Every spelling of one MAC that the API accepts."""
    return [m, m.upper(), m.replace(':', '-'), m.upper().replace(':', '-')]


def headers_of(resp):
    return sorted((k, v) for k, v in resp.headers.items() if k != 'Date')


# -- serving -----------------------------------------------------------------

def test_both_conductors_own_nodes(cluster, nodes):
    owners = {cluster.owner(node.uuid) for name, node in nodes.items()
              if name.startswith('ipxe-')}
    assert owners == set(cluster.conductor_hosts)


@pytest.mark.parametrize('name', ['ipxe-%d' % n for n in range(IPXE_NODES)]
                         + ['http-ipxe'])
def test_every_mac_form_gets_the_owning_conductors_script(cluster, nodes,
                                                          name):
    node = nodes[name]
    owner, expected = script_of(cluster, node.uuid)
    own_url = cluster.conductors[owner].http_url
    other_urls = [c.http_url for h, c in cluster.conductors.items()
                  if h != owner]
    for m in node.macs:
        for form in forms(m):
            resp = cluster.client.boot(form)
            assert resp.status_code == 200, (form, resp.text)
            assert resp.content == expected
            assert resp.headers['Content-Type'] == 'text/plain'
            assert resp.headers['Cache-Control'] == 'no-store'
    kernel = [line for line in expected.decode().splitlines()
              if line.startswith('kernel ')]
    assert kernel and kernel[0].startswith('kernel %s/%s/'
                                           % (own_url, node.uuid))
    assert not any(url in expected.decode() for url in other_urls)


def test_ipxe_percent_encoded_request_line(cluster, nodes):
    node = nodes['ipxe-0']
    _owner, expected = script_of(cluster, node.uuid)
    path = '/v1/boot/%s/boot.ipxe' % node.mac.replace(':', '%3A')
    resp = client.raw_request(cluster.api_host, cluster.api_port, path)
    assert (resp.status, resp.body) == (200, expected)


def test_head(cluster, nodes):
    mac = nodes['ipxe-1'].mac
    get = cluster.client.boot(mac)
    head = cluster.client.boot(mac, method='HEAD')
    assert head.status_code == 200 and head.content == b''
    assert headers_of(head) == headers_of(get)


# -- refusing ----------------------------------------------------------------

UNKNOWN_MAC = '52:54:00:ff:ff:ff'
REFUSALS = {
    'unknown-mac': lambda api, n: api.boot(UNKNOWN_MAC),
    'malformed-mac': lambda api, n: api.boot('52:54:00:ff:ff'),
    'double-slash': lambda api, n: api.boot(
        None, raw_path='/v1/boot//%s/boot.ipxe' % n['ipxe-0'].mac),
    'unknown-name': lambda api, n: api.boot(n['ipxe-0'].mac, 'grub.cfg'),
    'dot-dot-name': lambda api, n: api.boot(
        None, raw_path='/v1/boot/%s/..%%2F..' % n['ipxe-0'].mac),
    'no-provider': lambda api, n: api.boot(n['fake-boot'].mac),
    'port-not-pxe': lambda api, n: api.boot(n['no-pxe'].mac),
    'state-enroll': lambda api, n: api.boot(n['enroll'].mac),
    'state-manageable': lambda api, n: api.boot(n['manageable'].mac),
}


def reference_404(cluster):
    return cluster.client.boot(UNKNOWN_MAC)


def test_every_refusal_is_the_same_404(cluster, nodes):
    reference = reference_404(cluster)
    assert reference.status_code == 404
    assert reference.content == b'# Not Found\n'
    for cause, request in REFUSALS.items():
        resp = request(cluster.client, nodes)
        assert resp.status_code == 404, cause
        assert resp.content == reference.content, cause
        assert headers_of(resp) == headers_of(reference), cause
    log = cluster.api_process.log()
    for reason in ('is not PXE-enabled', 'provision state "enroll"',
                   'provision state "manageable"', 'not a MAC address',
                   'grub.cfg is not served for boot interface ipxe',
                   'boot interface fake has neither',
                   'no port has MAC %s' % UNKNOWN_MAC):
        assert reason in log, reason


def test_shim_down_is_the_same_404_then_recovers(cluster, nodes):
    node = nodes['ipxe-2']
    owner, expected = script_of(cluster, node.uuid)
    reference = reference_404(cluster)
    cluster.conductors[owner].shim.stop()
    try:
        started = time.monotonic()
        resp = cluster.client.boot(node.mac)
        assert time.monotonic() - started < 10
        assert resp.status_code == 404
        assert resp.content == reference.content
        assert headers_of(resp) == headers_of(reference)
        assert 'WARNING ironic_boot_config_mw.api.middleware' in \
            cluster.api_process.log()
    finally:
        cluster.start_shim(owner)
        cluster.wait_ready()
    # The API's circuit tries the shim again after shim_retry_interval (2 s);
    # the shim, new, prepares its waiting nodes again first (takeover).
    assert recovers(cluster, node, expected) < 10


def test_hung_shim_is_a_404_within_rpc_timeout(cluster, nodes):
    """A shim stopped with SIGSTOP accepts TCP but never answers."""
    node = nodes['ipxe-3']
    owner, expected = script_of(cluster, node.uuid)
    shim = cluster.conductors[owner].shim
    shim.signal_group(signal.SIGSTOP)
    try:
        started = time.monotonic()
        resp = cluster.client.boot(node.mac)
        elapsed = time.monotonic() - started
    finally:
        shim.signal_group(signal.SIGCONT)
    assert resp.status_code == 404
    # [boot_config]rpc_timeout defaults to 10 s
    assert 9 <= elapsed < 11, elapsed
    # Until the circuit's trial (shim_retry_interval, 2 s): the 404 at once.
    assert recovers(cluster, node, expected) < 5


def recovers(cluster, node, expected, bound=30):
    """Seconds until the node's script is served again (bounded)."""
    def served():
        resp = cluster.client.boot(node.mac)
        return resp if resp.status_code == 200 else None

    started = time.monotonic()
    resp = net.wait_for(served, bound, "node %s's script again" % node.uuid)
    took = time.monotonic() - started
    # The owner's file: prepared again (takeover) if the shim is new.
    assert resp.content == cluster.written_config(node.uuid)
    assert resp.content.split(b'\n')[:2] == expected.split(b'\n')[:2]
    return took


@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE', 'PATCH'])
def test_other_methods(cluster, nodes, method):
    resp = cluster.client.boot(nodes['ipxe-0'].mac, method=method)
    assert resp.status_code == 405
    assert resp.headers['Allow'] == 'GET, HEAD'


# -- the rest of the API is untouched --------------------------------------

def test_auth_still_holds_for_everything_else(cluster):
    for path in ('/v1/nodes', '/v1/ports'):
        assert requests.get(cluster.api_url + path,
                            timeout=10).status_code == 401
    assert cluster.client.get('/v1/nodes').status_code == 200
    # Ironic's own public routes stay public.
    assert requests.get(cluster.api_url + '/v1', timeout=10).status_code \
        == 200


def test_restrict_false_serves_any_state(cluster, nodes):
    """Fast-track operators turn the state gate off."""
    node = nodes['manageable']
    path = cluster.conductors[cluster.owner(node.uuid)].config_path(node.uuid)
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(b'#!ipxe\n# left from a fast-track deploy\n')
    try:
        url, _api = cluster.start_extra_api(
            'api-unrestricted', {'api': {'restrict_boot_config': 'false'}})
        unrestricted = requests.get('%s/v1/boot/%s/boot.ipxe'
                                    % (url, node.mac), timeout=30)
        assert unrestricted.status_code == 200
        assert unrestricted.content == \
            b'#!ipxe\n# left from a fast-track deploy\n'
        assert cluster.client.boot(node.mac).status_code == 404
    finally:
        os.unlink(path)


# -- operators ask why -------------------------------------------------------

def test_explain_needs_ironics_authentication(cluster, nodes):
    resp = requests.get(cluster.api_url + '/v1/boot-explain/%s/boot.ipxe'
                        % nodes['manageable'].mac, timeout=10)
    assert resp.status_code == 401
    assert 'provision state' not in resp.text


def test_explain_says_why(cluster, nodes):
    def explain(m, name='boot.ipxe'):
        resp = cluster.client.get('/v1/boot-explain/%s/%s' % (m, name))
        assert resp.status_code == 200
        return resp.json()

    node = nodes['ipxe-4']
    served = explain(node.mac)
    assert served['status'] == 200 and served['node'] == node.uuid
    assert served['conductor'].split(':')[0] == cluster.owner(node.uuid)
    assert served['bytes'] == len(script_of(cluster, node.uuid)[1])
    assert 'body' not in served

    for cause, expected in (
            (nodes['manageable'].mac, 'provision state "manageable"'),
            (nodes['no-pxe'].mac, 'is not PXE-enabled'),
            (nodes['fake-boot'].mac, 'boot interface fake has'),
            ('52:54:00:ff:ff:fe', 'no port has MAC 52:54:00:ff:ff:fe')):
        assert expected in explain(cause)['reason']
    assert 'grub.cfg is not served' in explain(node.mac,
                                               'grub.cfg')['reason']

    owner = cluster.owner(node.uuid)
    cluster.conductors[owner].shim.stop()
    try:
        down = explain(node.mac)
        assert down['status'] == 404 and down['node'] == node.uuid
        assert 'ConnectionRefused' in down['reason'] \
            or 'Connection refused' in down['reason'] \
            or 'ShimUnavailable' in down['reason'], down['reason']
    finally:
        cluster.start_shim(owner)
        cluster.wait_ready()


def test_operators_see_every_shim(cluster):
    def status():
        resp = cluster.client.get('/v1/boot-explain', timeout=60)
        assert resp.status_code == 200
        return resp.json()['shims']

    shims = status()
    assert {h.split(':')[0] for h in shims} == set(cluster.conductor_hosts)
    for answer in shims.values():
        assert answer['alive'] and 'ipxe' in answer['providers']
        assert answer['rpc_api_version'] == '1.2'
    host = cluster.conductor_hosts[1]
    cluster.conductors[host].shim.stop()
    try:
        down = {h.split(':')[0]: a for h, a in status().items()}
        assert down[host]['alive'] is False and 'reason' in down[host]
        assert down[cluster.conductor_hosts[0]]['alive'] is True
    finally:
        cluster.start_shim(host)
        cluster.wait_ready()
