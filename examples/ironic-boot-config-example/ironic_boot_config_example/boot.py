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

"""Two out-of-tree boot interfaces, both iPXE underneath.

``example-ipxe`` knows nothing of /v1/boot: a provider serves it.
``example-native`` implements the spec's driver API itself.
"""

from ironic.common import exception
from ironic.common import pxe_utils
from ironic.drivers.modules import ipxe
from oslo_config import cfg

from ironic_boot_config_mw.providers import base

CONF = cfg.CONF


class ExampleBoot(ipxe.iPXEBoot):
    """An iPXE boot interface of a third-party driver."""


class ExampleNativeBoot(ipxe.iPXEBoot):
    """An iPXE boot interface that serves its own boot configuration."""

    def get_boot_config(self, task, name):
        """Request a boot configuration file.

        :param task: a TaskManager instance with a shared lock.
        :param name: configuration name.
        :raises: UnsupportedDriverExtension for names it does not serve.
        """
        if name != 'boot.ipxe':
            raise exception.UnsupportedDriverExtension(
                driver=task.node.driver, extension='get_boot_config')
        script = base.read_file_under(
            CONF.deploy.http_root,
            pxe_utils.get_pxe_config_file_path(task.node.uuid,
                                               ipxe_enabled=True),
            max_size=64 * 1024)
        return base.BootConfig(
            b'#!ipxe\n# served by example-native itself\n' + script,
            'text/plain')
