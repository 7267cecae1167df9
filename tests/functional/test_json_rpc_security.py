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

"""The shims are as secure as Ironic's own JSON-RPC, with nothing of theirs.

Real ``ironic-api``, conductor and shim whose configuration secures only
``[json_rpc]`` (http_basic; http_basic and TLS) and gives
``[boot_config_json_rpc]`` its address and port alone. The shim takes
``[json_rpc]``'s auth and TLS and says so in its log; a JSON-RPC call
without credentials is refused (401), one with them answered; and
``ironic-api``'s client for the shim, which took the same credentials, gets
the owner's script for ``/v1/boot``.
"""

import os

import pytest
import requests

from tests.harness import metal3
from tests.harness import tls

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'
USER = ('rpc', 'rpc-secret')


@pytest.fixture(scope='module', params=['http_basic', 'http_basic-tls'])
def secured(request, launch, tmp_path_factory):
    """``(cluster, CA certificate or None)``."""
    secrets = str(tmp_path_factory.mktemp(request.param + '-secrets'))
    json_rpc = {'auth_strategy': 'http_basic',
                'http_basic_auth_user_file': metal3.htpasswd(
                    os.path.join(secrets, 'htpasswd'), [USER]),
                'auth_type': 'http_basic',
                'username': USER[0], 'password': USER[1]}
    cert = None
    if request.param.endswith('tls'):
        cert, key = tls.self_signed(secrets, [HOST], 'rpc')
        json_rpc.update(use_ssl='true', cert_file=cert, key_file=key,
                        cafile=cert)
    with launch('rpc-' + request.param, db='mysql', conductor_hosts=[HOST],
                extra_conf={'json_rpc': json_rpc}) as c:
        yield c, cert


def call_shim(cluster, cert, auth=None):
    """POST the shim's ``ping`` straight to its JSON-RPC server."""
    url = '%s://%s:%d' % ('https' if cert else 'http', HOST,
                          cluster.shim_port)
    return requests.post(url, json={
        'jsonrpc': '2.0', 'id': 'ping-1', 'method': 'ping',
        'params': {'context': {}, 'rpc.version': '1.2'}},
        auth=auth, verify=cert or True, timeout=10)


def test_the_shim_says_it_took_json_rpcs_auth_and_tls(secured):
    cluster, cert = secured
    shim = cluster.conductors[HOST].shim
    lines = [line for line in shim.log().splitlines()
             if 'Boot config shim JSON-RPC:' in line]
    print('\n' + '\n'.join(lines))
    assert len(lines) == 1
    line = lines[0]
    assert 'auth strategy http_basic, %s' % ('TLS' if cert else 'no TLS') \
        in line
    taken = set(line.split('taken from [json_rpc]: ')[1].split(', '))
    assert {'auth_strategy', 'http_basic_auth_user_file', 'auth_type',
            'username', 'password'} <= taken
    if cert:
        assert {'use_ssl', 'cert_file', 'key_file', 'cafile'} <= taken
    # Names, never values.
    assert USER[1] not in shim.log()


def test_a_call_without_credentials_is_refused(secured):
    cluster, cert = secured
    resp = call_shim(cluster, cert)
    print('\nwithout credentials: %d %s' % (resp.status_code,
                                            resp.text[:200]))
    assert resp.status_code == 401
    assert call_shim(cluster, cert, auth=('rpc', 'wrong')).status_code == 401
    if cert:
        # Nor is plain HTTP spoken.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post('http://%s:%d' % (HOST, cluster.shim_port),
                          json={}, timeout=5)


def test_a_call_with_json_rpcs_credentials_is_answered(secured):
    cluster, cert = secured
    resp = call_shim(cluster, cert, auth=USER)
    assert resp.status_code == 200, resp.text
    assert resp.json()['result']['host'] == HOST


def test_the_api_gets_the_owners_script(secured):
    """ironic-api's client for the shims took [json_rpc]'s credentials and
    CA too."""
    cluster, _cert = secured
    node = cluster.client.waiting_node_on(HOST)
    resp = cluster.client.boot(node.mac)
    assert resp.status_code == 200, resp.text
    assert resp.content == cluster.written_config(node.uuid, HOST)
