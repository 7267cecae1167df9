"""WSGI filter serving the Boot configuration API, ``/v1/boot``.

``GET``/``HEAD /v1/boot/<MAC>/<NAME>`` returns the boot configuration
``NAME`` (e.g. ``boot.ipxe``) of the node owning the port with that MAC,
produced by the node's owning conductor. Firmware cannot authenticate nor
negotiate microversions, so this subtree has neither; everything else passes
untouched to Ironic, whose authentication keeps holding for it.

Security: the route is unauthenticated and reaches Ironic's database and
conductors. Every failure -- malformed path, unknown MAC, refused state,
unknown name, missing provider, unreachable conductor, timeout, database
error -- answers the same 404, byte for byte, so callers learn nothing about
nodes; the real reason goes to the log. The error body is one ``#`` comment
line: GRUB runs the body of an error reply as a config script.

Load it with ``[api]middleware = boot_config`` (Ironic 2026.1 and newer; it
wraps outermost, outside auth) or as the ``boot_config`` paste filter.
"""

import time

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from oslo_config import cfg
from oslo_log import log

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import request
from ironic_boot_config_mw.api import rpcapi

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


class BootConfigMiddleware:
    """Serves ``/v1/boot`` in front of Ironic's API application.

    :param application: the WSGI application to wrap (Ironic's API).
    :param conf: an oslo.config ``ConfigOpts``; Ironic's ``CONF`` if None.
    :param find_node: callable ``(context, mac) -> node``; default: a
        :class:`~ironic_boot_config_mw.api.lookup.NodeLookup`.
    :param client: object with ``get_boot_config(context, node, name)``
        returning ``(BootConfig, host)``; default: a
        :class:`~ironic_boot_config_mw.api.rpcapi.BootConfigAPI`.
    """

    def __init__(self, application, conf=None, find_node=None, client=None):
        conf = cfg.CONF if conf is None else conf
        bc_conf.register_opts(conf)
        bc_conf.validate(conf)
        self.application = application
        self.find_node = find_node or lookup.NodeLookup(
            restrict=conf.api.restrict_boot_config,
            max_connections=conf.database.max_pool_size)
        self.client = client or rpcapi.BootConfigAPI(conf)
        LOG.info('Boot configuration API enabled at %s/<MAC>/<NAME> '
                 '(restrict_boot_config=%s, rpc_transport=%s)',
                 request.PREFIX, conf.api.restrict_boot_config,
                 conf.rpc_transport)

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if not request.owns(path):
            return self.application(environ, start_response)
        method = environ.get('REQUEST_METHOD')
        if method not in _METHODS:
            start_response('405 Method Not Allowed', _NOT_ALLOWED_HEADERS)
            return [_NOT_ALLOWED_BODY]

        started = time.monotonic()
        log_args = {'method': method, 'path': _printable(path),
                    'remote': environ.get('REMOTE_ADDR', '-')}
        try:
            mac, name = request.parse(path)
            context = ironic_context.get_admin_context()
            node = self.find_node(context, mac)
            log_args['node'] = node.uuid
            config, host = self.client.get_boot_config(context, node, name)
        except Exception as exc:
            return self._not_found(start_response, exc, log_args, started)

        log_args.update(host=host, size=len(config.body),
                        ms=(time.monotonic() - started) * 1000)
        LOG.info('%(method)s %(path)s from %(remote)s: 200, node %(node)s, '
                 '%(size)d bytes from %(host)s in %(ms).1f ms', log_args)
        start_response('200 OK', [
            ('Content-Type', config.content_type),
            ('Content-Length', str(len(config.body))),
            ('Cache-Control', 'no-store'),
        ])
        return [b''] if method == 'HEAD' else [config.body]

    @staticmethod
    def _not_found(start_response, exc, log_args, started):
        log_args.update(reason=exc, kind=type(exc).__name__,
                        ms=(time.monotonic() - started) * 1000)
        log_args.setdefault('node', '-')
        if isinstance(exc, (request.MalformedPath, ironic_exception.NotFound)
                      ) and not isinstance(exc, ironic_exception.NoValidHost):
            LOG.info('%(method)s %(path)s from %(remote)s: 404, node '
                     '%(node)s: %(reason)s (%(ms).1f ms)', log_args)
        else:
            # Not the caller's doing: a conductor, the RPC or the database.
            LOG.warning('%(method)s %(path)s from %(remote)s: 404, node '
                        '%(node)s: %(kind)s: %(reason)s (%(ms).1f ms)',
                        log_args)
        start_response('404 Not Found', _NOT_FOUND_HEADERS)
        return [b''] if log_args['method'] == 'HEAD' else [_NOT_FOUND_BODY]


def _printable(path, limit=200):
    """The path as one log-safe line: no forged lines from a caller."""
    text = path[:limit].encode('unicode_escape').decode('ascii')
    return text + '...' if len(path) > limit else text


def filter_factory(global_conf, **local_conf):
    """PasteDeploy: ``use = egg:ironic-boot-config-mw#boot_config``.

    Options come from Ironic's configuration, not from the paste file.
    """
    def _filter(app):
        return BootConfigMiddleware(app)
    return _filter
