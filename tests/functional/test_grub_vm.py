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

"""Real UEFI GRUB fetches its per-node config through the API.

OVMF netboots GRUB from conductor A's tftp_root (QEMU's TFTP server). GRUB
loads ``grub/grub.cfg``, the master config Ironic itself rendered at
conductor start from the template the shim wrote (``[boot_config]
grub_use_boot_config_api = True``): it asks the API for
``/v1/boot/${net_default_mac}/grub.cfg`` and, on the generic 404, goes on
with Ironic's stock ``source <tftp_root>/$net_default_mac.conf``. The node
uses the ``http`` boot interface and belongs to conductor B: the served
config sends GRUB to B's HTTP server.
"""

import os
import re
import time

import pytest

from tests.harness import linux
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
UNKNOWN_MAC = '52:54:00:ff:88:77'
#: [boot_config]root_config_retries and root_config_retry_delay: small.
RETRIES, DELAY = 2, 2


@pytest.fixture(scope='module')
def cluster(vm_cluster):
    vm.require_grub()
    with vm_cluster('grub-vm', grub_boot_config_api=True, linux='ttyS0',
                    extra_conf={'DEFAULT': {
                        'enabled_boot_interfaces': 'ipxe,pxe,http',
                        'enabled_deploy_interfaces': 'fake,direct,ramdisk'},
                        'boot_config': {
                            'root_config_retries': str(RETRIES),
                            'root_config_retry_delay': str(DELAY)}}) as c:
        vm.build_grub(os.path.join(c.conductors[A].tftp_root,
                                   'grubx64.efi'))
        yield c


@pytest.fixture(scope='module')
def node_of_b(cluster):
    """An ``http`` (GRUB) node in ``clean wait`` that conductor B owns."""
    return cluster.client.waiting_node_on(B, boot_interface='http')


def api_requests(c, since, mac):
    return [r for r in c.boot_requests(since=since)
            if r.for_mac(mac, 'grub.cfg')]


def test_master_config_is_ironics_render(cluster):
    for c in cluster.conductors.values():
        with open(c.grub_template) as f:
            template = f.read()
        for root in (c.tftp_root, c.http_root):
            with open(os.path.join(root, 'grub', 'grub.cfg')) as f:
                master = f.read()
            link = 'configfile (http,%s:%d)/v1/boot/${net_default_mac}/' \
                   'grub.cfg' % (vm.GUEST_HOST, cluster.api_port)
            stock = 'source %s/$net_default_mac.conf' % c.tftp_root
            assert master.index(link) < master.index(stock)
            # Ironic rendered it (its tftp_root filled in) from the template.
            assert '{{' in template and '{{' not in master


def test_grub_gets_its_config_and_the_owning_conductors_kernel(
        cluster, node_of_b, tmp_path):
    b = cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node_of_b.uuid
    since = time.time()
    serial = tmp_path / 'serial.log'
    took = vm.boot_grub([node_of_b.mac], cluster.conductors[A].tftp_root,
                        until=lambda: vm.console(serial),
                        log_path=str(serial))
    vm.timeline(cluster, since, 'GRUB VM %s, node %s (http) owned by '
                'conductor B, Linux ran its init in %.1f s:'
                % (node_of_b.mac, node_of_b.uuid, took))
    booted = vm.console(serial)
    for key, value in booted.items():
        print('  serial: %s %s: %s' % (linux.MARK, key, value))
    api = api_requests(cluster, since, node_of_b.mac)
    fetched = b.first(kernel, since)
    assert api and api[0].status == 200
    assert fetched.status == 200 and api[0].when <= fetched.when + 0.01
    assert not cluster.http_servers[A].first(kernel)
    # B's kernel ran with the parameters of B's config (GRUB puts its
    # BOOT_IMAGE= first).
    params = vm.kernel_params(cluster.written_config(
        node_of_b.uuid, B, root='tftp_root').decode(), node_of_b.mac)
    assert 'ibc.conductor=%s' % B in params
    assert booted['cmdline'].split()[-len(params):] == params
    assert booted['firmware'] == 'UEFI'


def test_the_generic_404_body_is_harmless_to_grub(cluster, tmp_path):
    since = time.time()
    serial = tmp_path / 'serial.log'

    def fell_through():
        return serial.exists() and \
            b'No boot configuration from the API' in serial.read_bytes()

    vm.boot_grub([UNKNOWN_MAC], cluster.conductors[A].tftp_root,
                 until=fell_through, log_path=str(serial))
    # Asked once, then again [boot_config]root_config_retries times,
    # root_config_retry_delay apart (GRUB's sleep), then the stock part.
    asked = api_requests(cluster, since, UNKNOWN_MAC)
    gaps = [b.when - a.when for a, b in zip(asked, asked[1:])]
    print('\nGRUB VM %s (no node): %d asks, %s s apart' % (
        UNKNOWN_MAC, len(asked), ', '.join('%.2f' % g for g in gaps)))
    assert [r.status for r in asked] == [404] * (RETRIES + 1)
    assert all(DELAY - 0.1 <= gap <= DELAY + 2 for gap in gaps), gaps
    text = re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', serial.read_bytes())
    after = text.split(b'Asking http://', 1)[1]
    after = after.split(b'No boot configuration from the API', 1)[0]
    # GRUB ran the 404 body as config: one comment, so not one error.
    assert b'error' not in after.lower(), after


@pytest.fixture(scope='module')
def active_ramdisk_node(cluster):
    """An ``active`` node of conductor A that netboots (the ``ramdisk``
    deploy, ``pxe`` boot): Ironic keeps its per-MAC GRUB config, and
    restrict_boot_config refuses it."""
    client = cluster.client
    node = client.create_node_on(A, boot_interface='pxe',
                                 deploy_interface='ramdisk')
    images = client.deploy_images
    client.call('PATCH', '/v1/nodes/%s' % node.uuid, json=[
        {'op': 'add', 'path': '/automated_clean', 'value': False},
        {'op': 'add', 'path': '/instance_info/kernel',
         'value': 'file://%s/deploy_kernel' % images},
        {'op': 'add', 'path': '/instance_info/ramdisk',
         'value': 'file://%s/deploy_ramdisk' % images}])
    client.move([node], ('manage', 'manageable'), ('provide', 'available'),
                ('active', 'active'))
    return node


def test_a_refused_node_falls_back_to_ironics_per_mac_file(
        cluster, active_ramdisk_node, tmp_path):
    tftp_root = cluster.conductors[A].tftp_root
    mac = active_ramdisk_node.mac
    per_mac = os.path.join(tftp_root, '%s.conf' % mac)
    with open(per_mac) as f:
        config = f.read()
    assert 'boot_ramdisk' in config
    # Ironic's master config sources the per-MAC file by its absolute path,
    # which a real tftpd serves as is (tftpd-hpa with Ironic's map file);
    # QEMU's TFTP server joins it to its root: a link makes that the same.
    alias = tftp_root + tftp_root
    os.makedirs(os.path.dirname(alias), exist_ok=True)
    if not os.path.islink(alias):
        os.symlink(tftp_root, alias)
    since = time.time()
    serial = tmp_path / 'serial.log'

    def text():
        data = serial.read_bytes() if serial.exists() else b''
        return re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', data)

    took = vm.boot_grub([mac], tftp_root, log_path=str(serial),
                        until=lambda: b'boot_ramdisk' in text())
    refused = api_requests(cluster, since, mac)
    print('\nGRUB VM %s, node %s (pxe, active: refused) of conductor A, '
          'in %.1f s:' % (mac, active_ramdisk_node.uuid, took))
    print('  +%6.3fs API   GET /v1/boot/%s/grub.cfg -> %d'
          % (refused[0].when - since, mac, refused[0].status))
    print('  serial: %s' % text().split(b'No boot configuration', 1)[1]
          [:300].decode('ascii', 'replace'))
    assert [r.status for r in refused] == [404] * (RETRIES + 1)
    after = text().split(b'No boot configuration from the API', 1)[1]
    # Ironic's own per-MAC config, reached through its master config.
    assert b'boot_ramdisk' in after
