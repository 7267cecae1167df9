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

"""Every failure of the boot path has one outcome and one cause of a fixed
set: what the metrics count it as."""

from oslo_config import cfg
import pytest

from ironic_boot_config_mw.api import outcomes
from tests.unit import fakes

#: The failures of test_middleware, by what they are counted as.
EXPECTED = {
    'malformed-mac': ('not_found', 'malformed_path'),
    'unknown-mac': ('not_found', 'unknown_mac'),
    'port-not-pxe-enabled': ('not_found', 'unknown_mac'),
    'refused-state': ('not_found', 'not_waiting'),
    'unknown-name': ('not_found', 'no_config'),
    'no-provider': ('not_found', 'no_config'),
    'node-gone': ('not_found', 'no_config'),
    'no-conductor': ('failed', 'no_conductor'),
    'shim-unreachable': ('failed', 'shim_error'),
    'rpc-timeout': ('failed', 'shim_error'),
    'oslo-timeout': ('failed', 'shim_error'),
    'rpc-unexpected': ('failed', 'shim_error'),
    'db-error': ('failed', 'database'),
    'provider-bug': ('failed', 'unexpected'),
}


def test_every_failure_of_the_filter_is_classified():
    assert set(EXPECTED) == set(fakes.CAUSES)


@pytest.mark.parametrize('cause', sorted(EXPECTED))
def test_a_request_is_counted_as_its_cause(make_node, cause):
    seen = []

    class Seen(outcomes.Observer):
        def request(self, outcome, why, seconds):
            seen.append((outcome, why))

    mac, client = fakes.CAUSES[cause](make_node)
    app = fakes.make_app(client=client)
    app.app.observer = Seen()
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    assert seen == [EXPECTED[cause]]
    assert seen[0][1] in outcomes.CAUSES[seen[0][0]]


def test_a_served_request_is_counted(make_node):
    seen = []

    class Seen(outcomes.Observer):
        def request(self, outcome, why, seconds):
            seen.append((outcome, why, seconds))

    app = fakes.make_app()
    app.app.observer = Seen()
    app.get('/v1/boot/%s/boot.ipxe' % make_node()[1])
    assert [s[:2] for s in seen] == [('served', 'none')]
    assert 0 < seen[0][2] < 5


def test_causes_are_unique_labels():
    every = [c for causes in outcomes.CAUSES.values() for c in causes]
    assert len(every) == len(set(every))


@pytest.mark.parametrize('option,value,group,cause', [
    ('allowed_source_cidrs', ['10.0.0.0/8'], 'boot_config', 'source'),
    ('enable_ramdisk_endpoints', False, 'api', 'disabled'),
])
def test_a_refusal_is_counted_as_its_option(make_node, overrides, option,
                                            value, group, cause):
    fakes.newer_ironic_option(cfg.BoolOpt('enable_ramdisk_endpoints',
                                          default=True), 'api')   # 2026.2
    overrides(option, value, group)
    seen = []

    class Seen(outcomes.Observer):
        def request(self, outcome, why, seconds):
            seen.append((outcome, why))

    app = fakes.make_app()
    app.app.observer = Seen()
    app.get('/v1/boot/%s/boot.ipxe' % make_node()[1], status=404,
            extra_environ={'REMOTE_ADDR': '127.0.0.1'})
    assert seen == [('refused', cause)]
