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

"""The RPC contract between the API and the shim: ONE source of truth.

Both sides import the names below; nothing about the wire is spelled twice.
"""

import base64

from ironic.common import exception

from ironic_boot_config_mw.providers import base

#: oslo.messaging topic of the shims; the server: the conductor's
#: [DEFAULT]host.
TOPIC = 'ironic.boot_config'
#: Version of the shim's RPC API.
#:
#: 1.0 - get_boot_config(context, node_id, name)
#: 1.1 - get_boot_config(..., boot_interface=None): the API passes the boot
#:       interface it read, so a provider that needs no task is served
#:       without one.
#: 1.2 - ping(context): is the shim there, and what does it serve?
RPC_API_VERSION = '1.2'
#: The shim's methods, each with the version a call of it is sent as: the
#: oldest that has it as called (as Ironic's rpcapi pins each method).
#: oslo.messaging refuses a call of a newer version than the server's, so
#: a shim of the release before still serves every boot, and the shims and
#: the APIs may be upgraded in either order.
METHOD = 'get_boot_config'
METHOD_VERSION = '1.1'
PING = 'ping'
PING_VERSION = '1.2'


def to_wire(config):
    """A :class:`BootConfig` as ``[content_type, base64 body]``: JSON-safe
    for any body. A list, not a dict: Ironic's JSON-RPC server runs
    ``mask_dict_password`` over dict results on every call."""
    return [config.content_type, base64.b64encode(config.body).decode('ascii')]


def from_wire(data):
    """The inverse of :func:`to_wire`."""
    content_type, body = data
    return base.BootConfig(body=base64.b64decode(body),
                           content_type=content_type)


def ping_reply(registry, host):
    """What ``ping`` answers: the shim's host, version and what it serves."""
    return dict(registry.status(), host=host, rpc_api_version=RPC_API_VERSION)


def wire_not_found(exc):
    """Ironic's own ``NotFound`` with the message of ``exc``.

    The JSON-RPC client re-creates only ``ironic.common.exception`` classes
    and oslo.messaging only allowed modules; anything else arrives as an
    "unexpected error" logged at ERROR. The API needs the reason, not the
    class.
    """
    return exception.NotFound(str(exc))
