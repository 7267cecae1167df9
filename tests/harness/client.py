"""Ironic's REST API as the tests use it, and /v1/boot as machines do."""

import http.client
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

    def node(self, uuid):
        return self.call('GET', '/v1/nodes/%s' % uuid)

    def owner(self, uuid):
        """The conductor host that owns the node, as the API reports it
        (without the ``:port`` a JSON-RPC conductor may register with)."""
        return netutils.parse_host_port(self.node(uuid)['conductor'])[0]

    def set_provision_state(self, uuid, target):
        self.call('PUT', '/v1/nodes/%s/states/provision' % uuid,
                  json={'target': target})

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
