"""Every transport for real, on MariaDB and on PostgreSQL.

JSON-RPC to the shims without auth, with http_basic and with TLS (a
self-signed certificate for the conductors' addresses); oslo.messaging over
the local RabbitMQ; ``none`` in the all-in-one ``ironic`` process. Each
case: real API, conductors and shims; nodes cleaned into ``clean wait`` on
both conductors get their owner's script; an unknown MAC the generic 404;
and the transport is shown to be the one configured.
"""

import os
import subprocess
import uuid

import pytest
import requests

from tests import services
from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
TRANSPORTS = ['json-rpc', 'json-rpc-basic', 'json-rpc-tls', 'oslo', 'none']
DATABASES = ['mysql', 'postgresql']
DB_SERVICE = {'mysql': 'mariadb', 'postgresql': 'postgresql'}


def self_signed(workdir, addresses):
    cert = os.path.join(workdir, 'shim-cert.pem')
    key = os.path.join(workdir, 'shim-key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1',
                    '-subj', '/CN=boot-config-shim', '-addext',
                    'subjectAltName=' + ','.join('IP:%s' % a
                                                 for a in addresses)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def transport_conf(transport, workdir):
    if transport == 'oslo':
        services.require('rabbitmq')
        return {'DEFAULT': {
            'transport_url': 'rabbit://guest:guest@127.0.0.1:5672/',
            # One exchange per cluster: no stray messages between runs.
            'control_exchange': 'ibc_%s' % uuid.uuid4().hex[:8]}}
    if transport == 'json-rpc-basic':
        import bcrypt
        htpasswd = os.path.join(workdir, 'shim-htpasswd')
        with open(htpasswd, 'w') as f:
            f.write('shim:%s\n' % bcrypt.hashpw(b'shim-secret',
                                                bcrypt.gensalt(4)).decode())
        return {'boot_config_json_rpc': {
            'auth_strategy': 'http_basic',
            'http_basic_auth_user_file': htpasswd,
            'auth_type': 'http_basic', 'username': 'shim',
            'password': 'shim-secret'}}
    if transport == 'json-rpc-tls':
        cert, key = self_signed(workdir, [A, B])
        return {'boot_config_json_rpc': {
            'use_ssl': 'true', 'cert_file': cert, 'key_file': key,
            'cafile': cert}}
    return {}


@pytest.fixture(scope='module',
                params=[(t, d) for t in TRANSPORTS for d in DATABASES],
                ids=lambda p: '%s-%s' % p)
def cluster(request, tmp_path_factory):
    transport, db = request.param
    services.require(DB_SERVICE[db])
    workdir = str(tmp_path_factory.mktemp('%s-%s' % (transport, db)))
    if transport == 'none':
        c = cluster_mod.IronicCluster(workdir, db=db, conductor_hosts=[A],
                                      all_in_one=True, rpc_transport='none')
    else:
        c = cluster_mod.IronicCluster(
            workdir, db=db, conductor_hosts=[A, B],
            rpc_transport='oslo' if transport == 'oslo' else 'json-rpc',
            extra_conf=transport_conf(transport, workdir))
    c.transport = transport
    try:
        c.start()
        c.nodes = {}
        for index, host in enumerate(c.conductor_hosts):
            c.nodes[host] = c.create_node_on(
                host, ['52:54:00:90:%02x:%02x' % (index, n)
                       for n in range(20)])
        c.to_clean_wait([u for u, _m in c.nodes.values()])
        yield c
    finally:
        c.stop()


def test_each_node_gets_its_owners_script(cluster):
    for host, (node, mac) in cluster.nodes.items():
        expected = cluster.written_config(node, host)
        resp = cluster.boot(mac)
        assert resp.status_code == 200, resp.text
        assert resp.content == expected
    assert cluster.boot('52:54:00:90:ff:ff').content == b'# Not Found\n'


def test_the_configured_transport_is_used(cluster):
    transport = cluster.transport
    shim_logs = [c['shim'].log() for c in cluster.conductors.values()
                 if 'shim' in c]
    if transport == 'none':
        assert shim_logs == []
        return
    if transport == 'oslo':
        assert all('oslo.messaging topic ironic.boot_config' in log
                   for log in shim_logs)
        return
    assert all('JSON-RPC on' in log for log in shim_logs)
    url = '%s://%s:%d' % ('https' if transport == 'json-rpc-tls' else 'http',
                          A, cluster.shim_port)
    if transport == 'json-rpc-tls':
        # Plain HTTP is not spoken; the certificate is checked.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url.replace('https', 'http'), json={}, timeout=5)
        with pytest.raises(requests.exceptions.SSLError):
            requests.post(url, json={}, timeout=5)
    elif transport == 'json-rpc-basic':
        resp = requests.post(url, json={'jsonrpc': '2.0', 'id': 1,
                                        'method': 'get_boot_config',
                                        'params': {}}, timeout=5)
        assert resp.status_code == 401
