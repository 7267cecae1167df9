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

"""The reference provider for Ironic's ``ipxe`` and ``http-ipxe`` interfaces.

``boot.ipxe`` is the per-node iPXE script that the owning conductor wrote at
``prepare_ramdisk``/``prepare_instance`` time; its kernel and ramdisk URLs
point at that conductor's own ``[deploy]http_url``.

A served script means what it means at its owner. Stock iPXE resolves a
relative URI against the URL the script came from: Ironic's root
``boot.ipxe`` chains to ``<http_url>/pxelinux.cfg/<MAC>``, where Metal3's
``initrd ../ipa-cacert-bundle`` is ``<http_url>/ipa-cacert-bundle``; from
``/v1/boot/<MAC>/boot.ipxe`` it would be ``/v1/boot/ipa-cacert-bundle``, the
API's 404. So every relative reference of the script is written as the
absolute URL it has at the owner (:func:`absolute_uris`); a script without
one is served byte for byte.

Not an HTTP redirect to the owner's file instead: GRUB's ``http`` module
(2.06) takes 200 and 206 only, a 302 is its "unsupported HTTP error"; a
redirect would step around the API's checks of what it serves; and it
would hand every caller the node's per-node path.
"""

import posixpath
import re
import typing
import urllib.parse

from ironic.common import pxe_utils
from oslo_config import cfg
from oslo_log import log

from ironic_boot_config_mw.providers import base

CONF = cfg.CONF
LOG = log.getLogger(__name__)


class IPXEProvider(base.FileProvider):
    """Serves ``<[deploy]http_root>/<node uuid>/config`` as ``boot.ipxe``,
    its relative references made absolute to this conductor."""

    files = {'boot.ipxe': 'text/plain'}
    # The path is the node's UUID under http_root: no task needed.
    needs_task = False

    def root(self):
        return CONF.deploy.http_root

    def path(self, task, name):
        # The path Ironic itself writes to, for ipxe and http-ipxe alike.
        return pxe_utils.get_pxe_config_file_path(task.node.uuid,
                                                  ipxe_enabled=True)

    def get_boot_config(self, task, name):
        config = super().get_boot_config(task, name)
        if not CONF.deploy.http_url:
            return config
        body = absolute_uris(config.body, script_url(CONF.deploy.http_url))
        if body is not config.body:
            LOG.debug('Relative references of node %(node)s made absolute '
                      'to %(url)s', {'node': task.node.uuid,
                                     'url': CONF.deploy.http_url})
        return config._replace(body=body)


def script_url(http_url):
    """Where a machine fetches its script from this conductor: Ironic's
    root ``boot.ipxe`` chains to ``pxelinux.cfg/${mac:hexhyp}``."""
    # The file name is the MAC there: only a reference that is a query
    # alone would keep it.
    return http_url.rstrip('/') + '/pxelinux.cfg/script'


class _Syntax(typing.NamedTuple):
    """How an iPXE command takes its URIs (``src/hci/commands``)."""

    #: Options that take a value, long and short (``--name x``, ``-n x``,
    #: ``--name=x``, ``-nx``): any other option is a flag.
    values: frozenset
    #: Which positional arguments are URIs (None: all of them).
    uris: typing.Optional[tuple] = (0,)
    #: imgacquire(): an image of that name, if any, is taken first.
    acquire: bool = True
    #: Whether what it fetches becomes an image (not the SAN commands).
    image: bool = True


_NAME_TIMEOUT = frozenset({'name', 'n', 'timeout', 't'})
_FETCH = _Syntax(_NAME_TIMEOUT, acquire=False)   # imgdownload_string()
_SELECT = _Syntax(_NAME_TIMEOUT)                  # imgacquire()
_SAN = _Syntax(frozenset({'drive', 'd', 'filename', 'f', 'extra', 'e',
                          'label', 'l', 'uuid', 'u'}),
               uris=None, acquire=False, image=False)
#: As iPXE's image_cmd.c, image_trust_cmd.c, image_crypt_cmd.c,
#: image_archive_cmd.c, image_set_cmd.c, sanboot_cmd.c, shim_cmd.c,
#: fdt_cmd.c, cert_cmd.c and digest_cmd.c take them.
_COMMANDS = {
    'imgfetch': _FETCH, 'module': _FETCH, 'initrd': _FETCH,
    'imgselect': _SELECT, 'imgload': _SELECT, 'kernel': _SELECT,
    'imgexec': _SELECT, 'chain': _SELECT, 'boot': _SELECT,
    'imgargs': _SELECT,
    'imgverify': _Syntax(frozenset({'signer', 's', 'timeout', 't'}),
                         uris=(0, 1)),
    'imgdecrypt': _Syntax(_NAME_TIMEOUT, uris=(0, 1)),
    'imgextract': _SELECT,
    'imgset': _Syntax(frozenset({'timeout', 't'}), uris=(1,)),
    'shim': _Syntax(frozenset({'timeout', 't'})),
    'fdt': _Syntax(frozenset({'timeout', 't'})),
    'certstore': _Syntax(frozenset({'subject', 's'})),
    'md5sum': _Syntax(frozenset({'set', 's'}), uris=None),
    'sha1sum': _Syntax(frozenset({'set', 's'}), uris=None),
    'sanboot': _SAN,
    'sanhook': _SAN._replace(values=frozenset({'drive', 'd'})),
}
# C's isspace(), as iPXE splits a line.
_TOKEN = re.compile(r'[^ \t\n\v\f\r]+')
# iPXE's parse_uri(): a scheme is letters, '-' and '_' before ':'. With a
# variable where the scheme would be, the reference may be absolute.
_NOT_RELATIVE = re.compile(r'[A-Za-z_-]*(?::|\$\{)')
_TERMINATORS = ('||', '&&', ';')


def absolute_uris(body, url):
    """Make each relative URI of the iPXE script ``body`` absolute.

    :param body: the script's bytes.
    :param url: the URL the script is relative to at its owner
        (:func:`script_url`).
    :returns: ``body`` itself if nothing is relative, else the script with
        only those references replaced by ``urljoin(url, reference)``.

    As iPXE reads a script: lines (backslash continuations joined), a
    leading ``:label`` skipped, commands split at ``||``, ``&&`` and ``;``,
    a word starting with ``#`` ending the line. Only the URI arguments of
    the commands that fetch (``kernel``, ``initrd``, ``chain``, ``imgfetch``,
    ``sanboot``, ...; options and their values skipped) are rewritten.
    Left as they are: absolute URIs; ``${...}`` where a scheme could be (a
    variable may hold an absolute URL); for commands that take an image of
    that name first, the name of an image fetched before (``--name``, or
    the file name of an earlier URI); Ironic's placeholders
    (``no_kernel``, ``no_ramdisk``); the kernel's command line; a
    command iPXE refuses (an option without its value); ``console
    --picture``.
    """
    text = body.decode('utf-8', 'surrogateescape')
    names = set()
    edits = []
    for line, where in _lines(text):
        tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(line)]
        if tokens and tokens[0][1].startswith(':'):
            tokens = tokens[1:]  # a label; the rest is a command
        for command in _commands(tokens):
            for start, ref in _references(command, names):
                new = urllib.parse.urljoin(url, _path_safe(ref))
                # Past its last character: not past a continuation after.
                end = where(start + len(ref) - 1) + 1
                edits.append((where(start), end, new))
    if not edits:
        return body
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text.encode('utf-8', 'surrogateescape')


def _lines(text):
    """``(line, where)`` per line iPXE runs: ``where`` maps an offset in
    the line to one in ``text`` (a continuation drops ``\\`` and EOL)."""
    offset = 0
    while offset < len(text):
        line, pieces = '', []
        while offset < len(text):
            end = text.find('\n', offset)
            end = len(text) if end < 0 else end
            piece = text[offset:end]
            if piece.endswith('\r'):
                piece = piece[:-1]
            more = piece.endswith('\\')
            if more:
                piece = piece[:-1]
            pieces.append((len(line), offset))
            line += piece
            offset = end + 1
            if not more:
                break

        def where(at, pieces=pieces):
            start, origin = max(p for p in pieces if p[0] <= at)
            return origin + at - start
        yield line, where


def _commands(tokens):
    """Split a line's ``(offset, token)`` list into commands."""
    command = []
    for token in tokens:
        if token[1].startswith('#'):
            break
        if token[1] in _TERMINATORS:
            yield command
            command = []
        else:
            command.append(token)
    yield command


def _references(command, names):
    """The relative URI arguments of ``command``; notes the images it
    names in ``names``."""
    if not command or command[0][1] not in _COMMANDS:
        return []
    syntax = _COMMANDS[command[0][1]]
    parsed = _parse(command[1:], syntax.values)
    if parsed is None:
        return []
    name, positional = parsed
    found = []
    for index, (start, arg) in enumerate(positional):
        if syntax.uris is not None and index not in syntax.uris:
            continue
        if syntax.acquire and arg in names:
            continue  # iPXE takes the image of that name
        if not (_NOT_RELATIVE.match(arg)
                or arg in base.IRONIC_PLACEHOLDERS):
            found.append((start, arg))
        if syntax.image:
            names.add(name or posixpath.basename(
                urllib.parse.urlsplit(_path_safe(arg)).path))
    return found


def _parse(args, values):
    """iPXE's getopt_long(): ``(--name value or None, positional args)``,
    or None for a line iPXE refuses. Options end at the first argument not
    starting with ``-``, or after ``--``."""
    name = None
    index = 0
    while index < len(args) and args[index][1].startswith('-'):
        arg = args[index][1]
        index += 1
        if arg == '--':
            break
        if arg.startswith('--'):
            option, equals, value = arg[2:].partition('=')
            if option in values and not equals:
                if index == len(args) or args[index][1].startswith('-'):
                    return None
                value = args[index][1]
                index += 1
            elif option not in values and equals:
                return None
        else:
            option, value = None, None
            for position, letter in enumerate(arg[1:], 2):
                if letter in values:
                    option, value = letter, arg[position:]
                    break
            if option and not value:
                if index == len(args) or args[index][1].startswith('-'):
                    return None
                value = args[index][1]
                index += 1
        if option in ('name', 'n'):
            name = value
    return name, args[index:]


def _path_safe(ref):
    """RFC 3986 4.2: a ``:`` in a relative path's first segment would read
    as a scheme (iPXE's schemes have no digits: ``1a:b`` is a path)."""
    first = re.split(r'[/?#]', ref, maxsplit=1)[0]
    return './' + ref if ':' in first else ref
