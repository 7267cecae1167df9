"""The Boot configuration API on a real multi-conductor Ironic.

One ``ironic-api`` with ``[api]middleware = boot_config`` and
``auth_strategy = http_basic``, two ``ironic-conductor`` processes on
127.0.0.2 and 127.0.0.3 with their own http_root and http_url, a shim beside
each, JSON-RPC, MariaDB. Nodes reach ``clean wait`` through real automated
cleaning, so every script served here was written by a real conductor.
"""

import http.client
import os
import signal
import time

import pytest

from tests import services
from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

IPXE_NODES = 8


def mac(n, nic=0):
    return '52:54:00:%02x:%02x:%02x' % (0x10 + nic, n >> 8, n & 0xff)


def forms(m):
    """Every spelling of one MAC that the API accepts."""
    return [m, m.upper(), m.replace(':', '-'), m.upper().replace(':', '-')]


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    services.require('mariadb')
    workdir = str(tmp_path_factory.mktemp('cluster'))
    c = cluster_mod.IronicCluster(workdir, db='mysql',
                                  auth_strategy='http_basic')
    try:
        c.start()
        c.nodes = {}
        for n in range(IPXE_NODES):
            c.nodes['ipxe-%d' % n] = (c.create_node([mac(n), mac(n, 1)]),
                                      [mac(n), mac(n, 1)])
        c.nodes['http-ipxe'] = (c.create_node([mac(100)],
                                              boot_interface='http-ipxe'),
                                [mac(100)])
        c.nodes['fake-boot'] = (c.create_node([mac(101)],
                                              boot_interface='fake'),
                                [mac(101)])
        c.nodes['no-pxe'] = (c.create_node([mac(102)], pxe_enabled=False),
                             [mac(102)])
        c.to_clean_wait([uuid for uuid, _ in c.nodes.values()])
        c.nodes['enroll'] = (c.create_node([mac(103)]), [mac(103)])
        c.nodes['manageable'] = (c.create_node([mac(104)]), [mac(104)])
        uuid = c.nodes['manageable'][0]
        c.set_provision_state(uuid, 'manage')
        c.wait_provision_state([uuid], 'manageable')
        yield c
    finally:
        c.stop()


def script_of(c, uuid):
    """The script the owning conductor wrote, read from ITS http_root."""
    owner = c.owner(uuid)
    paths = {host: c.config_path(host, uuid) for host in c.conductors}
    assert os.path.exists(paths[owner])
    assert not any(os.path.exists(p) for h, p in paths.items() if h != owner)
    with open(paths[owner], 'rb') as f:
        return owner, f.read()


def headers_of(resp):
    return sorted((k, v) for k, v in resp.headers.items() if k != 'Date')


# -- serving -----------------------------------------------------------------

def test_both_conductors_own_nodes(cluster):
    owners = {cluster.owner(uuid) for name, (uuid, _) in cluster.nodes.items()
              if name.startswith('ipxe-')}
    assert owners == set(cluster.conductor_hosts)


@pytest.mark.parametrize('name', ['ipxe-%d' % n for n in range(IPXE_NODES)]
                         + ['http-ipxe'])
def test_every_mac_form_gets_the_owning_conductors_script(cluster, name):
    uuid, macs = cluster.nodes[name]
    owner, expected = script_of(cluster, uuid)
    own_url = cluster.conductors[owner]['http_url']
    other_urls = [c['http_url'] for h, c in cluster.conductors.items()
                  if h != owner]
    for m in macs:
        for form in forms(m):
            resp = cluster.boot(form)
            assert resp.status_code == 200, (form, resp.text)
            assert resp.content == expected
            assert resp.headers['Content-Type'] == 'text/plain'
            assert resp.headers['Cache-Control'] == 'no-store'
    kernel = [line for line in expected.decode().splitlines()
              if line.startswith('kernel ')]
    assert kernel and kernel[0].startswith('kernel %s/%s/' % (own_url, uuid))
    assert not any(url in expected.decode() for url in other_urls)


def raw_get(c, path, method='GET'):
    """A request line sent exactly as given, as iPXE sends it."""
    conn = http.client.HTTPConnection(c.api_host, c.api_port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_ipxe_percent_encoded_request_line(cluster):
    uuid, macs = cluster.nodes['ipxe-0']
    _owner, expected = script_of(cluster, uuid)
    path = '/v1/boot/%s/boot.ipxe' % macs[0].replace(':', '%3A')
    status, _headers, body = raw_get(cluster, path)
    assert (status, body) == (200, expected)


def test_head(cluster):
    uuid, macs = cluster.nodes['ipxe-1']
    get = cluster.boot(macs[0])
    head = cluster.boot(macs[0], method='HEAD')
    assert head.status_code == 200 and head.content == b''
    assert headers_of(head) == headers_of(get)


# -- refusing ----------------------------------------------------------------

REFUSALS = {
    'unknown-mac': lambda c: c.boot('52:54:00:ff:ff:ff'),
    'malformed-mac': lambda c: c.boot('52:54:00:ff:ff'),
    'double-slash': lambda c: c.boot(None, raw_path='/v1/boot//%s/boot.ipxe'
                                     % c.nodes['ipxe-0'][1][0]),
    'unknown-name': lambda c: c.boot(c.nodes['ipxe-0'][1][0], 'grub.cfg'),
    'dot-dot-name': lambda c: c.boot(None, raw_path='/v1/boot/%s/..%%2F..'
                                     % c.nodes['ipxe-0'][1][0]),
    'no-provider': lambda c: c.boot(c.nodes['fake-boot'][1][0]),
    'port-not-pxe': lambda c: c.boot(c.nodes['no-pxe'][1][0]),
    'state-enroll': lambda c: c.boot(c.nodes['enroll'][1][0]),
    'state-manageable': lambda c: c.boot(c.nodes['manageable'][1][0]),
}


def test_every_refusal_is_the_same_404(cluster):
    reference = REFUSALS['unknown-mac'](cluster)
    assert reference.status_code == 404
    assert reference.content == b'# Not Found\n'
    for cause, request in REFUSALS.items():
        resp = request(cluster)
        assert resp.status_code == 404, cause
        assert resp.content == reference.content, cause
        assert headers_of(resp) == headers_of(reference), cause
    log = cluster.api.log()
    for reason in ('is not PXE-enabled', 'provision state "enroll"',
                   'provision state "manageable"', 'not a MAC address',
                   'grub.cfg is not served for boot interface ipxe',
                   'boot interface fake has neither',
                   'no port has MAC 52:54:00:ff:ff:ff'):
        assert reason in log, reason


def test_shim_down_is_the_same_404_then_recovers(cluster):
    uuid, macs = cluster.nodes['ipxe-2']
    owner, expected = script_of(cluster, uuid)
    reference = REFUSALS['unknown-mac'](cluster)
    shim = cluster.conductors[owner]['shim']
    shim.stop()
    try:
        started = time.monotonic()
        resp = cluster.boot(macs[0])
        assert time.monotonic() - started < 10
        assert resp.status_code == 404
        assert resp.content == reference.content
        assert headers_of(resp) == headers_of(reference)
        assert 'WARNING ironic_boot_config_mw.api.middleware' in \
            cluster.api.log()
    finally:
        cluster.conductors[owner]['shim'] = cluster.start_shim(owner)
        cluster.wait_ready()
    assert cluster.boot(macs[0]).content == expected


def test_hung_shim_is_a_404_within_rpc_timeout(cluster):
    """A shim stopped with SIGSTOP accepts TCP but never answers."""
    uuid, macs = cluster.nodes['ipxe-3']
    owner, expected = script_of(cluster, uuid)
    shim = cluster.conductors[owner]['shim']
    shim.signal_group(signal.SIGSTOP)
    try:
        started = time.monotonic()
        resp = cluster.boot(macs[0])
        elapsed = time.monotonic() - started
    finally:
        shim.signal_group(signal.SIGCONT)
    assert resp.status_code == 404
    # [boot_config]rpc_timeout defaults to 10 s
    assert 9 <= elapsed < 11, elapsed
    assert cluster.boot(macs[0]).content == expected


@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE', 'PATCH'])
def test_other_methods(cluster, method):
    resp = cluster.boot(cluster.nodes['ipxe-0'][1][0], method=method)
    assert resp.status_code == 405
    assert resp.headers['Allow'] == 'GET, HEAD'


# -- the rest of the API is untouched --------------------------------------

def test_auth_still_holds_for_everything_else(cluster):
    import requests
    assert requests.get(cluster.api_url + '/v1/nodes',
                        timeout=10).status_code == 401
    assert requests.get(cluster.api_url + '/v1/ports',
                        timeout=10).status_code == 401
    assert cluster.session.get(cluster.api_url + '/v1/nodes',
                               timeout=10).status_code == 200
    # Ironic's own public routes stay public.
    assert requests.get(cluster.api_url + '/v1', timeout=10).status_code \
        == 200


def test_restrict_false_serves_any_state(cluster):
    """Fast-track operators turn the state gate off."""
    uuid, macs = cluster.nodes['manageable']
    path = cluster.config_path(cluster.owner(uuid), uuid)
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(b'#!ipxe\n# left from a fast-track deploy\n')
    try:
        url = cluster.start_extra_api(
            'api-unrestricted', {'api': {'restrict_boot_config': 'false'}})
        unrestricted = cluster.boot(macs[0], base=url)
        assert unrestricted.status_code == 200
        assert unrestricted.content == \
            b'#!ipxe\n# left from a fast-track deploy\n'
        assert cluster.boot(macs[0]).status_code == 404
    finally:
        os.unlink(path)


# -- operators ask why -------------------------------------------------------

def test_explain_needs_ironics_authentication(cluster):
    import requests
    m = cluster.nodes['manageable'][1]
    resp = requests.get(cluster.api_url + '/v1/boot-explain/%s/boot.ipxe'
                        % m, timeout=10)
    assert resp.status_code == 401
    assert 'provision state' not in resp.text


def test_explain_says_why(cluster):
    def explain(m, name='boot.ipxe'):
        resp = cluster.session.get(
            cluster.api_url + '/v1/boot-explain/%s/%s' % (m, name),
            timeout=30)
        assert resp.status_code == 200
        return resp.json()

    uuid, macs = cluster.nodes['ipxe-4']
    served = explain(macs[0])
    assert served['status'] == 200 and served['node'] == uuid
    assert served['conductor'].split(':')[0] == cluster.owner(uuid)
    assert served['bytes'] == len(script_of(cluster, uuid)[1])
    assert 'body' not in served

    for cause, expected in (
            (cluster.nodes['manageable'][1][0],
             'provision state "manageable"'),
            (cluster.nodes['no-pxe'][1][0], 'is not PXE-enabled'),
            (cluster.nodes['fake-boot'][1][0], 'boot interface fake has'),
            ('52:54:00:ff:ff:fe', 'no port has MAC 52:54:00:ff:ff:fe')):
        assert expected in explain(cause)['reason']
    assert 'grub.cfg is not served' in explain(macs[0], 'grub.cfg')['reason']

    owner = cluster.owner(uuid)
    cluster.conductors[owner]['shim'].stop()
    try:
        down = explain(macs[0])
        assert down['status'] == 404 and down['node'] == uuid
        assert 'ConnectionRefused' in down['reason'] \
            or 'Connection refused' in down['reason'], down['reason']
    finally:
        cluster.conductors[owner]['shim'] = cluster.start_shim(owner)
        cluster.wait_ready()


def test_operators_see_every_shim(cluster):
    def status():
        resp = cluster.session.get(cluster.api_url + '/v1/boot-explain',
                                   timeout=60)
        assert resp.status_code == 200
        return resp.json()['shims']

    shims = status()
    assert {h.split(':')[0] for h in shims} == set(cluster.conductor_hosts)
    for answer in shims.values():
        assert answer['alive'] and 'ipxe' in answer['providers']
        assert answer['rpc_api_version'] == '1.2'
    host = cluster.conductor_hosts[1]
    cluster.conductors[host]['shim'].stop()
    try:
        down = {h.split(':')[0]: a for h, a in status().items()}
        assert down[host]['alive'] is False and 'reason' in down[host]
        assert down[cluster.conductor_hosts[0]]['alive'] is True
    finally:
        cluster.conductors[host]['shim'] = cluster.start_shim(host)
        cluster.wait_ready()
