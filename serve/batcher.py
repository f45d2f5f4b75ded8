"""Micro-batching: merge classify requests that arrive close together into one ``predict`` call.

Requests wait up to ``wait_ms`` for company; while a batch is being classified, newly
arriving requests queue up and form the next batch, so at most one ``predict`` call runs
per evidence setting. Each request's failure stays its own: when a merged call fails, its
requests are classified again one by one, so one bad request gets its error and the others
their results. Whether batching beats one ``predict`` call per request depends on the model
and the machine: see the numbers in ``themesift.serve.http``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import anyio.to_thread

PredictFn = Callable[[list, bool, list], list[dict]]  # texts, evidence, one audience per text
Pending = tuple[list, list, asyncio.Future]
log = logging.getLogger("themesift.serve.batcher")


class MicroBatcher:
    def __init__(self, predict_fn: PredictFn, *, wait_ms: float = 5.0, max_texts: int = 256):
        self._predict = predict_fn
        self._wait = wait_ms / 1000.0
        self._max_texts = max(1, max_texts)
        self._pending: dict[bool, list[Pending]] = {False: [], True: []}
        self._running: dict[bool, bool] = {False: False, True: False}

    async def submit(self, texts: list[Any], evidence: bool, audiences: list | None = None) -> list[dict]:
        """Classify ``texts`` together with whatever else is waiting; same result as ``predict``."""
        if not texts:
            return []
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[evidence].append((texts, audiences or ["auto"] * len(texts), future))
        if not self._running[evidence]:
            self._running[evidence] = True
            asyncio.create_task(self._drain(evidence))
        return await future

    def _take(self, evidence: bool) -> list[Pending]:
        """Pop requests in arrival order up to ``max_texts`` texts (always at least one)."""
        queue, batch, n = self._pending[evidence], [], 0
        while queue and (not batch or n + len(queue[0][0]) <= self._max_texts):
            item = queue.pop(0)
            batch.append(item)
            n += len(item[0])
        return batch

    async def _drain(self, evidence: bool) -> None:
        try:
            await asyncio.sleep(self._wait)
            while self._pending[evidence]:
                batch = [item for item in self._take(evidence) if not item[2].done()]  # cancelled: skipped
                if batch:
                    await self._classify(batch, evidence)
        finally:
            self._running[evidence] = False

    async def _classify(self, batch: list[Pending], evidence: bool) -> None:
        merged = [t for texts, _, _ in batch for t in texts]
        audiences = [a for _, per_text, _ in batch for a in per_text]
        try:
            results = await anyio.to_thread.run_sync(self._predict, merged, evidence, audiences)
        except Exception as exc:
            if len(batch) == 1:
                return _settle(batch[0][2], exc=exc)
            log.warning("a merged batch of %d requests failed; classifying them one by one", len(batch))
            for texts, per_text, fut in batch:  # isolate: only the request at fault fails
                try:
                    _settle(fut, await anyio.to_thread.run_sync(self._predict, texts, evidence, per_text))
                except Exception as own:
                    _settle(fut, exc=own)
            return
        start = 0
        for texts, _, fut in batch:
            _settle(fut, results[start : start + len(texts)])
            start += len(texts)


def _settle(fut: asyncio.Future, result: Any = None, *, exc: BaseException | None = None) -> None:
    if fut.done():  # the client went away
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)
