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

"""Ironic's REST API as the tests use it, and /v1/boot as machines do."""

import hashlib
import http.client
import os
import socket
import time
import typing

from oslo_utils import netutils
import requests

from tests.harness import macs as macs_mod
from tests.harness import net

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class EnrolledNode(typing.NamedTuple):
    """A node the test enrolled: its UUID and its ports' MACs."""

    uuid: str
    macs: typing.Tuple[str, ...]

    @property
    def mac(self):
        return self.macs[0]


class IronicClient:
    """Ironic's API at ``url``.

    :param auth: ``(user, password)`` for ``http_basic``, or None.
    :param deploy_images: the directory holding ``deploy_kernel`` and
        ``deploy_ramdisk`` (in ``[conductor]file_url_allowed_paths``).
    """

    def __init__(self, url, auth=None, deploy_images=None, verify=True):
        self.url = url
        self.deploy_images = deploy_images
        self.session = requests.Session()
        self.session.headers.update(LATEST)
        self.session.auth = auth
        self.session.verify = verify
        self._warm = set()  # conductors that cleaned a node already

    def get(self, path, **kwargs):
        """An authenticated GET; the response, whatever its status."""
        return self.session.get(self.url + path, **self._options(kwargs))

    def call(self, method, path, **kwargs):
        """An authenticated request; its JSON. Raises on an error status."""
        resp = self.session.request(method, self.url + path,
                                    **self._options(kwargs))
        if resp.status_code >= 400:
            raise RuntimeError('%s %s: %s %s' % (method, path,
                                                 resp.status_code, resp.text))
        return resp.json() if resp.content else None

    def _options(self, kwargs):
        kwargs.setdefault('timeout', 30)
        # Per request: REQUESTS_CA_BUNDLE would override the session's.
        kwargs.setdefault('verify', self.session.verify)
        return kwargs

    # -- /v1/boot, without credentials ------------------------------------

    def boot(self, mac, name='boot.ipxe', method='GET', raw_path=None,
             **kwargs):
        """``/v1/boot/<mac>/<name>`` (or ``raw_path``) as a machine asks."""
        return requests.request(method, self.url + (
            raw_path or '/v1/boot/%s/%s' % (mac, name)),
            **self._options(kwargs))

    # -- nodes ------------------------------------------------------------

    def create_node(self, macs=None, nics=1, boot_interface='ipxe',
                    name=None, pxe_enabled=True, deploy_interface='direct'):
        """Enroll a fake-hardware node with a port per MAC (default:
        ``nics`` new ones)."""
        macs = tuple(macs or macs_mod.new.take(nics))
        node = self.call('POST', '/v1/nodes', json={
            'name': name,
            'driver': 'fake-hardware',
            'boot_interface': boot_interface,
            'deploy_interface': deploy_interface,
            'driver_info': {
                'deploy_kernel': 'file://%s/deploy_kernel'
                                 % self.deploy_images,
                'deploy_ramdisk': 'file://%s/deploy_ramdisk'
                                  % self.deploy_images,
            },
        })
        for mac in macs:
            self.call('POST', '/v1/ports', json={
                'node_uuid': node['uuid'], 'address': mac,
                'pxe_enabled': pxe_enabled})
        return EnrolledNode(node['uuid'], macs)

    def create_node_on(self, host, attempts=20, **kwargs):
        """Enroll nodes until Ironic's hash ring gives one to ``host``;
        the others stay enrolled."""
        for _attempt in range(attempts):
            node = self.create_node(**kwargs)
            if self.owner(node.uuid) == host:
                return node
        raise AssertionError('no node landed on %s in %d' % (host, attempts))

    def waiting_node_on(self, host, **kwargs):
        """A node of the conductor on ``host``, in ``clean wait``."""
        node = self.create_node_on(host, **kwargs)
        self.to_clean_wait([node])
        return node

    def waiting_node_on_each(self, hosts):
        """``{host: node}``: a node of each conductor, in ``clean wait``."""
        nodes = {host: self.create_node_on(host) for host in hosts}
        self.to_clean_wait(nodes.values())
        return nodes

    def node(self, uuid):
        return self.call('GET', '/v1/nodes/%s' % uuid)

    def owner(self, uuid):
        """The conductor host that owns the node, as the API reports it
        (without the ``:port`` a JSON-RPC conductor may register with)."""
        return netutils.parse_host_port(self.node(uuid)['conductor'])[0]

    def set_provision_state(self, uuid, target, **body):
        """``target``, with ``body``'s fields (e.g. ``rescue_password``,
        ``service_steps``) in the request too."""
        self.call('PUT', '/v1/nodes/%s/states/provision' % uuid,
                  json=dict(body, target=target))

    def update_node(self, uuid, fields):
        """PATCH ``{path: value}`` onto the node (``'/driver_info/x'``, or a
        bare field name such as ``'inspect_interface'``)."""
        return self.call('PATCH', '/v1/nodes/%s' % uuid, json=[
            {'op': 'add', 'path': path if path.startswith('/')
             else '/' + path, 'value': value}
            for path, value in fields.items()])

    def wait_provision_state(self, uuids, state, timeout=120):
        def reached():
            states = {u: self.node(u)['provision_state'] for u in uuids}
            failed = {u: s for u, s in states.items()
                      if s != state and (s.endswith('failed')
                                         or s == 'error')}
            if failed:
                raise RuntimeError('nodes failed: %s: %s' % (
                    failed, [self.node(u)['last_error'] for u in failed]))
            return all(s == state for s in states.values())
        net.wait_for(reached, timeout, '%d nodes to reach %s'
                     % (len(uuids), state), interval=0.5)

    def move(self, nodes, *steps, timeout=120):
        """Drive ``nodes`` (EnrolledNodes or UUIDs) through ``steps``:
        ``(target, state reached)`` pairs, all nodes at once."""
        uuids = [getattr(node, 'uuid', node) for node in nodes]
        for target, state in steps:
            for uuid in uuids:
                self.set_provision_state(uuid, target)
            self.wait_provision_state(uuids, state, timeout)

    def to_clean_wait(self, nodes, timeout=120):
        """manage + provide: automated cleaning stops in ``clean wait``.

        A conductor's first clean fills its master image cache; until then
        it cleans one node alone. Ironic's cache clean-up lists the cache
        directory while another download's temporary directory in it comes
        and goes, and fails that clean ("Failed to prepare node ... for
        cleaning: [Errno 2] No such file or directory: .../master/tmp...")
        when two first downloads overlap.
        """
        nodes = [getattr(node, 'uuid', node) for node in nodes]
        self.move(nodes, ('manage', 'manageable'), timeout=timeout)
        first = {}
        for uuid in nodes:
            owner = self.owner(uuid)
            if owner not in self._warm:
                first.setdefault(owner, uuid)
        if first:
            self.move(first.values(), ('provide', 'clean wait'),
                      timeout=timeout)
            self._warm.update(first)
        rest = [uuid for uuid in nodes if uuid not in first.values()]
        if rest:
            self.move(rest, ('provide', 'clean wait'), timeout=timeout)

    # -- every other wait state (config.every_wait_state() enables them) ----

    #: The states :meth:`to_wait_state` brings nodes into.
    WAIT_STATES = ('clean wait', 'inspect wait', 'wait call-back',
                   'rescue wait', 'service wait')
    RESCUE_PASSWORD = 'rescue-password'
    #: A service step only the agent would report (IPA's ``burnin_cpu``):
    #: unknown to the conductor, so it boots the ramdisk to learn the
    #: agent's steps and waits in ``service wait``. (A step the conductor
    #: knows never boots it in Ironic 39: e.g. the fake vendor's
    #: ``trigger_servicewait`` reaches ``service wait`` with no ramdisk and
    #: no boot config written.)
    SERVICE_STEPS = ({'interface': 'deploy', 'step': 'burnin_cpu',
                      'args': {}},)
    #: The whole-disk image of :meth:`to_deploy_wait`, in deploy_images.
    DISK_IMAGE = 'disk.img'

    def to_wait_state(self, state, nodes, timeout=120):
        """Bring ``nodes`` (fresh from :meth:`create_node`; but for
        ``clean wait``, ``manageable`` ones too) into ``state``, one of
        :data:`WAIT_STATES`, each within ``timeout`` seconds a step."""
        methods = {'clean wait': self.to_clean_wait,
                   'inspect wait': self.to_inspect_wait,
                   'wait call-back': self.to_deploy_wait,
                   'rescue wait': self.to_rescue_wait,
                   'service wait': self.to_service_wait}
        if state not in methods:
            raise ValueError('no way to %r; known: %s'
                             % (state, ', '.join(self.WAIT_STATES)))
        return methods[state](nodes, timeout=timeout)

    def to_inspect_wait(self, nodes, timeout=120):
        """``inspect_interface = agent``, manage, inspect: Ironic boots the
        ramdisk with ``ipa-inspection-callback-url`` (managed in-band
        inspection) and waits in ``inspect wait``."""
        uuids = self._managed(nodes, {'inspect_interface': 'agent'}, timeout)
        self._first_alone(uuids, ['deploy'], ('inspect', 'inspect wait'),
                          timeout)

    def to_deploy_wait(self, nodes, timeout=120):
        """No automated cleaning, provide, a ``file://`` whole-disk image
        (written into deploy_images), deploy: the direct deploy boots the
        agent and waits in ``wait call-back``. The conductors' http_url must
        be served (``cluster.serve_http()``): Ironic checks the image URL it
        publishes there."""
        path, digest = self._image(self.DISK_IMAGE, b'\0' * (1 << 20))
        uuids = self._managed(nodes, {'deploy_interface': 'direct',
                                      'automated_clean': False}, timeout)
        self._steps(uuids, ('provide', 'available'), timeout)
        for uuid in uuids:
            self.update_node(uuid, {
                '/instance_info/image_source': 'file://' + path,
                '/instance_info/image_os_hash_algo': 'sha256',
                '/instance_info/image_os_hash_value': digest,
                # Without it Ironic 39 fails in is_source_a_path on a file
                # URL.
                '/instance_info/image_type': 'whole-disk'})
        self._first_alone(uuids, ['deploy', 'disk'],
                          ('active', 'wait call-back'), timeout)

    def to_rescue_wait(self, nodes, timeout=120):
        """``rescue_interface = agent`` with ``rescue_kernel`` and
        ``rescue_ramdisk`` (written into deploy_images), adopt (``active``
        without a deployment), rescue: the agent rescue boots the rescue
        ramdisk and waits in ``rescue wait``."""
        kernel, _ = self._image('rescue_kernel', b'fake rescue_kernel\n')
        ramdisk, _ = self._image('rescue_ramdisk', b'fake rescue_ramdisk\n')
        uuids = self._managed(nodes, {
            'rescue_interface': 'agent',
            '/driver_info/rescue_kernel': 'file://' + kernel,
            '/driver_info/rescue_ramdisk': 'file://' + ramdisk}, timeout)
        self._steps(uuids, ('adopt', 'active'), timeout)
        self._first_alone(uuids, ['rescue'], ('rescue', 'rescue wait'),
                          timeout, rescue_password=self.RESCUE_PASSWORD)

    def to_service_wait(self, nodes, timeout=120):
        """``deploy_interface = direct``, adopt (``active`` without a
        deployment), service with :data:`SERVICE_STEPS`: the direct deploy
        boots the agent ramdisk and servicing waits in ``service wait``."""
        uuids = self._managed(nodes, {'deploy_interface': 'direct'}, timeout)
        self._steps(uuids, ('adopt', 'active'), timeout)
        self._first_alone(uuids, ['deploy'], ('service', 'service wait'),
                          timeout, service_steps=list(self.SERVICE_STEPS))

    def _managed(self, nodes, fields, timeout):
        """``nodes``' UUIDs, ``manageable`` (managed if ``enroll``) and
        updated with ``fields`` (see :meth:`update_node`)."""
        uuids = [getattr(node, 'uuid', node) for node in nodes]
        enrolled = [u for u in uuids
                    if self.node(u)['provision_state'] == 'enroll']
        if enrolled:
            self._steps(enrolled, ('manage', 'manageable'), timeout)
        for uuid in uuids:
            state = self.node(uuid)['provision_state']
            if state != 'manageable':
                raise RuntimeError('node %s is %r, not enroll or manageable'
                                   % (uuid, state))
            self.update_node(uuid, fields)
        return uuids

    def _first_alone(self, uuids, images, step, timeout, **body):
        """:meth:`_steps`, the first node of each conductor that has not yet
        cached ``images`` (``deploy``: the deploy kernel and ramdisk, as
        :meth:`to_clean_wait` counts them; other names: other files) before
        the others: see :meth:`to_clean_wait`."""
        def keys(owner):
            return {owner if image == 'deploy' else (image, owner)
                    for image in images}
        first = {}
        for uuid in uuids:
            owner = self.owner(uuid)
            if not keys(owner) <= self._warm:
                first.setdefault(owner, uuid)
        if first:
            self._steps(list(first.values()), step, timeout, **body)
            for owner in first:
                self._warm.update(keys(owner))
        rest = [uuid for uuid in uuids if uuid not in first.values()]
        if rest:
            self._steps(rest, step, timeout, **body)

    def _steps(self, uuids, step, timeout, **body):
        """``step`` (``(target, state reached)``) for all ``uuids`` at once,
        ``body`` in each request; on a timeout, the error says where each
        node is and its last_error."""
        target, state = step
        for uuid in uuids:
            self.set_provision_state(uuid, target, **body)
        try:
            self.wait_provision_state(uuids, state, timeout)
        except TimeoutError as exc:
            where = {}
            for uuid in uuids:
                node = self.node(uuid)
                where[uuid] = (node['provision_state'], node['last_error'])
            raise TimeoutError('%s (%s -> %s): %s'
                               % (exc, target, state, where)) from None

    def _image(self, name, data):
        """``<deploy_images>/<name>`` (written with ``data`` unless there):
        ``(path, sha256 hex digest)``."""
        if not self.deploy_images:
            raise RuntimeError('this client has no deploy_images directory')
        path = os.path.join(self.deploy_images, name)
        if not os.path.exists(path):
            with open(path + '.tmp', 'wb') as f:
                f.write(data)
            os.replace(path + '.tmp', path)
        with open(path, 'rb') as f:
            return path, hashlib.sha256(f.read()).hexdigest()


class RawResponse(typing.NamedTuple):
    status: int
    headers: dict
    body: bytes
    seconds: float


def raw_request(host, port, path, method='GET', source=None, timeout=30,
                headers=()):
    """``path`` sent exactly as given (as iPXE sends it, e.g. with
    ``%3A``), from the local address ``source`` if given (a machine at
    another address), with ``headers`` (``(name, value)`` pairs) as
    given."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(
        host, port, timeout=timeout,
        source_address=(source, 0) if source else None)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return RawResponse(resp.status, dict(resp.getheaders()), resp.read(),
                           time.monotonic() - started)
    finally:
        conn.close()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout):
        super().__init__('localhost', timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


def unix_request(socket_path, path, timeout=5):
    """GET ``path`` from the server on the unix socket ``socket_path``, as
    a probe does it (``curl --unix-socket``): a RawResponse."""
    started = time.monotonic()
    conn = _UnixConnection(socket_path, timeout)
    try:
        conn.request('GET', path)
        resp = conn.getresponse()
        return RawResponse(resp.status, dict(resp.getheaders()), resp.read(),
                           time.monotonic() - started)
    finally:
        conn.close()
