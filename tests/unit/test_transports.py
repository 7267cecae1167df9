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

"""The API's client and the shim's server, in one process, over each real
transport: Ironic's JSON-RPC (cheroot over loopback) and oslo.messaging over
the local RabbitMQ. The owning conductor comes from Ironic's real hash ring.
"""

from ironic import objects
from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.common import hash_ring
from ironic.common import rpc as ironic_rpc
from ironic.conf import CONF
from ironic.tests.unit.db import utils as db_utils
import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts
import pytest

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw.api import rpcapi
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.shim import manager
from ironic_boot_config_mw.shim import service
from tests.harness import net
from tests.harness import services
from tests.harness import tls
from tests.unit import fakes


@pytest.fixture(scope='module')
def conductor(ironic_db):
    """This process, registered as the only fake-hardware conductor."""
    cond = db_utils.create_test_conductor(hostname=fakes.HOST, drivers=[])
    from ironic.db import api as db_api
    db_api.get_instance().register_conductor_hardware_interfaces(
        cond.id, [{'hardware_type': 'fake-hardware', 'interface_type': 'boot',
                   'interface_name': 'ipxe', 'default': True}])
    hash_ring.HashRingManager().reset()
    yield
    db_api.get_instance().unregister_conductor(fakes.HOST)
    hash_ring.HashRingManager().reset()


def serve(transport, overrides, tmp_path):
    """Start the shim's real RPC server in this process."""
    overrides('rpc_transport', 'oslo' if transport == 'oslo' else 'json-rpc')
    overrides('host', fakes.HOST)
    if transport == 'oslo':
        services.require('rabbitmq')
        # oslo.messaging registers its options when a transport is made.
        CONF.register_opts(dict(messaging_opts.list_opts())[None])
        overrides('transport_url', 'rabbit://guest:guest@127.0.0.1:5672/')
        ironic_rpc.init(CONF)
    else:
        group = bc_conf.JSON_RPC_GROUP
        overrides('host_ip', fakes.HOST, group)
        overrides('port', net.free_port(fakes.HOST), group)
        overrides('auth_strategy', 'noauth', group)
        if transport == 'json-rpc-basic':
            import bcrypt
            htpasswd = tmp_path / 'htpasswd'
            htpasswd.write_text('shim:%s\n' % bcrypt.hashpw(
                b'secret', bcrypt.gensalt(4)).decode())
            overrides('auth_strategy', 'http_basic', group)
            overrides('http_basic_auth_user_file', str(htpasswd), group)
            register_plugin_opts('http_basic', group)
            overrides('username', 'shim', group)
            overrides('password', 'secret', group)
        elif transport == 'json-rpc-tls':
            cert, key = tls.self_signed(str(tmp_path), [fakes.HOST])
            overrides('use_ssl', True, group)
            overrides('cafile', cert, group)
            if 'cert_file' in CONF[group]:
                overrides('cert_file', cert, group)
                overrides('key_file', key, group)
            else:
                # Ironic 2025.1: the JSON-RPC server's TLS is oslo.service's
                # [ssl] section.
                from oslo_service import sslutils
                sslutils.register_opts(CONF)
                overrides('cert_file', cert, 'ssl')
                overrides('key_file', key, 'ssl')
    overrides('enabled_boot_interfaces', ['ipxe'])
    svc = service.ShimRPCService(fakes.HOST)
    svc.start()
    return svc


def register_plugin_opts(plugin, group):
    from keystoneauth1 import loading
    opts = loading.get_auth_plugin_conf_options(plugin)
    CONF.register_opts([o for o in opts if o.dest not in CONF[group]], group)


TRANSPORTS = ['json-rpc', 'json-rpc-basic', 'json-rpc-tls', 'oslo']


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_round_trip(transport, conductor, make_node, overrides, tmp_path):
    node, _mac = make_node()
    script = b'#!ipxe\n# for %s\n' % node.uuid.encode()
    fakes.write_ipxe_config(node.uuid, script)
    svc = serve(transport, overrides, tmp_path)
    try:
        client = rpcapi.ShimAPI(CONF)
        ctx = ironic_context.get_admin_context()
        node_obj = objects.Node.get_by_uuid(ctx, node.uuid)
        for _ in range(3):  # kept-alive connections are reused
            config, host = client.get_boot_config(ctx, node_obj, 'boot.ipxe')
            assert config == base.BootConfig(script, 'text/plain')
            assert host == fakes.HOST
        with pytest.raises(ironic_exception.NotFound,
                           match='grub.cfg is not served'):
            client.get_boot_config(ctx, node_obj, 'grub.cfg')
        assert client.ping(ctx, fakes.HOST) == {
            'host': fakes.HOST, 'providers': ['ipxe'], 'native': [],
            'rpc_api_version': '1.2'}
        assert client.conductors() == [fakes.HOST]
    finally:
        svc.stop()


class OldShimManager(manager.ShimManager):
    """The shim of the release before: RPC 1.1, no ping."""

    target = messaging.Target(version='1.1')
    ping = None


@pytest.mark.parametrize('transport', ['json-rpc', 'oslo'])
def test_a_shim_of_the_release_before_serves_every_boot(
        transport, conductor, make_node, overrides, tmp_path, monkeypatch):
    """Each call is sent as the oldest version that has it: a 1.1 shim
    answers get_boot_config; only ping, which it lacks, fails."""
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nold shim\n')
    monkeypatch.setattr(manager, 'ShimManager', OldShimManager)
    svc = serve(transport, overrides, tmp_path)
    try:
        client = rpcapi.ShimAPI(CONF)
        ctx = ironic_context.get_admin_context()
        node_obj = objects.Node.get_by_uuid(ctx, node.uuid)
        config, _host = client.get_boot_config(ctx, node_obj, 'boot.ipxe')
        assert config.body == b'#!ipxe\nold shim\n'
        with pytest.raises(Exception):
            client.ping(ctx, fakes.HOST)
    finally:
        svc.stop()


def test_wrong_password_is_an_error_not_a_config(conductor, make_node,
                                                 overrides, tmp_path):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid)
    svc = serve('json-rpc-basic', overrides, tmp_path)
    try:
        overrides('password', 'wrong', bc_conf.JSON_RPC_GROUP)
        client = rpcapi.ShimAPI(CONF)
        with pytest.raises(ironic_exception.IronicException, match='401'):
            client.get_boot_config(ironic_context.get_admin_context(), node,
                                   'boot.ipxe')
    finally:
        svc.stop()


def test_reconnects_when_the_shim_closed_a_kept_alive_connection(overrides):
    """A server that closes each connection after one answer (as a shim
    that restarted, or that timed an idle connection out): every call after
    the first meets a dead kept-alive connection and must reconnect."""
    import http.server
    import json
    import threading

    answers = []

    class OneShot(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_POST(self):
            request = json.loads(self.rfile.read(
                int(self.headers['Content-Length'])))
            body = json.dumps({'jsonrpc': '2.0', 'id': request['id'],
                               'result': ['text/plain', 'b2s=']}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            answers.append((request['params']['node_id'],
                            request['params']['rpc.version']))
            self.close_connection = True   # without saying so

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((fakes.HOST, 0), OneShot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        overrides('rpc_transport', 'json-rpc')
        overrides('auth_strategy', 'noauth', bc_conf.JSON_RPC_GROUP)
        overrides('port', server.server_address[1], bc_conf.JSON_RPC_GROUP)
        client = rpcapi.ShimAPI(CONF)._call.args[0]
        ctx = ironic_context.get_admin_context()
        for n in range(3):
            assert client.call(ctx, fakes.HOST, 'get_boot_config', '1.1',
                               node_id='n%d' % n) == ['text/plain', 'b2s=']
    finally:
        server.shutdown()
        server.server_close()
    assert answers == [('n0', '1.1'), ('n1', '1.1'), ('n2', '1.1')]


@pytest.mark.parametrize('ring_host,expected', [
    ('127.0.0.2', '127.0.0.2'),
    ('127.0.0.2:18089', '127.0.0.2'),
    ('conductor-1.example.com', 'conductor-1.example.com'),
    ('conductor-1.example.com:8089', 'conductor-1.example.com'),
    ('[::1]:8089', '::1'),
    ('::1', '::1'),
])
def test_the_shim_is_on_the_conductors_host(ring_host, expected):
    assert rpcapi._shim_host(ring_host) == expected


def test_rpc_timeout_bounds_each_socket_operation(overrides):
    overrides('rpc_transport', 'json-rpc')
    overrides('rpc_timeout', 3, 'boot_config')
    overrides('auth_strategy', 'noauth', bc_conf.JSON_RPC_GROUP)
    client = rpcapi.ShimAPI(CONF)._call.args[0]
    assert client._timeout == 3


def test_none_transport_runs_the_provider_in_process(make_node, overrides):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nlocal\n')
    overrides('rpc_transport', 'none')
    client = rpcapi.ShimAPI(CONF)
    config, host = client.get_boot_config(
        ironic_context.get_admin_context(), node, 'boot.ipxe')
    assert (config.body, host) == (b'#!ipxe\nlocal\n', rpcapi.LOCAL)
