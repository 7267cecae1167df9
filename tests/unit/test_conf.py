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

from oslo_config import cfg
import pytest

from ironic_boot_config_mw import conf as bc_conf


@pytest.fixture
def conf():
    c = cfg.ConfigOpts()
    c([], project='ironic', default_config_files=[])
    bc_conf.register_opts(c)
    return c


def test_defaults(conf):
    assert conf.api.restrict_boot_config is True
    assert conf.pxe.ipxe_use_boot_config_api is False
    assert conf.pxe.ipxe_config_api_root_url is None
    assert conf.boot_config.rpc_timeout == 10
    assert conf.boot_config.max_concurrent_requests == 2
    assert conf.boot_config.allowed_source_cidrs == []
    assert conf.boot_config.rate_limit == 0
    group = getattr(conf, bc_conf.JSON_RPC_GROUP)
    assert group.port == 8091
    assert group.host_ip == '::'


def test_register_is_idempotent(conf):
    bc_conf.register_opts(conf)
    bc_conf.validate(conf)


def test_an_existing_definition_wins():
    """A newer Ironic defining a spec option itself must not break us."""
    c = cfg.ConfigOpts()
    c.register_opt(cfg.BoolOpt('restrict_boot_config', default=False,
                               help='Ironic own'), group='api')
    bc_conf.register_opts(c)
    c([], project='ironic', default_config_files=[])
    assert c.api.restrict_boot_config is False


@pytest.mark.parametrize('section,option,value', [
    ('boot_config', 'rpc_timeout', '0'),
    ('boot_config', 'rpc_timeout', '301'),
    ('boot_config', 'rpc_timeout', 'ten'),
    ('api', 'restrict_boot_config', 'maybe'),
    ('pxe', 'ipxe_use_boot_config_api', 'perhaps'),
    ('pxe', 'ipxe_config_api_root_url', 'ftp://10.0.0.1/'),
    ('pxe', 'ipxe_config_api_root_url', 'not a url'),
    (bc_conf.JSON_RPC_GROUP, 'port', '70000'),
    (bc_conf.JSON_RPC_GROUP, 'auth_strategy', 'trust-me'),
])
def test_bad_values_fail_at_validate(tmp_path, section, option, value):
    path = tmp_path / 'ironic.conf'
    path.write_text('[%s]\n%s = %s\n' % (section, option, value))
    c = cfg.ConfigOpts()
    bc_conf.register_opts(c)
    c(['--config-file', str(path)], project='ironic')
    with pytest.raises((cfg.ConfigFileValueError, ValueError)):
        bc_conf.validate(c)


def test_good_file_validates(tmp_path):
    path = tmp_path / 'ironic.conf'
    path.write_text('[api]\nrestrict_boot_config = false\n'
                    '[pxe]\nipxe_config_api_root_url = http://10.0.0.1:80/\n'
                    '[boot_config]\nrpc_timeout = 3\n'
                    '[%s]\nport = 9000\n' % bc_conf.JSON_RPC_GROUP)
    c = cfg.ConfigOpts()
    bc_conf.register_opts(c)
    c(['--config-file', str(path)], project='ironic')
    bc_conf.validate(c)
    assert c.boot_config.rpc_timeout == 3


def test_list_opts_covers_every_group():
    groups = {getattr(group, 'name', group): opts
              for group, opts in bc_conf.list_opts()}
    assert set(groups) == {'api', 'pxe', 'boot_config',
                           bc_conf.BOOT_API_GROUP, bc_conf.JSON_RPC_GROUP}
    assert {o.name: o.default for o in groups[bc_conf.BOOT_API_GROUP]} == {
        'host_ip': '0.0.0.0', 'port': 6390, 'unix_socket': None,
        'unix_socket_mode': None, 'threads': 64, 'backlog': 1024,
        'metrics': True}
    assert 'max_concurrent_wait' in {o.name for o in groups['boot_config']}
    assert [o.name for o in groups['api']] == ['restrict_boot_config']
    assert {o.name for o in groups['pxe']} == {
        'ipxe_use_boot_config_api', 'ipxe_config_api_root_url'}
    port = [o for o in groups[bc_conf.JSON_RPC_GROUP] if o.name == 'port']
    assert port[0].default == 8091
    # keystoneauth's session options, as Ironic lists them for [json_rpc]
    assert 'cafile' in {o.name for o in groups[bc_conf.JSON_RPC_GROUP]}


def test_unix_socket_allow_list_needs_the_proxys_header(conf):
    from ironic.conf import api
    from oslo_middleware import http_proxy_to_wsgi
    api.register_opts(conf)
    conf.set_override('unix_socket', '/run/ironic/ironic.socket', 'api')
    conf.set_override('allowed_source_cidrs', ['192.0.2.0/24'],
                      'boot_config')
    conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    with pytest.raises(cfg.ConfigFileValueError) as info:
        bc_conf.validate_sources(conf)
    for option in ('[boot_config]allowed_source_cidrs', '[api]unix_socket',
                   '[oslo_middleware]enable_proxy_headers_parsing'):
        assert option in str(info.value)
    conf.set_override('enable_proxy_headers_parsing', True,
                      'oslo_middleware')
    bc_conf.validate_sources(conf)
    conf.clear_override('enable_proxy_headers_parsing', 'oslo_middleware')
    conf.clear_override('allowed_source_cidrs', 'boot_config')
    bc_conf.validate_sources(conf)   # no allow-list: nothing to refuse


@pytest.fixture
def sources_conf(conf):
    from ironic.conf import api
    from oslo_middleware import http_proxy_to_wsgi
    api.register_opts(conf)
    conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    conf.set_override('enable_proxy_headers_parsing', True,
                      'oslo_middleware')
    return conf


def test_allow_list_behind_proxies_needs_their_networks(sources_conf,
                                                        caplog):
    conf = sources_conf
    bc_conf.validate_sources(conf)   # no allow-list: headers ignored
    assert 'ignores X-Forwarded-For and Forwarded' in caplog.text
    conf.set_override('allowed_source_cidrs', ['192.0.2.0/24'],
                      'boot_config')
    with pytest.raises(cfg.ConfigFileValueError,
                       match=r'needs \[boot_config\]trusted_proxies'):
        bc_conf.validate_sources(conf)
    conf.set_override('trusted_proxies', ['10.0.0.0/24'], 'boot_config')
    bc_conf.validate_sources(conf)
    conf.clear_override('trusted_proxies', 'boot_config')
    # On a unix socket, the peer is the proxy in front.
    conf.set_override('unix_socket', '/run/ironic/ironic.socket', 'api')
    bc_conf.validate_sources(conf)


def test_trusted_proxies_without_header_parsing_warn(sources_conf, caplog):
    conf = sources_conf
    conf.set_override('enable_proxy_headers_parsing', False,
                      'oslo_middleware')
    conf.set_override('trusted_proxies', ['10.0.0.0/24'], 'boot_config')
    bc_conf.validate_sources(conf)
    assert 'trusted_proxies has no effect' in caplog.text


def test_bad_trusted_proxy_is_a_start_up_error(conf):
    conf.set_override('trusted_proxies', ['10.0.0.0/33'], 'boot_config')
    with pytest.raises(cfg.ConfigFileValueError,
                       match=r'Invalid \[boot_config\]trusted_proxies'):
        bc_conf.validate(conf)


def test_the_former_names_of_the_root_configs_options_are_read(tmp_path):
    path = tmp_path / 'ironic.conf'
    path.write_text('[boot_config]\nroot_script_retries = 7\n'
                    'root_script_retry_delay = 9\n')
    c = cfg.ConfigOpts()
    bc_conf.register_opts(c)
    c(['--config-file', str(path)], project='ironic',
      default_config_files=[])
    assert (c.boot_config.root_config_retries,
            c.boot_config.root_config_retry_delay) == (7, 9)
