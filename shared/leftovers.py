"""Tasks still running once every part of a process has stopped: there should be none.

A part's stop cancels the tasks it started; one whose cancellation was lost (a wait that ended
as it was cancelled swallows the request) or that nothing owned would keep the event loop, and
so the process, from ever ending after Ctrl-C. What is left is logged with where it waits, and
cancelled again until it ends or the time is up.
"""

from __future__ import annotations

import asyncio
import io
import logging

log = logging.getLogger(__name__)

# Tasks of the server that runs the process: it waits on the shutdown that calls this.
SERVER_CODE = ("/uvicorn/", "/starlette/")
# How long the tasks left get to end, cancelled again and again, unless the caller says.
SECONDS = 10.0


async def stop_leftover_tasks(seconds: float = SECONDS) -> list[str]:
    """Log and cancel every task of the loop but the server's and this one, until each ends or
    `seconds` pass; answers what each was (its coroutine's name)."""
    loop = asyncio.get_running_loop()
    left = [task for task in asyncio.all_tasks() if _stoppable(task)]
    for task in left:
        where = io.StringIO()
        task.print_stack(file=where)
        log.error("a task still ran after every part stopped: %r\n%s", task, where.getvalue())
    deadline = loop.time() + seconds
    running = left
    while running and loop.time() < deadline:
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=0.5)
        running = [task for task in running if not task.done()]
    if running:
        log.error("%d task(s) would not stop: %s", len(running), running)
    return [getattr(task.get_coro(), "__qualname__", task.get_name()) for task in left]


def _stoppable(task: asyncio.Task[object]) -> bool:
    if task is asyncio.current_task() or task.done():
        return False
    code = getattr(task.get_coro(), "cr_code", None)
    filename = code.co_filename if code is not None else ""
    return not any(part in filename for part in SERVER_CODE)
