"""runtime.server.settle_heap: a service's own process freezes what it holds once up; a process
that merely hosts servers (a test run) keeps its collector as it is."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import gc
from runtime.server import settle_heap
kept = [[i] for i in range(1000)]  # tracked objects alive before settling
settle_heap()
before = gc.get_freeze_count()
settle_heap(process=True)
after = gc.get_freeze_count()
later = [[i] for i in range(10)]
settle_heap()  # a cache loaded later (the person index) settles again in such a process
print(before, after >= 1000, gc.get_freeze_count() >= after + 10)
"""


def test_only_a_service_process_freezes_its_heap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(p for p in sys.path if p)},
    )
    assert done.stdout.split() == ["0", "True", "True"]
