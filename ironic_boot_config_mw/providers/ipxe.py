"""The reference provider for Ironic's ``ipxe`` and ``http-ipxe`` interfaces.

``boot.ipxe`` is the per-node iPXE script that the owning conductor wrote at
``prepare_ramdisk``/``prepare_instance`` time; its kernel and ramdisk URLs
point at that conductor's own ``[deploy]http_url``.
"""

from ironic.common import pxe_utils
from oslo_config import cfg

from ironic_boot_config_mw.providers import base

CONF = cfg.CONF


class IPXEProvider(base.FileProvider):
    """Serves ``<[deploy]http_root>/<node uuid>/config`` as ``boot.ipxe``."""

    files = {'boot.ipxe': 'text/plain'}
    # The path is the node's UUID under http_root: no task needed.
    needs_task = False

    def root(self):
        return CONF.deploy.http_root

    def path(self, task, name):
        # The path Ironic itself writes to, for ipxe and http-ipxe alike.
        return pxe_utils.get_pxe_config_file_path(task.node.uuid,
                                                  ipxe_enabled=True)
