"""Faults on real processes: every one is the generic 404, within
``[boot_config]rpc_timeout`` + 1 s, its cause logged once, never a 5xx nor a
hang, and the rest of the API keeps answering.

Also covered elsewhere on real processes: a dead shim and a hung shim
(``test_multi_conductor.py``), a stopped conductor whose nodes the ring
moves to one that has no script (``test_no_stale_answers.py``).
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests import services
from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
FIXTURE = os.path.join(os.path.dirname(__file__), 'fixtures',
                       'broken-provider')
RPC_TIMEOUT = 3


def mac(n):
    return '52:54:00:80:00:%02x' % n


@pytest.fixture(scope='module')
def broken_provider_installed():
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['install', '--no-deps', FIXTURE], check=True,
                   timeout=300)
    yield
    subprocess.run(pip + ['uninstall', '-y',
                          'ironic-boot-config-broken-provider'],
                   check=True, timeout=120)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory, broken_provider_installed):
    services.require('mariadb')
    c = cluster_mod.IronicCluster(
        str(tmp_path_factory.mktemp('faults')), db='mysql',
        conductor_hosts=[A, B], auth_strategy='http_basic',
        extra_conf={'DEFAULT': {'enabled_boot_interfaces':
                                'ipxe,broken-ipxe'},
                    'boot_config': {'rpc_timeout': str(RPC_TIMEOUT)}})
    try:
        c.start()
        # An API whose database goes through a relay we can cut.
        c.db_proxy = cluster_mod.TcpProxy('127.0.0.1', 3306)
        proxied = c.db.url.replace('127.0.0.1/', '127.0.0.1:%d/'
                                   % c.db_proxy.port)
        c.proxied_url = c.start_extra_api(
            'api-proxied-db', {'database': {'connection': proxied}})
        c.proxied_api = c.processes[-1]
        c.nodes = {A: c.create_node_on(A, map(mac, range(0, 20))),
                   B: c.create_node_on(B, map(mac, range(20, 40)))}
        c.nodes['broken'] = (c.create_node([mac(50)],
                                           boot_interface='broken-ipxe'),
                             mac(50))
        c.to_clean_wait([u for u, _m in c.nodes.values()])
        yield c
    finally:
        c.db_proxy.stop()
        c.stop()


def timed(call):
    started = time.monotonic()
    resp = call()
    return resp, time.monotonic() - started


def assert_generic_404(resp):
    assert resp.status_code == 404
    assert resp.content == b'# Not Found\n'


def test_database_unreachable(cluster):
    uuid, m = cluster.nodes[A]
    base = cluster.proxied_url
    assert cluster.boot(m, base=base).status_code == 200
    cluster.db_proxy.stop()
    try:
        resp, took = timed(lambda: cluster.boot(m, base=base))
        assert_generic_404(resp)
        assert took < RPC_TIMEOUT + 1, took
        # What needs no database keeps answering.
        assert requests.get(base + '/v1', timeout=10).status_code == 200
        log = cluster.proxied_api.log()
        failures = [line for line in log.splitlines()
                    if 'ironic_boot_config_mw.api.middleware' in line
                    and ': 404, ' in line and 'WARNING' in line]
        assert len(failures) == 1, failures
        assert 'DBConnectionError' in failures[0] \
            or 'OperationalError' in failures[0], failures[0]
    finally:
        cluster.db_proxy.start()
    deadline = time.monotonic() + 30
    while cluster.boot(m, base=base).status_code != 200:
        assert time.monotonic() < deadline, 'no recovery'
        time.sleep(0.5)


def test_provider_that_raises(cluster):
    _uuid, m = cluster.nodes['broken']
    resp, took = timed(lambda: cluster.boot(m))
    assert_generic_404(resp)
    assert took < RPC_TIMEOUT + 1
    api_lines = [line for line in cluster.api.log().splitlines()
                 if '/v1/boot/%s/' % m in line]
    assert len(api_lines) == 1 and 'WARNING' in api_lines[0]
    owner = cluster.owner(cluster.nodes['broken'][0])
    shim_log = cluster.conductors[owner]['shim'].log()
    assert shim_log.count('KeyError') >= 1
    assert shim_log.count('Unexpected RPC exception') == 1


def test_script_removed(cluster):
    uuid, m = cluster.nodes[B]
    path = cluster.config_path(B, uuid)
    script = cluster.written_config(uuid, B)
    assert cluster.boot(m).content == script
    os.rename(path, path + '.gone')
    try:
        resp, took = timed(lambda: cluster.boot(m))
        assert_generic_404(resp)
        assert took < RPC_TIMEOUT + 1
        assert 'does not exist' in cluster.conductors[B]['shim'].log()
    finally:
        os.rename(path + '.gone', path)
    assert cluster.boot(m).content == script


def test_hung_shim_cannot_take_the_api(cluster):
    """12 requests for a node whose shim hangs: the cap (2 by default)
    answers 10 at once, the 2 others after rpc_timeout; authenticated
    requests go on."""
    uuid, m = cluster.nodes[B]
    shim = cluster.conductors[B]['shim']
    shim.signal_group(signal.SIGSTOP)
    results = []
    try:
        def boot():
            results.append(timed(lambda: cluster.boot(m)))
        threads = [threading.Thread(target=boot) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        authenticated = []
        for _ in range(5):
            resp, took = timed(lambda: cluster.session.get(
                cluster.api_url + '/v1/nodes', timeout=10))
            authenticated.append((resp.status_code, took))
        for t in threads:
            t.join(RPC_TIMEOUT + 5)
    finally:
        shim.signal_group(signal.SIGCONT)
    assert all(status == 200 and took < 2 for status, took in authenticated)
    assert len(results) == 12
    for resp, took in results:
        assert_generic_404(resp)
        assert took < RPC_TIMEOUT + 1
    fast = [took for _resp, took in results if took < 1]
    assert len(fast) == 10, sorted(took for _r, took in results)
    assert 'max_concurrent_requests reached' in cluster.api.log()
