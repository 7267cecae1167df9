"""The checked-in sample configuration is what oslo-config-generator makes."""

import os

from oslo_config import generator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
GENERATOR_CONF = os.path.join(
    ROOT, 'tools', 'config', 'ironic-boot-config-mw-config-generator.conf')
SAMPLE = os.path.join(ROOT, 'etc', 'ironic-boot-config-mw',
                      'ironic-boot-config-mw.conf.sample')


def test_sample_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    generator.main(['--config-file', GENERATOR_CONF,
                    '--output-file', str(out)])
    with open(SAMPLE) as f:
        checked_in = f.read()
    assert out.read_text() == checked_in, (
        'etc/ sample is stale: run tox -e genconfig')
