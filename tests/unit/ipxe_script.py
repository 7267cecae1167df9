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

"""Runs the few iPXE commands of the root script's API part, the way iPXE
1.x runs a script (``src/core/exec.c``, ``src/hci/commands``), so that unit
tests follow its control flow: which URLs it chains, when it sleeps, where
it ends. Not iPXE: real firmware runs it in tests/functional.

* ``${name}`` expands innermost first (``${net${id}/mac}``), an unset
  setting to nothing, before the line is split into words;
* ``a || b`` runs ``b`` only if ``a`` failed, ``a && b`` only if it
  succeeded; an empty command succeeds; a line that ends failed ends the
  script (iPXE's script aborts);
* ``goto`` to a ``:label``; ``chain`` succeeds when ``serve(url)`` says so,
  and then the chained script has taken over: the run ends there.
"""

import re

_SETTING = re.compile(r'\$\{([^${}]*)\}')
_SEPARATOR = re.compile(r'\s+(\|\||&&)(?:\s+|$)')


class Run:
    """What the script did: ``events`` (``('chain', url)``, ``('sleep',
    seconds)``, ``('echo', text)``) and how it ended: ``end`` is
    ``'chained'``, ``'exit'``, ``'aborted'`` or ``'fell through'`` (past
    the last line: the stock part's turn)."""

    def __init__(self):
        self.events = []
        self.end = None

    def chains(self):
        return [e[1] for e in self.events if e[0] == 'chain']

    def sleeps(self):
        return [e[1] for e in self.events if e[0] == 'sleep']


class _Jump(Exception):
    pass


class _End(Exception):
    pass


def run(script, macs, serve=lambda url, run: False, has_inc=True,
        max_steps=10000):
    """Run ``script`` on a machine whose NICs have ``macs`` (net0, ...;
    ``${mac}`` is net0's). ``serve(url, run)``: whether the API serves the
    URL (``run`` so far: e.g. only after two sleeps). ``has_inc``: False
    is an old ROM without the ``inc`` command."""
    lines = script.splitlines()
    labels = {line[1:].strip(): i for i, line in enumerate(lines)
              if line.startswith(':')}
    settings = {'net%d/mac' % i: mac for i, mac in enumerate(macs)}
    settings['mac'] = macs[0]
    result = Run()

    def expand(text):
        while True:
            m = _SETTING.search(text)
            if not m:
                return text
            text = text[:m.start()] + str(settings.get(m.group(1), '')) + \
                text[m.end():]

    def command(words):
        """The command's success."""
        if not words:
            return True
        name, args = words[0], words[1:]
        if name == 'set':
            settings[args[0].split(':')[0]] = ' '.join(args[1:])
            return True
        if name == 'inc':
            if not has_inc:
                return False
            settings[args[0]] = str(int(settings.get(args[0]) or 0) + 1)
            return True
        if name == 'isset':
            return bool(args)
        if name == 'iseq':
            if len(args) != 2:
                return False   # iPXE: a usage error
            return args[0] == args[1]
        if name == 'goto':
            if args[0] not in labels:
                return False
            raise _Jump(labels[args[0]])
        if name == 'echo':
            result.events.append(('echo', ' '.join(args)))
            return True
        if name == 'sleep':
            result.events.append(('sleep', int(args[0])))
            return True
        if name == 'chain':
            result.events.append(('chain', args[0]))
            if serve(args[0], result):
                result.end = 'chained'
                raise _End()
            return False
        if name == 'exit':
            result.end = 'exit'
            raise _End()
        raise AssertionError('command not modelled: %s' % name)

    index = 0
    try:
        for _step in range(max_steps):
            if index >= len(lines):
                result.end = 'fell through'
                return result
            line = lines[index].strip()
            index += 1
            if not line or line.startswith(('#', ':')):
                continue
            parts = _SEPARATOR.split(expand(line))
            # [command, separator, command, separator, ..., command]
            ok, process = True, True
            try:
                for position in range(0, len(parts), 2):
                    if process:
                        ok = command(parts[position].split())
                    if position + 1 >= len(parts):
                        break
                    process = (not ok) if parts[position + 1] == '||' else ok
            except _Jump as jump:
                index = jump.args[0]
                continue
            if not ok:
                result.end = 'aborted'
                return result
        raise AssertionError('no end after %d steps' % max_steps)
    except _End:
        return result
