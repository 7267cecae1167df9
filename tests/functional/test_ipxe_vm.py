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

"""Real iPXE firmware boots through the Boot configuration API.

Real ``ironic-api`` (with the filter), two conductors with their own
http_root and HTTP server (A on 127.0.0.2, B on 127.0.0.3), a shim beside
each, MariaDB, ``[pxe]ipxe_use_boot_config_api = True``. QEMU's DHCP hands
out conductor A's root ``boot.ipxe``, which Ironic itself rendered from the
template the shim wrote. Everything is shown from the servers' own request
logs: the HTTP servers' and the filter's log line per request.
"""

import os
import time

import pytest

from tests.harness import linux
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
UNKNOWN_MAC = '52:54:00:ff:99:99'


@pytest.fixture(scope='module')
def cluster(vm_cluster):
    vm.require_qemu()
    with vm_cluster('ipxe-vm', boot_config_api=True,
                    # Debian's kernel and an initramfs that reports how it
                    # booted on the serial console.
                    linux='ttyS0',
                    extra_conf={'pxe': {'ipxe_fallback_script':
                                        'fallback.ipxe'}}) as c:
        with open(os.path.join(c.conductors[A].http_root,
                               'fallback.ipxe'), 'w') as f:
            f.write('#!ipxe\necho Ironic fallback script reached\nreboot\n')
        yield c


@pytest.fixture(scope='module')
def node_of_b(cluster):
    """A node in ``clean wait`` that conductor B owns."""
    return cluster.client.waiting_node_on(B)


@pytest.fixture(scope='module')
def active_node(cluster):
    """An active node (fake deploy): restrict_boot_config refuses it."""
    node = cluster.client.create_node(deploy_interface='fake')
    cluster.client.move([node], ('manage', 'manageable'),
                        ('provide', 'available'), ('active', 'active'))
    return node


def root_url(c):
    return '%s/boot.ipxe' % c.conductors[A].http_url


def api_request(c, mac, status, since):
    """When the API logged ``mac``'s request with ``status``, or None."""
    for request in c.boot_requests(since=since):
        if request.status == status and request.for_mac(mac):
            return request.when
    return None


def test_root_config_is_ironics_render_of_the_template(cluster):
    for c in cluster.conductors.values():
        with open(os.path.join(c.http_root, 'boot.ipxe')) as f:
            script = f.read()
        assert 'chain http://%s:%d/v1/boot/${net${boot_config_netid}/mac}' \
               '/boot.ipxe' % (vm.GUEST_HOST, cluster.api_port) in script
        # Ironic rendered it: no Jinja left, stock fallback present.
        assert '{{' not in script and '{%' not in script
        assert 'chain pxelinux.cfg/${net${netid}/mac:hexhyp}' in script
        assert 'chain fallback.ipxe | goto boot_failed' in script


def boots_from_b(cluster, node, macs, since, serial, firmware='BIOS'):
    """Root script from A, then the API, then B's kernel and ramdisk, and
    that kernel runs with the parameters of B's script."""
    a, b = cluster.http_servers[A], cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node.uuid
    ramdisk = '/%s/deploy_ramdisk' % node.uuid
    elapsed = vm.boot(macs, root_url(cluster), log_path=str(serial),
                      uefi=firmware == 'UEFI',
                      until=lambda: vm.console(serial))
    vm.timeline(cluster, since, '%s iPXE VM %s, node %s owned by conductor '
                'B, Linux ran its init in %.1f s:'
                % (firmware, ', '.join(macs), node.uuid, elapsed))
    booted = vm.console(serial)
    for key, value in booted.items():
        print('  serial: %s %s: %s' % (linux.MARK, key, value))
    # iPXE's ${mac} (BOOTIF=) is the NIC it booted from, the first: the one
    # that reached the network, as with Ironic's own per-MAC scripts.
    params = vm.kernel_params(
        cluster.written_config(node.uuid, B).decode(), macs[0])
    assert 'ibc.conductor=%s' % B in params
    assert booted['cmdline'].split()[-len(params):] == params
    assert booted['firmware'] == firmware
    root = a.first('/boot.ipxe', since)
    api = api_request(cluster, node.mac, 200, since)
    got_kernel, got_ramdisk = b.first(kernel, since), b.first(ramdisk, since)
    assert root and root.status == 200
    assert api is not None
    assert got_kernel.status == 200 and got_ramdisk.status == 200
    assert root.when <= api + 0.01 <= got_kernel.when + 0.02 \
        <= got_ramdisk.when + 1
    # Nothing of this node was fetched from conductor A.
    assert not a.first(kernel) and not a.first(ramdisk)
    return elapsed


@pytest.mark.parametrize('firmware', ['BIOS', 'UEFI'])
def test_vm_boots_from_its_owning_conductor(cluster, node_of_b, tmp_path,
                                            firmware):
    boots_from_b(cluster, node_of_b, [node_of_b.mac], time.time(),
                 tmp_path / 'serial.log', firmware)


def test_second_nic_boots_when_first_is_unknown(cluster, node_of_b,
                                                tmp_path):
    since = time.time()
    boots_from_b(cluster, node_of_b, [UNKNOWN_MAC, node_of_b.mac], since,
                 tmp_path / 'serial.log')
    # The first NIC asked first and got the generic 404.
    refused = api_request(cluster, UNKNOWN_MAC, 404, since)
    assert refused is not None
    assert refused <= api_request(cluster, node_of_b.mac, 200, since)


def test_active_node_falls_through_to_ironics_fallback(cluster, active_node):
    since = time.time()
    a = cluster.http_servers[A]
    mac = active_node.mac
    elapsed = vm.boot([mac], root_url(cluster),
                      until=lambda: a.first('/fallback.ipxe', since))
    vm.timeline(cluster, since, 'VM %s, node active (restricted), '
                'fallback in %.1f s:' % (mac, elapsed))
    refused = api_request(cluster, mac, 404, since)
    per_mac = a.first('/pxelinux.cfg/%s' % mac.replace(':', '-'), since)
    fallback = a.first('/fallback.ipxe', since)
    assert refused is not None
    assert per_mac and per_mac.status == 404
    assert fallback.status == 200
    assert refused <= per_mac.when + 0.02 <= fallback.when + 0.02


def test_root_config_survives_conductor_restart_and_prepare(
        cluster, node_of_b, tmp_path):
    path = os.path.join(cluster.conductors[A].http_root, 'boot.ipxe')
    os.unlink(path)
    cluster.restart_conductor(A)
    # Ironic re-rendered it at start (iPXE interface loaded): the template
    # still links to the API.
    with open(path) as f:
        assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in f.read()
    # ... and again at a prepare_ramdisk (cleaning a new node on A).
    os.unlink(path)
    cluster.client.waiting_node_on(A)
    with open(path) as f:
        assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in f.read()
    # A machine still boots through it.
    boots_from_b(cluster, node_of_b, [node_of_b.mac], time.time(),
                 tmp_path / 'serial.log')
