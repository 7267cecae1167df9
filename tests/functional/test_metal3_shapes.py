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

"""Metal3's single-replica shapes with the shipped recipes (``etc/metal3``).

Without TLS ironic-image serves the all-in-one ``ironic``'s API itself on a
dual-stack socket (``[api]host_ip = ::``), where IPv4 machines arrive as
``::ffff:a.b.c.d``; here ``::ffff:127.0.0.1``, the same peers without
listening beyond loopback. With TLS the API is on a unix socket behind
Debian's httpd configured as ironic-image's ``runhttpd`` does (image server
on 6180, TLS API vhost with Basic auth on 6385), plus the shipped route and
exemption. Each case reads the shipped ironic.conf drop-in with
``--config-dir``, as Metal3 runs ``ironic``.
"""


import os

import pytest
import requests

from tests.harness import apache
from tests.harness import client
from tests.harness import metal3
from tests.harness import net
from tests.harness import recipes
from tests.harness import services

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'


def metal3_drop_in(env):
    return recipes.metal3('ironic-boot-config.conf.j2', env)


# -- no TLS: the API on a dual-stack socket ---------------------------------

@pytest.fixture(scope='module')
def dual_stack(launch):
    port = net.free_port()
    drop_in = metal3_drop_in({
        'IRONIC_REVERSE_PROXY_SETUP': 'false', 'IRONIC_URL_HOST': '127.0.0.1',
        'IRONIC_LISTEN_PORT': port,
        'IRONIC_BOOT_CONFIG_ALLOWED_CIDRS': '127.0.0.0/8'})
    with launch('metal3-dual-stack', db='sqlite', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='none', api_port=port,
                api_host_ip='::ffff:127.0.0.1', middleware=False,
                config_dir=True,
                config_files={'zz-boot-config.conf': drop_in}) as c:
        yield c


def test_ipv4_machines_on_a_dual_stack_socket(dual_stack):
    """allowed_source_cidrs = 127.0.0.0/8 admits the peer ::ffff:127.0.0.1
    (an IPv4 network matched the IPv4-mapped address), logged as IPv4."""
    node = dual_stack.client.create_node()
    dual_stack.client.to_clean_wait([node])
    resp = dual_stack.client.boot(node.mac)
    assert resp.status_code == 200, resp.text
    assert resp.content == dual_stack.written_config(node.uuid, HOST)
    log = dual_stack.api_process.log()
    # Ironic's own request log shows the peers as they arrive ...
    assert '::ffff:127.0.0.1 - GET /v1/nodes' in log
    # ... ours as the IPv4 machines they are.
    assert 'GET /v1/boot/%s/boot.ipxe from 127.0.0.1: 200' % node.mac in log


# -- TLS: the API on a unix socket behind httpd ------------------------------

@pytest.fixture(scope='module')
def httpd():
    """httpd's certificate and htpasswd, where its workers can read them."""
    services.require_program('apache2')
    with metal3.secrets([HOST]) as (cert, key, htpasswd):
        yield metal3.Metal3([HOST], cert, key, htpasswd,
                            allowed_cidrs='127.0.0.1/32')


@pytest.fixture(scope='module')
def cluster(launch, httpd):
    with launch('metal3-tls', traversable=True, db='sqlite',
                conductor_hosts=[HOST], all_in_one=True,
                rpc_transport='none', api_per_host=True,
                api_unix_socket=True, middleware=False, config_dir=True,
                config_files={'zz-boot-config.conf': httpd.drop_in},
                before_start=httpd.start_httpds) as c:
        yield c


def plain(httpd, path, source='127.0.0.1'):
    """GET on the image server (6180) from ``source``."""
    resp = client.raw_request(HOST, httpd.http_port, path, source=source)
    return resp.status, resp.body


def test_root_config_links_to_the_image_servers_route(cluster, node, httpd):
    status, root = plain(httpd, '/boot.ipxe')
    assert status == 200
    assert ('chain http://%s:%d/v1/boot/${net${boot_config_netid}/mac}/'
            'boot.ipxe' % (HOST, httpd.http_port)).encode() in root


def test_machines_get_their_script_over_plain_http(cluster, node, httpd):
    expected = cluster.written_config(node.uuid, HOST)
    for mac in (node.mac, node.mac.replace(':', '%3A')):
        assert plain(httpd, '/v1/boot/%s/boot.ipxe' % mac) == (200, expected)


def test_the_allow_list_sees_the_machine_behind_httpd(cluster, node, httpd):
    assert plain(httpd, '/v1/boot/%s/boot.ipxe' % node.mac, '127.0.0.5') == (
        404, b'# Not Found\n')
    assert 'the last from 127.0.0.5: source not in allowed_source_cidrs' \
        in cluster.api_process.log()


def test_the_tls_vhost_asks_operators_not_machines(cluster, node):
    """Basic auth on the TLS vhost, but for the exemptions: Metal3's own
    (/v1, lookup, ...) and the shipped one for /v1/boot."""
    api = cluster.client.url
    verify = cluster.client.session.verify
    assert requests.get(api + '/v1/nodes', verify=verify,
                        timeout=30).status_code == 401
    assert cluster.client.get('/v1/nodes').status_code == 200
    assert requests.get(api + '/v1', verify=verify,
                        timeout=30).status_code == 200
    resp = requests.get(api + '/v1/boot/%s/boot.ipxe' % node.mac,
                        verify=verify, timeout=30)
    assert resp.status_code == 200
    assert resp.content == cluster.written_config(node.uuid, HOST)
    assert apache.available()


def test_the_route_can_pass_to_the_boot_api_process(cluster, node, httpd):
    """The recipe's variant (IRONIC_BOOT_CONFIG_API): the image server
    passes /v1/boot/ to ironic-boot-config-api on a unix socket of the
    pod, run with the replica's configuration (the drop-in's allow-list
    and proxy headers; rpc_transport = none: the providers in it)."""
    conductor = cluster.conductors[HOST]
    sock = os.path.join(cluster.workdir, 'ironic-boot-config-api.sock')
    _url, boot_api = cluster.start_boot_api('boot-api', {
        'boot_config_api': {'unix_socket': sock,
                            'unix_socket_mode': '0666'}}, conductor=HOST)
    port = net.free_port(HOST)
    httpd.start_httpd(cluster, conductor, name='httpd-boot-api', env={
        'IRONIC_BOOT_CONFIG_API': 'unix:' + sock, 'HTTP_PORT': port})
    path = '/v1/boot/%s/boot.ipxe' % node.mac
    resp = client.raw_request(HOST, port, path)
    assert (resp.status, resp.body) == (200, cluster.written_config(
        node.uuid, HOST))
    assert 'GET %s from 127.0.0.1: 200, node %s' % (path, node.uuid) in \
        boot_api.log()
    outsider = client.raw_request(HOST, port, path, source='127.0.0.5')
    assert (outsider.status, outsider.body) == (404, b'# Not Found\n')
