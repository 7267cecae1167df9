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

"""UEFI HTTP Boot: the firmware fetches its boot loader by URL.

A provisioning network of the test's own: a network namespace with a tap
device (``192.168.77.1/24``), Debian's dnsmasq answering on it as Bifrost
and Metal3 configure it, and the whole cluster inside (SQLite; conductor A
on 127.0.0.2, B on 127.0.0.3; their HTTP servers, the API with the filter
on the tap's address). OVMF under QEMU on the tap, PXE off, boots by its
own HTTP Boot:

* an ``http-ipxe`` node: DHCP gives OVMF ``snponly.efi`` on A's HTTP server
  (Ironic placed it there, ``[pxe]loader_file_paths``), iPXE asks DHCP again
  and gets A's root ``boot.ipxe``, Ironic's render of the template that
  links to the API, and the API gives it B's script;
* an ``http`` (GRUB) node: DHCP gives ``grubx64.efi`` on A's HTTP server;
  GRUB loads ``grub/grub.cfg`` from where it came from, the master config
  Ironic rendered into A's http_root, which asks the API, which gives it
  B's ``grub.cfg``: B's kernel.
"""

import os
import time

import pytest

from tests.harness import dnsmasq
from tests.harness import netns
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
TAP = 'ibc-tap0'
SERVER = '192.168.77.1'  # the tap's address: every server the VM reaches
POOL = ('192.168.77.100', '192.168.77.150')


@pytest.fixture(scope='module')
def grub_image(tmp_path_factory):
    vm.require_grub()
    return vm.build_grub(str(tmp_path_factory.mktemp('grub') /
                             'grubx64.efi'))


@pytest.fixture(scope='module')
def network():
    with netns.namespace() as name:
        # fd77::1: only for dnsmasq's router advertisements (iPXE's IPv6
        # configuration would wait for one).
        netns.add_tap(name, TAP, [SERVER + '/24', 'fd77::1/64'])
        yield name


@pytest.fixture(scope='module')
def cluster(vm_cluster, network, grub_image):
    loaders = 'snponly.efi:%s,grubx64.efi:%s' % (vm.IPXE_SNPONLY, grub_image)
    with vm_cluster('http-boot', serve_on=SERVER, db='sqlite',
                    api_host=SERVER, http_host=SERVER, boot_config_api=True,
                    grub_boot_config_api=True,
                    # An EFI binary: UEFI iPXE loads it, then the ramdisk.
                    deploy_kernel=vm.IPXE_EFI,
                    extra_conf={
                        'DEFAULT': {'enabled_boot_interfaces':
                                    'ipxe,http-ipxe,http'},
                        'pxe': {'loader_file_paths': loaders}}) as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """``{boot interface: node}``, each in ``clean wait``, owned by B."""
    nodes = {interface: cluster.client.create_node_on(
        B, boot_interface=interface) for interface in ('http-ipxe', 'http')}
    cluster.client.to_clean_wait(list(nodes.values()))
    return nodes


@pytest.fixture(scope='module')
def dhcp(cluster, nodes):
    a = cluster.conductors[A]
    url = 'http://%s:%d/' % (SERVER, a.http_port)
    proc = dnsmasq.start(cluster.workdir, TAP, POOL, {
        nodes['http-ipxe'].mac: url + 'snponly.efi',
        nodes['http'].mac: url + 'grubx64.efi'}, url + 'boot.ipxe')
    cluster.processes.append(proc)  # stopped with the cluster
    yield proc


def test_ironic_placed_the_loaders_and_rendered_the_roots(cluster):
    a = cluster.conductors[A]
    for name in ('snponly.efi', 'grubx64.efi'):
        assert os.path.getsize(os.path.join(a.http_root, name)) > 0
    with open(os.path.join(a.http_root, 'grub', 'grub.cfg')) as f:
        assert 'configfile (http,%s:%d)/v1/boot/${net_default_mac}/' \
               'grub.cfg' % (SERVER, cluster.api_port) in f.read()
    with open(os.path.join(a.http_root, 'boot.ipxe')) as f:
        assert 'chain http://%s:%d/v1/boot/' % (SERVER, cluster.api_port) \
            in f.read()


def http_boot(cluster, dhcp, node, loader, config, tmp_path):
    """Boot ``node``'s machine until B served its kernel, the API having
    served its ``config``; print the timeline."""
    a, b = cluster.http_servers[A], cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node.uuid
    since = time.time()
    took = vm.boot_http(node.mac, TAP, until=lambda: b.first(kernel, since),
                        log_path=str(tmp_path / 'serial.log'))
    leases = dnsmasq.exchanges(dhcp, node.mac, since)
    vm.timeline(cluster, since, 'UEFI HTTP Boot VM %s, node %s (%s) owned '
                'by conductor B, in %.1f s:'
                % (node.mac, node.uuid, loader, took), limit=20)
    for when, line in leases:
        # dnsmasq's own prefix (a timestamp to the second, its name) cut.
        print('  +%6.3fs DHCP  %s' % (when - since, line.split(']: ')[-1]))
    fetched = a.first('/' + loader, since)
    api = [r for r in cluster.boot_requests(since=since)
           if r.for_mac(node.mac, config)]
    assert any('DHCPACK' in line for _, line in leases)
    assert fetched and fetched.status == 200
    assert [r.status for r in api] == [200]
    assert fetched.when <= api[0].when <= b.first(kernel, since).when + 0.02
    assert not a.first(kernel)
    return api[0]


def test_http_ipxe_node_boots_through_the_api(cluster, dhcp, nodes,
                                              tmp_path):
    api = http_boot(cluster, dhcp, nodes['http-ipxe'], 'snponly.efi',
                    'boot.ipxe', tmp_path)
    assert cluster.http_servers[A].first('/boot.ipxe', api.when - 30)


def test_http_grub_node_boots_through_the_api(cluster, dhcp, nodes,
                                              tmp_path):
    api = http_boot(cluster, dhcp, nodes['http'], 'grubx64.efi', 'grub.cfg',
                    tmp_path)
    assert cluster.http_servers[A].first('/grub/grub.cfg', api.when - 30)
