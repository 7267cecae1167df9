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

"""GRUB provider for Ironic's ``pxe`` and ``http`` boot interfaces (UEFI).

``grub.cfg`` is the per-node GRUB config that the owning conductor wrote at
``<[pxe]tftp_root>/<node uuid>/config``. Its kernel and ramdisk paths are
relative to the conductor's TFTP root (``<uuid>/deploy_kernel`` for ``pxe``,
``../<http_root>/<uuid>/deploy_kernel`` for ``http``), which GRUB resolves
against the server it was loaded from. Through the API that is any
conductor's server, so each path is made absolute to the OWNING conductor:
``(http,<[deploy]http_url host>)/<path under http_root>`` for files under
``http_root``, ``(tftp,<[pxe]tftp_server>)/<path under tftp_root>`` for files
under ``tftp_root``. That is every path without a device that GRUB loads:
the kernel of ``linux``/``linuxefi``/``linux16``, each file of
``initrd``/``initrdefi``/``initrd16`` (``newc:<name>:<path>`` too), the
file of ``chainloader``, ``devicetree``, ``source`` and ``configfile``.
Left as they are: paths with a device (``(...)``), URLs, words that start
with a variable (``$prefix/...`` may hold a device) or that GRUB unquotes
or unescapes, Ironic's placeholders (``no_kernel``, ``no_ramdisk``), and
everything else in the file; a config without such a
path is served byte for byte. Not a redirect instead: GRUB 2.06's ``http``
module takes 200 and 206 only (see the iPXE provider).

A static DHCP setup's GRUB chains to it with::

    configfile (http,<api host>:6385)/v1/boot/${net_default_mac}/grub.cfg
"""

import os
import urllib.parse

from ironic.common import boot_modes
from ironic.common import pxe_utils
from ironic.drivers.modules import boot_mode_utils
from oslo_config import cfg

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import base

CONF = cfg.CONF

#: Commands that load files, and which of their words are paths: the
#: first (after ``chainloader``'s --force/--bpb), or all (initrds).
_FIRST, _ALL = 'first', 'all'
_LOADERS = {'linux': _FIRST, 'linuxefi': _FIRST, 'linux16': _FIRST,
            'initrd': _ALL, 'initrdefi': _ALL, 'initrd16': _ALL,
            'chainloader': _FIRST, 'devicetree': _FIRST, 'source': _FIRST,
            'configfile': _FIRST}
_CHAINLOADER_FLAGS = ('--force', '--bpb')
#: Reserved words a command may follow (GRUB's yylex.l).
_KEYWORDS = ('if', 'then', 'elif', 'else', 'while', 'until', 'do')
_BLANK = ' \t'
#: What ends a simple command (yylex.l's special symbols and braces).
_SPECIAL = '\n;|&<>{}'


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
        text = config.body.decode('utf-8', 'surrogateescape')
        changed = absolute_paths(text, self.root())
        if changed == text:
            return config
        return config._replace(
            body=changed.encode('utf-8', 'surrogateescape'))


def absolute_paths(text, tftp_root):
    """Point each path a GRUB config loads at this conductor (module
    docstring); nothing else changes."""
    edits = []
    for words in _commands(text):
        while words and words[0][1] in _KEYWORDS:
            words = words[1:]
        if not words or words[0][1] not in _LOADERS:
            continue
        args = words[1:]
        if words[0][1] == 'chainloader':
            while args and args[0][1] in _CHAINLOADER_FLAGS:
                args = args[1:]
        if _LOADERS[words[0][1]] == _FIRST:
            args = args[:1]
        for start, word, plain in args:
            prefix = ''
            if word.startswith('newc:') and word.count(':') >= 2:
                name, _colon, word = word[5:].partition(':')
                prefix = 'newc:%s:' % name
                start += len(prefix)
            if plain and not word.startswith('$') \
                    and word not in base.IRONIC_PLACEHOLDERS:
                path = _device_path(word, tftp_root)
                if path != word:
                    edits.append((start, start + len(word), path))
    for start, end, path in reversed(edits):
        text = text[:start] + path + text[end:]
    return text


def _commands(text):
    """The simple commands of a GRUB script: lists of ``(offset, word,
    plain)``, ``plain`` False for a word GRUB unquotes or unescapes."""
    words = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in _BLANK:
            index += 1
        elif char in _SPECIAL:
            if words:
                yield words
            words = []
            index += 1
        elif char == '#':  # a comment, to the end of the line
            index = text.find('\n', index)
            index = len(text) if index < 0 else index
        else:
            start, plain = index, True
            while index < len(text) and text[index] not in _BLANK \
                    and text[index] not in _SPECIAL:
                index, quoted = _skip(text, index)
                plain = plain and not quoted
            words.append((start, text[start:index], plain))
    if words:
        yield words


def _skip(text, index):
    """Past one character, quoted string, escape or ``${...}`` of a
    word: ``(index after it, whether GRUB unquotes it)``."""
    char = text[index]
    if char == '\\':
        return index + 2, True
    if char == "'":
        end = text.find("'", index + 1)
        return (len(text) if end < 0 else end + 1), True
    if char == '"':
        index += 1
        while index < len(text) and text[index] != '"':
            index += 2 if text[index] == '\\' else 1
        return index + 1, True
    if text.startswith('${', index):
        end = text.find('}', index)
        return (len(text) if end < 0 else end + 1), False
    return index + 1, False


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
