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

"""Percentiles and tallies of samples: one definition for the bench and the
tests alike."""

import collections
import typing


def percentile(samples: typing.Iterable[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``samples``.

    Nearest rank, not interpolated: a p99 is a latency some request had.
    """
    ordered = sorted(samples)
    if not ordered:
        raise ValueError('no samples')
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def p50(samples: typing.Iterable[float]) -> float:
    return percentile(samples, 0.50)


def p99(samples: typing.Iterable[float]) -> float:
    return percentile(samples, 0.99)


def tally(items: typing.Iterable[typing.Hashable]) -> dict:
    """``{item: how many times}``, in order of first appearance."""
    return dict(collections.Counter(items))
