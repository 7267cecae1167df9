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

"""A throw-away Ironic database: a SQLite file, or a database of its own on
the local MariaDB or PostgreSQL, dropped at the end."""

import os
import uuid

#: The local service each kind needs (see services.py).
SERVICE = {'sqlite': None, 'mysql': 'mariadb', 'postgresql': 'postgresql'}


class Database:
    """:param kind: ``sqlite``, ``mysql`` (MariaDB) or ``postgresql``."""

    def __init__(self, kind, workdir):
        if kind not in SERVICE:
            raise ValueError('unknown database kind %r' % kind)
        self.kind = kind
        self.name = 'ibc_%s' % uuid.uuid4().hex[:12]
        if kind == 'sqlite':
            self.url = 'sqlite:///%s' % os.path.join(workdir, 'ironic.sqlite')
        elif kind == 'mysql':
            _mysql('CREATE DATABASE %s' % self.name)
            self.url = ('mysql+pymysql://root@127.0.0.1/%s?charset=utf8'
                        % self.name)
        else:
            _postgresql('CREATE DATABASE %s' % self.name)
            self.url = ('postgresql+psycopg2://postgres@127.0.0.1/%s'
                        % self.name)

    def drop(self):
        if self.kind == 'mysql':
            _mysql('DROP DATABASE IF EXISTS %s' % self.name)
        elif self.kind == 'postgresql':
            _postgresql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)


def _mysql(sql):
    import pymysql
    conn = pymysql.connect(host='127.0.0.1', user='root', password='',
                           connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _postgresql(sql):
    import psycopg2
    conn = psycopg2.connect(host='127.0.0.1', user='postgres',
                            dbname='postgres', connect_timeout=5)
    conn.autocommit = True  # CREATE DATABASE runs outside transactions
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
