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

"""The provider of ``example-ipxe``: the common case in a few lines."""

from ironic.common import pxe_utils
from oslo_config import cfg

from ironic_boot_config_mw.providers import base

CONF = cfg.CONF


class ExampleProvider(base.FileProvider):
    """Serves the iPXE script that the conductor wrote for the node."""

    files = {'boot.ipxe': 'text/plain'}
    # Only the node's UUID is needed: the shim may skip the task (and its
    # database reads) when the API tells it the boot interface.
    needs_task = False

    def root(self):
        return CONF.deploy.http_root

    def path(self, task, name):
        return pxe_utils.get_pxe_config_file_path(task.node.uuid,
                                                  ipxe_enabled=True)
