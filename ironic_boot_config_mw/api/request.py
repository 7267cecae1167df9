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

"""Parsing of ``/v1/boot/<MAC>/<NAME>`` paths: pure, no I/O.

Anything that is not exactly one MAC and one plain name is refused; nothing
from the path is ever joined into a file name or a query.
"""

import re

from ironic_boot_config_mw import api
from ironic_boot_config_mw import exception

# Six octets, one separator (':' or '-') used throughout. re.ASCII keeps
# Unicode digits out; fullmatch() refuses a trailing newline that '$' allows.
_MAC = re.compile(r'[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}',
                  re.ASCII | re.IGNORECASE)
# A plain file name; the first character rules out '.' and '..'.
_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}', re.ASCII)


def owns(path):
    """Whether ``path`` (PATH_INFO) is in the filter's subtree."""
    return path == api.PREFIX or path.startswith(api.PREFIX + '/')


def owns_explain(path):
    """Whether ``path`` is in the explain subtree."""
    return (path == api.EXPLAIN_PREFIX
            or path.startswith(api.EXPLAIN_PREFIX + '/'))


def parse(path):
    """Split a PATH_INFO into a normalised MAC and a configuration name.

    :returns: ``(mac, name)``, the MAC lowercase with colons, as Ironic
        stores port addresses.
    :raises: ironic_boot_config_mw.exception.MalformedPath
    """
    parts = path[len(api.PREFIX) + 1:].split('/') if owns(path) else ()
    if len(parts) != 2:
        raise exception.MalformedPath('expected /v1/boot/<MAC>/<NAME>')
    mac, name = parts
    # iPXE sends ${mac} as aa%3Abb%3A...; most WSGI servers decode it,
    # some pass it through.
    mac = mac.replace('%3A', ':').replace('%3a', ':')
    if not _MAC.fullmatch(mac):
        raise exception.MalformedPath('not a MAC address')
    if not _NAME.fullmatch(name):
        raise exception.MalformedPath('not a configuration name')
    return mac.lower().replace('-', ':'), name


def printable(text, limit=200):
    """``text`` as one log-safe line: no forged lines, no terminal escape
    sequences from a caller."""
    escaped = text[:limit].encode('unicode_escape').decode('ascii')
    return escaped + '...' if len(text) > limit else escaped
