"""Micro-batching: merge classify requests that arrive close together into one ``predict`` call.

Requests wait up to ``wait_ms`` for company; while a batch is being classified, newly
arriving requests queue up and form the next batch, so at most one ``predict`` call runs
per evidence setting. Whether this beats one ``predict`` call per request depends on the
model and the machine: see the numbers in ``themesift.serve.http``.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import anyio.to_thread

PredictFn = Callable[[list, bool, list], list[dict]]  # texts, evidence, one audience per text


class MicroBatcher:
    def __init__(self, predict_fn: PredictFn, *, wait_ms: float = 5.0, max_texts: int = 256):
        self._predict = predict_fn
        self._wait = wait_ms / 1000.0
        self._max_texts = max(1, max_texts)
        self._pending: dict[bool, list[tuple[list, list, asyncio.Future]]] = {False: [], True: []}
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

    def _take(self, evidence: bool) -> list[tuple[list, list, asyncio.Future]]:
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
                batch = self._take(evidence)
                merged = [t for texts, _, _ in batch for t in texts]
                audiences = [a for _, per_text, _ in batch for a in per_text]
                try:
                    results = await anyio.to_thread.run_sync(self._predict, merged, evidence, audiences)
                except BaseException as exc:  # hand the failure to every waiting request
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                start = 0
                for texts, _, fut in batch:
                    if not fut.done():  # a cancelled request (client went away) is skipped
                        fut.set_result(results[start:start + len(texts)])
                    start += len(texts)
        finally:
            self._running[evidence] = False
