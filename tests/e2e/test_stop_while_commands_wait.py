"""`accord dev` stopped with Ctrl-C while commands wait for the read model stops cleanly: the
waiting commands answer, and no task of the gateway is left for the safety net to stop.

Before, the gateway's read-your-writes checker outlived the gateway: every Ctrl-C under load
logged "a task still ran after every part stopped" at ERROR, with stacks, for a normal stop.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg

from tests.e2e.accord_process import accord_env, answer, start_accord
from tests.e2e.contract_steps import JOIN, OPEN, PROPOSE


async def test_a_stop_while_a_command_waits_for_the_read_model_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    running = start_accord(tmp_path, accord_env(tmp_path / ".accord"))
    try:
        contract = str(answer(running.url, "am", OPEN)["created"])
        answer(running.url, "am", JOIN, c=contract)
        database = await asyncpg.connect(running.database)
        try:
            # The projector's writes wait behind this lock: the proposal waits for its row.
            held = database.transaction()
            await held.start()
            await database.execute("LOCK TABLE readmodel.expectations IN EXCLUSIVE MODE")
            proposing = asyncio.create_task(
                asyncio.to_thread(answer, running.url, "cfo", PROPOSE, c=contract, t="Stopped")
            )
            await asyncio.sleep(1.0)  # stored, and waiting (3 s at most) for the read model
            assert not proposing.done()
            running.process.send_signal(signal.SIGINT)
            proposed = await asyncio.wait_for(proposing, timeout=30)
            await held.rollback()
        finally:
            await database.close()
        code = await asyncio.to_thread(running.process.wait, 30)
    finally:
        running.interrupt()
    assert proposed["__typename"] == "ExpectationChanged", proposed
    assert code == 0, running.output
    assert "Accord stopped" in running.output
    assert "still ran after every part stopped" not in running.output, running.output
    assert "Traceback" not in running.output, running.output
