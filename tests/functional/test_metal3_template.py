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

"""Metal3's own per-node iPXE template, served through the API, on firmware.

Two conductors (A on 127.0.0.2, B on 127.0.0.3) render their nodes'
scripts from metal3-io/ironic-image's ``ipxe_config.template`` (the
fixture in ``fixtures/metal3``), with the lines its
``configure-ironic.sh`` inserts, the CA bundle injected: every script loads
``initrd ../ipa-cacert-bundle``, a URL relative to the script's own. Each
http_root holds ``ipa-cacert-bundle``, as runironic writes it. Real iPXE,
BIOS and UEFI, takes A's root script and B's script through
``/v1/boot``: the owner's kernel, ramdisk AND bundle come from B's HTTP
server, none of them from A or the API, and the script goes on to boot
without a retry (UEFI's kernel, iPXE itself, asks for the root script
again). Shown from the servers' own logs.
"""

import os
import shutil
import time

import pytest

from tests.harness import metal3
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = vm.CONDUCTORS
BUNDLE = '/ipa-cacert-bundle'
#: Metal3's retry loop fetches the kernel again a second after a failure.
QUIET = 5
#: Where ``../ipa-cacert-bundle`` leads from a script served by the API.
WRONG = '/v1/boot/ipa-cacert-bundle'


@pytest.fixture(scope='module')
def cluster(vm_cluster, tmp_path_factory):
    vm.require_qemu()
    template = metal3.ipxe_config_template(
        str(tmp_path_factory.mktemp('metal3') / 'ipxe_config.template'))
    with vm_cluster('metal3-template', boot_config_api=True,
                    # Real kernels, so that iPXE goes on to the initrd
                    # lines: ipxe.lkrn for BIOS; the UEFI node gets
                    # ipxe.efi (nodes).
                    deploy_kernel=vm.IPXE_KERNEL,
                    extra_conf={'pxe': {
                        'ipxe_config_template': template}}) as c:
        shutil.copyfile(vm.IPXE_EFI, os.path.join(c.images, 'ipxe.efi'))
        for conductor in c.conductors.values():
            # runironic writes a cpio of the CA there; iPXE does not look.
            with open(os.path.join(conductor.http_root,
                                   BUNDLE.lstrip('/')), 'wb') as f:
                f.write(b'CA bundle of conductor %s\n'
                        % conductor.host.encode())
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """``{'bios': node, 'uefi': node}``, both of B, in ``clean wait``."""
    client = cluster.client
    found = {firmware: client.create_node_on(B)
             for firmware in ('bios', 'uefi')}
    client.call('PATCH', '/v1/nodes/%s' % found['uefi'].uuid, json=[
        {'op': 'replace', 'path': '/driver_info/deploy_kernel',
         'value': 'file://%s/ipxe.efi' % cluster.images}])
    client.to_clean_wait(list(found.values()))
    return found


def test_served_script_is_the_owners_with_the_bundle_made_absolute(
        cluster, nodes):
    b = cluster.conductors[B]
    for node in nodes.values():
        written = b.written_config(node.uuid)
        # Metal3's render, as the owner wrote it: relative.
        assert b' ../ipa-cacert-bundle || goto retry\n' in written
        served = cluster.client.boot(node.mac)
        assert served.status_code == 200
        assert served.content == written.replace(
            b' ../ipa-cacert-bundle ',
            b' %s/ipa-cacert-bundle ' % b.http_url.encode())


@pytest.mark.parametrize('firmware', ['bios', 'uefi'])
def test_vm_fetches_the_bundle_from_the_owner(cluster, nodes, firmware):
    node = nodes[firmware]
    a, b = cluster.http_servers[A], cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node.uuid
    ramdisk = '/%s/deploy_ramdisk' % node.uuid
    since = time.time()

    def wrong():
        return [r for r in cluster.boot_requests(since=since)
                if r.path == WRONG]

    def booted():
        """The script's ``boot`` ran: UEFI's kernel (iPXE itself) asks A
        for the root script again after the bundle. ipxe.lkrn started with
        initrds stays off the network (seen here): BIOS shows that nothing
        failed by a quiet time instead, with no retry."""
        bundle = b.first(BUNDLE, since)
        if bundle and firmware == 'bios':
            return time.time() > bundle.when + QUIET and bundle
        return bundle and a.first('/boot.ipxe', bundle.when)

    # Until the kernel booted, or the failure: the bundle through the API.
    try:
        vm.boot([node.mac], '%s/boot.ipxe' % cluster.conductors[A].http_url,
                uefi=firmware == 'uefi', timeout=120,
                until=lambda: booted() or wrong())
    finally:
        vm.timeline(cluster, since, '%s iPXE VM %s, node %s owned by '
                    'conductor B, Metal3 template, in %.1f s:' % (
                        firmware.upper(), node.mac, node.uuid,
                        time.time() - since), limit=16)
    assert not wrong()
    # UEFI: up to the kernel's own first request.
    end = booted().when if firmware == 'uefi' else time.time()
    root = a.first('/boot.ipxe', since)
    api = [r for r in cluster.boot_requests(since=since)
           if r.for_mac(node.mac) and r.when < end]
    got = {path: [r for r in b.requests if r.path == path
                  and since <= r.when < end]
           for path in (kernel, ramdisk, BUNDLE)}
    assert root.status == 200 and root.when < end
    assert [r.status for r in api] == [200]
    # Each once, with 200, from B: no retry of the script's loop.
    assert [[r.status for r in got[path]] for path in got] == [[200]] * 3
    assert root.when <= api[0].when + 0.01 <= got[kernel][0].when + 0.02
    assert got[kernel][0].when <= got[ramdisk][0].when \
        <= got[BUNDLE][0].when
    # Nothing of it from A: not the node's files, not A's own bundle.
    assert not [r for r in a.requests if r.when >= since
                and r.path in (kernel, ramdisk, BUNDLE)]
