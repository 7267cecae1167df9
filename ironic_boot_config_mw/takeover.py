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

"""Takeover of waiting nodes: a new owner prepares their boot files.

Ironic takes over ACTIVE nodes only (``ConductorManager._sync_local_state``)
and leaves wait states to their callback timeouts: when the owner of a node
in ``clean wait`` dies, the hash ring moves the node to a conductor that has
no per-node script for it, and the machine cannot boot until the timeout.
And Ironic never deletes a former owner's files: when the ring moves a node
back, that conductor still holds the script of an earlier operation.

So, beside each conductor (in the shim, or in the process whose providers
run in-process), a :class:`Takeover` watches Ironic's hash ring and:

* **serves no stale file.** A file of this host is *current* for a node if
  it was written since this host last GAINED the node on the ring (this
  process saw the ring move it here), or since this process started for a
  node waiting at that moment: Ironic records nothing that tells which
  operation wrote a file (``provision_updated_at`` is the time the node
  entered its wait state, after its files were written), but only the
  owner writes its files, so a file written while this host owned the node
  without interruption was written for the node's current operation, and
  any other may be of an earlier one. Others get the generic 404
  (:meth:`check`);
* **prepares** every node in a wait state that this host owns and whose
  file is not current, once per entry into that state, with Ironic's own
  code for the state (:data:`PREPARE`), under Ironic's exclusive lock, off
  the request path: at start, when the ring changes, and at once after a
  miss.

The node's state machine and timeouts stay Ironic's: nothing here moves a
node, powers it or touches its network.
"""

import collections
import threading
import time

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.common import hash_ring
from ironic.common import states
from ironic.common import utils
from ironic.conductor import task_manager
from ironic.db import api as dbapi
from ironic.drivers.modules import deploy_utils
from oslo_config import cfg
from oslo_log import log
from oslo_utils import netutils
from oslo_utils import timeutils

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process
from ironic_boot_config_mw import root_config
from ironic_boot_config_mw.providers import dispatch

LOG = log.getLogger(__name__)

#: A failed preparation is tried again after this many seconds.
RETRY_FAILED = 10.0
#: Seconds the first scan may hold up a process's start.
FIRST_SCAN = 10.0
#: Scans at most this often, however many misses wake it.
MIN_GAP = 0.5


def from_conf(conf, host, registry):
    """The :class:`Takeover` of this process, or None when
    ``[boot_config]takeover_interval`` is 0."""
    interval = conf.boot_config.takeover_interval
    return Takeover(host, registry, interval) if interval else None


def _agent(task):
    # What cleaning, deployment, rescue and servicing run to boot the
    # agent (deploy_utils.prepare_inband_cleaning, AgentDeploy.prepare,
    # AgentRescue.rescue, prepare_inband_service): the boot half only.
    deploy_utils.prepare_agent_boot(task)


def _inspection(task):
    # NOTE: not inspector's prepare_managed_inspection: it powers the
    # machine off first, and this one may be running the ramdisk already.
    # Its boot half, with the same parameters.
    from ironic.drivers.modules import inspect_utils
    from ironic.drivers.modules.inspector import interface
    if not task.node.driver_internal_info.get(
            getattr(interface, '_IRONIC_MANAGES_BOOT',
                    'inspector_manage_boot')):
        LOG.info('Node %s: inspection boots unmanaged: no per-node files',
                 task.node.uuid)
        return
    params = _inspection_params(task, inspect_utils, interface)
    task.driver.boot.prepare_ramdisk(task, ramdisk_params=params)


def _inspection_params(task, inspect_utils, interface):
    """The ramdisk parameters of Ironic's managed inspection
    (``prepare_managed_inspection``), which does not expose them."""
    conf = cfg.CONF
    params = dict(utils.parse_kernel_params(
        conf.inspector.extra_kernel_params or ''))
    params['ipa-inspection-callback-url'] = _inspection_callback(
        inspect_utils, deploy_utils.get_ironic_api_url())
    if conf.inspector.force_dhcp:
        params.setdefault('ipa-collect-lldp', '1')
    if utils.fast_track_enabled(task.node):
        params['ipa-api-url'] = deploy_utils.get_ironic_api_url()
    return params


def _inspection_callback(inspect_utils, api_url):
    callback = getattr(inspect_utils, 'get_inspection_callback', None)
    if callback is not None:
        return callback(api_url)
    # Ironic 2025.1 (29.x) computes it in AgentInspect itself, so.
    url = api_url.rstrip('/')
    return url + ('/continue_inspection' if url.endswith('/v1')
                  else '/v1/continue_inspection')


#: Each wait state and Ironic's preparation of its boot files.
PREPARE = {
    states.CLEANWAIT: _agent,
    states.DEPLOYWAIT: _agent,
    states.RESCUEWAIT: _agent,
    states.SERVICEWAIT: _agent,
    states.INSPECTWAIT: _inspection,
}

_COLUMNS = ['uuid', 'driver', 'conductor_group', 'provision_state',
            'provision_updated_at', 'maintenance', 'boot_interface']


class Takeover:
    """Keeps this host's served files current; see the module docstring.

    :param host: ``[DEFAULT]host``, the conductor's (as on the ring).
    :param registry: the ProviderRegistry: which boot interfaces are
        served from files (the only ones to prepare).
    :param interval: seconds between scans.
    """

    def __init__(self, host, registry, interval):
        self.host = host
        self._registry = registry
        self._interval = interval
        self._started = time.time()
        self._rings = None        # the ring the last scan saw
        self._owned = {}          # uuid -> since when, None: always
        self._not_mine = set()    # uuids the ring gives to another host
        self._prepared = {}       # uuid -> the wait entry prepared
        self._failed = {}         # uuid -> (entry, when)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._lock = threading.Lock()

    # -- the request path ----------------------------------------------

    def check(self, node_id, config):
        """Raise unless ``config`` (a file of this host) is current."""
        if config.written_at is None:
            return  # not a file: produced now
        with self._lock:
            since = self._owned.get(node_id)
            not_mine = node_id in self._not_mine
        if not_mine:
            self.wake()
            raise exception.BootConfigNotFound(
                reason='node %s is not this conductor\'s on its hash ring'
                % node_id)
        if since is not None and config.written_at < since:
            self.wake()
            raise exception.BootConfigNotFound(
                reason='the file of node %s was written at %s, before this '
                       'conductor took the node over at %s: not served '
                       '(being prepared again)'
                % (node_id, _stamp(config.written_at), _stamp(since)))

    def missed(self, node_id):
        """A request found nothing to serve: scan now."""
        self.wake()

    def wake(self):
        self._wake.set()

    # -- the scan --------------------------------------------------------

    def start(self):
        """A first scan here, for at most :data:`FIRST_SCAN` seconds: a
        process started while nodes wait serves none of their files until
        it prepared them again, so it does that before it serves (call it
        before the RPC server starts). Then scan in a daemon thread until
        :meth:`stop`."""
        if not process.conductor_in_process():
            # A driver's first load renders the root configs: into a
            # private directory, before any task of ours loads one.
            dispatch.instantiate_boot_interfaces(cfg.CONF)
        started = time.monotonic()
        try:
            prepared = self.scan(ironic_context.get_admin_context(),
                                 deadline=started + FIRST_SCAN)
        except Exception:
            LOG.exception('The first takeover scan failed')
        else:
            LOG.info('First takeover scan: %(count)d waiting nodes prepared '
                     'again in %(s).1f s', {'count': len(prepared),
                                            's': time.monotonic() - started})
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='boot-config-takeover')
        self._thread.start()
        LOG.info('Takeover of waiting nodes for conductor %(host)s: every '
                 '%(interval)s s and on a miss',
                 {'host': self.host, 'interval': self._interval})

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.scan(ironic_context.get_admin_context())
            except Exception:
                LOG.exception('Takeover scan failed; next in %s s',
                              self._interval)
            self._wake.wait(self._interval)
            self._wake.clear()
            # A flood of misses must not become a flood of scans.
            self._stop.wait(max(0.0, MIN_GAP - (time.monotonic() - started)))

    def scan(self, context, deadline=None):
        """One round: follow the ring, then prepare what is not current
        (until ``deadline``, a ``time.monotonic()``: the rest next round).

        :returns: the UUIDs prepared.
        """
        rings = hash_ring.HashRingManager(cache=False).ring
        nodes = read_nodes()
        self.follow(rings, nodes)
        prepared = []
        for node in nodes:
            if node.provision_state not in PREPARE:
                continue
            if deadline is not None and time.monotonic() > deadline:
                self.wake()
                break
            if self._needs_preparing(rings, node) and \
                    self._prepare(context, rings, node):
                prepared.append(node.uuid)
        return prepared

    def follow(self, rings, nodes):
        """Record which of ``nodes`` are this host's and since when.

        Every node at every scan, not only when the ring's members change:
        a node moves with its driver or conductor group too, and a node
        enrolled since the ring last changed must be known as another
        host's when the ring moves it here (else its file there, of no
        ownership of this host, would pass as current).
        """
        now = time.time()
        first = self._rings is None
        owned, not_mine, gained = {}, set(), 0
        for node in nodes:
            if not self._mine(rings, node):
                not_mine.add(node.uuid)
            elif node.uuid in self._owned:
                owned[node.uuid] = self._owned[node.uuid]
            elif node.uuid in self._not_mine:
                owned[node.uuid] = now
                gained += 1
            elif first and node.provision_state in PREPARE:
                # At start, a waiting node's files may be of an earlier
                # ownership: the process was not there to see.
                owned[node.uuid] = self._started
            else:
                # Enrolled since the last scan, this host's: its files
                # can only be of this ownership.
                owned[node.uuid] = None
        with self._lock:
            self._owned, self._not_mine = owned, not_mine
        if gained or (not first and _members(rings) != _members(
                self._rings)):
            LOG.info('Hash ring: conductor %(host)s gained %(gained)d nodes '
                     '(%(mine)d of %(all)d are its own)',
                     {'host': self.host, 'gained': gained,
                      'mine': len(owned), 'all': len(nodes)})
        self._rings = rings

    def _mine(self, rings, node):
        # As Ironic's HashRingManager (use_groups) keys its rings.
        try:
            ring = rings['%s:%s' % (node.conductor_group or '', node.driver)]
            owner = next(iter(ring.get_nodes(node.uuid.encode('utf-8'))))
        except (KeyError, StopIteration):
            return False
        return netutils.parse_host_port(owner)[0] == self.host or \
            owner == self.host

    def _needs_preparing(self, rings, node):
        entry = _entry(node)
        if (node.maintenance or self._prepared.get(node.uuid) == entry
                or not self._mine(rings, node)):
            return False
        failed = self._failed.get(node.uuid)
        if failed and failed[0] == entry and \
                time.monotonic() - failed[1] < RETRY_FAILED:
            return False
        provider = self._registry.file_provider(node.boot_interface)
        if provider is None:
            return False  # nothing of a file to be current
        written_at = provider.written_at(node)
        since = self._owned.get(node.uuid)
        return written_at is None or (since is not None
                                      and written_at < since)

    def _prepare(self, context, rings, node):
        """Ironic's preparation for the node's state, once per entry."""
        entry = _entry(node)
        started = time.monotonic()
        try:
            with task_manager.acquire(context, node.uuid, shared=False,
                                      purpose='boot config takeover') as task:
                current = task.node
                # Under the lock: what was read may have moved on.
                if (_entry(current) != entry or current.maintenance
                        or not self._mine(rings, current)):
                    return False
                with root_config.frozen():
                    PREPARE[current.provision_state](task)
        except exception.RootConfigError as exc:
            # The conductor renders it as it starts: the next scan.
            LOG.info('Takeover of node %(node)s waits: %(error)s',
                     {'node': node.uuid, 'error': exc})
            return False
        except Exception as exc:
            self._failed[node.uuid] = (entry, time.monotonic())
            level = LOG.info if isinstance(
                exc, ironic_exception.NodeLocked) else LOG.warning
            level('Takeover of node %(node)s in %(state)s failed, tried '
                  'again in %(retry)d s: %(kind)s: %(error)s',
                  {'node': node.uuid, 'state': node.provision_state,
                   'retry': RETRY_FAILED, 'kind': type(exc).__name__,
                   'error': exc})
            return False
        self._prepared[node.uuid] = entry
        self._failed.pop(node.uuid, None)
        LOG.info('Took over node %(node)s in %(state)s: its boot files '
                 'prepared by conductor %(host)s in %(ms).0f ms',
                 {'node': node.uuid, 'state': node.provision_state,
                  'host': self.host,
                  'ms': (time.monotonic() - started) * 1000})
        return True


#: A node as a scan reads it.
_Row = collections.namedtuple('_Row', _COLUMNS)


def read_nodes():
    """Every node, as a scan reads it (one SELECT)."""
    return [_Row(*row) for row in
            dbapi.get_instance().get_nodeinfo_list(columns=_COLUMNS)]


def _entry(node):
    """The node's current entry into its state (the DB's naive UTC time;
    a node object's is aware)."""
    when = node.provision_updated_at
    return (node.provision_state,
            when and timeutils.normalize_time(when).isoformat())


def _members(rings):
    return {key: frozenset(ring.nodes) for key, ring in rings.items()}


def _stamp(when):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))
