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

"""Client of the shim's RPC API, aimed at the node's owning conductor."""

import functools
import inspect
import time

from ironic.common import exception as ironic_exception
from ironic.common import rpc as ironic_rpc
from ironic.common.json_rpc import client as ironic_json_rpc_client
from ironic.conductor import rpcapi as conductor_rpcapi
from ironic.db import api as dbapi
from ironic.objects import base as objects_base
from oslo_log import log
import oslo_messaging as messaging
from oslo_utils import netutils

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw import rpc
from ironic_boot_config_mw.api import circuit
from ironic_boot_config_mw.api import jsonrpc
from ironic_boot_config_mw.api import outcomes

LOG = log.getLogger(__name__)

#: Where the answer came from when the provider ran in this very process.
LOCAL = 'local'


class ShimAPI:
    """Calls the shim beside a node's conductor: ``get_boot_config`` (and
    ``ping``, for operators).

    The transport follows Ironic's ``[DEFAULT]rpc_transport``: ``json-rpc``
    to the shim's own server (``[boot_config_json_rpc]``), ``oslo`` to topic
    ``ironic.boot_config`` with the conductor's host as server, ``none`` (the
    all-in-one ``ironic`` process) straight into the provider, in-process.

    Every transport but ``none`` goes through a :class:`~ironic_boot_config_
    mw.api.circuit.Circuit` per conductor: a shim that failed or hangs
    fails its calls at once.

    :param observer: told how long each call took (:class:`~ironic_boot_
        config_mw.api.outcomes.Observer`).
    """

    def __init__(self, conf, observer=None):
        self.observer = observer or outcomes.Observer()
        self._timeout = conf.boot_config.rpc_timeout
        self._ring = None
        self.circuit = None
        if conf.rpc_transport == 'none':
            # NOTE: imported here: only the all-in-one process runs the
            # conductor side in the API.
            from ironic_boot_config_mw import takeover
            from ironic_boot_config_mw.providers import dispatch
            registry = dispatch.ProviderRegistry(conf.enabled_boot_interfaces)
            self.takeover = takeover.from_conf(conf, conf.host, registry)
            if self.takeover is not None:
                self.takeover.start()
            self._call = functools.partial(_local_call, registry,
                                           self.takeover)
            return
        # Ironic's own hash ring, exactly as the conductor API uses it.
        self._ring = conductor_rpcapi.ConductorAPI()
        self.circuit = circuit.Circuit(conf.boot_config.rpc_connect_timeout,
                                       conf.boot_config.shim_retry_interval)
        if conf.rpc_transport != 'json-rpc':
            self._call = self._oslo_call()
        elif bc_conf.json_rpc_auth_strategy(conf) == 'keystone':
            self._call = self._ironic_json_rpc_call(conf)
        else:
            client = jsonrpc.KeepAliveClient(
                conf, bc_conf.JSON_RPC_GROUP, self._timeout,
                conf.boot_config.rpc_connect_timeout)
            self._call = functools.partial(_keep_alive_call, client)

    def get_boot_config(self, context, node, name):
        """Ask the node's owning conductor for a boot configuration.

        :param node: anything with ``uuid``, ``driver``, ``conductor_group``
            and ``boot_interface``.
        :returns: ``(BootConfig, host that answered)``
        :raises: Ironic NotFound with the shim's reason, NoValidHost when
            no conductor is alive, transport errors and timeouts as raised
            by the transport, ShimUnavailable when its circuit is open.
        """
        host = LOCAL if self._ring is None else \
            self._ring.get_conductor_for(node)
        params = dict(node_id=node.uuid, name=name,
                      boot_interface=node.boot_interface)
        call = self._call
        if self.circuit is not None:
            # Refused at once by an open circuit: no call, nothing timed.
            call = functools.partial(self.circuit.call, host, self._call)
        started, outcome = time.monotonic(), 'failed'
        try:
            data = call(context, host, rpc.METHOD, rpc.METHOD_VERSION,
                        **params)
            outcome = 'answered'
        except ironic_exception.NotFound:
            outcome = 'not_found'
            raise
        except exception.ShimUnavailable:
            outcome = None
            raise
        finally:
            if outcome is not None:
                self.observer.rpc(host, outcome, time.monotonic() - started)
        return rpc.from_wire(data), host

    def conductors(self):
        """The hosts whose shims serve: the online conductors, or this
        process itself with ``rpc_transport = none``."""
        if self._ring is None:
            return [LOCAL]
        return sorted(dbapi.get_instance().get_online_conductors())

    def ping(self, context, host):
        """The shim beside the conductor ``host`` (as on the ring): alive?

        :returns: what the shim says of itself (see the shim's ``ping``).

        Never refused by the circuit (it is the probe); an answer closes it.
        """
        answer = self._call(context, host, rpc.PING, rpc.PING_VERSION)
        if self.circuit is not None:
            self.circuit.answered(host)
        return answer

    def _oslo_call(self):
        target = messaging.Target(topic=rpc.TOPIC,
                                  version=rpc.RPC_API_VERSION)
        client = ironic_rpc.get_client(
            target, version_cap=rpc.RPC_API_VERSION,
            serializer=objects_base.IronicObjectSerializer())

        def call(context, host, method, version, read_timeout=None,
                 **params):
            return client.prepare(server=host, version=version,
                                  timeout=read_timeout or self._timeout).call(
                context, method, **params)
        return call

    def _ironic_json_rpc_call(self, conf):
        """Ironic's own client: for keystone auth (tokens)."""
        serializer = objects_base.IronicObjectSerializer()
        if 'conf_group' in inspect.signature(
                ironic_json_rpc_client.Client).parameters:
            # The session's timeout bounds connect and each read.
            conf.set_override('timeout', self._timeout,
                              group=bc_conf.JSON_RPC_GROUP)
            client = ironic_json_rpc_client.Client(
                serializer, version_cap=rpc.RPC_API_VERSION,
                conf_group=bc_conf.JSON_RPC_GROUP)
        else:
            LOG.warning('This Ironic release has no JSON-RPC option groups: '
                        'with keystone auth the boot config shims are called '
                        'with [json_rpc] auth, TLS and timeout settings.')
            client = ironic_json_rpc_client.Client(
                serializer, version_cap=rpc.RPC_API_VERSION)
        port = getattr(conf, bc_conf.JSON_RPC_GROUP).port

        def call(context, host, method, version, read_timeout=None,
                 **params):
            # NOTE: the session's timeout only (no per-call one): the
            # circuit's open and hung rules apply, not read_timeout.
            topic = 'ironic.%s:%d' % (netutils.escape_ipv6(_shim_host(host)),
                                      port)
            return client.prepare(topic, version=version).call(
                context, method, **params)
        return call


def _shim_host(ring_host):
    """The host of a conductor's ring entry (``host``, or ``host:port`` with
    the conductor's own JSON-RPC port): the shim beside it listens there."""
    return netutils.parse_host_port(ring_host)[0]


def _keep_alive_call(client, context, host, method, version, **params):
    return client.call(context, _shim_host(host), method, version, **params)


def _local_call(registry, takeover, context, host, method, version,
                read_timeout=None, **params):
    """The shim's methods, in this process (rpc_transport = none)."""
    from ironic_boot_config_mw.providers import dispatch
    if method == rpc.PING:
        return rpc.ping_reply(registry, host)
    return rpc.to_wire(dispatch.get_boot_config(
        context, registry=registry, takeover=takeover, **params))
