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

"""UEFI Secure Boot, end to end: Debian's signed shim, GRUB and kernel.

OVMF enforces Secure Boot with Microsoft's keys enrolled (Debian's ``.ms``
variables). QEMU's TFTP serves conductor A's tftp_root, where Ironic itself
placed the signed loaders at start (``[pxe]loader_file_paths``:
``bootx64.efi`` is shim, ``grubx64.efi`` the signed network GRUB), as
Ironic's docs configure UEFI PXE with GRUB. Shim loads GRUB; GRUB reads
``grub/grub.cfg`` (its prefix is ``/grub``): the master config Ironic
rendered with ``grub_use_boot_config_api``, which asks the API; the owning
conductor B's config loads Debian's signed kernel, which shim verifies:
from B's image server (``http`` boot interface) or B's TFTP server
(``pxe``: a dnsmasq of the test on B's address, reached through QEMU's NAT).

Under Secure Boot GRUB loads no module, so it must have ``http`` built in:
Debian 13's signed GRUB has it (the chain here); Debian 12's has not: the
master config says so, asks nothing, and Ironic's stock part follows.
"""

import os
import re
import time

import pytest

from tests.harness import dnsmasq
from tests.harness import linux
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
SHIM = ('shim-signed', '/usr/lib/shim/shimx64.efi.signed')
GRUB = ('grub-efi-amd64-signed',
        '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed')
#: The suite whose signed GRUB has http; Debian 12's (this host's) has not.
SUITE = 'trixie'
#: What the kernel logs when firmware booted it with Secure Boot on.
SECURE_BOOT_ON = 'secureboot: Secure boot enabled'


def signed(loader):
    """The file of a ``(package, path)`` of :data:`SUITE`."""
    return linux.package_files(loader[0], 'amd64', loader[1], suite=SUITE)[0]


@pytest.fixture(scope='module')
def cluster(vm_cluster):
    vm.require_grub()
    loaders = {'bootx64.efi': signed(SHIM), 'grubx64.efi': signed(GRUB)}
    with vm_cluster(
            'secure-boot', grub_boot_config_api=True, linux='ttyS0',
            extra_conf={
                'DEFAULT': {'enabled_boot_interfaces': 'ipxe,pxe,http'},
                'pxe': {'uefi_pxe_bootfile_name': 'bootx64.efi',
                        'loader_file_paths': ','.join(
                            '%s:%s' % item for item in loaders.items())},
                'boot_config': {'root_config_retries': '1',
                                'root_config_retry_delay': '2'}}) as c:
        yield c


@pytest.fixture(scope='module')
def tftp_of_b(cluster):
    """Conductor B's TFTP server (its ``[pxe]tftp_server``), which the
    VM reaches through QEMU's NAT: files of B's ``pxe`` nodes."""
    server = dnsmasq.start_tftp(cluster.workdir, B, cluster.conductors[B]
                                .tftp_root)
    yield server
    server.stop()


def secure_boot_node(cluster, boot_interface='http', kernel=None):
    """A node of conductor B asking for Secure Boot, in ``clean wait``;
    ``kernel``: its deploy kernel, in the cluster's images."""
    client = cluster.client
    node = client.create_node_on(B, boot_interface=boot_interface)
    fields = {'/properties/capabilities': 'boot_mode:uefi,secure_boot:true'}
    if kernel:
        fields['/driver_info/deploy_kernel'] = 'file://%s' % kernel
    client.update_node(node.uuid, fields)
    client.to_clean_wait([node])
    return node


def serial_text(path):
    data = path.read_bytes() if path.exists() else b''
    return re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', data).decode(
        'utf-8', 'replace')


def test_ironic_placed_the_signed_loaders(cluster):
    tftp_root = cluster.conductors[A].tftp_root
    for name, (package, path) in (('bootx64.efi', SHIM),
                                  ('grubx64.efi', GRUB)):
        with open(os.path.join(tftp_root, name), 'rb') as placed, \
                open(signed((package, path)), 'rb') as loader:
            assert placed.read() == loader.read(), name


@pytest.mark.parametrize('boot_interface', ['http', 'pxe'])
def test_the_signed_chain_boots_the_owners_kernel(cluster, tftp_of_b,
                                                  boot_interface, tmp_path):
    node = secure_boot_node(cluster, boot_interface)
    serial = tmp_path / 'serial.log'
    since = time.time()
    took = vm.boot_grub([node.mac], cluster.conductors[A].tftp_root,
                        bootfile='bootx64.efi', secure_boot=True,
                        log_path=str(serial), until=lambda: vm.console(serial))
    vm.timeline(cluster, since, 'Secure Boot VM %s, node %s (%s) of '
                'conductor B: shim, GRUB, Linux ran its init in %.1f s:'
                % (node.mac, node.uuid, boot_interface, took))
    sent = dnsmasq.sent(tftp_of_b, since)
    for when, path in sent:
        print('  +%6.3fs B-TFTP sent %s' % (when - since, path))
    text = serial_text(serial)
    for line in text.splitlines():
        if 'Secure Boot' in line or 'Secure boot' in line or \
                line.startswith(linux.MARK):
            print('  serial: %s' % line.strip())
    booted = vm.console(serial)
    asked = [r for r in cluster.boot_requests(since=since)
             if r.for_mac(node.mac, 'grub.cfg')]
    assert [r.status for r in asked] == [200]
    # The owner's kernel, from its image server or its TFTP server.
    kernel = '/%s/deploy_kernel' % node.uuid
    if boot_interface == 'http':
        fetched = cluster.http_servers[B].first(kernel, since)
        assert fetched and fetched.status == 200
    else:
        assert [p for _, p in sent if p.endswith(kernel)], sent
    params = vm.kernel_params(cluster.written_config(
        node.uuid, B, root='tftp_root').decode(), node.mac)
    assert 'ibc.conductor=%s' % B in params
    assert booted['cmdline'].split()[-len(params):] == params
    # Firmware enforced Secure Boot, and the kernel knows it.
    assert SECURE_BOOT_ON in text
    assert booted['lockdown'] == 'none [integrity] confidentiality'


def test_a_kernel_that_fails_verification_is_refused(cluster, tmp_path):
    with open(os.path.join(cluster.images, 'deploy_kernel'), 'rb') as f:
        kernel = bytearray(f.read())
    kernel[len(kernel) // 2] ^= 0xFF  # one byte: its signature fails
    tampered = os.path.join(cluster.images, 'tampered_kernel')
    with open(tampered, 'wb') as f:
        f.write(kernel)
    node = secure_boot_node(cluster, kernel=tampered)
    serial = tmp_path / 'serial.log'
    since = time.time()
    refused = 'bad shim signature'
    took = vm.boot_grub([node.mac], cluster.conductors[A].tftp_root,
                        bootfile='bootx64.efi', secure_boot=True,
                        log_path=str(serial),
                        until=lambda: refused in serial_text(serial))
    vm.timeline(cluster, since, 'Secure Boot VM %s, node %s with a tampered '
                'kernel, refused in %.1f s:' % (node.mac, node.uuid, took))
    text = serial_text(serial)
    print('  serial: %s' % text[text.index('error: %s' % refused):]
          .splitlines()[0])
    fetched = cluster.http_servers[B].first('/%s/deploy_kernel' % node.uuid,
                                            since)
    assert fetched and fetched.status == 200
    time.sleep(3)  # what would follow a boot
    assert linux.MARK not in serial_text(serial)


@pytest.fixture(scope='module')
def node_of_a(cluster):
    """A ``pxe`` node of conductor A asking for Secure Boot, waiting."""
    client = cluster.client
    node = client.create_node_on(A, boot_interface='pxe')
    client.update_node(node.uuid, {
        '/properties/capabilities': 'boot_mode:uefi,secure_boot:true'})
    client.to_clean_wait([node])
    return node


def test_a_grub_without_http_goes_on_with_ironics_stock_config(
        cluster, node_of_a, tmp_path):
    """Debian 12's signed GRUB (and shim): no http built in, and lockdown
    loads no module. The master config says so, asks nothing, and Ironic's
    stock part boots a node of the conductor that serves the TFTP root."""
    tftp_root = cluster.conductors[A].tftp_root
    tftp_dir = tmp_path / 'tftp'
    tftp_dir.mkdir()
    for name in os.listdir(tftp_root):
        if name not in ('bootx64.efi', 'grubx64.efi'):
            os.symlink(os.path.join(tftp_root, name), tftp_dir / name)
    for name, (package, path) in (('bootx64.efi', SHIM),
                                  ('grubx64.efi', GRUB)):
        os.symlink(linux.package_files(package, 'amd64', path)[0],
                   tftp_dir / name)
    # Ironic's master config sources the per-MAC file by its absolute path,
    # which a real tftpd serves as is; QEMU's joins it to its root.
    alias = str(tftp_dir) + tftp_root
    os.makedirs(os.path.dirname(alias))
    os.symlink(tftp_root, alias)
    serial = tmp_path / 'serial.log'
    since = time.time()
    took = vm.boot_grub([node_of_a.mac], str(tftp_dir),
                        bootfile='bootx64.efi', secure_boot=True,
                        log_path=str(serial), until=lambda: vm.console(serial))
    text = serial_text(serial)
    print('\nSecure Boot VM %s with Debian 12\'s signed GRUB, node %s (pxe) '
          'of conductor A: Linux ran its init in %.1f s' %
          (node_of_a.mac, node_of_a.uuid, took))
    said = [line.strip() for line in
            text[text.index('This GRUB'):].splitlines() if line.strip()][:2]
    for line in said + [line for line in text.splitlines()
                        if SECURE_BOOT_ON in line or
                        line.startswith(linux.MARK + ' cmdline')]:
        print('  serial: %s' % line.strip())
    assert said == ['This GRUB has no http module: it cannot ask http://%s:%d'
                    % (vm.GUEST_HOST, cluster.api_port),
                    'No boot configuration from the API']
    assert not [r for r in cluster.boot_requests(since=since)
                if r.for_mac(node_of_a.mac, 'grub.cfg')]
    assert SECURE_BOOT_ON in text
    assert 'ibc.conductor=%s' % A in vm.console(serial)['cmdline'].split()
