"""The fluent API's state in threads, asyncio tasks and callbacks (see tracking/state.py):
active runs belong to a thread or task; the active experiment and the tracking URI are
process-wide, except where a thread or task set its own."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import mltrail
from mltrail.tracking import fluent


def _in_thread(target: Callable[[], Any]) -> Any:
    """Run ``target`` in a new thread; return what it returned (or raise what it raised)."""
    result: dict[str, Any] = {}

    def main() -> None:
        try:
            result["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            result["error"] = exc

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_thread_starts_without_the_main_threads_run_and_keeps_its_own():
    with mltrail.start_run() as main_run:

        def worker() -> tuple[Any, str]:
            seen = mltrail.active_run()
            # It logs to the main run by id, and runs its own run beside it.
            mltrail.log_metric("from_thread", 1.0, run_id=main_run.info.run_id)
            with mltrail.start_run() as own:
                mltrail.log_metric("own", 2.0)
            return seen, own.info.run_id

        seen, own_id = _in_thread(worker)
        assert seen is None
        assert mltrail.active_run().info.run_id == main_run.info.run_id
    assert mltrail.get_run(main_run.info.run_id).data.metrics == {"from_thread": 1.0}
    own = mltrail.get_run(own_id)
    assert own.data.metrics == {"own": 2.0} and own.info.status == "FINISHED"


def test_threads_running_runs_at_once_never_end_each_others():
    barrier = threading.Barrier(4)

    def worker(i: int) -> tuple[str, str, list[str]]:
        with mltrail.start_run(run_name=f"w{i}") as run:
            barrier.wait()  # every thread has a run active now
            seen = [mltrail.active_run().info.run_id]
            with mltrail.start_run(nested=True) as child:
                barrier.wait()
                seen.append(mltrail.active_run().info.run_id)
                mltrail.log_metric("i", float(i))
            seen.append(mltrail.active_run().info.run_id)
        return run.info.run_id, child.info.run_id, seen

    results: list[Any] = [None] * 4
    threads = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, worker(i))) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (run_id, child_id, seen) in enumerate(results):
        assert seen == [run_id, child_id, run_id]
        child = mltrail.get_run(child_id)
        assert child.data.tags["mlflow.parentRunId"] == run_id
        assert child.data.metrics == {"i": float(i)}
        assert mltrail.get_run(run_id).info.status == "FINISHED"
    assert mltrail.active_run() is None


def test_asyncio_tasks_inherit_the_active_run_and_keep_their_nested_runs_apart():
    async def child(name: str) -> tuple[str, str | None]:
        with mltrail.start_run(run_name=name, nested=True) as run:
            await asyncio.sleep(0)  # the other task runs here, with its own run active
            mltrail.log_metric("seen_self", float(mltrail.active_run() is run))
            await asyncio.sleep(0)
            assert mltrail.active_run().info.run_id == run.info.run_id
        after = mltrail.active_run()
        return run.info.run_id, after.info.run_id if after else None

    async def main(parent_id: str) -> list[tuple[str, str | None]]:
        return list(await asyncio.gather(child("a"), child("b")))

    with mltrail.start_run() as parent:
        results = asyncio.run(main(parent.info.run_id))
        assert mltrail.active_run().info.run_id == parent.info.run_id
    for run_id, active_after in results:
        assert active_after == parent.info.run_id  # the parent, inherited from the caller
        run = mltrail.get_run(run_id)
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.metrics == {"seen_self": 1.0} and run.info.status == "FINISHED"


def test_a_callback_run_in_a_copied_context_logs_to_the_active_run():
    # How autologging hooks and framework callbacks run: in the caller's context, or a copy.
    with mltrail.start_run() as run:
        ctx = contextvars.copy_context()
        _in_thread(lambda: ctx.run(mltrail.log_metric, "from_callback", 3.0))
    assert mltrail.get_run(run.info.run_id).data.metrics == {"from_callback": 3.0}


def test_experiment_and_tracking_uri_are_process_wide_unless_a_thread_sets_its_own(tmp_path):
    uri = "sqlite:///" + str(tmp_path / "elsewhere.db")
    mltrail.set_tracking_uri(uri)
    main_exp = mltrail.set_experiment("main-exp").experiment_id

    def worker() -> tuple[str, str, str, str]:
        seen_uri = mltrail.get_tracking_uri()
        with mltrail.start_run() as run:
            pass
        own = mltrail.set_experiment("thread-exp").experiment_id
        return seen_uri, run.info.experiment_id, own, fluent._resolve_experiment_id()

    seen_uri, run_exp, own_exp, resolved = _in_thread(worker)
    assert seen_uri == uri and run_exp == main_exp
    assert resolved == own_exp != main_exp
    # The thread set its own experiment; the main thread keeps the one it set.
    assert fluent._resolve_experiment_id() == main_exp
    # A thread that has set nothing follows the latest process-wide value.
    assert _in_thread(fluent._resolve_experiment_id) == own_exp


def test_one_reset_clears_runs_experiment_and_uris(tmp_path):
    mltrail.set_tracking_uri("sqlite:///" + str(tmp_path / "other.db"))
    mltrail.set_registry_uri("sqlite:///" + str(tmp_path / "registry.db"))
    mltrail.set_experiment("to-forget")
    run = mltrail.start_run()
    fluent._reset_for_tests()
    assert mltrail.active_run() is None
    assert not mltrail.is_tracking_uri_set()
    assert mltrail.get_registry_uri() == mltrail.get_tracking_uri()
    assert fluent._resolve_experiment_id() == "0"
    mltrail.set_tracking_uri("sqlite:///" + str(tmp_path / "other.db"))
    assert mltrail.get_run(run.info.run_id).info.status == "FINISHED"


def test_clients_of_one_store_share_its_session_which_stays_off_the_store(tmp_path):
    from mltrail.store.store_cache import reset_stores
    from mltrail.tracking.client import TrailClient

    uri = "sqlite:///" + str(tmp_path / "shared.db")
    first, second = TrailClient(uri), TrailClient(uri)
    assert first.store is second.store and first._session is second._session
    assert first._buffer is second._buffer  # one writer thread and queue per store
    assert not [name for name in vars(first.store) if "buffer" in name or "known" in name]
    run_id = first.create_run("0").info.run_id
    second.log_metric(run_id, "m", 1.0)  # known to exist through the shared session
    assert second.get_metric_history(run_id, "m")[0].value == 1.0
    reset_stores()
    third = TrailClient(uri)
    assert third.store is not first.store and third._session is not first._session
