"""Subprocess for tests/test_run_history.py: a second writer, or a run that gets SIGKILLed.

Usage:
    python run_history_helper.py write <db> <tag> <count>
        Wait for a line on stdin (so two helpers start together), then open the history
        (creating and migrating it if need be) and record <count> runs with ids
        `<tag>-<i>`: begin, checkpoint, finish, judgment. Print "done <count>".
    python run_history_helper.py kill <db> <base_url>
        Stream a run of two "slow" variants from the loopback server at <base_url>,
        recording it. After the 3rd and the 6th text event: checkpoint, wait for the write,
        print {"run_id", "texts"} as JSON, then block on stdin (the test SIGKILLs us there,
        so what the history holds is exactly what was printed). End of input: exit 3.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scillm_tui.core.events import VariantDelta  # noqa: E402
from scillm_tui.core.retry import RetryPolicy  # noqa: E402
from scillm_tui.core.run_history import HistoryRecorder, HistoryStore  # noqa: E402
from scillm_tui.core.run_history.models import RunSnapshot, VariantSnapshot  # noqa: E402
from scillm_tui.core.runs import Run, RunSpec  # noqa: E402
from tests.engine_support import make_backends  # noqa: E402

CHECKPOINT_AFTER = (3, 6)


def _variant(tag: str, i: int, text: str, status: str) -> VariantSnapshot:
    return VariantSnapshot(
        variant_id="v1",
        position=0,
        model=f"model-{tag}",
        endpoint="gateway",
        status=status,
        error=None,
        answer=text,
        thinking="",
        record={"id": "v1", "chars": len(text)},
    )


def write(db: Path, tag: str, count: int) -> None:
    if not sys.stdin.readline():
        sys.exit(3)
    store = HistoryStore.open(db)
    for i in range(count):
        run_id = f"{tag}-{i}"
        store.begin_run(
            RunSnapshot(
                run_id=run_id,
                started_at=datetime.now(UTC),
                prompt=f"prompt {tag} {i}",
                system=None,
                models=[f"model-{tag}"],
                n=1,
                settings={},
                bases={"gateway": "http://127.0.0.1:1"},
                variants=(_variant(tag, i, "", "queued"),),
            )
        )
        store.checkpoint(run_id, [_variant(tag, i, f"half {tag} {i}", "streaming")])
        store.finish_run(run_id, [_variant(tag, i, f"answer {tag} {i}", "done")])
        store.add_judgment(
            run_id, {"status": "default", "best_id": "v1", "judge_model": f"judge-{tag}"}
        )
    store.close()
    print(f"done {count}", flush=True)


async def kill(db: Path, base_url: str) -> None:
    recorder = HistoryRecorder.open(db, enabled=True)
    backends = make_backends(gateway=base_url, retry=RetryPolicy(), idle_s=10.0)
    spec = RunSpec(prompt="stream slowly please", models=["slow"], n=2, target="gateway")
    run = Run(spec, backends)
    recorder.run_started(run, checkpoint_every=None)
    deltas = 0
    async for event in run.events():
        if not isinstance(event, VariantDelta):
            continue
        deltas += 1
        if deltas in CHECKPOINT_AFTER:
            recorder.checkpoint(run)
            await recorder.flush()
            texts = {vid: v.text for vid, v in run.variants.items()}
            print(json.dumps({"run_id": run.run_id, "texts": texts}), flush=True)
            if not sys.stdin.readline():
                sys.exit(3)
    sys.exit(4)  # the run ended: the test should have killed us before


def main() -> None:
    mode, db = sys.argv[1], Path(sys.argv[2])
    if mode == "write":
        write(db, sys.argv[3], int(sys.argv[4]))
    elif mode == "kill":
        asyncio.run(kill(db, sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
