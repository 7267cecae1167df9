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

"""WSGI filter serving the Boot configuration API, ``/v1/boot``.

``GET``/``HEAD /v1/boot/<MAC>/<NAME>`` returns the boot configuration
``NAME`` (e.g. ``boot.ipxe``) of the node owning the port with that MAC,
produced by the node's owning conductor. Firmware cannot authenticate nor
negotiate microversions, so this subtree has neither; everything else passes
untouched to Ironic, whose authentication keeps holding for it.

Security: the route is unauthenticated and reaches Ironic's database and
conductors. Every failure -- refused source, rate limit, concurrency cap,
malformed path, unknown MAC, refused state, unknown name, missing provider,
unreachable conductor, timeout, database error -- answers the same 404, byte
for byte, so callers learn nothing about nodes; the real reason goes to the
log, and to operators through the authenticated ``/v1/boot-explain`` (see
``explain.py``). The error body is one ``#`` comment line: GRUB runs the body
of an error reply as a config script. Request bodies are never read; query
strings are ignored.

Load it with ``[api]middleware = boot_config`` (Ironic 2026.1 and newer; it
wraps outermost, outside auth) or as the ``boot_config`` paste filter.
"""

import time
import typing

from ironic.common import context as ironic_context
from ironic.common import metrics_utils
from oslo_config import cfg
from oslo_log import log
from oslo_middleware import http_proxy_to_wsgi

from ironic_boot_config_mw import api
from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process
from ironic_boot_config_mw.api import admission
from ironic_boot_config_mw.api import explain
from ironic_boot_config_mw.api import history
from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import outcomes
from ironic_boot_config_mw.api import request
from ironic_boot_config_mw.api import rpcapi
from ironic_boot_config_mw.api import startup

LOG = log.getLogger(__name__)

_NOT_FOUND_BODY = b'# Not Found\n'
_NOT_FOUND_HEADERS = [('Content-Type', 'text/plain; charset=UTF-8'),
                      ('Content-Length', str(len(_NOT_FOUND_BODY))),
                      ('Cache-Control', 'no-store')]
_NOT_ALLOWED_BODY = b'# Method Not Allowed\n'
_NOT_ALLOWED_HEADERS = [('Content-Type', 'text/plain; charset=UTF-8'),
                        ('Content-Length', str(len(_NOT_ALLOWED_BODY))),
                        ('Cache-Control', 'no-store'),
                        ('Allow', 'GET, HEAD')]
_METHODS = frozenset(['GET', 'HEAD'])

#: PEP 3333's shapes (the standard library's wsgiref.types is 3.11+).
Environ = dict[str, typing.Any]
StartResponse = typing.Callable[..., typing.Any]
WSGIApp = typing.Callable[[Environ, StartResponse], typing.Iterable[bytes]]


class BootConfigMiddleware:
    """Serves ``/v1/boot`` in front of Ironic's API application.

    :param application: the WSGI application to wrap (Ironic's API).
    :param conf: an oslo.config ``ConfigOpts``; Ironic's ``CONF`` if None.
    :param find_node: callable ``(context, mac) -> node``; default: a
        :class:`~ironic_boot_config_mw.api.lookup.NodeLookup`.
    :param client: object with ``get_boot_config(context, node, name)``
        returning ``(BootConfig, host)`` (and ``conductors()``, ``ping()``
        for the explain endpoint); default: a
        :class:`~ironic_boot_config_mw.api.rpcapi.ShimAPI`.
    :param listener_group: the option group of the server in front of it:
        ``api`` (Ironic's API), or ``boot_config_api`` (the boot API
        process).
    :param max_concurrent_requests: the cap; None:
        ``[boot_config]max_concurrent_requests``.
    :param observer: an :class:`~ironic_boot_config_mw.api.outcomes.
        Observer` told of every request and every call to a shim (the boot
        API process's Prometheus metrics).
    """

    def __init__(self, application: WSGIApp,
                 conf: typing.Optional[cfg.ConfigOpts] = None,
                 find_node: typing.Optional[typing.Callable[..., typing.Any]]
                 = None, client: typing.Any = None,
                 listener_group: str = 'api',
                 max_concurrent_requests: typing.Optional[int] = None,
                 observer: typing.Optional[outcomes.Observer] = None) -> None:
        conf = cfg.CONF if conf is None else conf
        self.listener_group = listener_group
        self.observer = observer or outcomes.Observer()
        try:
            self._configure(application, conf, find_node, client,
                            max_concurrent_requests)
        except startup.ERRORS as exc:
            error = exc
        else:
            return
        # Outside the except block: re-raised there, the error would come
        # with "During handling of the above exception" and be said twice.
        startup.refuse(error)

    def _configure(self, application, conf, find_node, client,
                   max_concurrent_requests):
        bc_conf.register_opts(conf)
        bc_conf.inherit_json_rpc(conf)
        # Ironic's app registers it too; a paste pipeline may not.
        conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
        bc_conf.validate(conf)
        bc_conf.validate_sources(conf, self.listener_group)
        _refuse_without_database(conf, self.listener_group)
        self.application = application
        self._conf = conf
        options = conf.boot_config
        self.client_address = admission.ClientAddress(
            conf.oslo_middleware.enable_proxy_headers_parsing,
            bc_conf.source_networks(conf, 'trusted_proxies'),
            bool(getattr(conf, self.listener_group).unix_socket))
        self.sources = admission.SourceFilter(bc_conf.source_networks(conf))
        self.rate = admission.RateLimiter(options.rate_limit,
                                          options.rate_limit_burst,
                                          options.rate_limit_sources)
        if max_concurrent_requests is None:
            max_concurrent_requests = options.max_concurrent_requests
        self.cap = admission.ConcurrencyCap(max_concurrent_requests,
                                            options.max_concurrent_wait)
        self.refusals = admission.RefusalLog()
        self.find_node = find_node or lookup.NodeLookup(
            restrict=conf.api.restrict_boot_config,
            max_connections=conf.database.max_pool_size,
            database_url=conf.database.connection)
        self.client = client or rpcapi.ShimAPI(conf, self.observer)
        self.history = None
        if options.record_served and getattr(conf.conductor, 'node_history',
                                             True):
            self.history = history.ServedHistory(
                '%s@%s' % (self._program(), conf.host),
                options.record_served_interval)
        self.explain = explain.Explainer(application, self.resolve,
                                         self.sources, self.client)
        # Ironic's own metrics: statsd or collector as [metrics] says.
        self.metrics = metrics_utils.get_metrics_logger('boot_config',
                                                        host=conf.host)
        if process.conductor_in_process():
            # The all-in-one ironic: its conductor renders the root configs.
            # NOTE: imported here: root_config imports conductor-side Ironic
            # modules, which ironic-api must not load.
            from ironic_boot_config_mw import root_config
            root_config.link_in_process(conf)
        LOG.info('Boot configuration API enabled at %s/<MAC>/<NAME> '
                 '(restrict_boot_config=%s, rpc_transport=%s, '
                 'allowed_source_cidrs=%s, trusted_proxies=%s, '
                 'rate_limit=%s/s burst %s, '
                 'max_concurrent_requests=%s, max_concurrent_wait=%ss)',
                 api.PREFIX,
                 conf.api.restrict_boot_config, conf.rpc_transport,
                 ','.join(options.allowed_source_cidrs) or 'any',
                 ','.join(options.trusted_proxies) or 'none',
                 options.rate_limit or 'off', options.rate_limit_burst,
                 max_concurrent_requests or 'no cap',
                 options.max_concurrent_wait)
        if not self._ramdisk_endpoints():
            LOG.warning('[api]enable_ramdisk_endpoints is False: /v1/boot '
                        'answers every request with the generic 404')

    def __call__(self, environ: Environ,
                 start_response: StartResponse) -> typing.Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        if request.owns(path):
            return self._boot(environ, start_response, path)
        if request.owns_explain(path):
            return self.explain(environ, start_response)
        return self.application(environ, start_response)

    def resolve(self, path: str) -> tuple[lookup.Node, str, typing.Any, str]:
        """``/v1/boot/<MAC>/<NAME>`` -> ``(node, name, BootConfig, host)``.

        :raises: BootConfigFailure: why not, for every failure of the path.
        """
        node = None
        try:
            if not self._ramdisk_endpoints():
                raise exception.Refused(
                    '[api]enable_ramdisk_endpoints', 'refused.disabled',
                    'ramdisk endpoints are disabled on this API')
            mac, name = request.parse(path)
            context = ironic_context.get_admin_context()
            # The thread's current context (for log lines and request ids):
            # without this, lines show the previous request's user.
            context.update_store()
            node = self.find_node(context, mac)
            config, host = self.client.get_boot_config(context, node, name)
        except Exception as exc:
            raise exception.BootConfigFailure(
                exc, node.uuid if node else None) from exc
        return node, name, config, host

    def _boot(self, environ, start_response, path):
        method = environ.get('REQUEST_METHOD')
        if method not in _METHODS:
            start_response('405 Method Not Allowed', _NOT_ALLOWED_HEADERS)
            return [_NOT_ALLOWED_BODY]

        started = time.monotonic()
        self.refusals.tick()
        log_args = {'method': method, 'path': request.printable(path),
                    'remote': request.printable(
                        environ.get('REMOTE_ADDR') or '-', 64)}
        refused = self.admit(environ, log_args)
        if refused is not None:
            return self._not_found(start_response, refused, None, log_args,
                                   started)
        try:
            node, name, config, host = self.resolve(path)
        except exception.BootConfigFailure as failure:
            return self._not_found(start_response, failure.cause,
                                   failure.node, log_args, started)
        finally:
            self.cap.leave()

        log_args.update(node=node.uuid, host=host, size=len(config.body),
                        ms=(time.monotonic() - started) * 1000)
        self._count(outcomes.SERVED, 'none', log_args['ms'])
        if self.history is not None:
            self.history.served(node, name, config, self._owner(host),
                                log_args['remote'])
        LOG.info('%(method)s %(path)s from %(remote)s: 200, node %(node)s, '
                 '%(size)d bytes from %(host)s in %(ms).1f ms', log_args)
        start_response('200 OK', [
            ('Content-Type', config.content_type),
            ('Content-Length', str(len(config.body))),
            ('Cache-Control', 'no-store'),
        ])
        return [b''] if method == 'HEAD' else [config.body]

    def admit(self, environ: Environ, log_args: dict[str, typing.Any]
              ) -> typing.Optional[exception.Refused]:
        """None if the request may go on (holding a slot of the cap), else
        the Refused that says why not. ``log_args['remote']`` becomes the
        client's address once it is known."""
        try:
            source = self.client_address(environ)
        except exception.Refused as refused:
            return refused
        log_args['remote'] = source or '-'
        if not self.sources.allows(source):
            return exception.Refused('[boot_config]allowed_source_cidrs',
                                     'refused.source',
                                     'source not in allowed_source_cidrs')
        if not self.rate.allows(source):
            return exception.Refused('[boot_config]rate_limit',
                                     'refused.rate',
                                     'rate limit of the source exceeded')
        if not self.cap.enter():
            return exception.Refused(
                '[boot_config]max_concurrent_requests', 'refused.cap',
                'max_concurrent_requests reached and no slot freed within '
                'max_concurrent_wait')
        return None

    def _ramdisk_endpoints(self):
        # Mutable in Ironic: read per request. Absent before 2026.2.
        return getattr(self._conf.api, 'enable_ramdisk_endpoints', True)

    def _program(self):
        """This process, as operators know it."""
        if self.listener_group == bc_conf.BOOT_API_GROUP:
            return 'ironic-boot-config-api'
        return 'ironic' if process.conductor_in_process() else 'ironic-api'

    def _owner(self, host):
        """The conductor that answered (this one's, in process)."""
        return self._conf.host if host == rpcapi.LOCAL else host

    def _count(self, outcome, cause, ms):
        self.observer.request(outcome, cause, ms / 1000)
        # Ironic's metrics: served, not_found, failed, refused.<cause>.
        # send_*() take full names; Ironic's decorators add the prefix.
        name = 'refused.' + cause if outcome == outcomes.REFUSED else outcome
        metrics = self.metrics
        metrics.send_counter(metrics.get_metric_name(name), 1)
        metrics.send_timer(metrics.get_metric_name('request'), ms)

    def _not_found(self, start_response, cause, node, log_args, started):
        """The generic 404; ``cause`` logged once, at the level it needs."""
        log_args.update(reason=cause, kind=type(cause).__name__,
                        node=node or '-',
                        ms=(time.monotonic() - started) * 1000)
        outcome, why = outcomes.classify(cause)
        if outcome == outcomes.REFUSED:
            # A flood must not flood the log: counted and summarised.
            self.refusals.refused(cause.check, log_args['remote'], cause)
        elif outcome == outcomes.NOT_FOUND:
            LOG.info('%(method)s %(path)s from %(remote)s: 404, node '
                     '%(node)s: %(reason)s (%(ms).1f ms)', log_args)
        elif why == 'shim_unavailable':
            # A fault, but the circuit said so once at WARNING when it
            # opened: a flood of fail-fast requests must not flood the log.
            LOG.info('%(method)s %(path)s from %(remote)s: 404, node '
                     '%(node)s: %(kind)s: %(reason)s (%(ms).1f ms)', log_args)
        elif why != 'unexpected':
            # Not the caller's doing: a conductor, the RPC or the database.
            LOG.warning('%(method)s %(path)s from %(remote)s: 404, node '
                        '%(node)s: %(kind)s: %(reason)s (%(ms).1f ms)',
                        log_args)
        else:
            LOG.error('%(method)s %(path)s from %(remote)s: 404, node '
                      '%(node)s: unexpected %(kind)s: %(reason)s '
                      '(%(ms).1f ms)', log_args,
                      exc_info=(type(cause), cause, cause.__traceback__))
        self._count(outcome, why, log_args['ms'])
        return not_found(start_response, log_args['method'])


def not_found(start_response: StartResponse,
              method: typing.Optional[str] = 'GET') -> list[bytes]:
    """The generic 404, the same bytes for every cause."""
    start_response('404 Not Found', _NOT_FOUND_HEADERS)
    return [b''] if method == 'HEAD' else [_NOT_FOUND_BODY]


def _refuse_without_database(conf, listener_group):
    """``[DEFAULT]use_rpc_for_database``: this process has no database.

    /v1/boot looks the MAC up in Ironic's database, and an API host
    configured without one is one the operator keeps away from it: the
    boot path belongs in ``ironic-boot-config-api`` on a host with the
    database (the all-in-one ``ironic`` has its conductor's).
    """
    if (not getattr(conf, 'use_rpc_for_database', False)
            or process.conductor_in_process()):
        return
    if listener_group == bc_conf.BOOT_API_GROUP:
        raise cfg.ConfigFileValueError(
            'Invalid [DEFAULT]use_rpc_for_database = True: '
            'ironic-boot-config-api looks MAC addresses up in Ironic\'s '
            'database itself; run it with a configuration that has '
            '[database]connection and use_rpc_for_database = False')
    raise cfg.ConfigFileValueError(
        'Invalid [DEFAULT]use_rpc_for_database = True with the boot_config '
        'filter: this API has no database to look MAC addresses up in. '
        'Serve /v1/boot from ironic-boot-config-api on a host with the '
        'database (and route /v1/boot/ to it), and take boot_config out of '
        '[api]middleware (or the WSGI pipeline) of this API')


def filter_factory(global_conf: dict[str, str], **local_conf: str
                   ) -> typing.Callable[[WSGIApp], BootConfigMiddleware]:
    """PasteDeploy: ``use = egg:ironic-boot-config-mw#boot_config``.

    Options come from Ironic's configuration, not from the paste file.
    """
    def _filter(app: WSGIApp) -> BootConfigMiddleware:
        return BootConfigMiddleware(app)
    return _filter
