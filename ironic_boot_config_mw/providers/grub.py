"""GRUB provider for Ironic's ``pxe`` and ``http`` boot interfaces (UEFI).

``grub.cfg`` is the per-node GRUB config that the owning conductor wrote at
``<[pxe]tftp_root>/<node uuid>/config``. Its kernel and ramdisk paths are
relative to the conductor's TFTP root (``<uuid>/deploy_kernel`` for ``pxe``,
``../<http_root>/<uuid>/deploy_kernel`` for ``http``), which GRUB resolves
against the server it was loaded from. Through the API that is any
conductor's server, so each path is made absolute to the OWNING conductor:
``(http,<[deploy]http_url host>)/<path under http_root>`` for files under
``http_root``, ``(tftp,<[pxe]tftp_server>)/<path under tftp_root>`` for files
under ``tftp_root``. Nothing else in the file changes.

A static DHCP setup's GRUB chains to it with::

    configfile (http,<api host>:6385)/v1/boot/${net_default_mac}/grub.cfg
"""

import os
import re
import urllib.parse

from ironic.common import boot_modes
from ironic.common import pxe_utils
from ironic.drivers.modules import boot_mode_utils
from oslo_config import cfg

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import base

CONF = cfg.CONF

# A kernel or initrd line of Ironic's GRUB templates: command, first path.
_LOAD_LINE = re.compile(r'^(\s*(?:linux|linuxefi|initrd|initrdefi)\s+)(\S+)',
                        re.MULTILINE)


class GrubProvider(base.FileProvider):
    """Serves ``grub.cfg`` to UEFI nodes of the ``pxe`` and ``http``
    boot interfaces, with paths pointing at the owning conductor."""

    files = {'grub.cfg': 'text/plain'}
    max_size = 64 * 1024

    def root(self):
        return CONF.pxe.tftp_root

    def path(self, task, name):
        return pxe_utils.get_pxe_config_file_path(task.node.uuid)

    def get_boot_config(self, task, name):
        if (name in self.files and boot_mode_utils.get_boot_mode(task.node)
                != boot_modes.UEFI):
            # In BIOS mode the same file is a PXELINUX config.
            raise exception.BootConfigNotFound(
                reason='node %s does not boot in UEFI mode: no GRUB config'
                % task.node.uuid)
        config = super().get_boot_config(task, name)
        return config._replace(body=absolute_paths(
            config.body.decode('utf-8'), self.root()).encode('utf-8'))


def absolute_paths(text, tftp_root):
    """Point each kernel/initrd path of a GRUB config at this conductor."""
    def absolute(match):
        command, path = match.groups()
        return command + _device_path(path, tftp_root)
    return _LOAD_LINE.sub(absolute, text)


def _device_path(path, tftp_root):
    if path.startswith('(') or '://' in path:
        return path  # already names its device
    real = os.path.normpath(os.path.join(tftp_root, path.lstrip('/')))
    http_root = os.path.normpath(CONF.deploy.http_root)
    if _under(real, http_root) and CONF.deploy.http_url:
        url = urllib.parse.urlsplit(CONF.deploy.http_url)
        prefix = url.path.rstrip('/')
        return '(http,%s)%s/%s' % (url.netloc, prefix,
                                   os.path.relpath(real, http_root))
    if _under(real, os.path.normpath(tftp_root)) and CONF.pxe.tftp_server:
        return '(tftp,%s)/%s' % (CONF.pxe.tftp_server,
                                 os.path.relpath(real, tftp_root))
    return path


def _under(path, root):
    return os.path.commonpath([path, root]) == root
