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

"""The operators' explain endpoint: Ironic authenticates, Ironic's policy
decides, and only then the boot path is explained."""

import json

from ironic.conf import CONF
import pytest
import webtest

from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import middleware
from tests.unit import fakes

UNAUTHORIZED = b'{"error": "Authentication required"}'


def ironic_with_auth(environ, start_response):
    """Ironic's stack as the filter sees it: auth, then pecan."""
    token = environ.get('HTTP_X_AUTH_TOKEN')
    if token not in ('admin-token', 'member-token'):
        start_response('401 Unauthorized',
                       [('Content-Type', 'application/json'),
                        ('WWW-Authenticate', 'Keystone uri="x"')])
        return [UNAUTHORIZED]
    # What keystonemiddleware leaves for the request context.
    environ['HTTP_X_ROLES'] = 'admin' if token == 'admin-token' else 'member'
    environ['HTTP_OPENSTACK_SYSTEM_SCOPE'] = 'all'
    environ['HTTP_X_USER_ID'] = 'u1'
    start_response('404 Not Found', [('Content-Type', 'application/json')])
    return [b'{"error_message": "not found"}']


@pytest.fixture
def keystone():
    CONF.set_override('auth_strategy', 'keystone')
    yield
    CONF.clear_override('auth_strategy')


def app(client=None):
    return webtest.TestApp(middleware.BootConfigMiddleware(
        ironic_with_auth, conf=CONF, find_node=lookup.NodeLookup(),
        client=client or fakes.Client()))


def test_unauthenticated_gets_ironics_own_401(keystone, make_node):
    _node, mac = make_node(provision_state='active')
    resp = app().get('/v1/boot-explain/%s/boot.ipxe' % mac, status=401)
    assert resp.body == UNAUTHORIZED
    assert resp.headers['WWW-Authenticate'] == 'Keystone uri="x"'


def test_non_admin_is_forbidden_by_policy(keystone, make_node):
    _node, mac = make_node(provision_state='active')
    resp = app().get('/v1/boot-explain/%s/boot.ipxe' % mac, status=403,
                     headers={'X-Auth-Token': 'member-token'})
    assert 'baremetal:boot_config:explain' in resp.json['error']
    assert 'provision state' not in resp.text


def test_forged_identity_headers_do_not_help(keystone, make_node):
    _node, mac = make_node(provision_state='active')
    app().get('/v1/boot-explain/%s/boot.ipxe' % mac, status=401,
              headers={'X-Roles': 'admin', 'OpenStack-System-Scope': 'all'})


@pytest.mark.parametrize('state,pxe,status,reason', [
    ('clean wait', True, 200, None),
    ('active', True, 404, 'provision state "active", not a wait state'),
    ('clean wait', False, 404, 'is not PXE-enabled'),
])
def test_admin_learns_why(keystone, make_node, state, pxe, status, reason):
    node, mac = make_node(provision_state=state, pxe_enabled=pxe)
    resp = app().get('/v1/boot-explain/%s/boot.ipxe' % mac,
                     headers={'X-Auth-Token': 'admin-token'})
    answer = resp.json
    assert resp.headers['Cache-Control'] == 'no-store'
    assert answer['status'] == status
    assert answer['path'] == '/v1/boot/%s/boot.ipxe' % mac
    if status == 200:
        assert answer['node'] == node.uuid
        assert answer['conductor'] == '127.0.0.2'
        assert answer['bytes'] == len(fakes.SCRIPT)
    else:
        assert reason in answer['reason']


def test_conductor_unreachable_is_explained(keystone, make_node):
    from keystoneauth1 import exceptions as ks_exceptions
    node, mac = make_node()
    resp = app(fakes.Client(ks_exceptions.ConnectFailure('refused'))).get(
        '/v1/boot-explain/%s/boot.ipxe' % mac,
        headers={'X-Auth-Token': 'admin-token'})
    assert resp.json['status'] == 404
    assert resp.json['reason'] == 'ConnectFailure: refused'
    assert resp.json['node'] == node.uuid


@pytest.mark.parametrize('query, source, allowed', [
    ('source=10.0.0.1', '10.0.0.1', False),
    ('source=192.0.2.7', '192.0.2.7', True),
    # A query string is percent-encoded: an IPv6 source arrives so.
    ('source=2001%3Adb8%3A%3A1', '2001:db8::1', True),
])
def test_source_check_is_explained(keystone, make_node, query, source,
                                   allowed):
    _node, mac = make_node()
    CONF.set_override('allowed_source_cidrs',
                      ['192.0.2.0/24', '2001:db8::/32'], 'boot_config')
    try:
        answer = app().get('/v1/boot-explain/%s/boot.ipxe?%s'
                           % (mac, query),
                           headers={'X-Auth-Token': 'admin-token'}).json
    finally:
        CONF.clear_override('allowed_source_cidrs', 'boot_config')
    assert answer['source'] == source
    assert answer['source_allowed'] is allowed


def test_unknown_mac_and_malformed_paths(keystone):
    for path, reason in (('52:54:00:ff:ff:01/boot.ipxe', 'no port has MAC'),
                         ('nonsense', 'expected /v1/boot/<MAC>/<NAME>')):
        answer = json.loads(app().get(
            '/v1/boot-explain/' + path,
            headers={'X-Auth-Token': 'admin-token'}).body)
        assert answer['status'] == 404 and reason in answer['reason']


def test_shims_status(keystone):
    class Pinged(fakes.Client):
        def conductors(self):
            return ['127.0.0.2', '127.0.0.3:8089']

        def ping(self, context, host):
            if host == '127.0.0.3:8089':
                raise ConnectionRefusedError('refused')
            return {'host': host, 'providers': ['ipxe']}

    answer = app(Pinged()).get('/v1/boot-explain',
                               headers={'X-Auth-Token': 'admin-token'}).json
    assert answer == {'shims': {
        '127.0.0.2': {'alive': True, 'host': '127.0.0.2',
                      'providers': ['ipxe']},
        '127.0.0.3:8089': {'alive': False,
                           'reason': 'ConnectionRefusedError: refused'}}}
    app(Pinged()).get('/v1/boot-explain', status=401)


def test_explain_is_get_only(keystone):
    app().post('/v1/boot-explain/x/y', status=405)


def test_says_what_was_last_served_whatever_the_state(keystone, make_node):
    from ironic import objects
    from ironic.common import context as ironic_context
    node, mac = make_node()
    explained = app()
    explained.get('/v1/boot/%s/boot.ipxe' % mac)
    explained.app.history.flush()
    node = objects.Node.get_by_uuid(ironic_context.get_admin_context(),
                                    node.uuid)
    node.provision_state = 'active'
    node.save()
    answer = explained.get('/v1/boot-explain/%s/boot.ipxe' % mac,
                           headers={'X-Auth-Token': 'admin-token'}).json
    assert answer['status'] == 404 and 'not a wait state' in answer['reason']
    assert answer['last_served']['name'] == 'boot.ipxe'
    assert answer['last_served']['bytes'] == len(fakes.SCRIPT)
    assert answer['last_served']['owner'] == '127.0.0.2'
    never = explained.get('/v1/boot-explain/52:54:00:ee:ee:03/boot.ipxe',
                          headers={'X-Auth-Token': 'admin-token'}).json
    assert never['last_served'] is None
