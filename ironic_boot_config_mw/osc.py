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

"""``baremetal boot config explain|shims``: the operators' commands.

An OpenStackClient plugin as python-ironicclient's own commands are (the
``openstack.baremetal.v1`` entry points): ``baremetal ...`` and
``openstack baremetal ...`` both, with the client they already configure
(``--os-cloud``, Keystone, ``http_basic``, ``none`` with ``--os-endpoint``)
and every output format (``-f json``, ``-f yaml``, ``-c <field>``). They
read the filter's authenticated ``/v1/boot-explain`` on Ironic's API (see
:mod:`ironic_boot_config_mw.api.explain`); python-ironicclient is needed
(``pip install ironic-boot-config-mw[cli]``).
"""

import urllib.parse

from ironicclient.common.apiclient import exceptions as client_exceptions
from osc_lib import exceptions as osc_exceptions
from osc_lib.command import command

# The paths only: the CLI loads nothing of Ironic.
from ironic_boot_config_mw import api

NOT_SERVED = ('This Ironic API does not serve %s: put the boot_config '
              'filter in front of it ([api]middleware = boot_config, or its '
              'WSGI pipeline)')


def _explain(app, path):
    """GET the explain endpoint through the configured baremetal client."""
    http = app.client_manager.baremetal.http_client
    try:
        _resp, body = http.json_request('GET', path)
    except client_exceptions.NotFound:
        raise osc_exceptions.CommandError(
            NOT_SERVED % api.EXPLAIN_PREFIX) from None
    if not isinstance(body, dict):
        raise osc_exceptions.CommandError(
            NOT_SERVED % api.EXPLAIN_PREFIX)
    return body


class ExplainBootConfig(command.ShowOne):
    """Explain what /v1/boot answers a machine, why, and what it last got.

    The same path as /v1/boot (lookup, state, owner, shim, provider),
    without the body, and the node's latest record of a served
    configuration (whatever its state now).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'mac', metavar='<mac>',
            help='A MAC address of the machine, as its firmware sends it.')
        parser.add_argument(
            '--name', default='boot.ipxe', metavar='<name>',
            help='The configuration the firmware asks for: boot.ipxe '
                 '(iPXE, the default) or grub.cfg (GRUB).')
        parser.add_argument(
            '--source', metavar='<ip>',
            help='Also say whether a request from this address would be '
                 'admitted ([boot_config]allowed_source_cidrs).')
        return parser

    def take_action(self, parsed_args):
        path = '%s/%s/%s' % (api.EXPLAIN_PREFIX,
                             urllib.parse.quote(parsed_args.mac, safe=''),
                             urllib.parse.quote(parsed_args.name, safe=''))
        if parsed_args.source:
            path += '?' + urllib.parse.urlencode(
                {'source': parsed_args.source})
        answer = _explain(self.app, path)
        last = answer.pop('last_served', None) or {}
        fields = {'answer': answer.pop('status', None)}
        fields.update(answer)
        for key in ('at', 'name', 'served_by', 'owner', 'source', 'bytes',
                    'sha256', 'event'):
            if key in last or key in ('at', 'name'):
                fields['last_served_' + key] = last.get(key)
        return tuple(zip(*fields.items())) or ((), ())


class ListBootConfigShims(command.Lister):
    """List the shim beside each online conductor and what it serves."""

    COLUMNS = ('Conductor', 'Alive', 'Providers', 'Native Interfaces',
               'RPC API Version', 'Reason')

    def take_action(self, parsed_args):
        shims = _explain(self.app, api.EXPLAIN_PREFIX).get('shims', {})
        rows = [(host, shim.get('alive', False),
                 ', '.join(shim.get('providers', ())),
                 ', '.join(shim.get('native', ())),
                 shim.get('rpc_api_version', ''), shim.get('reason', ''))
                for host, shim in sorted(shims.items())]
        return self.COLUMNS, rows
