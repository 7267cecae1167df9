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

"""``/health`` answers at once from checks run in the background.

Real slow callables: a shim's ping or the database's check that blocks on
a ``threading.Event`` nobody sets (until the test's end); the database is
the session's real SQLite one otherwise.
"""

import collections
import json
import logging
import os
import select
import signal
import threading
import time

import pytest
import webtest

from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.bootapi import health as health_mod
from tests.unit import fakes

#: Every answer of /health comes within this.
QUICK = 0.2


class Shims:
    """The RPC client's ``conductors()`` and ``ping()``: shims that answer,
    refuse (``down``) or never answer (``hung``: until ``release``)."""

    def __init__(self, hosts=('c1', 'c2'), down=(), hung=(), slow=0.0):
        self.hosts, self.down, self.hung = list(hosts), set(down), set(hung)
        self.slow = slow
        self.release = threading.Event()
        self.pings = collections.Counter()

    def conductors(self):
        return list(self.hosts)

    def ping(self, context, host):
        self.pings[host] += 1
        if host in self.hung:
            self.release.wait()
        if host in self.down or host in self.hung:
            raise ConnectionRefusedError(host)
        time.sleep(self.slow)
        return {'host': host}


class Database:
    """``find_node.ping``: the real ``SELECT 1``, or down, or hung."""

    def __init__(self, real=None):
        self.state = 'up'
        self.release = threading.Event()
        self.real = real or lookup.NodeLookup()

    def ping(self):
        if self.state == 'hung':
            self.release.wait()
        if self.state != 'up':
            raise ConnectionRefusedError('database')
        self.real.ping()


@pytest.fixture
def make_health(ironic_db):
    """``make_health(shims=None, database=None, **params)``: a checker
    with fast rounds (ttl 0.05 s), served by webtest; stopped, and every
    hung call released, at the end."""
    made = []

    def make(shims=None, database=None, **params):
        shims = shims or Shims()
        database = database or Database()
        params = dict({'timeout': 1.0, 'ttl': 0.05}, **params)
        health = health_mod.Health(database, shims, **params)
        made.append((health, shims, database))
        return webtest.TestApp(health), health, shims, database
    yield make
    for health, shims, database in made:
        shims.release.set()
        database.release.set()
        health.stop()


def timed_get(app, status='*'):
    started = time.monotonic()
    resp = app.get('/health', status=status)
    return resp, time.monotonic() - started


def poll(app, seconds, interval=0.05):
    """GET /health for ``seconds``: [(when, status, answer, took)]."""
    answers, started = [], time.monotonic()
    while time.monotonic() - started < seconds:
        resp, took = timed_get(app)
        answers.append((time.monotonic() - started, resp.status_int,
                        resp.json, took))
        time.sleep(interval)
    return answers


def test_no_thread_before_the_first_request(ironic_db):
    shims = fakes.Shims()
    api = fakes.make_boot_api(client=shims)
    time.sleep(0.3)
    assert not api.app.health.started
    assert shims.pings == 0
    try:
        resp = api.get('/health')
        assert resp.json == {'database': True,
                             'shims': {'c1': True, 'c2': True}}
        assert api.app.health.started and shims.pings >= 2
    finally:
        api.app.health.stop()


def test_every_answer_is_quick_beside_a_hung_shim(make_health):
    """c2's ping never returns: every answer comes at once, c2 false, the
    database and c1 checked on (past the database's staleness) while c2 is
    pinged once."""
    app, health, shims, _db = make_health(shims=Shims(hung=['c2']),
                                          first_wait=0.1)
    assert health.stale == pytest.approx(1.1)
    answers = poll(app, 2.0)
    assert len(answers) > 15
    assert max(took for _w, _s, _a, took in answers) < QUICK
    assert {(status, json.dumps(answer)) for _w, status, answer, _t
            in answers} == {(200, json.dumps(
                {'database': True, 'shims': {'c1': True, 'c2': False}}))}
    assert shims.pings['c2'] == 1  # never again while it runs
    assert shims.pings['c1'] > 10  # not delayed by c2's


def test_the_first_answer_waits_for_the_first_round_briefly(make_health):
    """A first round that cannot finish (c2 hung): the first request
    answers after ``first_wait`` with what is known, then at once."""
    app, health, _shims, _db = make_health(shims=Shims(hung=['c2']),
                                           ttl=1.0, timeout=10)
    resp, took = timed_get(app)
    assert health.first_wait <= took < 0.9
    assert resp.json == {'database': True,
                         'shims': {'c1': True, 'c2': False}}
    resp, took = timed_get(app)
    assert took < QUICK


def test_the_first_answer_is_complete_when_the_checks_are_quick(
        make_health):
    app, _health, _shims, _db = make_health(ttl=1.0)
    resp, took = timed_get(app)
    assert took < 0.9
    assert resp.json == {'database': True,
                         'shims': {'c1': True, 'c2': True}}


def test_a_shim_turns_false_once_its_ping_runs_past_its_bound(make_health):
    """c2 answered, then hangs: true while its ping runs within
    ``ping_bound``, false after it."""
    app, health, shims, _db = make_health(ping_bound=0.5)
    assert app.get('/health').json['shims']['c2'] is True
    shims.hung.add('c2')
    answers = poll(app, 1.5)
    assert max(took for *_x, took in answers) < QUICK
    turned = [when for when, _s, answer, _t in answers
              if not answer['shims']['c2']]
    assert turned and [a['shims']['c1'] for _w, _s, a, _t in answers] == [
        True] * len(answers)
    assert 0.4 <= turned[0] < 1.2
    assert all(not a['shims']['c2'] for w, _s, a, _t in answers
               if w >= turned[0])


def test_a_slow_ping_is_false(make_health):
    """A ping that answers, but after ``ping_bound``, does not count:
    neither while it runs nor once it has answered (rounds 0.5 s apart,
    pings of 0.2 s: idle 0.3 s between)."""
    app, health, _shims, _db = make_health(shims=Shims(slow=0.2), ttl=0.5,
                                           ping_bound=0.1)
    answers = poll(app, 1.5)
    assert [a['shims'] for _w, _s, a, _t in answers] == [
        {'c1': False, 'c2': False}] * len(answers)
    health.ping_bound = 0.5
    time.sleep(1.2)
    assert app.get('/health').json['shims'] == {'c1': True, 'c2': True}


def test_a_hung_database_is_503_after_its_staleness(make_health):
    """Its check never returns: 200 while its latest success is recent
    (``timeout + 2 * ttl``), then 503, every answer at once; back to 200
    when it answers again."""
    app, health, _shims, database = make_health(timeout=0.3)
    assert health.stale == pytest.approx(0.4)
    assert app.get('/health').status_int == 200
    database.state = 'hung'
    answers = poll(app, 1.5)
    assert max(took for *_x, took in answers) < QUICK
    first_503 = [when for when, status, _a, _t in answers if status == 503]
    assert first_503, answers
    assert 0.25 <= first_503[0] <= 1.0
    assert all(status == 200 for when, status, _a, _t in answers
               if when < 0.25)
    assert all(status == 503 and answer['database'] is False
               for when, status, answer, _t in answers
               if when >= first_503[0])
    assert answers[-1][2]['shims'] == {'c1': True, 'c2': True}
    database.state = 'up'
    database.release.set()
    time.sleep(0.3)
    assert app.get('/health').status_int == 200


def test_a_refusing_database_is_503_at_the_next_round(make_health):
    app, _health, _shims, database = make_health(timeout=10)
    assert app.get('/health').status_int == 200
    database.state = 'down'
    time.sleep(0.3)  # a few rounds; far from the staleness of 10.1 s
    resp, took = timed_get(app, status=503)
    assert resp.json == {'database': False,
                         'shims': {'c1': True, 'c2': True}}
    assert took < QUICK


def test_a_dead_shim_never_makes_it_unready(make_health):
    app, _health, _shims, _db = make_health(
        shims=Shims(hosts=['c1', 'c2', 'c3'], down=['c1', 'c2'],
                    hung=['c3']))
    for _when, status, answer, took in poll(app, 0.5):
        assert (status, answer) == (200, {
            'database': True,
            'shims': {'c1': False, 'c2': False, 'c3': False}})
        assert took < QUICK


def test_the_shims_hidden_with_the_option(ironic_db, overrides):
    overrides('health_shims', False, 'boot_config')
    api = fakes.make_boot_api(client=fakes.Shims(down=['c2']))
    try:
        resp = api.get('/health')
        assert resp.json == {'database': True}
        assert b'c1' not in resp.body and b'c2' not in resp.body
        api.app.health.find_node = Database()
        api.app.health.find_node.state = 'down'
        time.sleep(1.3)  # the next round (ttl 1 s)
        assert api.get('/health', status=503).json == {'database': False}
    finally:
        api.app.health.stop()


def test_the_conductors_come_and_go(make_health):
    app, _health, shims, _db = make_health()
    assert app.get('/health').json['shims'] == {'c1': True, 'c2': True}
    shims.hosts = ['c2', 'c3']
    time.sleep(0.3)
    assert app.get('/health').json['shims'] == {'c2': True, 'c3': True}


def test_transitions_are_logged(make_health, caplog):
    caplog.set_level(logging.INFO, logger='ironic_boot_config_mw')
    app, _health, shims, _db = make_health(shims=Shims(hung=['c2']),
                                           ttl=0.2, ping_bound=0.3)
    app.get('/health')
    time.sleep(0.8)
    shims.hung.clear()
    shims.release.set()  # late: false; c2 answers its next ping
    time.sleep(0.8)
    said = [(r.levelname, r.getMessage()) for r in caplog.records
            if r.getMessage().startswith('Health:')]
    assert said == [
        ('WARNING', 'Health: database answers; shims c1 up, c2 DOWN'),
        ('INFO', 'Health: database answers; shims c1 up, c2 up')]


def test_the_thread_ends_with_the_checker(ironic_db):
    """A checker no longer used (a test's, a reloaded application's) does
    not keep checking."""
    shims = Shims()
    health = health_mod.Health(Database(), shims, timeout=1.0, ttl=0.05)
    health.check()
    thread = health._thread
    del health
    import gc
    gc.collect()
    thread.join(2)
    assert not thread.is_alive()
    pings = sum(shims.pings.values())
    time.sleep(0.2)
    assert sum(shims.pings.values()) == pings


def test_a_forked_child_checks_for_itself(make_health):
    """A server forking its workers after the parent's first request: the
    child's first request starts the child's own thread."""
    class NoSQLite:  # not a connection shared with the parent
        def ping(self):
            pass

    app, health, shims, _db = make_health(database=Database(NoSQLite()))
    app.get('/health')
    assert health.started
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, and end
        try:
            os.close(read)
            fresh = not health.started
            before = sum(shims.pings.values())
            answer = health.check()
            time.sleep(0.3)  # rounds of its own
            os.write(write, json.dumps({
                'fresh': fresh, 'answer': answer,
                'pinged': sum(shims.pings.values()) - before}).encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        ready, _w, _x = select.select([read], [], [], 10)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        assert ready, 'the child did not answer'
        said = json.loads(os.read(read, 65536))
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    assert said['fresh'] is True
    assert said['answer'] == {'database': True,
                              'shims': {'c1': True, 'c2': True}}
    assert said['pinged'] >= 4
