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

"""Every transport for real, on MariaDB and on PostgreSQL.

JSON-RPC to the shims without auth, with http_basic and with TLS (a
self-signed certificate for the conductors' addresses); oslo.messaging over
the local RabbitMQ; ``none`` in the all-in-one ``ironic`` process. Each
case: real API, conductors and shims; nodes cleaned into ``clean wait`` on
both conductors get their owner's script; an unknown MAC the generic 404;
and the transport is shown to be the one configured.
"""

import os
import uuid

import pytest
import requests

from tests.harness import tls

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
TRANSPORTS = ['json-rpc', 'json-rpc-basic', 'json-rpc-tls', 'oslo', 'none']
DATABASES = ['mysql', 'postgresql']


def transport_conf(transport, workdir):
    if transport == 'oslo':
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
        cert, key = tls.self_signed(workdir, [A, B], 'shim')
        return {'boot_config_json_rpc': {
            'use_ssl': 'true', 'cert_file': cert, 'key_file': key,
            'cafile': cert}}
    return {}


@pytest.fixture(scope='module', params=TRANSPORTS)
def transport(request):
    return request.param


@pytest.fixture(scope='module', params=DATABASES)
def cluster(request, transport, launch, tmp_path_factory):
    name = '%s-%s' % (transport, request.param)
    if transport == 'none':
        spec = dict(conductor_hosts=[A], all_in_one=True,
                    rpc_transport='none')
    else:
        secrets = str(tmp_path_factory.mktemp(name + '-secrets'))
        spec = dict(conductor_hosts=[A, B],
                    rpc_transport='oslo' if transport == 'oslo'
                    else 'json-rpc',
                    extra_conf=transport_conf(transport, secrets))
    with launch(name, db=request.param, **spec) as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """A node in ``clean wait`` on each conductor: ``{host: node}``."""
    nodes = {host: cluster.client.create_node_on(host)
             for host in cluster.conductors}
    cluster.client.to_clean_wait(nodes.values())
    return nodes


def test_each_node_gets_its_owners_script(cluster, nodes):
    c = cluster
    for host, node in nodes.items():
        expected = c.written_config(node.uuid, host)
        resp = c.client.boot(node.mac)
        assert resp.status_code == 200, resp.text
        assert resp.content == expected
    assert c.client.boot('52:54:00:ff:ff:ff').content == b'# Not Found\n'


def test_the_configured_transport_is_used(transport, cluster):
    c = cluster
    shim_logs = [cond.shim.log() for cond in c.conductors.values()
                 if cond.shim is not None]
    if transport == 'none':
        assert shim_logs == []
        return
    if transport == 'oslo':
        assert all('oslo.messaging topic ironic.boot_config' in log
                   for log in shim_logs)
        return
    assert all('JSON-RPC on' in log for log in shim_logs)
    url = '%s://%s:%d' % ('https' if transport == 'json-rpc-tls' else 'http',
                          A, c.shim_port)
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
