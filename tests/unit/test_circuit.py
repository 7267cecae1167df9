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

"""The shims' circuit over real sockets on loopback: a port nobody listens
on (refused), a server that accepts and never answers (a SIGSTOPped shim),
a listener whose queue is full (a host that drops the SYNs), and a small
JSON-RPC server answering as a shim does."""

import socket
import threading
import time

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import circuit
from ironic_boot_config_mw.api import jsonrpc
from tests.harness import net
from tests.unit import fakes

A, B = '127.0.0.2', '127.0.0.3'


class Silent:
    """Accepts connections on ``host:port`` and never answers."""

    def __init__(self, host, port):
        self.sock = socket.create_server((host, port))
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def port(overrides):
    """A port free on A and B, which the JSON-RPC client calls."""
    port = net.free_port_on_all([A, B])
    # [DEFAULT]'s, which our group falls back to: overriding our group's
    # would leave it set for later tests that inherit [json_rpc]'s.
    overrides('auth_strategy', 'noauth')
    overrides('port', port, bc_conf.JSON_RPC_GROUP)
    return port


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.close()


def client(timeout=2.0, connect_timeout=0.2):
    return jsonrpc.KeepAliveClient(CONF, bc_conf.JSON_RPC_GROUP, timeout,
                                   connect_timeout)


def ask(breaker, rpc, host, method='get_boot_config'):
    """One call through the circuit: ``(result or exception, seconds)``."""
    started = time.monotonic()
    try:
        result = breaker.call(host, rpc.call,
                              ironic_context.get_admin_context(), host,
                              method, '1.1', node_id='n')
    except Exception as exc:
        result = exc
    return result, time.monotonic() - started


def in_thread(function, *args):
    results = []
    thread = threading.Thread(target=lambda: results.append(function(*args)))
    thread.start()
    return thread, results


def test_refused_opens_the_circuit_and_later_calls_fail_at_once(port):
    breaker = circuit.Circuit(0.2, 60)
    rpc = client()
    first, _took = ask(breaker, rpc, A)
    assert isinstance(first, ConnectionRefusedError)
    assert breaker.is_open(A)
    for _ in range(3):
        result, took = ask(breaker, rpc, A)
        assert isinstance(result, exception.ShimUnavailable)
        assert took < fakes.FAST
    assert A in str(result) and 'unavailable since' in str(result)
    # Per host: B is not A.
    assert not breaker.is_open(B)


def test_not_found_is_an_answer_and_keeps_it_closed(port, servers):
    def nothing(params):
        raise LookupError('nothing to serve')
    shim = fakes.FakeShim(A, port, nothing)
    servers.append(shim)
    breaker = circuit.Circuit(0.2, 60)
    rpc = client()
    for _ in range(3):
        result, _took = ask(breaker, rpc, A)
        assert type(result) is ironic_exception.NotFound
        assert not breaker.is_open(A)
    assert shim.calls == ['get_boot_config'] * 3
    assert breaker._shims == {}   # nothing kept of a healthy host


def test_a_timed_out_read_opens_it_then_one_trial_at_a_time(port, servers):
    silent = Silent(A, port)
    servers.append(silent)
    breaker = circuit.Circuit(connect_timeout=0.2, retry_interval=0.3)
    rpc = client(timeout=0.6)
    result, took = ask(breaker, rpc, A)
    assert isinstance(result, TimeoutError) and 0.5 < took < 1.5
    assert breaker.is_open(A)
    result, took = ask(breaker, rpc, A)
    assert isinstance(result, exception.ShimUnavailable) and took < fakes.FAST
    time.sleep(0.35)   # past retry_interval: half-open
    trial, trial_result = in_thread(ask, breaker, rpc, A)
    time.sleep(0.1)
    # While the trial hangs, the others fail at once.
    for _ in range(5):
        result, took = ask(breaker, rpc, A)
        assert isinstance(result, exception.ShimUnavailable), result
        assert took < fakes.FAST
    trial.join(5)
    assert isinstance(trial_result[0][0], TimeoutError)
    # Two calls reached the shim: the first and the one trial.
    assert len(silent.accepted) == 2
    assert breaker.is_open(A)


def test_a_hung_shim_holds_one_call_beside_it_fail_at_once(port, servers):
    """The suspect rule: no read timed out yet, the circuit is closed."""
    servers.append(Silent(A, port))
    breaker = circuit.Circuit(connect_timeout=0.6, retry_interval=60)
    rpc = client(timeout=3.0, connect_timeout=0.6)
    first, first_result = in_thread(ask, breaker, rpc, A)
    time.sleep(0.05)
    # Beside a young pending call: it may wait half a connect_timeout, no
    # more, and its timeout does not open the circuit (the first decides).
    result, took = ask(breaker, rpc, A)
    assert isinstance(result, TimeoutError), result
    assert 0.25 < took < 0.55, took
    assert not breaker.is_open(A)
    # And after it, no other call waits beside the first one.
    result, took = ask(breaker, rpc, A)
    assert isinstance(result, exception.ShimUnavailable), result
    assert took < fakes.FAST
    time.sleep(0.35)   # the first call now pending > connect_timeout
    result, took = ask(breaker, rpc, A)
    assert isinstance(result, exception.ShimUnavailable), result
    assert 'pending' in str(result) and took < fakes.FAST
    first.join(5)
    assert isinstance(first_result[0][0], TimeoutError)
    assert first_result[0][1] > 2.5   # the first had its rpc_timeout
    assert breaker.is_open(A)


def test_a_busy_shim_is_not_a_hung_one(port, servers):
    """A slow call beside which the shim answers others: the calls beside
    it keep the whole timeout, and none is refused."""
    calls = []

    def answer(params):
        calls.append(params)
        if len(calls) == 1:
            time.sleep(1.0)   # longer than connect_timeout
        return ['text/plain', 'b2s=']
    servers.append(fakes.FakeShim(A, port, answer))
    breaker = circuit.Circuit(connect_timeout=0.4, retry_interval=60)
    rpc = client(timeout=3.0, connect_timeout=0.4)
    slow, slow_result = in_thread(ask, breaker, rpc, A)
    time.sleep(0.05)
    assert ask(breaker, rpc, A)[0] == ['text/plain', 'b2s=']  # answered
    time.sleep(0.5)   # the slow call now pending > connect_timeout
    call = breaker.enter(A)
    assert call.timeout is None   # not cut short: the shim answers
    breaker.leave(call)
    assert ask(breaker, rpc, A)[0] == ['text/plain', 'b2s=']
    slow.join(5)
    assert slow_result[0][0] == ['text/plain', 'b2s=']
    assert not breaker.is_open(A)


def test_recovers_with_the_first_trial_after_retry_interval(port, servers):
    breaker = circuit.Circuit(0.2, retry_interval=0.3)
    rpc = client()
    assert isinstance(ask(breaker, rpc, A)[0], ConnectionRefusedError)
    shim = fakes.FakeShim(A, port)
    servers.append(shim)
    assert isinstance(ask(breaker, rpc, A)[0], exception.ShimUnavailable)
    assert shim.calls == []
    time.sleep(0.35)
    assert ask(breaker, rpc, A)[0] == ['text/plain', 'b2s=']
    assert not breaker.is_open(A)
    for _ in range(3):
        assert ask(breaker, rpc, A)[0] == ['text/plain', 'b2s=']
    assert shim.calls == ['get_boot_config'] * 4
    assert breaker._shims == {}


def test_an_answered_ping_closes_it(port, servers):
    breaker = circuit.Circuit(0.2, retry_interval=60)
    rpc = client()
    assert isinstance(ask(breaker, rpc, A)[0], ConnectionRefusedError)
    servers.append(fakes.FakeShim(A, port))
    breaker.answered(A)
    assert not breaker.is_open(A)
    assert ask(breaker, rpc, A)[0] == ['text/plain', 'b2s=']


def test_the_connect_timeout_is_not_the_read_timeout(port, servers):
    """A host that drops the SYNs (a listener whose accept queue is full,
    as a dead host's never answers): the connect gives up after
    connect_timeout, not rpc_timeout."""
    full = socket.create_server((A, port), backlog=0)
    servers.append(full)
    queued = []
    for _ in range(4):   # fill the accept queue; nobody accepts
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((A, port))
        queued.append(s)
    time.sleep(0.1)
    try:
        rpc = client(timeout=5.0, connect_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            rpc.call(ironic_context.get_admin_context(), A,
                     'get_boot_config', '1.1')
        assert time.monotonic() - started < 2
    finally:
        for s in queued:
            s.close()


def test_only_transport_failures_open_it():
    import http.client

    from keystoneauth1 import exceptions as ksa_exceptions
    import oslo_messaging as messaging
    for exc in (ConnectionRefusedError(), TimeoutError(), OSError(),
                http.client.RemoteDisconnected(),
                messaging.MessagingTimeout(),
                ksa_exceptions.ConnectFailure()):
        assert circuit.is_transport_failure(exc), exc
    for exc in (ironic_exception.NotFound(), ironic_exception.NoValidHost(
            reason='none'), ironic_exception.IronicException('answered'),
            messaging.RemoteError('KeyError'), ValueError()):
        assert not circuit.is_transport_failure(exc), exc


def test_memory_is_bounded_by_the_hosts(port):
    breaker = circuit.Circuit(0.2, 60)
    rpc = client()
    for n in range(2, 12):
        ask(breaker, rpc, '127.0.0.%d' % n)
    assert len(breaker._shims) == 10   # one per host, open
    for _ in range(3):
        ask(breaker, rpc, '127.0.0.2')
    assert len(breaker._shims) == 10


def test_states_say_which_calls_fail_at_once():
    now = [100.0]
    breaker = circuit.Circuit(1.0, 60, clock=lambda: now[0])
    assert breaker.states() == {}
    breaker.leave(breaker.enter(A), ConnectionRefusedError())
    pending = breaker.enter(B)                  # pending, not yet suspect
    assert breaker.states() == {A: 'open'}
    now[0] += 1.5                               # past connect_timeout
    assert breaker.states() == {A: 'open', B: 'suspect'}
    breaker.leave(pending)                      # B answered
    assert breaker.states() == {A: 'open'}
