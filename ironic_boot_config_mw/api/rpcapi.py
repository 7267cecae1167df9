"""Client of the shim's RPC API, aimed at the node's owning conductor."""

import functools
import inspect

from ironic.common.json_rpc import client as json_rpc
from ironic.common import rpc as ironic_rpc
from ironic.conductor import rpcapi as conductor_rpcapi
from ironic.objects import base as objects_base
from oslo_log import log
import oslo_messaging as messaging
from oslo_utils import netutils

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import rpc

LOG = log.getLogger(__name__)

#: Where the answer came from when the provider ran in this very process.
LOCAL = 'local'


class BootConfigAPI:
    """Calls ``get_boot_config`` on the shim beside a node's conductor.

    The transport follows Ironic's ``[DEFAULT]rpc_transport``: ``json-rpc``
    to the shim's own server (``[boot_config_json_rpc]``), ``oslo`` to topic
    ``ironic.boot_config`` with the conductor's host as server, ``none`` (the
    all-in-one ``ironic`` process) straight into the provider, in-process.
    """

    def __init__(self, conf):
        self._transport = conf.rpc_transport
        self._timeout = conf.boot_config.rpc_timeout
        self._local = None
        if self._transport == 'none':
            # NOTE: imported here: only the all-in-one process runs the
            # conductor side in the API.
            from ironic_boot_config_mw.providers import dispatch
            registry = dispatch.ProviderRegistry(conf.enabled_boot_interfaces)
            self._local = functools.partial(dispatch.get_boot_config,
                                            registry=registry)
            return

        # Ironic's own hash ring, exactly as the conductor API uses it.
        self._ring = conductor_rpcapi.ConductorAPI()
        serializer = objects_base.IronicObjectSerializer()
        if self._transport == 'json-rpc':
            self._port = conf[bc_conf.JSON_RPC_GROUP].port
            self._client = _json_rpc_client(conf, serializer, self._timeout)
        else:
            target = messaging.Target(topic=rpc.TOPIC,
                                      version=rpc.RPC_API_VERSION)
            self._client = ironic_rpc.get_client(
                target, version_cap=rpc.RPC_API_VERSION,
                serializer=serializer)

    def get_boot_config(self, context, node, name):
        """Ask the node's owning conductor for a boot configuration.

        :returns: ``(BootConfig, host that answered)``
        :raises: Ironic NotFound with the shim's reason, NoValidHost when
            no conductor is alive, transport errors and timeouts as raised
            by the transport.
        """
        if self._local is not None:
            return self._local(context, node.uuid, name,
                               boot_interface=node.boot_interface), LOCAL
        host = self._ring.get_conductor_for(node)
        data = self._prepare(host).call(context, rpc.METHOD,
                                        node_id=node.uuid, name=name,
                                        boot_interface=node.boot_interface)
        return rpc.from_wire(data), host

    def _prepare(self, host):
        if self._transport == 'json-rpc':
            # The ring holds the conductor's own JSON-RPC address, possibly
            # host:port; the shim beside it listens on our port.
            hostname = netutils.parse_host_port(host)[0]
            return self._client.prepare(
                'ironic.%s:%d' % (netutils.escape_ipv6(hostname), self._port),
                version=rpc.RPC_API_VERSION)
        return self._client.prepare(server=host, timeout=self._timeout)


def _json_rpc_client(conf, serializer, timeout):
    if 'conf_group' in inspect.signature(json_rpc.Client).parameters:
        # The session's timeout bounds connect and each read: rpc_timeout is
        # the one knob operators turn.
        conf.set_override('timeout', timeout, group=bc_conf.JSON_RPC_GROUP)
        return json_rpc.Client(serializer, version_cap=rpc.RPC_API_VERSION,
                               conf_group=bc_conf.JSON_RPC_GROUP)
    # NOTE: Ironic 29.x's client has no option group of its own: the shims
    # are reached with [json_rpc]'s auth, TLS and timeout.
    LOG.warning('This Ironic release has no JSON-RPC option groups: the '
                'boot config shims are called with [json_rpc] auth, TLS and '
                'timeout settings; [boot_config]rpc_timeout is not applied.')
    return json_rpc.Client(serializer, version_cap=rpc.RPC_API_VERSION)
