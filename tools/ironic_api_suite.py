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

"""Ironic's own API unit tests, without and with the boot_config filter.

Ironic's wheel ships its API unit tests (``ironic.tests.unit.api``). This
runs them twice, each pass in a fresh process: ``plain``, as they are, and
``filtered``, with :class:`BootConfigMiddleware` around every app they build
(``ironic.api.app.setup_app``, which ``pecan.testing.load_test_app`` calls).
It fails unless every test has the same outcome in both passes: the filter
must change nothing for Ironic's API, its import side effects included
(the filter is imported where a deployment imports it, while Ironic builds
its first app, inside a test). Tests that fail in both passes are Ironic's
own failures in this environment: listed, not counted against the filter.

The monkeypatching lives here only, never in the package. Usage (``tox -e
ironic39-api-suite``, or any Python with Ironic, its test dependencies and
this package)::

    python tools/ironic_api_suite.py [--serial] [TEST_NAME_PREFIX ...]

``PYTHONPATH=<other tree>`` puts another tree's filter in front.
"""

import argparse
import collections
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

SUITE = 'ironic.tests.unit.api'
PASSES = ('plain', 'filtered')
#: Outcomes, least to most severe: a test keeps its most severe one.
OUTCOMES = ('passed', 'skipped', 'xfail', 'xpass', 'failed', 'error')
#: Bounds one pass (a whole suite takes minutes).
PASS_TIMEOUT = 1800
#: Before Ironic's fixtures replace it.
_POPEN = subprocess.Popen
#: As Ironic's own tox.ini runs its unit tests.
TEST_ENV = {'OS_LOG_CAPTURE': 'true', 'OS_STDOUT_CAPTURE': 'true',
            'OS_STDERR_CAPTURE': 'true', 'PYTHONUNBUFFERED': '1'}


class Outcomes(unittest.TestResult):
    """Each test's outcome (its most severe), and why for the bad ones."""

    def __init__(self):
        super().__init__()
        self.outcomes = {}
        self.reasons = {}

    def _record(self, test, outcome, err=None):
        test_id = test.id()
        previous = self.outcomes.get(test_id, 'passed')
        if OUTCOMES.index(outcome) >= OUTCOMES.index(previous):
            self.outcomes[test_id] = outcome
        if err is not None:
            self.reasons[test_id] = _reason(err)

    def addSuccess(self, test):
        self._record(test, 'passed')

    def addFailure(self, test, err):
        self._record(test, 'failed', err)

    def addError(self, test, err):
        self._record(test, 'error', err)

    def addSkip(self, test, reason):
        self._record(test, 'skipped')

    def addExpectedFailure(self, test, err):
        self._record(test, 'xfail')

    def addUnexpectedSuccess(self, test):
        self._record(test, 'xpass')

    def addSubTest(self, test, subtest, err):
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._record(test, 'failed' if failed else 'error', err)


def _reason(err):
    """The exception's last line. testtools hands a plain result its
    details as one text: captured logs and output, the traceback last."""
    text = ''.join(traceback.format_exception_only(err[0], err[1]))
    tail = text.rsplit('Traceback (most recent call last):', 1)[-1]
    lines = [line for line in tail.splitlines()
             if line.strip() and not line.startswith(' ')]
    return (lines[-1] if lines else text)[:500]


def hook_app_building(with_filter):
    """Hook ``ironic.api.app.setup_app``: the filter around each app it
    builds (``with_filter``), the conductor side loaded at the first;
    return the counts it keeps."""
    from ironic.api import app as api_app

    setup_app = api_app.setup_app
    counts = {'apps': 0, 'filtered': 0, 'filter': None}

    def setup_app_hooked(*args, **kwargs):
        app = setup_app(*args, **kwargs)
        counts['apps'] += 1
        try:
            if with_filter:
                # NOTE: imported at the first app, not before: where a
                # deployment imports it (inside Ironic's app building),
                # under the test's fixtures, so import side effects count.
                from ironic_boot_config_mw.api import middleware
                app = middleware.BootConfigMiddleware(app)
                counts['filtered'] += 1
                counts['filter'] = middleware.__file__
        finally:
            _load_conductor_side()
        return app

    api_app.setup_app = setup_app_hooked
    return counts


def _load_conductor_side():
    """Import Ironic's conductor side, subprocesses allowed (once).

    NOTE: Ironic's whole unit run imports it (its driver tests) before any
    test starts. The API tests alone load it in their first test that
    builds a driver, under Ironic's fixtures, which forbid subprocesses:
    zeroconf (``ironic.common.mdns``) runs ``ldconfig`` at import, and 34
    node tests of Ironic 39 then fail with or without the filter. Loaded
    here, after the filter's own import, in both passes alike.
    """
    if 'ironic.conductor.manager' in sys.modules:
        return
    forbidden = subprocess.Popen
    subprocess.Popen = _POPEN
    try:
        importlib.import_module('ironic.conductor.manager')
    finally:
        subprocess.Popen = forbidden


def run_pass(name, names, out):
    """One pass in this process; its results as JSON into ``out``."""
    loader = unittest.TestLoader()
    # (Loaded first: Ironic's test package picks oslo.service's backend
    # before anything imports Ironic's app.)
    suite = (loader.loadTestsFromNames(names) if names
             else loader.discover(SUITE))
    counts = hook_app_building(with_filter=name == 'filtered')
    result = Outcomes()
    started = time.monotonic()
    suite.run(result)
    import ironic.version
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(out, 'w') as f:
        json.dump({'outcomes': result.outcomes, 'reasons': result.reasons,
                   'seconds': time.monotonic() - started,
                   'cpu_seconds': usage.ru_utime + usage.ru_stime,
                   'apps': counts['apps'], 'filtered': counts['filtered'],
                   'filter': counts['filter'],
                   'ironic': ironic.version.version_info.release_string()},
                  f)


def _counts(outcomes):
    counts = collections.Counter(outcomes.values())
    return ', '.join('%s %d' % (o, counts[o]) for o in OUTCOMES
                     if counts[o] or o in ('passed', 'failed', 'error',
                                           'skipped'))


def compare(results):
    """Print both passes and their differences; return the exit code."""
    plain, filtered = results['plain'], results['filtered']
    print('Ironic %s, %s' % (plain['ironic'], SUITE))
    for name in PASSES:
        r = results[name]
        print('  %-8s %5d tests in %4.0f s (CPU %4.0f s): %s' % (
            name, len(r['outcomes']), r['seconds'], r['cpu_seconds'],
            _counts(r['outcomes'])))
    print('  filter: %s, around %d of %d apps' % (
        filtered['filter'], filtered['filtered'], filtered['apps']))
    _print_failing_in_both(plain, filtered)
    differ = sorted(
        t for t in set(plain['outcomes']) | set(filtered['outcomes'])
        if plain['outcomes'].get(t) != filtered['outcomes'].get(t))
    for test_id in differ:
        print('DIFFERS %s: plain %s, filtered %s' % (
            test_id, plain['outcomes'].get(test_id, 'not run'),
            filtered['outcomes'].get(test_id, 'not run')))
        for name in PASSES:
            reason = results[name]['reasons'].get(test_id)
            if reason:
                print('    %s: %s' % (name, reason))
    if differ:
        print('FAILED: %d tests differ with the filter' % len(differ))
        return 1
    if not plain['outcomes'] or not filtered['filtered']:
        print('FAILED: no tests ran, or no app was wrapped')
        return 1
    print('OK: the same outcome for every test with the filter')
    return 0


def _print_failing_in_both(plain, filtered):
    """Ironic's own failures here (the same with the filter), by reason."""
    bad = collections.defaultdict(list)
    for test_id, outcome in sorted(plain['outcomes'].items()):
        if outcome in ('failed', 'error') and \
                filtered['outcomes'].get(test_id) == outcome:
            bad[plain['reasons'].get(test_id, '?')].append(test_id)
    for reason, tests in sorted(bad.items(), key=lambda i: -len(i[1])):
        print('  failing in both passes: %d, e.g. %s: %s' % (
            len(tests), tests[0], reason[:300]))


def _wait(proc):
    try:
        proc.wait(PASS_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--serial', action='store_true',
                        help='one pass after the other (default: both at '
                             'once, one per core)')
    parser.add_argument('--pass', dest='one_pass', choices=PASSES,
                        help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    parser.add_argument('names', nargs='*',
                        help='tests to run (dotted names); default: %s'
                             % SUITE)
    args = parser.parse_args(argv)
    if args.one_pass:
        run_pass(args.one_pass, args.names, args.out)
        return 0

    env = dict(TEST_ENV, **os.environ)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: os.path.join(tmp, name + '.json') for name in PASSES}
        procs = {}
        for name in PASSES:
            with open(os.path.join(tmp, name + '.log'), 'w') as log:
                procs[name] = subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), '--pass',
                     name, '--out', outs[name], *args.names],
                    stdout=log, stderr=subprocess.STDOUT, env=env)
            if args.serial:
                _wait(procs[name])
        results = {}
        for name, proc in procs.items():
            _wait(proc)
            if proc.returncode or not os.path.exists(outs[name]):
                with open(os.path.join(tmp, name + '.log')) as log:
                    print(log.read()[-5000:])
                print('FAILED: the %s pass exited %s' % (name,
                                                         proc.returncode))
                return 1
            with open(outs[name]) as f:
                results[name] = json.load(f)
    code = compare(results)
    print('%.0f s in all' % (time.monotonic() - started))
    return code


if __name__ == '__main__':
    sys.exit(main())
