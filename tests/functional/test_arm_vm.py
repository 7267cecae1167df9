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

"""aarch64: AAVMF boots GRUB arm64-efi and iPXE arm64 through the API.

QEMU's aarch64 ``virt`` machine (emulated: TCG) with AAVMF, Debian's UEFI
for it, netboots from conductor A's tftp_root (QEMU's TFTP server), where
Ironic placed the arm64 loaders at start (``[pxe]loader_file_paths``): a
GRUB the test builds from Debian's ``grub-efi-arm64-bin`` and Debian 13's
``ipxe-arm64.efi``. Nodes are ``aarch64`` (``properties/cpu_arch``) with no
deploy image of their own: Ironic gives them the arm64 kernel and
initramfs of ``[conductor]deploy_kernel_by_arch`` / ``deploy_ramdisk_by_
arch``. GRUB reads Ironic's master config, which asks the API; iPXE runs
Ironic's root ``boot.ipxe`` from A's image server, which asks the API.
Either way conductor B's config loads B's arm64 kernel, which runs with
B's parameters (``console=ttyAMA0``, the PL011 of ``virt``).

With static DHCP the operator's DHCP server picks the loader by the
client's architecture (dnsmasq: ``dhcp-match=set:aarch64,option:
client-arch,11``); Ironic's ``[pxe]pxe_bootfile_name_by_arch`` and
``ipxe_bootfile_name_by_arch`` say the same to a DHCP provider it drives.
Here QEMU's DHCP hands out the test's choice of loader, and an
``autoexec.ipxe`` next to it (read by iPXE before anything else) does what
dnsmasq's iPXE user-class rule does: chain the root ``boot.ipxe``.
"""

import os
import time

import pytest

from tests.harness import linux
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
GRUB, IPXE = 'grubaa64.efi', 'ipxe-arm64.efi'
#: Debian 13's ipxe (architecture ``all``) ships ipxe-arm64.efi; 12's not.
IPXE_ARM64 = ('ipxe', '/usr/lib/ipxe/ipxe-arm64.efi', 'trixie')


@pytest.fixture(scope='module')
def cluster(vm_cluster, tmp_path_factory):
    vm.require_arm()
    own = tmp_path_factory.mktemp('arm64')
    grub = vm.build_grub(str(own / GRUB), arch='arm64')
    ipxe = linux.package_files(IPXE_ARM64[0], 'amd64', IPXE_ARM64[1],
                               suite=IPXE_ARM64[2])[0]

    def by_arch(cluster):
        # The cluster's images are the arm64 Linux (linux_arch).
        cluster.spec.extra_conf['conductor'] = {
            'deploy_%s_by_arch' % image: 'aarch64:file://%s/deploy_%s'
            % (cluster.images, image) for image in ('kernel', 'ramdisk')}

    with vm_cluster(
            'arm-vm', boot_config_api=True, grub_boot_config_api=True,
            linux='ttyAMA0', linux_arch='arm64', before_start=by_arch,
            extra_conf={
                'DEFAULT': {'enabled_boot_interfaces': 'ipxe,pxe,http'},
                'pxe': {'loader_file_paths': '%s:%s,%s:%s'
                        % (GRUB, grub, IPXE, ipxe),
                        'pxe_bootfile_name_by_arch': 'aarch64:%s' % GRUB,
                        'ipxe_bootfile_name_by_arch': 'aarch64:%s' % IPXE},
                'boot_config': {'root_config_retries': '1',
                                'root_config_retry_delay': '2'}}) as c:
        yield c


def arm_node(cluster, boot_interface):
    """An ``aarch64`` UEFI node of conductor B in ``clean wait``, with no
    deploy image of its own (Ironic's ``*_by_arch`` choose)."""
    client = cluster.client
    node = client.create_node_on(B, boot_interface=boot_interface)
    client.call('PATCH', '/v1/nodes/%s' % node.uuid, json=[
        {'op': 'add', 'path': '/properties/cpu_arch', 'value': 'aarch64'},
        {'op': 'add', 'path': '/properties/capabilities',
         'value': 'boot_mode:uefi'},
        {'op': 'remove', 'path': '/driver_info/deploy_kernel'},
        {'op': 'remove', 'path': '/driver_info/deploy_ramdisk'}])
    client.to_clean_wait([node])
    return node


def boots_from_b(cluster, node, boot_interface, tftp_dir, bootfile, name,
                 serial):
    """The VM netboots ``bootfile``; the API serves B's config ``name``;
    B's arm64 kernel runs with the parameters of B's config."""
    since = time.time()
    took = vm.boot_arm([node.mac], tftp_dir, bootfile, log_path=str(serial),
                       until=lambda: vm.console(serial))
    vm.timeline(cluster, since, 'aarch64 VM %s (AAVMF, %s), node %s (%s) of '
                'conductor B: Linux ran its init in %.1f s:' % (
                    node.mac, bootfile, node.uuid, boot_interface, took))
    booted = vm.console(serial)
    for key, value in booted.items():
        print('  serial: %s %s: %s' % (linux.MARK, key, value))
    asked = [r.status for r in cluster.boot_requests(since=since)
             if r.for_mac(node.mac, name)]
    assert asked == [200]
    for image in ('deploy_kernel', 'deploy_ramdisk'):
        fetched = cluster.http_servers[B].first(
            '/%s/%s' % (node.uuid, image), since)
        assert fetched and fetched.status == 200, image
    root = 'tftp_root' if name == 'grub.cfg' else 'http_root'
    params = vm.kernel_params(
        cluster.written_config(node.uuid, B, root=root).decode(), node.mac)
    assert 'ibc.conductor=%s' % B in params
    assert booted['cmdline'].split()[-len(params):] == params
    assert (booted['arch'], booted['firmware']) == ('aarch64', 'UEFI')
    driver_info = cluster.client.node(node.uuid)['driver_info']
    assert 'deploy_kernel' not in driver_info   # Ironic's by-arch kernel


def test_ironic_placed_the_arm64_loaders(cluster):
    for c in cluster.conductors.values():
        for name in (GRUB, IPXE):
            assert os.path.getsize(os.path.join(c.tftp_root, name)) > 0


def test_grub_arm64_boots_the_owners_kernel(cluster, tmp_path):
    node = arm_node(cluster, 'http')
    boots_from_b(cluster, node, 'http', cluster.conductors[A].tftp_root,
                 GRUB, 'grub.cfg', tmp_path / 'serial.log')


def test_ipxe_arm64_boots_the_owners_kernel(cluster, tmp_path):
    node = arm_node(cluster, 'ipxe')
    a = cluster.conductors[A]
    # The TFTP side of the DHCP server's iPXE rule: Ironic's loader, and
    # what iPXE runs first.
    tftp_dir = tmp_path / 'tftp'
    tftp_dir.mkdir()
    os.symlink(os.path.join(a.tftp_root, IPXE), tftp_dir / IPXE)
    (tftp_dir / 'autoexec.ipxe').write_text(
        '#!ipxe\ndhcp\nchain %s/boot.ipxe\n' % a.http_url)
    boots_from_b(cluster, node, 'ipxe', str(tftp_dir), IPXE, 'boot.ipxe',
                 tmp_path / 'serial.log')
