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

"""The checked-in sample configuration is what oslo-config-generator makes."""

from importlib import metadata
import os

from oslo_config import generator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
GENERATOR_CONF = os.path.join(
    ROOT, 'tools', 'config', 'ironic-boot-config-mw-config-generator.conf')
SAMPLE = os.path.join(ROOT, 'etc', 'ironic-boot-config-mw',
                      'ironic-boot-config-mw.conf.sample')


#: The release the sample is generated with (tox's default): its
#: [boot_config_json_rpc] section lists that Ironic's own JSON-RPC options.
SAMPLE_IRONIC = '39.0.0'


def sections(text):
    """{section: text} of an ini file."""
    result, name = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith('['):
            name = line.strip()
        result[name] = result.get(name, '') + line
    return result


def test_sample_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    generator.main(['--config-file', GENERATOR_CONF,
                    '--output-file', str(out)])
    with open(SAMPLE) as f:
        checked_in = f.read()
    if metadata.version('ironic') == SAMPLE_IRONIC:
        assert out.read_text() == checked_in, (
            'etc/ sample is stale: run tox -e genconfig')
    else:
        # Another release: our own options are the same; the JSON-RPC
        # group lists that release's options.
        made, kept = sections(out.read_text()), sections(checked_in)
        for name in ('[api]', '[pxe]', '[boot_config]'):
            assert made[name] == kept[name], name
        assert '[boot_config_json_rpc]' in made
