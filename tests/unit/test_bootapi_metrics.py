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

"""``GET /metrics`` of the boot API process: what it counts and reads."""

from ironic.conf import CONF
from prometheus_client import parser
import webtest

from ironic_boot_config_mw.api import circuit as circuit_mod
from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import outcomes
from ironic_boot_config_mw.bootapi import app as app_mod
from tests.unit import fakes


def samples(api):
    """``{(name, labels as sorted tuples): value}`` of a scrape."""
    resp = api.get('/metrics')
    assert resp.headers['Content-Type'].startswith('text/plain; version=')
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parser.text_string_to_metric_families(resp.text)
            for s in family.samples}


def count(values, outcome, cause):
    return values[('ironic_boot_config_requests_total',
                   (('cause', cause), ('outcome', outcome)))]


def test_requests_by_outcome_and_cause(make_node):
    _node, mac = make_node()
    api = fakes.make_boot_api()
    before = samples(api)
    for (outcome, cause) in [(o, c) for o, cs in outcomes.CAUSES.items()
                             for c in cs]:
        assert count(before, outcome, cause) == 0   # every pair, from 0
    for _ in range(3):
        api.get('/v1/boot/%s/boot.ipxe' % mac)
    api.get('/v1/boot/52:54:00:ee:ee:04/boot.ipxe', status=404)
    api.get('/v1/boot/zz/boot.ipxe', status=404)
    after = samples(api)
    assert count(after, 'served', 'none') == 3
    assert count(after, 'not_found', 'unknown_mac') == 1
    assert count(after, 'not_found', 'malformed_path') == 1
    assert after[('ironic_boot_config_request_duration_seconds_count',
                  (('outcome', 'served'),))] == 3
    assert after[('ironic_boot_config_requests_in_flight', ())] == 0
    assert after[('ironic_boot_config_threads', ())] == \
        CONF.boot_config_api.threads
    assert after[('ironic_boot_config_health_database', ())] == 1
    assert mac not in api.get('/metrics').text


def test_shims_are_read_at_each_scrape(ironic_db):
    client = fakes.Shims(down=['c2'])
    client.circuit = circuit_mod.Circuit(1.0, 60)
    call = client.circuit.enter('c1')
    client.circuit.leave(call, ConnectionRefusedError())   # c1 opens
    values = samples(fakes.make_boot_api(client=client))
    assert values[('ironic_boot_config_shim_up', (('shim', 'c1'),))] == 1
    assert values[('ironic_boot_config_shim_up', (('shim', 'c2'),))] == 0
    state = {(labels[0][1], labels[1][1]): v for (name, labels), v
             in values.items() if name == 'ironic_boot_config_shim_circuit'}
    assert state == {('c1', 'closed'): 0, ('c1', 'open'): 1,
                     ('c1', 'suspect'): 0, ('c2', 'closed'): 1,
                     ('c2', 'open'): 0, ('c2', 'suspect'): 0}
    assert values[('ironic_boot_config_shims', (('state', 'open'),))] == 1
    assert values[('ironic_boot_config_shims', (('state', 'up'),))] == 1


def test_hosts_hidden_with_health_shims_off(ironic_db, overrides):
    overrides('health_shims', False, 'boot_config')
    text = fakes.make_boot_api().get('/metrics').text
    assert 'c1' not in text and 'c2' not in text
    assert 'ironic_boot_config_shims{state="up"} 2.0' in text


def test_the_history_is_counted(make_node):
    _node, mac = make_node()
    api = fakes.make_boot_api()
    api.get('/v1/boot/%s/boot.ipxe' % mac)
    api.app.boot.history.flush()
    assert samples(api)[('ironic_boot_config_history_records_total',
                         (('result', 'written'),))] == 1


def test_off(ironic_db, overrides):
    overrides('metrics', False, 'boot_config_api')
    api = webtest.TestApp(app_mod.BootAPI(
        CONF, find_node=lookup.NodeLookup(), client=fakes.Shims()))
    assert api.get('/metrics', status=404).body == fakes.NOT_FOUND
