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

from tests import services
from tests.functional import cluster as cluster_mod
from tests.functional import vm

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
UNKNOWN_MAC = '52:54:00:99:88:77'
MASTER = """echo Asking the boot configuration API for $net_default_mac
configfile (http,%(api)s)/v1/boot/${net_default_mac}/grub.cfg
echo No boot configuration from the API
source {{ tftp_root }}/$net_default_mac.conf
"""


def mac(n):
    return '52:54:00:60:00:%02x' % n


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    services.require('mariadb')
    vm.require_grub()
    workdir = str(tmp_path_factory.mktemp('grub-vm'))
    template = os.path.join(workdir, 'master-grub.cfg.template')
    c = cluster_mod.IronicCluster(
        workdir, db='mysql', conductor_hosts=[A, B],
        http_host=vm.GUEST_HOST,
        extra_conf={'DEFAULT': {'enabled_boot_interfaces': 'ipxe,http'},
                    'pxe': {'initial_grub_template': template}})
    with open(template, 'w') as f:
        f.write(MASTER % {'api': '%s:%d' % (vm.GUEST_HOST, c.api_port)})
    try:
        c.start()
        c.serve_http()
        vm.build_grub(os.path.join(c.conductors[A]['tftp_root'],
                                   'grubx64.efi'))
        c.node_of_b = c.create_node_on(B, map(mac, range(20)),
                                       boot_interface='http')
        c.to_clean_wait([c.node_of_b[0]])
        yield c
    finally:
        c.stop()


def api_requests(c, since, mac_):
    return [(when, status) for when, _m, path, status in c.boot_requests()
            if when >= since - 0.001
            and path == '/v1/boot/%s/grub.cfg' % mac_]


def test_master_config_is_ironics_render(cluster):
    path = os.path.join(cluster.conductors[A]['tftp_root'], 'grub', 'grub.cfg')
    with open(path) as f:
        master = f.read()
    assert 'configfile (http,%s:%d)/v1/boot/${net_default_mac}/grub.cfg' % (
        vm.GUEST_HOST, cluster.api_port) in master
    assert 'source %s/$net_default_mac.conf' % \
        cluster.conductors[A]['tftp_root'] in master


def test_grub_gets_its_config_and_the_owning_conductors_kernel(cluster,
                                                               tmp_path):
    uuid, m = cluster.node_of_b
    b = cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % uuid
    since = time.time()
    serial = str(tmp_path / 'serial.log')
    took = vm.boot_grub([m], cluster.conductors[A]['tftp_root'],
                        until=lambda: b.first(kernel, since), log_path=serial)
    api = api_requests(cluster, since, m)
    fetched = b.first(kernel, since)
    print('\nGRUB VM %s, node %s (http) owned by conductor B, in %.1f s:'
          % (m, uuid, took))
    print('  +%6.3fs API   GET /v1/boot/%s/grub.cfg -> %d'
          % (api[0][0] - since, m, api[0][1]))
    print('  +%6.3fs B     GET %s -> %d' % (fetched[0] - since, kernel,
                                            fetched[1]))
    assert api and api[0][1] == 200
    assert fetched[1] == 200 and api[0][0] <= fetched[0] + 0.01
    assert not cluster.http_servers[A].first(kernel)


def test_the_generic_404_body_is_harmless_to_grub(cluster, tmp_path):
    since = time.time()
    serial = tmp_path / 'serial.log'

    def fell_through():
        return serial.exists() and \
            b'No boot configuration from the API' in serial.read_bytes()

    vm.boot_grub([UNKNOWN_MAC], cluster.conductors[A]['tftp_root'],
                 until=fell_through, log_path=str(serial))
    assert [s for _w, s in api_requests(cluster, since, UNKNOWN_MAC)] == [404]
    text = re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', serial.read_bytes())
    after = text.split(b'Asking the boot configuration API', 1)[1]
    after = after.split(b'No boot configuration from the API', 1)[0]
    # GRUB ran the 404 body as config: one comment, so not one error.
    assert b'error' not in after.lower(), after
