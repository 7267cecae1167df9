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

"""Nothing of ours puts Ironic's stock root configs back.

The first time a process builds a node's driver, Ironic instantiates every
enabled boot interface, and ``iPXEBoot()`` / ``PXEBoot()`` render the root
``boot.ipxe`` and the master ``grub.cfg`` from THAT process's templates.
Two shipped shapes have a process of ours beside a conductor that links
its root configs itself, with templates of its own that do not link:

* Bifrost's with the boot API process: the all-in-one ``ironic``
  (``rpc_transport = none``) links in-process; ``ironic-boot-config-api``
  beside it on the same configuration runs the providers itself;
* Metal3's HA replica: the all-in-one links in-process, and the shim
  beside it is told not to link (``OS_PXE__IPXE_USE_BOOT_CONFIG_API=
  false``, as the recipe says).

GRUB (a provider that takes a task), iPXE (one that does not) and a boot
interface without a provider are asked through each; after that, every
root config on the host still links.
"""

import os

import pytest
import requests

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'
#: The link's target; nothing here boots, nothing connects to it.
API_URL = 'http://127.0.0.1:6385'
LINKED = {'pxe': {'ipxe_use_boot_config_api': 'true',
                  'ipxe_config_api_root_url': API_URL},
          'boot_config': {'grub_use_boot_config_api': 'true'},
          'DEFAULT': {'enabled_boot_interfaces': 'fake,ipxe,pxe'}}


def root_configs(c):
    """Each root config on the conductor host ``c``: ``{path: text}``."""
    paths = [os.path.join(c.http_root, 'boot.ipxe'),
             os.path.join(c.http_root, 'grub', 'grub.cfg'),
             os.path.join(c.tftp_root, 'grub', 'grub.cfg')]
    texts = {}
    for path in paths:
        with open(path) as f:
            texts[path] = f.read()
    return texts


def assert_linked(c):
    for path, text in root_configs(c).items():
        assert '/v1/boot/' in text, '%s does not link:\n%s' % (path, text)


def ask_each(cluster, boot):
    """GRUB, iPXE and a providerless node through ``boot(mac, name)``."""
    nodes = {interface: cluster.client.create_node(boot_interface=interface)
             for interface in ('pxe', 'ipxe', 'fake')}
    cluster.client.to_clean_wait(list(nodes.values()))
    assert_linked(cluster.conductors[HOST])
    answers = {
        'grub': boot(nodes['pxe'].mac, 'grub.cfg').status_code,
        'ipxe': boot(nodes['ipxe'].mac, 'boot.ipxe').status_code,
        'providerless': boot(nodes['fake'].mac, 'boot.ipxe').status_code,
    }
    print('answers: %s' % answers)
    assert answers == {'grub': 200, 'ipxe': 200, 'providerless': 404}


def test_bifrost_boot_api_process(launch):
    with launch('linked-bifrost', db='mysql', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='none',
                extra_conf=LINKED) as cluster:
        url, proc = cluster.start_boot_api('boot-api', conductor=HOST)

        def boot(mac, name):
            return requests.get('%s/v1/boot/%s/%s' % (url, mac, name),
                                timeout=30)
        ask_each(cluster, boot)
        assert_linked(cluster.conductors[HOST])
        assert 'native get_boot_config: none' in proc.log()


def test_metal3_shim_told_not_to_link(launch):
    with launch('linked-metal3', db='mysql', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='json-rpc',
                extra_conf=LINKED,
                shim_environment={
                    'OS_PXE__IPXE_USE_BOOT_CONFIG_API': 'false',
                    'OS_BOOT_CONFIG__GRUB_USE_BOOT_CONFIG_API': 'false'},
                ) as cluster:
        ask_each(cluster, cluster.client.boot)
        assert_linked(cluster.conductors[HOST])
        # The shim answered (it logs its misses), not the all-in-one.
        assert 'Boot config boot.ipxe for node' in \
            cluster.conductors[HOST].shim.log()
