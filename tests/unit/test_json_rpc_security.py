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

"""``[boot_config_json_rpc]`` is secured as Ironic's ``[json_rpc]`` unless
set itself, and a shim that would answer anyone where Ironic's JSON-RPC
does not refuses to start."""

from ironic.conf import CONF
from ironic.conf import json_rpc as ironic_json_rpc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
import pytest

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw.api import middleware

GROUP = bc_conf.JSON_RPC_GROUP

SECURED = """[DEFAULT]
auth_strategy = noauth
rpc_transport = json-rpc
[json_rpc]
auth_strategy = http_basic
http_basic_auth_user_file = /etc/ironic/htpasswd-rpc
allowed_roles = admin,service
auth_type = http_basic
username = rpc
password = rpc-secret
use_ssl = true
cert_file = /etc/ironic/rpc.crt
key_file = /etc/ironic/rpc.key
server_tls_minimum_version = 1.2
server_tls_ciphers = ECDHE+AESGCM
client_use_ssl = true
cafile = /etc/ironic/ca.crt
certfile = /etc/ironic/client.crt
keyfile = /etc/ironic/client.key
insecure = true
host_ip = 192.0.2.1
port = 6189
unix_socket = /run/ironic/json-rpc.sock
unix_socket_mode = 0600
timeout = 33
"""


def load(tmp_path, text, env=None, monkeypatch=None):
    """A ConfigOpts of its own, parsed from ``text``, then inherited."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    path = tmp_path / 'ironic.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    bc_conf.register_opts(conf)
    conf.register_opts([cfg.StrOpt('auth_strategy'),
                        cfg.StrOpt('rpc_transport')])
    conf(['--config-file', str(path)], project='ironic',
         default_config_files=[])
    return conf, bc_conf.inherit_json_rpc(conf)


@pytest.mark.parametrize('name,value', [
    # the server: who may call, and the listener's TLS
    ('auth_strategy', 'http_basic'),
    ('http_basic_auth_user_file', '/etc/ironic/htpasswd-rpc'),
    ('allowed_roles', ['admin', 'service']),
    ('use_ssl', True),
    ('cert_file', '/etc/ironic/rpc.crt'),
    ('key_file', '/etc/ironic/rpc.key'),
    ('server_tls_minimum_version', '1.2'),
    ('server_tls_ciphers', 'ECDHE+AESGCM'),
    # the client: keystoneauth's plugin and session
    ('client_use_ssl', True),
    ('auth_type', 'http_basic'),
    ('username', 'rpc'),
    ('password', 'rpc-secret'),
    ('cafile', '/etc/ironic/ca.crt'),
    ('certfile', '/etc/ironic/client.crt'),
    ('keyfile', '/etc/ironic/client.key'),
    ('insecure', True),
])
def test_security_is_taken_from_json_rpc(tmp_path, name, value):
    conf, inherited = load(tmp_path, SECURED)
    if name not in conf[GROUP]:
        # Not in this Ironic release (2025.1 has no server TLS options):
        # Ironic's [json_rpc] has none either, and nothing is taken.
        assert name not in conf['json_rpc'] and name not in inherited
        return
    assert getattr(conf[GROUP], name) == value
    assert name in inherited


def test_where_it_listens_and_its_timeout_are_its_own(tmp_path):
    conf, inherited = load(tmp_path, SECURED)
    ours = conf[GROUP]
    assert (ours.host_ip, ours.port, ours.unix_socket,
            ours.unix_socket_mode) == ('::', 8091, None, None)
    assert ours.timeout != 33
    assert not {'host_ip', 'port', 'unix_socket', 'unix_socket_mode',
                'timeout'} & set(inherited)


def test_the_credentials_load_as_keystoneauths_plugin(tmp_path):
    """What the API's clients do with the group: the http_basic plugin
    with [json_rpc]'s username and password."""
    conf, _inherited = load(tmp_path, SECURED)
    plugin = ks_loading.load_auth_from_conf_options(conf, GROUP)
    assert plugin.get_headers(None) == {
        'Authorization': 'Basic cnBjOnJwYy1zZWNyZXQ='}   # rpc:rpc-secret


def test_its_own_values_win(tmp_path, monkeypatch):
    conf, inherited = load(tmp_path, SECURED + """[%s]
auth_strategy = noauth
use_ssl = false
cafile = /etc/ironic/shim-ca.crt
""" % GROUP, env={'OS_BOOT_CONFIG_JSON_RPC__USERNAME': 'shim'},
        monkeypatch=monkeypatch)
    ours = conf[GROUP]
    assert (ours.auth_strategy, ours.use_ssl, ours.cafile, ours.username) \
        == ('noauth', False, '/etc/ironic/shim-ca.crt', 'shim')
    assert not {'auth_strategy', 'use_ssl', 'cafile', 'username'} & \
        set(inherited)
    # The rest still comes from [json_rpc].
    assert ours.password == 'rpc-secret'
    conf.set_override('password', 'override', GROUP)
    bc_conf.inherit_json_rpc(conf)
    assert ours.password == 'override'


def test_unset_json_rpc_leaves_the_defaults(tmp_path):
    conf, inherited = load(tmp_path, '[DEFAULT]\nauth_strategy = keystone\n')
    assert inherited == []
    assert conf[GROUP].auth_strategy is None
    assert bc_conf.json_rpc_auth_strategy(conf) == 'keystone'
    assert conf[GROUP].use_ssl is False


def test_keystone_credentials_are_those_of_json_rpcs_plugin(tmp_path):
    conf, inherited = load(tmp_path, """[json_rpc]
auth_strategy = keystone
auth_type = password
auth_url = http://192.0.2.5:5000/v3
username = ironic
password = secret
project_name = service
user_domain_name = Default
""")
    ours = conf[GROUP]
    assert (ours.auth_strategy, ours.auth_type, ours.auth_url,
            ours.project_name, ours.user_domain_name) == (
        'keystone', 'password', 'http://192.0.2.5:5000/v3', 'service',
        'Default')
    assert {'auth_url', 'project_name', 'password'} <= set(inherited)


def test_inheriting_again_follows_json_rpc(tmp_path):
    """Idempotent, and what was inherited is not taken for our own."""
    conf, _inherited = load(tmp_path, SECURED)
    conf.set_override('auth_strategy', 'keystone', 'json_rpc')
    bc_conf.inherit_json_rpc(conf)
    assert conf[GROUP].auth_strategy == 'keystone'


@pytest.fixture
def shim_conf(tmp_path):
    def make(ours='', theirs='auth_strategy = http_basic\n',
             default='noauth'):
        conf, _inherited = load(tmp_path, (
            '[DEFAULT]\nauth_strategy = %s\nrpc_transport = json-rpc\n'
            '[json_rpc]\n%s[%s]\n%s' % (default, theirs, GROUP, ours)))
        return conf
    return make


@pytest.mark.parametrize('host_ip', ['::', '0.0.0.0', '192.0.2.10',
                                     '2001:db8::10', 'conductor-1.example'])
@pytest.mark.parametrize('theirs', ['http_basic', 'keystone'])
def test_a_shim_answering_anyone_refuses_to_start(shim_conf, host_ip,
                                                  theirs):
    conf = shim_conf('auth_strategy = noauth\nhost_ip = %s\n' % host_ip,
                     'auth_strategy = %s\n' % theirs)
    with pytest.raises(cfg.ConfigFileValueError) as info:
        bc_conf.check_shim_auth(conf)
    message = str(info.value)
    assert '\n' not in message
    for part in ('[%s]auth_strategy is noauth' % GROUP,
                 '[%s]host_ip = %s' % (GROUP, host_ip),
                 '[json_rpc]auth_strategy is %s' % theirs):
        assert part in message


def test_an_authenticated_default_counts_for_json_rpc(shim_conf):
    """[json_rpc] unset takes [DEFAULT]auth_strategy, as Ironic's."""
    conf = shim_conf('auth_strategy = noauth\n', theirs='',
                     default='keystone')
    with pytest.raises(cfg.ConfigFileValueError,
                       match=r'\[json_rpc\]auth_strategy is keystone'):
        bc_conf.check_shim_auth(conf)


@pytest.mark.parametrize('ours', [
    # loopback: only this host can call
    'auth_strategy = noauth\nhost_ip = 127.0.0.1\n',
    'auth_strategy = noauth\nhost_ip = 127.0.0.5\n',
    'auth_strategy = noauth\nhost_ip = ::1\n',
    'auth_strategy = noauth\nhost_ip = ::ffff:127.0.0.1\n',
    'auth_strategy = noauth\nhost_ip = localhost\n',
    'auth_strategy = noauth\nunix_socket = /run/ironic/shim.sock\n',
    # authenticated: its own way, or [json_rpc]'s
    'auth_strategy = keystone\n',
    '',
], ids=['127.0.0.1', '127.0.0.5', '::1', 'mapped', 'localhost',
        'unix_socket', 'keystone', 'inherited'])
def test_what_may_start(shim_conf, ours):
    bc_conf.check_shim_auth(shim_conf(ours))


def test_noauth_everywhere_may_start(shim_conf):
    bc_conf.check_shim_auth(shim_conf('auth_strategy = noauth\n',
                                      theirs='auth_strategy = noauth\n'))


def test_other_transports_serve_no_json_rpc(shim_conf):
    conf = shim_conf('auth_strategy = noauth\n')
    conf.set_override('rpc_transport', 'oslo')
    bc_conf.check_shim_auth(conf)


@pytest.fixture
def json_rpc_secured(overrides):
    """Ironic's CONF with [json_rpc] on http_basic; our group's defaults
    put back as they were after the test."""
    bc_conf.inherit_json_rpc(CONF)   # registers the plugin's options
    secured = {'auth_strategy': 'http_basic', 'auth_type': 'http_basic',
               'username': 'rpc', 'password': 'rpc-secret'}
    for name, value in secured.items():
        overrides(name, value, 'json_rpc')
    overrides('rpc_transport', 'json-rpc')
    yield
    for name in secured:
        CONF.clear_override(name, 'json_rpc')
    bc_conf.inherit_json_rpc(CONF)


def test_the_filters_client_calls_with_json_rpcs_credentials(
        json_rpc_secured):
    """The filter inherits before it makes its client for the shims."""
    mw = middleware.BootConfigMiddleware(lambda e, s: [], conf=CONF,
                                         find_node=object())
    assert CONF[GROUP].auth_strategy == 'http_basic'
    keep_alive = mw.client._call.args[0]
    assert keep_alive._headers['Authorization'] == \
        'Basic cnBjOnJwYy1zZWNyZXQ='


@pytest.mark.parametrize('strategy', ['noauth', 'http_basic'])
def test_the_configuration_parses_again(tmp_path, strategy):
    """No required option of a plugin Ironic's client does not load (the
    default password plugin's auth_url): ironic-api's SIGHUP and Ironic's
    own tests parse the configuration again."""
    path = tmp_path / 'ironic.conf'
    path.write_text('[json_rpc]\nauth_strategy = %s\n' % strategy)
    conf = cfg.ConfigOpts()
    bc_conf.register_opts(conf)
    conf.register_opts([cfg.StrOpt('auth_strategy')])
    ironic_json_rpc.register_opts(conf)
    # As on Ironic's CONF (ironic.common.keystone.register_auth_opts).
    conf.set_default('auth_type', 'password', group='json_rpc')
    conf(['--config-file', str(path)], project='ironic',
         default_config_files=[])
    bc_conf.inherit_json_rpc(conf)
    conf.mutate_config_files()
