"""Real UEFI GRUB fetches its per-node config through the API.

OVMF netboots GRUB from conductor A's tftp_root (QEMU's TFTP server). GRUB
loads ``grub/grub.cfg``, which Ironic rendered from ``[pxe]
initial_grub_template``: it asks the API for
``/v1/boot/${net_default_mac}/grub.cfg`` and, on the generic 404, goes on
with Ironic's stock ``source``. The node uses the ``http`` boot interface and
belongs to conductor B: the served config sends GRUB to B's HTTP server.
"""

import os
import re
import time

import pytest

from tests.harness import net
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
UNKNOWN_MAC = '52:54:00:ff:88:77'
MASTER = """echo Asking the boot configuration API for $net_default_mac
configfile (http,%(api)s)/v1/boot/${net_default_mac}/grub.cfg
echo No boot configuration from the API
source {{ tftp_root }}/$net_default_mac.conf
"""


@pytest.fixture(scope='module')
def cluster(launch, tmp_path_factory):
    vm.require_grub()
    # The template names the API's port: chosen before the cluster starts.
    api_port = net.free_port()
    template = tmp_path_factory.mktemp('grub') / 'master-grub.cfg.template'
    template.write_text(MASTER % {'api': '%s:%d' % (vm.GUEST_HOST,
                                                    api_port)})
    with launch('grub-vm', db='mysql', conductor_hosts=[A, B],
                http_host=vm.GUEST_HOST, api_port=api_port,
                extra_conf={'DEFAULT': {'enabled_boot_interfaces':
                                        'ipxe,http'},
                            'pxe': {'initial_grub_template':
                                    str(template)}}) as c:
        c.serve_http()
        vm.build_grub(os.path.join(c.conductors[A].tftp_root,
                                   'grubx64.efi'))
        yield c


@pytest.fixture(scope='module')
def node_of_b(cluster):
    """An ``http`` (GRUB) node in ``clean wait`` that conductor B owns."""
    node = cluster.client.create_node_on(B, boot_interface='http')
    cluster.client.to_clean_wait([node])
    return node


def api_requests(c, since, mac):
    return [r for r in c.boot_requests(since=since)
            if r.for_mac(mac, 'grub.cfg')]


def test_master_config_is_ironics_render(cluster):
    tftp_root = cluster.conductors[A].tftp_root
    with open(os.path.join(tftp_root, 'grub', 'grub.cfg')) as f:
        master = f.read()
    assert 'configfile (http,%s:%d)/v1/boot/${net_default_mac}/grub.cfg' % (
        vm.GUEST_HOST, cluster.api_port) in master
    assert 'source %s/$net_default_mac.conf' % tftp_root in master


def test_grub_gets_its_config_and_the_owning_conductors_kernel(
        cluster, node_of_b, tmp_path):
    b = cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node_of_b.uuid
    since = time.time()
    took = vm.boot_grub([node_of_b.mac], cluster.conductors[A].tftp_root,
                        until=lambda: b.first(kernel, since),
                        log_path=str(tmp_path / 'serial.log'))
    api = api_requests(cluster, since, node_of_b.mac)
    fetched = b.first(kernel, since)
    print('\nGRUB VM %s, node %s (http) owned by conductor B, in %.1f s:'
          % (node_of_b.mac, node_of_b.uuid, took))
    print('  +%6.3fs API   GET /v1/boot/%s/grub.cfg -> %d'
          % (api[0].when - since, node_of_b.mac, api[0].status))
    print('  +%6.3fs B     GET %s -> %d' % (fetched.when - since, kernel,
                                            fetched.status))
    assert api and api[0].status == 200
    assert fetched.status == 200 and api[0].when <= fetched.when + 0.01
    assert not cluster.http_servers[A].first(kernel)


def test_the_generic_404_body_is_harmless_to_grub(cluster, tmp_path):
    since = time.time()
    serial = tmp_path / 'serial.log'

    def fell_through():
        return serial.exists() and \
            b'No boot configuration from the API' in serial.read_bytes()

    vm.boot_grub([UNKNOWN_MAC], cluster.conductors[A].tftp_root,
                 until=fell_through, log_path=str(serial))
    assert [r.status for r in api_requests(cluster, since, UNKNOWN_MAC)] \
        == [404]
    text = re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', serial.read_bytes())
    after = text.split(b'Asking the boot configuration API', 1)[1]
    after = after.split(b'No boot configuration from the API', 1)[0]
    # GRUB ran the 404 body as config: one comment, so not one error.
    assert b'error' not in after.lower(), after
