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

"""Many nodes at once, written straight into Ironic's tables (real ones
would take an automated clean each): the load of the storm test and of the
benchmark."""

import os
import uuid

from tests.harness import macs as macs_mod

#: What stands for each node's UUID in the script.
PLACEHOLDER = b'@UUID@'


class BulkNodes:
    """Nodes in ``clean wait``, 2 NICs each, with a per-node iPXE script in
    every conductor's http_root.

    :param cluster: a running :class:`~tests.harness.cluster.IronicCluster`.
    :param script: the script, PLACEHOLDER standing for the node's UUID
        (take a real one, written by a conductor for a real node: see
        :meth:`like`).
    """

    def __init__(self, cluster, script):
        from ironic.db.sqlalchemy import models
        import sqlalchemy as sa
        self.sa = sa
        self.cluster = cluster
        self.script = script
        self.engine = sa.create_engine(cluster.db.url)
        self.nodes_t = models.Node.__table__
        self.ports_t = models.Port.__table__
        self.uuids, self.macs = [], []

    @classmethod
    def like(cls, cluster, uuid):
        """Bulk nodes whose script is the one a conductor of ``cluster``
        wrote for the real node ``uuid``, each with its own UUID."""
        return cls(cluster, cluster.written_config(uuid).replace(
            uuid.encode(), PLACEHOLDER))

    def grow(self, total):
        """Add nodes until there are ``total``."""
        sa = self.sa
        with self.engine.begin() as conn:
            next_id = (conn.execute(sa.select(sa.func.max(
                self.nodes_t.c.id))).scalar() or 0) + 1
        nodes, ports = [], []
        for node_id in range(next_id, next_id + total - len(self.uuids)):
            node_uuid = str(uuid.uuid4())
            nodes.append({
                'id': node_id, 'uuid': node_uuid, 'driver': 'fake-hardware',
                'provision_state': 'clean wait', 'power_state': 'power on',
                'boot_interface': 'ipxe', 'deploy_interface': 'direct',
                'conductor_group': '', 'protected': False,
                'maintenance': False, 'driver_info': {}, 'properties': {},
                'instance_info': {}, 'driver_internal_info': {},
                'extra': {}, 'version': '1.0'})
            for mac in macs_mod.new.take(2):
                ports.append({
                    'uuid': str(uuid.uuid4()), 'node_id': node_id,
                    'address': mac, 'pxe_enabled': True, 'extra': {},
                    'available_for_dynamic_portgroup': False,
                    'version': '1.0'})
                self.macs.append(mac)
            self.uuids.append(node_uuid)
        with self.engine.begin() as conn:
            for start in range(0, len(nodes), 1000):
                conn.execute(self.nodes_t.insert(), nodes[start:start + 1000])
            for start in range(0, len(ports), 2000):
                conn.execute(self.ports_t.insert(), ports[start:start + 2000])
        for node in nodes:
            for conductor in self.cluster.conductors.values():
                path = conductor.config_path(node['uuid'])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'wb') as f:
                    f.write(self.script.replace(PLACEHOLDER,
                                                node['uuid'].encode()))
