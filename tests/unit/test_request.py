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

import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import request

MAC = '52:54:00:ab:cd:ef'


@pytest.mark.parametrize('path,expected', [
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/boot.ipxe', (MAC, 'boot.ipxe'),
                 id='colons'),
    pytest.param('/v1/boot/52-54-00-ab-cd-ef/boot.ipxe', (MAC, 'boot.ipxe'),
                 id='hyphens'),
    pytest.param('/v1/boot/52:54:00:AB:CD:EF/boot.ipxe', (MAC, 'boot.ipxe'),
                 id='upper-case'),
    pytest.param('/v1/boot/52-54-00-Ab-cD-eF/boot.ipxe', (MAC, 'boot.ipxe'),
                 id='mixed-case-hyphens'),
    pytest.param('/v1/boot/52%3A54%3A00%3Aab%3Acd%3Aef/boot.ipxe',
                 (MAC, 'boot.ipxe'), id='ipxe-percent-encoded'),
    pytest.param('/v1/boot/52%3a54%3a00%3aAB%3acd%3aef/boot.ipxe',
                 (MAC, 'boot.ipxe'), id='percent-encoded-lower'),
    pytest.param('/v1/boot/52%3A54:00%3Aab:cd%3Aef/boot.ipxe',
                 (MAC, 'boot.ipxe'), id='partly-decoded'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/grub.cfg', (MAC, 'grub.cfg'),
                 id='other-name'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/' + 'a' * 64, (MAC, 'a' * 64),
                 id='name-64'),
])
def test_parse_valid(path, expected):
    assert request.parse(path) == expected


@pytest.mark.parametrize('path', [
    pytest.param('/v1/boot', id='subtree-root'),
    pytest.param('/v1/boot/', id='subtree-root-slash'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef', id='no-name'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/', id='empty-name'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/boot.ipxe/', id='trailing-slash'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/x/boot.ipxe', id='extra-segment'),
    pytest.param('/v1/boot//52:54:00:ab:cd:ef/boot.ipxe', id='double-slash'),
    pytest.param('/v1/boot/52:54:00:ab:cd/boot.ipxe', id='five-octets'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef:01/boot.ipxe', id='seven-octets'),
    pytest.param('/v1/boot/52:54:00-ab-cd-ef/boot.ipxe',
                 id='mixed-separators'),
    pytest.param('/v1/boot/525400abcdef/boot.ipxe', id='no-separators'),
    pytest.param('/v1/boot/52.54.00.ab.cd.ef/boot.ipxe', id='dots'),
    pytest.param('/v1/boot/5254.00ab.cdef/boot.ipxe', id='cisco-form'),
    pytest.param('/v1/boot/52:54:00:ab:cd:eg/boot.ipxe', id='not-hex'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef\n/boot.ipxe', id='newline-mac'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/boot.ipxe\n', id='newline-name'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef\x00/boot.ipxe', id='nul'),
    pytest.param('/v1/boot/5\u0662:54:00:ab:cd:ef/boot.ipxe',
                 id='unicode-digit'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef%2Fboot.ipxe', id='encoded-slash'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/..', id='dot-dot'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/.', id='dot'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/.boot.ipxe', id='hidden-name'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/' + 'a' * 65, id='name-65'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/boot%2Eipxe', id='encoded-dot'),
    pytest.param('/v1/boot/52:54:00:ab:cd:ef/boot ipxe', id='space'),
    pytest.param('/v1/boot/' + '52:' * 100 + 'ef/boot.ipxe', id='over-long'),
    pytest.param('/v1/bootx/52:54:00:ab:cd:ef/boot.ipxe', id='other-subtree'),
    pytest.param('/v1/boot/52%253A54%253A00%253Aab%253Acd%253Aef/boot.ipxe',
                 id='double-encoded'),
])
def test_parse_refuses(path):
    with pytest.raises(exception.MalformedPath):
        request.parse(path)


@pytest.mark.parametrize('path,owned', [
    ('/v1/boot', True),
    ('/v1/boot/', True),
    ('/v1/boot/anything/at/all', True),
    ('/v1/bootx', False),
    ('/v1/boo', False),
    ('/v1', False),
    ('/', False),
    ('', False),
    ('/v1/nodes/boot', False),
    ('/v2/boot/52:54:00:ab:cd:ef/boot.ipxe', False),
])
def test_owns(path, owned):
    assert request.owns(path) is owned
