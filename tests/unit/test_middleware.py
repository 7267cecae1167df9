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

import logging

try:
    from ironic.common import state_machine  # 2025.2 and newer
except ImportError:
    from ironic.common import states as state_machine  # 2025.1
from ironic.conf import CONF
from oslo_config import cfg
import pytest

from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import middleware
from ironic_boot_config_mw.providers import base
from tests.unit import fakes


@pytest.mark.parametrize('path', ['/', '/v1', '/v1/nodes', '/v1/bootx',
                                  '/v1/lookup', '/v1/nodes/boot',
                                  '/healthcheck'])
def test_other_paths_pass_through(path):
    resp = fakes.make_app().get(path)
    assert resp.json == {'ironic': path}


def test_serves_config(make_node):
    node, mac = make_node()
    client = fakes.Client()
    resp = fakes.make_app(client=client).get('/v1/boot/%s/boot.ipxe' % mac)
    assert resp.status_int == 200
    assert resp.body == fakes.SCRIPT
    assert fakes.headers_of(resp) == [
        ('Cache-Control', 'no-store'),
        ('Content-Length', str(len(fakes.SCRIPT))),
        ('Content-Type', 'text/plain')]
    assert client.calls == [(node.uuid, 'boot.ipxe')]


def test_provider_content_type_is_kept(make_node):
    _node, mac = make_node()
    client = fakes.Client(base.BootConfig(b'set default=0\n', 'text/x-grub'))
    resp = fakes.make_app(client=client).get('/v1/boot/%s/grub.cfg' % mac)
    assert resp.content_type == 'text/x-grub'


def test_head_has_get_headers_and_no_body(make_node):
    _node, mac = make_node()
    app = fakes.make_app()
    get = app.get('/v1/boot/%s/boot.ipxe' % mac)
    head = app.head('/v1/boot/%s/boot.ipxe' % mac)
    assert head.status_int == 200
    assert head.body == b''
    assert fakes.headers_of(head) == fakes.headers_of(get)


@pytest.mark.parametrize('form', [
    lambda m: m,
    lambda m: m.upper(),
    lambda m: m.replace(':', '-'),
    lambda m: m.upper().replace(':', '-'),
], ids=['colons', 'upper', 'hyphens', 'upper-hyphens'])
def test_mac_forms(make_node, form):
    node, mac = make_node()
    client = fakes.Client()
    fakes.make_app(client=client).get('/v1/boot/%s/boot.ipxe' % form(mac))
    assert client.calls == [(node.uuid, 'boot.ipxe')]


@pytest.mark.parametrize('decoded', [True, False])
def test_ipxe_percent_encoded_mac(make_node, decoded):
    """iPXE sends %3A; the server may or may not have decoded it."""
    node, mac = make_node()
    client = fakes.Client()
    app = fakes.make_app(client=client)
    segment = mac if decoded else mac.replace(':', '%3A')
    resp = app.get('/', extra_environ={
        'PATH_INFO': '/v1/boot/%s/boot.ipxe' % segment})
    assert resp.body == fakes.SCRIPT
    assert client.calls == [(node.uuid, 'boot.ipxe')]


def test_under_script_name_prefix(make_node):
    node, mac = make_node()
    client = fakes.Client()
    resp = fakes.make_app(client=client).get('/', extra_environ={
        'SCRIPT_NAME': '/baremetal',
        'PATH_INFO': '/v1/boot/%s/boot.ipxe' % mac})
    assert resp.body == fakes.SCRIPT
    assert client.calls == [(node.uuid, 'boot.ipxe')]


@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE', 'PATCH',
                                    'OPTIONS', 'TRACE', 'PROPFIND'])
@pytest.mark.parametrize('path', ['/v1/boot', '/v1/boot/52:54:00:ab:cd:ef/'
                                  'boot.ipxe', '/v1/boot/x'])
def test_other_methods_405(method, path):
    resp = fakes.make_app().request(path, method=method, status=405)
    assert resp.headers['Allow'] == 'GET, HEAD'
    assert resp.body == b'# Method Not Allowed\n'


# -- the state gate, over every state of Ironic's state machine ----------

ALL_STATES = sorted(state_machine.machine.states)


@pytest.mark.parametrize('restrict', [True, False], ids=['restrict',
                                                         'unrestricted'])
@pytest.mark.parametrize('state', ALL_STATES)
def test_state_gate(make_node, state, restrict):
    node, mac = make_node(provision_state=state)
    client = fakes.Client()
    app = fakes.make_app(client=client, restrict=restrict)
    resp = app.get('/v1/boot/%s/boot.ipxe' % mac, expect_errors=True)
    served = not restrict or state in lookup.WAIT_STATES
    assert resp.status_int == (200 if served else 404)
    assert client.calls == ([(node.uuid, 'boot.ipxe')] if served else [])


FAST_TRACK = {
    # name: ([deploy]fast_track, the node's driver_info/fast_track)
    'off': (False, None),
    'on': (True, None),
    'on-for-the-node': (False, 'true'),
    'off-for-the-node': (True, 'false'),
    'invalid-for-the-node': (True, 'perhaps'),
}


@pytest.mark.parametrize('fast_track', sorted(FAST_TRACK))
@pytest.mark.parametrize('state', ALL_STATES)
def test_fast_track_admits_what_ironics_lookup_admits(make_node, overrides,
                                                      state, fast_track):
    """restrict_boot_config = True: a * wait state, or, for a node with
    fast track, Ironic's own FASTTRACK_LOOKUP_ALLOWED_STATES."""
    from ironic.common import states
    enabled, per_node = FAST_TRACK[fast_track]
    overrides('fast_track', enabled, 'deploy')
    node, mac = make_node(provision_state=state, driver_info=(
        {} if per_node is None else {'fast_track': per_node}))
    client = fakes.Client()
    resp = fakes.make_app(client=client).get('/v1/boot/%s/boot.ipxe' % mac,
                                             expect_errors=True)
    fast = per_node == 'true' if per_node in ('true', 'false') else (
        enabled and per_node is None)
    served = state in lookup.WAIT_STATES or (
        fast and state in states.FASTTRACK_LOOKUP_ALLOWED_STATES)
    assert resp.status_int == (200 if served else 404)
    assert client.calls == ([(node.uuid, 'boot.ipxe')] if served else [])


def test_fast_track_reads_the_states_from_ironic(make_node, overrides,
                                                 monkeypatch):
    """Not a copy: a state Ironic adds to its fast-track set counts."""
    from ironic.common import states
    overrides('fast_track', True, 'deploy')
    _node, mac = make_node(provision_state='active')
    app = fakes.make_app()
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    monkeypatch.setattr(states, 'FASTTRACK_LOOKUP_ALLOWED_STATES',
                        states.FASTTRACK_LOOKUP_ALLOWED_STATES | {'active'})
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=200)


def test_wait_states_are_the_specs():
    assert lookup.WAIT_STATES == {'wait call-back', 'clean wait',
                                  'inspect wait', 'rescue wait',
                                  'service wait'}
    assert lookup.WAIT_STATES <= set(ALL_STATES)


# -- one 404 for every cause ----------------------------------------------


def _not_found(make_node, cause, method='GET'):
    mac, client = fakes.CAUSES[cause](make_node)
    return fakes.make_app(client=client).request(
        '/v1/boot/%s/boot.ipxe' % mac, method=method, expect_errors=True)


@pytest.mark.parametrize('cause', sorted(fakes.CAUSES))
def test_every_failure_is_the_same_404(make_node, cause):
    reference = _not_found(make_node, 'unknown-mac')
    resp = _not_found(make_node, cause)
    assert resp.status == '404 Not Found'
    assert resp.body == reference.body == b'# Not Found\n'
    assert fakes.headers_of(resp) == fakes.headers_of(reference) == [
        ('Cache-Control', 'no-store'), ('Content-Length', '12'),
        ('Content-Type', 'text/plain; charset=UTF-8')]


@pytest.mark.parametrize('cause', ['unknown-mac', 'shim-unreachable'])
def test_head_404_is_get_404_without_body(make_node, cause):
    get = _not_found(make_node, cause)
    head = _not_found(make_node, cause, method='HEAD')
    assert head.status_int == 404
    assert head.body == b''
    assert fakes.headers_of(head) == fakes.headers_of(get)


@pytest.mark.parametrize('cause,level', [
    ('malformed-mac', logging.INFO),
    ('unknown-mac', logging.INFO),
    ('refused-state', logging.INFO),
    ('unknown-name', logging.INFO),
    ('node-gone', logging.INFO),
    ('no-conductor', logging.WARNING),
    ('shim-unreachable', logging.WARNING),
    ('rpc-timeout', logging.WARNING),
    ('oslo-timeout', logging.WARNING),
    ('rpc-unexpected', logging.WARNING),
    ('db-error', logging.WARNING),
    ('provider-bug', logging.ERROR),
])
def test_404_logs_the_real_reason_once(make_node, caplog, cause, level):
    """Only the unexpected (a bug) comes with its traceback."""
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')
    _not_found(make_node, cause)
    records = [r for r in caplog.records
               if r.name == 'ironic_boot_config_mw.api.middleware'
               and r.getMessage().startswith('GET /v1/boot/')]
    assert len(records) == 1
    assert records[0].levelno == level
    assert ': 404, ' in records[0].getMessage()
    assert (records[0].exc_info is not None) == (level == logging.ERROR)
    if level == logging.ERROR:
        assert 'ZeroDivisionError' in caplog.text
        assert 'Traceback' in caplog.text or records[0].exc_info[2]


def test_the_traceback_is_the_providers(make_node, caplog):
    """With rpc_transport = none a provider runs in the API: its bug's
    traceback reaches the API's log, down to the provider's line."""
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')

    class Buggy(fakes.Client):
        def get_boot_config(self, context, node, name):
            return {}['no such key']

    _node, mac = make_node()
    fakes.make_app(client=Buggy()).get('/v1/boot/%s/boot.ipxe' % mac,
                                       status=404)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    import traceback
    frames = traceback.extract_tb(record.exc_info[2])
    assert frames[-1].name == 'get_boot_config'
    assert "{}['no such key']" in frames[-1].line


def test_refused_state_log_names_node_and_state(make_node, caplog):
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')
    node, mac = make_node(provision_state='active')
    fakes.make_app().get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    assert '%s is in provision state "active"' % node.uuid in caplog.text


def test_success_log_has_no_script_content(make_node, caplog):
    caplog.set_level(logging.DEBUG, logger='ironic_boot_config_mw')
    node, mac = make_node()
    fakes.make_app().get('/v1/boot/%s/boot.ipxe' % mac)
    assert node.uuid in caplog.text and ': 200, ' in caplog.text
    assert 'kernel' not in caplog.text


def test_query_string_is_ignored(make_node):
    node, mac = make_node()
    client = fakes.Client()
    fakes.make_app(client=client).get(
        '/v1/boot/%s/boot.ipxe?x=1&mac=other' % mac)
    assert client.calls == [(node.uuid, 'boot.ipxe')]


@pytest.fixture
def transport_none():
    CONF.set_override('rpc_transport', 'none')
    yield
    CONF.clear_override('rpc_transport')


def test_paste_filter_factory_wraps_app(transport_none):
    app = middleware.filter_factory({})(fakes.ironic_app)
    assert isinstance(app, middleware.BootConfigMiddleware)
    assert app.application is fakes.ironic_app


def test_log_line_cannot_be_forged(caplog):
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')
    app = fakes.make_app()
    app.get('/', status=404, extra_environ={
        'PATH_INFO': '/v1/boot/x\n2026-01-01 INFO forged/' + 'a' * 500})
    lines = [r.getMessage() for r in caplog.records
             if r.getMessage().startswith('GET /v1/boot/')]
    assert len(lines) == 1 and '\n' not in lines[0]
    assert '\\n2026-01-01 INFO forged' in lines[0]
    assert len(lines[0]) < 400


# -- admission: refused before the database is touched --------------------

class CountingLookup:
    def __init__(self, restrict=True):
        self.inner = lookup.NodeLookup(restrict=restrict)
        self.calls = 0

    def __call__(self, context, mac):
        self.calls += 1
        return self.inner(context, mac)


@pytest.fixture
def boot_config_overrides():
    done = []

    def set_(name, value):
        CONF.set_override(name, value, 'boot_config')
        done.append(name)
    yield set_
    for name in done:
        CONF.clear_override(name, 'boot_config')


def test_source_outside_allowed_cidrs(make_node, boot_config_overrides):
    _node, mac = make_node()
    boot_config_overrides('allowed_source_cidrs', ['192.0.2.0/24'])
    find = CountingLookup()
    app = fakes.make_app(find_node=find)
    inside = app.get('/v1/boot/%s/boot.ipxe' % mac,
                     extra_environ={'REMOTE_ADDR': '192.0.2.9'})
    outside = app.get('/v1/boot/%s/boot.ipxe' % mac, status=404,
                      extra_environ={'REMOTE_ADDR': '198.51.100.9'})
    assert inside.body == fakes.SCRIPT
    assert outside.body == b'# Not Found\n'
    assert find.calls == 1
    # Forwarded headers are the client's word unless the operator says a
    # proxy sets them.
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=404, extra_environ={
        'REMOTE_ADDR': '198.51.100.9', 'HTTP_X_FORWARDED_FOR': '192.0.2.9'})
    assert find.calls == 1


def test_trusted_proxy_header(make_node, boot_config_overrides, caplog):
    caplog.set_level(logging.DEBUG)   # refusals after the first
    _node, mac = make_node()
    boot_config_overrides('allowed_source_cidrs', ['192.0.2.0/24'])
    boot_config_overrides('trusted_proxies', ['10.0.0.0/24'])
    CONF.set_override('enable_proxy_headers_parsing', True,
                      'oslo_middleware')
    try:
        app = fakes.make_app()
        app.get('/v1/boot/%s/boot.ipxe' % mac, extra_environ={
            'REMOTE_ADDR': '10.0.0.1',
            'HTTP_X_FORWARDED_FOR': '6.6.6.6, 192.0.2.9'})
        app.get('/v1/boot/%s/boot.ipxe' % mac, status=404, extra_environ={
            'REMOTE_ADDR': '10.0.0.1',
            'HTTP_X_FORWARDED_FOR': '192.0.2.9, 6.6.6.6'})
        # A machine that reaches the API itself forges in vain.
        forged = app.get('/v1/boot/%s/boot.ipxe' % mac, status=404,
                         extra_environ={'REMOTE_ADDR': '198.51.100.9',
                                        'HTTP_X_FORWARDED_FOR': '192.0.2.9',
                                        'HTTP_FORWARDED': 'for=192.0.2.9'})
        garbage = app.get('/v1/boot/%s/boot.ipxe' % mac, status=404,
                          extra_environ={'REMOTE_ADDR': '10.0.0.1',
                                         'HTTP_X_FORWARDED_FOR':
                                         '\x1b[2J\n192.0.2.9'})
        assert forged.body == garbage.body == b'# Not Found\n'
        assert '\x1b' not in caplog.text
        assert r'\x1b[2J\n192.0.2.9' in caplog.text
    finally:
        CONF.clear_override('enable_proxy_headers_parsing',
                            'oslo_middleware')


def test_proxy_headers_without_trusted_proxies_refuse_to_start(
        boot_config_overrides):
    boot_config_overrides('allowed_source_cidrs', ['192.0.2.0/24'])
    CONF.set_override('enable_proxy_headers_parsing', True,
                      'oslo_middleware')
    try:
        with pytest.raises(cfg.ConfigFileValueError,
                           match=r'needs \[boot_config\]trusted_proxies'):
            fakes.make_app()
    finally:
        CONF.clear_override('enable_proxy_headers_parsing',
                            'oslo_middleware')


def test_ramdisk_endpoints_disabled(make_node, overrides, caplog):
    """Ironic's switch for a public API of a split-horizon deployment:
    /v1/boot answers the generic 404 too, and says why."""
    fakes.newer_ironic_option(cfg.BoolOpt('enable_ramdisk_endpoints',
                                          default=True), 'api')   # 2026.2
    _node, mac = make_node()
    app = fakes.make_app()
    app.get('/v1/boot/%s/boot.ipxe' % mac, status=200)
    overrides('enable_ramdisk_endpoints', False, 'api')   # mutable
    resp = app.get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    assert resp.body == b'# Not Found\n'
    assert '[api]enable_ramdisk_endpoints' in caplog.text


def test_use_rpc_for_database_refuses_to_start(overrides):
    fakes.newer_ironic_option(cfg.BoolOpt('use_rpc_for_database',
                                          default=False))
    overrides('use_rpc_for_database', True)
    with pytest.raises(cfg.ConfigFileValueError,
                       match='ironic-boot-config-api'):
        fakes.make_app()


def test_rate_limit_answers_the_generic_404(make_node, boot_config_overrides):
    _node, mac = make_node()
    boot_config_overrides('rate_limit', 0.001)
    boot_config_overrides('rate_limit_burst', 3)
    find = CountingLookup()
    app = fakes.make_app(find_node=find)
    statuses = [app.get('/v1/boot/%s/boot.ipxe' % mac,
                        expect_errors=True).status_int for _ in range(5)]
    assert statuses == [200, 200, 200, 404, 404]
    assert find.calls == 3
    refused = app.get('/v1/boot/%s/boot.ipxe' % mac, expect_errors=True)
    assert 'Retry-After' not in refused.headers
    assert fakes.headers_of(refused) == fakes.headers_of(
        _not_found(make_node, 'unknown-mac'))
    other = app.get('/v1/boot/%s/boot.ipxe' % mac,
                    extra_environ={'REMOTE_ADDR': '127.0.0.9'})
    assert other.status_int == 200


def _hold_two_slots(app, mac):
    """Two requests that hold both slots of the cap (their client waits)."""
    import threading
    import time as time_mod
    results = []
    threads = [threading.Thread(target=lambda: results.append(app.get(
        '/v1/boot/%s/boot.ipxe' % mac).status_int)) for _ in range(2)]
    for t in threads:
        t.start()
    time_mod.sleep(0.3)
    return threads, results


class _SlowClient(fakes.Client):
    def __init__(self, release):
        super().__init__()
        self.release = release

    def get_boot_config(self, context, node, name):
        self.release.wait(10)
        return super().get_boot_config(context, node, name)


@pytest.mark.parametrize('wait', [0, 0.5])
def test_concurrency_cap_refuses_after_the_wait(make_node,
                                                boot_config_overrides, wait):
    import threading
    import time as time_mod
    _node, mac = make_node()
    boot_config_overrides('max_concurrent_requests', 2)
    boot_config_overrides('max_concurrent_wait', wait)
    release = threading.Event()
    app = fakes.make_app(client=_SlowClient(release))
    threads, results = _hold_two_slots(app, mac)
    started = time_mod.monotonic()
    third = app.get('/v1/boot/%s/boot.ipxe' % mac, status=404)
    took = time_mod.monotonic() - started
    assert wait <= took < wait + 0.5
    assert third.body == b'# Not Found\n'
    release.set()
    for t in threads:
        t.join(10)
    assert results == [200, 200]
    assert app.get('/v1/boot/%s/boot.ipxe' % mac).status_int == 200


def test_concurrency_cap_serves_when_a_slot_frees(make_node,
                                                  boot_config_overrides):
    import threading
    import time as time_mod
    _node, mac = make_node()
    boot_config_overrides('max_concurrent_requests', 2)
    boot_config_overrides('max_concurrent_wait', 5)
    release = threading.Event()
    app = fakes.make_app(client=_SlowClient(release))
    threads, results = _hold_two_slots(app, mac)
    threading.Timer(0.3, release.set).start()
    started = time_mod.monotonic()
    third = app.get('/v1/boot/%s/boot.ipxe' % mac)
    assert third.status_int == 200
    assert 0.25 <= time_mod.monotonic() - started < 2
    for t in threads:
        t.join(10)
    assert results == [200, 200]


def test_refusals_are_summarised_at_warning(make_node, caplog,
                                            boot_config_overrides):
    """An allow-list that refuses every machine shows in a default log, and
    a flood of refusals is one line, not one per request."""
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')
    _node, mac = make_node()
    boot_config_overrides('allowed_source_cidrs', ['192.0.2.0/24'])
    app = fakes.make_app()
    for n in range(50):
        app.get('/v1/boot/%s/boot.ipxe' % mac, status=404,
                extra_environ={'REMOTE_ADDR': '198.51.100.%d' % n})
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert 'Refused 1 /v1/boot request(s)' in warnings[0]
    assert '[boot_config]allowed_source_cidrs 1' in warnings[0]
    assert 'the last from 198.51.100.0: source not in ' \
        'allowed_source_cidrs' in warnings[0]
    # The next summary, once due, counts the other 49.
    refusals = app.app.refusals
    refusals._due = 0
    app.get('/v1/boot/%s/boot.ipxe' % mac,
            extra_environ={'REMOTE_ADDR': '192.0.2.1'})
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert 'Refused 49 /v1/boot request(s)' in warnings[1]
    assert 'the last from 198.51.100.49' in warnings[1]


def test_request_body_is_never_read(make_node):
    _node, mac = make_node()

    class Exploding:
        def read(self, *args):
            raise AssertionError('body read')
        readline = readlines = __iter__ = read

    resp = fakes.make_app().get('/', extra_environ={
        'PATH_INFO': '/v1/boot/%s/boot.ipxe' % mac,
        'wsgi.input': Exploding(), 'CONTENT_LENGTH': '1000000'})
    assert resp.body == fakes.SCRIPT


def test_bad_cidr_fails_at_start_up(boot_config_overrides):
    from oslo_config import cfg
    boot_config_overrides('allowed_source_cidrs', ['10.0.0.0/33'])
    with pytest.raises(cfg.ConfigFileValueError,
                       match='allowed_source_cidrs'):
        fakes.make_app()
