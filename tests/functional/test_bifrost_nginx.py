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

"""Bifrost's TLS shape with the shipped recipe (``etc/bifrost``), for real.

As Bifrost runs it with ``enable_tls``: one all-in-one ``ironic``
(``rpc_transport = none``, Ironic's own http_basic, MariaDB) on the unix
socket ``[api]unix_socket``, behind Debian's nginx with Bifrost's two
servers: the http_root server (``file_url_port``), into which the shipped
``/v1/boot`` location is included, and the TLS API server. The ironic.conf
drop-in is the shipped one, read with ``--config-dir`` beside the harness's
ironic.conf, rendered only with the test's addresses; it alone turns the
filter and the API-linking root script on. Operators use TLS and Ironic's
authentication; machines use plain HTTP, and the allow-list sees each
machine's own address in nginx's ``X-Forwarded-For``.
"""

import os
import time

import pytest
import requests

from tests.harness import client
from tests.harness import logs
from tests.harness import net
from tests.harness import nginx
from tests.harness import recipes
from tests.harness import services
from tests.harness import tls
from tests.harness import vm

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'     # [DEFAULT]host
INTERNAL_IP = '127.0.0.1'  # where nginx listens: QEMU's guests reach it
MACHINES = '127.0.0.1/32'  # the provisioning network of this test
OUTSIDER = '127.0.0.5'     # an address of this host outside it


class Bifrost:
    """The deployment around the cluster: nginx's ports, its certificate,
    and its access log."""

    def __init__(self, secrets):
        self.http_port = net.free_port(INTERNAL_IP)   # file_url_port
        self.api_port = net.free_port(INTERNAL_IP)    # 6385 in Bifrost
        self.plain = 'http://%s:%d' % (INTERNAL_IP, self.http_port)
        self.cert, self.key = tls.self_signed(secrets, [INTERNAL_IP],
                                              'bifrost')
        self.access_log = None

    def drop_in(self):
        """The shipped ironic.conf drop-in. Its links go to 10.0.2.2, this
        host as QEMU's guests see it (Bifrost has one internal_ip)."""
        return recipes.bifrost('ironic.conf.d-boot-config.conf.j2', {
            'enable_tls': True, 'internal_ip': vm.GUEST_HOST,
            'file_url_port': self.http_port,
            'boot_config_allowed_source_cidrs': MACHINES})

    def start_nginx(self, cluster):
        """Bifrost's two servers with the shipped location, in front of
        the cluster (before it starts)."""
        conductor = cluster.conductors[HOST]
        conductor.http_port = self.http_port
        conductor.http_url = 'http://%s:%d' % (vm.GUEST_HOST, self.http_port)
        socket = cluster.api_socket(conductor)
        location = os.path.join(cluster.workdir,
                                'bifrost-boot-config.location')
        with open(location, 'w') as f:
            f.write(recipes.bifrost('nginx-boot-config.conf.j2',
                                    {'ironic_unix_socket': socket}))
        variables = {
            'internal_ip': INTERNAL_IP, 'file_url_port': self.http_port,
            'ansible_hostname': 'bifrost', 'vmedia_enable_tls': False,
            'http_boot_folder': conductor.http_root,
            'boot_config_location': location,
            'ironic_api_port': self.api_port,
            'tls_certificate_path': self.cert,
            'ironic_private_key_path': self.key,
            'ironic_unix_socket': socket}
        servers = ''.join(
            recipes.bifrost(name, variables, fixture=True)
            for name in ('nginx_conf.d_bifrost-httpboot.conf.j2',
                         'nginx_conf.d_bifrost-ironic.conf.j2'))
        cluster.processes.append(nginx.start_servers(
            cluster.workdir, servers, [(INTERNAL_IP, self.http_port),
                                       (INTERNAL_IP, self.api_port)]))
        self.access_log = os.path.join(cluster.workdir, 'nginx-access.log')
        cluster.reach_api_at('https://%s:%d' % (INTERNAL_IP, self.api_port),
                             verify=self.cert)


@pytest.fixture(scope='module')
def bifrost(tmp_path_factory):
    services.require_program('nginx')
    return Bifrost(str(tmp_path_factory.mktemp('bifrost-secrets')))


@pytest.fixture(scope='module')
def cluster(launch, bifrost):
    vm.require_qemu()
    with launch('bifrost', db='mysql', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='none',
                auth_strategy='http_basic', api_unix_socket=True,
                middleware=False, config_dir=True, http_host=vm.GUEST_HOST,
                deploy_kernel=vm.IPXE_KERNEL,
                config_files={'boot-config.conf': bifrost.drop_in()},
                before_start=bifrost.start_nginx) as c:
        yield c


def from_address(source, url_path, port):
    """GET ``url_path`` on nginx's plain server from ``source``: a
    machine at another address."""
    resp = client.raw_request(INTERNAL_IP, port, url_path, source=source)
    return resp.status, resp.body


def test_the_drop_in_alone_turns_it_on(cluster, bifrost, node):
    """The root script Ironic rendered (served by nginx) links to the
    plain-HTTP route; nothing but the drop-in set the options."""
    with open(cluster.conductors[HOST].conf_path + '/ironic.conf') as f:
        ours = f.read()
    assert 'middleware' not in ours and 'ipxe_use_boot_config_api' \
        not in ours
    root = requests.get(bifrost.plain + '/boot.ipxe', timeout=30)
    assert root.status_code == 200
    assert 'chain http://%s:%d/v1/boot/${net${boot_config_netid}/mac}/' \
        'boot.ipxe' % (vm.GUEST_HOST, bifrost.http_port) \
        in root.text


def test_machines_get_their_script_over_plain_http(cluster, bifrost, node):
    expected = cluster.written_config(node.uuid, HOST)
    for path in ('/v1/boot/%s/boot.ipxe' % node.mac,
                 '/v1/boot/%s/boot.ipxe' % node.mac.replace(':', '%3A')):
        status, body = from_address(INTERNAL_IP, path,
                                    bifrost.http_port)
        assert (status, body) == (200, expected), path


def test_the_allow_list_sees_the_machine_behind_nginx(cluster, bifrost, node):
    """The API's only peer is nginx (a unix socket): the source is the
    X-Forwarded-For nginx adds, so a machine outside the allowed network
    gets the generic 404, logged with its own address."""
    path = '/v1/boot/%s/boot.ipxe' % node.mac
    status, body = from_address(OUTSIDER, path, bifrost.http_port)
    assert (status, body) == (404, b'# Not Found\n')
    log = cluster.api_process.log()
    assert 'the last from %s: source not in allowed_source_cidrs' \
        % OUTSIDER in log
    status, _body = from_address(INTERNAL_IP, path,
                                 bifrost.http_port)
    assert status == 200
    assert 'GET %s from %s: 200' % (path, INTERNAL_IP) in \
        cluster.api_process.log()


def test_operators_use_tls_and_ironics_authentication(cluster):
    api = cluster.client.url
    assert api.startswith('https://')
    assert requests.get(api + '/v1/nodes', verify=cluster.client.session
                        .verify, timeout=30).status_code == 401
    assert cluster.client.get('/v1/nodes').status_code == 200
    # nginx: "The plain HTTP request was sent to HTTPS port".
    assert requests.get(api.replace('https', 'http') + '/v1',
                        timeout=10).status_code == 400


def test_bios_ipxe_vm_boots_through_the_recipe(cluster, bifrost, node):
    since = time.time()
    kernel = '/%s/deploy_kernel' % node.uuid
    ramdisk = '/%s/deploy_ramdisk' % node.uuid

    def fetched(path):
        return [r for r in logs.access_log(bifrost.access_log, since)
                if r.path == path and r.status == 200]

    took = vm.boot([node.mac], 'http://%s:%d/boot.ipxe' % (
        vm.GUEST_HOST, bifrost.http_port),
        until=lambda: fetched(ramdisk))
    requests_seen = logs.access_log(bifrost.access_log, since)
    print('\nBIOS iPXE VM %s, node %s, through Bifrost\'s nginx, %.1f s:'
          % (node.mac, node.uuid, took))
    for r in requests_seen[:8]:
        print('  +%6.3fs nginx %s %s -> %d' % (r.when - since, r.method,
                                               r.path, r.status))
    paths = [r.path for r in requests_seen if r.status == 200]
    boot = [p for p in paths if p.startswith('/v1/boot/')]
    assert paths[0] == '/boot.ipxe'
    assert boot and logs.BootRequest(0, 'GET', boot[0], 200).for_mac(
        node.mac)
    assert paths.index(boot[0]) < paths.index(kernel) < paths.index(ramdisk)


def test_the_location_can_pass_to_the_boot_api_process(cluster, bifrost,
                                                       node):
    """The recipe's variant (boot_config_api_upstream): /v1/boot/ goes to
    ironic-boot-config-api on the all-in-one's host, run with its
    configuration (the drop-in's allow-list and proxy headers;
    rpc_transport = none: the providers in it)."""
    url, boot_api = cluster.start_boot_api('boot-api', conductor=HOST)
    location = recipes.bifrost('nginx-boot-config.conf.j2', {
        'boot_config_api_upstream': url[len('http://'):]})
    port = net.free_port(INTERNAL_IP)
    cluster.processes.append(nginx.start_servers(
        cluster.workdir, ' server {\n  listen %s:%d;\n%s\n }\n' % (
            INTERNAL_IP, port, location), [(INTERNAL_IP, port)],
        name='nginx-boot-api'))
    path = '/v1/boot/%s/boot.ipxe' % node.mac
    assert from_address(INTERNAL_IP, path, port) == (
        200, cluster.written_config(node.uuid, HOST))
    assert 'GET %s from %s: 200, node %s' % (path, INTERNAL_IP, node.uuid) \
        in boot_api.log()
    assert from_address(OUTSIDER, path, port) == (404, b'# Not Found\n')
