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

"""The boot API's WSGI application: ``/v1/boot``, ``/health``, ``/metrics``
(unless ``[boot_config_api]metrics = False``), nothing else.

``/v1/boot/<MAC>/<NAME>`` is the filter itself (the same parser, lookup,
state gate, RPC to the owner's shim, admission and the same byte-identical
404); every other path gets that 404 too: this process has no
authenticated API, so no ``/v1/boot-explain`` either (Ironic's API with the
filter keeps it). The filter's concurrency cap is off here: the server's
``[boot_config_api]threads`` bound the requests in flight, and there is no
operator's API in this process to keep them from.
"""

import typing

from oslo_config import cfg

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw.api import middleware
from ironic_boot_config_mw.api import request
from ironic_boot_config_mw.bootapi import health
from ironic_boot_config_mw.bootapi import metrics

HEALTH = '/health'
METRICS = '/metrics'
_READS = ('GET', 'HEAD')


def _not_found(environ: middleware.Environ,
               start_response: middleware.StartResponse) -> list[bytes]:
    return middleware.not_found(start_response, environ.get('REQUEST_METHOD'))


class BootAPI:
    """The application of ``ironic-boot-config-api``.

    :param conf: the ConfigOpts (Ironic's ``CONF``).
    :param find_node: as for :class:`~ironic_boot_config_mw.api.middleware.
        BootConfigMiddleware`.
    :param client: as for that filter.
    """

    def __init__(self, conf: cfg.ConfigOpts,
                 find_node: typing.Optional[typing.Callable[..., typing.Any]]
                 = None, client: typing.Any = None) -> None:
        options = getattr(conf, bc_conf.BOOT_API_GROUP)
        self.metrics = metrics.Metrics(
            options.threads, conf.boot_config.health_shims) \
            if options.metrics else None
        self.boot = middleware.BootConfigMiddleware(
            _not_found, conf, find_node, client,
            listener_group=bc_conf.BOOT_API_GROUP, max_concurrent_requests=0,
            observer=self.metrics)
        self.health = health.Health(
            self.boot.find_node, self.boot.client,
            conf.boot_config.rpc_timeout,
            shims=conf.boot_config.health_shims)
        if self.metrics is not None:
            self.metrics.watch(self.health,
                               getattr(self.boot.client, 'circuit', None),
                               self.boot.history)

    def __call__(self, environ: middleware.Environ,
                 start_response: middleware.StartResponse
                 ) -> typing.Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        if request.owns(path):
            if self.metrics is None:
                return self.boot(environ, start_response)
            with self.metrics.in_flight.track_inprogress():
                return self.boot(environ, start_response)
        if environ.get('REQUEST_METHOD') in _READS:
            if path == HEALTH:
                return self.health(environ, start_response)
            if path == METRICS and self.metrics is not None:
                return self.metrics(environ, start_response)
        return _not_found(environ, start_response)
