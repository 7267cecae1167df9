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

"""Property-based fuzz of the path parser (hypothesis)."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import request

octets = st.lists(st.integers(0, 255), min_size=6, max_size=6)
names = st.from_regex(r'\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z')


def spell(values, separator, upper, encoded):
    mac = separator.join('%02x' % v for v in values)
    if upper:
        mac = mac.upper()
    if encoded and separator == ':':
        mac = mac.replace(':', '%3A' if upper else '%3a')
    return mac


@settings(max_examples=2000, deadline=None)
@given(octets, st.sampled_from([':', '-']), st.booleans(), st.booleans(),
       names)
def test_every_spelling_of_a_mac_parses_to_the_same(values, separator,
                                                    upper, encoded, name):
    path = '/v1/boot/%s/%s' % (spell(values, separator, upper, encoded),
                               name)
    assert request.parse(path) == (
        ':'.join('%02x' % v for v in values), name)


@settings(max_examples=5000, deadline=None)
@given(st.text(max_size=120))
def test_any_text_parses_or_is_refused_never_partly(text):
    path = '/v1/boot/' + text
    try:
        mac, name = request.parse(path)
    except exception.MalformedPath:
        return
    # Accepted: it is exactly <mac>/<name> and nothing else.
    segment = text.split('/')[0].replace('%3A', ':').replace('%3a', ':')
    assert segment.lower().replace('-', ':') == mac
    assert text == '%s/%s' % (text.split('/')[0], name)
    assert len(mac) == 17 and name.isascii() and '/' not in name


@settings(max_examples=3000, deadline=None)
@given(octets, names, st.sampled_from(
    ['\n', '\x00', ' ', '/', '//', '/..', '%2F', '\u0661', '\t', '.', ':']),
    st.integers(0, 40))
def test_a_foreign_character_anywhere_is_refused(values, name, intruder,
                                                 where):
    path = '/v1/boot/%s/%s' % (spell(values, ':', False, False), name)
    where = len('/v1/boot/') + where % (len(path) - len('/v1/boot/'))
    mangled = path[:where] + intruder + path[where:]
    if mangled == path:
        return
    try:
        parsed = request.parse(mangled)
    except exception.MalformedPath:
        return
    # Only harmless spellings may survive, e.g. a '.' inside the name.
    assert parsed[0] == ':'.join('%02x' % v for v in values)
    assert intruder in ('.', ':') or intruder == ''


@pytest.mark.parametrize('length', [65, 200, 10000])
def test_over_long_names_refused(length):
    with pytest.raises(exception.MalformedPath):
        request.parse('/v1/boot/52:54:00:ab:cd:ef/' + 'a' * length)
