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

"""``GET /v1/boot-explain/<MAC>/<NAME>``: why would /v1/boot answer 404?

For operators only. The filter runs outside Ironic's authentication, so it
lets Ironic's own stack authenticate the request: the request goes through
the wrapped application unchanged; a refusal (401, or 403 from auth) is
returned exactly as Ironic made it, while an authenticated request reaches
pecan, which knows no such route (404). Only then is the caller's identity,
as the auth middleware left it in the environment, checked against the
admin-only policy rule ``baremetal:boot_config:explain``, registered on
Ironic's own enforcer (so a policy file can change it; with ``noauth`` and
``http_basic``, Ironic allows every authenticated caller everything).

The answer runs the very same path as /v1/boot (lookup, state, owning
conductor, shim, provider) and says what it would answer and why, without
the body, and what the node of that MAC was last served, whatever its state
now (its history: see ``history.py``). ``GET /v1/boot-explain`` alone pings
the shim beside every online conductor: is it there, what does it serve.
Unauthenticated callers never learn any of it.
"""

import json
import urllib.parse

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.common import policy as ironic_policy
from oslo_log import log
from oslo_policy import policy as oslo_policy

from ironic_boot_config_mw import api
from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import history
from ironic_boot_config_mw.api import request

LOG = log.getLogger(__name__)

RULE = 'baremetal:boot_config:explain'


def register_rule():
    """Register the rule's default on Ironic's enforcer (once)."""
    try:
        ironic_policy.get_enforcer().register_default(
            oslo_policy.DocumentedRuleDefault(
                name=RULE, check_str=ironic_policy.SYSTEM_ADMIN,
                description='Explain why GET /v1/boot/<MAC>/<NAME> would '
                            'answer 404.',
                operations=[{'path': api.EXPLAIN_PREFIX
                             + '/{mac}/{name}', 'method': 'GET'}]))
    except oslo_policy.DuplicatePolicyError:
        pass


class Explainer:
    """The WSGI app of the explain endpoint.

    :param application: Ironic's application (its auth stack included).
    :param resolve: ``path -> (node, name, BootConfig, host)``, raising
        :class:`~ironic_boot_config_mw.exception.BootConfigFailure`.
    :param sources: the filter's SourceFilter (``?source=`` is checked).
    :param client: the filter's RPC client (``ping``).
    """

    def __init__(self, application, resolve, sources, client):
        self.application = application
        self.resolve = resolve
        self.sources = sources
        self.client = client
        register_rule()

    def __call__(self, environ, start_response):
        if environ.get('REQUEST_METHOD') != 'GET':
            return json_reply(start_response, '405 Method Not Allowed',
                              {'error': 'only GET'}, [('Allow', 'GET')])
        status, headers, body = _through(self.application, environ)
        if not status.startswith('404'):
            # Ironic's authentication refused (or answered): as it did.
            start_response(status, headers)
            return [body]
        context = ironic_context.RequestContext.from_environ(environ)
        try:
            ironic_policy.authorize(RULE, {}, context.to_policy_values())
        except ironic_exception.HTTPForbidden:
            return json_reply(start_response, '403 Forbidden',
                              {'error': 'forbidden by policy %s' % RULE})
        if environ['PATH_INFO'].rstrip('/') == api.EXPLAIN_PREFIX:
            return json_reply(start_response, '200 OK', self.shims(context))
        return json_reply(start_response, '200 OK', self.explain(environ))

    def shims(self, context):
        """Ping the shim beside every online conductor."""
        answer = {}
        for host in self.client.conductors():
            try:
                answer[host] = dict(self.client.ping(context, host),
                                    alive=True)
            except Exception as exc:
                answer[host] = {'alive': False, 'reason': '%s: %s' % (
                    type(exc).__name__, exc)}
        LOG.info('Explained the shims: %s',
                 {host: a['alive'] for host, a in answer.items()})
        return {'shims': answer}

    def explain(self, environ):
        path = api.PREFIX + environ['PATH_INFO'][
            len(api.EXPLAIN_PREFIX):]
        answer = {'path': path}
        try:
            node, _name, config, host = self.resolve(path)
        except exception.BootConfigFailure as failure:
            answer.update(status=404, node=failure.node, reason='%s: %s' % (
                type(failure.cause).__name__, failure.cause))
        else:
            answer.update(status=200, node=node.uuid,
                          provision_state=node.provision_state,
                          boot_interface=node.boot_interface,
                          conductor=host, content_type=config.content_type,
                          bytes=len(config.body))
        query = dict(urllib.parse.parse_qsl(environ.get('QUERY_STRING', '')))
        if 'source' in query:
            answer['source'] = query['source']
            answer['source_allowed'] = self.sources.allows(query['source'])
        answer['last_served'] = _last_served(path)
        LOG.info('Explained %(path)s: %(status)s', answer)
        return answer


def _last_served(path):
    """The node's latest history record of a served configuration, or None
    (no such MAC or record, a malformed path, the database failing)."""
    try:
        mac, _name = request.parse(path)
        return history.last_served(mac)
    except exception.MalformedPath:
        return None
    except Exception as exc:
        LOG.warning('Explain: cannot read the history of %(path)s: '
                    '%(kind)s: %(error)s',
                    {'path': request.printable(path),
                     'kind': type(exc).__name__, 'error': exc})
        return None


def _through(application, environ):
    """Call ``application``; return its status, headers and whole body."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured.update(status=status, headers=headers)

    result = application(environ, start_response)
    try:
        body = b''.join(result)
    finally:
        if hasattr(result, 'close'):
            result.close()
    return captured['status'], captured['headers'], body


def json_reply(start_response, status, data, extra_headers=()):
    body = json.dumps(data, sort_keys=True).encode()
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(body))),
                            ('Cache-Control', 'no-store')]
                   + list(extra_headers))
    return [body]
