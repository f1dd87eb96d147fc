"""The desk stays usable while the network misbehaves: with the proxy refusing, delaying,
cutting and failing requests, the agent keeps editing and the GUI thread keeps serving its
10 ms stall probe. (The 50 ms budget itself is a benchmark figure, not a timed test; this
test fails only on a freeze.)"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.faultproxy import FIGURES, FaultProxy
from tests.ui.conftest import CLEANUPS, add_customers, until
from tests.ui.test_desk import _close
from ui.desk_session import SignIn, sign_in
from ui.main_window import MainWindow
from ui.stall import StallProbe

Run = Callable[[Coroutine[Any, Any, Any]], Any]
#: A freeze, not a budget: the budget (50 ms) is measured by ``make bench``.
FROZEN_MS = 1000.0


def test_the_desk_keeps_serving_the_agent_while_the_network_misbehaves(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    customer_factory: Callable[..., dict[str, Any]],
) -> None:
    sheets = [customer_factory(location="Rom 0") for _ in range(5)]
    add_customers(sqlite_server, sheets)
    rng = random.Random(7)

    async def scenario() -> None:
        proxy = FaultProxy(sqlite_server.process.port)
        await proxy.start()
        account = sqlite_server.accounts["agent"]
        session = await sign_in(
            SignIn(proxy.url, account.username, account.password, remember=False), vault
        )
        window = MainWindow(session)
        window.background.show_dialogs = False
        window.resize(1280, 800)
        window.show()
        CLEANUPS.append(lambda: _close(window))
        session.start()
        await until(lambda: session.store.customer_count() == 5, "the first sync")
        faults = ("delay:1.5", "cut", "reset", "lost", "500", "503", "429", None, None)
        proxy.chooser = lambda _path: rng.choice(faults)
        probe = StallProbe()
        probe.start()
        for round_no in range(12):
            # The agent opens a sheet and edits it, while sync struggles
            target = sheets[round_no % 5]["id"]
            window.open_customer(str(target))
            await until(lambda t=target: window.sheet.customer_id == t, "the sheet")
            view = window.sheet_view
            view.location.setText(f"Rom {round_no}")
            view.location.textEdited.emit(f"Rom {round_no}")
            window.sheet.save()
            await until(lambda v=view: "Saved" in v.save_state.text(), "saved on the desk")
            if round_no % 4 == 3:
                await proxy.refuse()
                await asyncio.sleep(0.3)
                await proxy.accept()
            session.wake_sync()
            await asyncio.sleep(0.25)
        probe.stop()
        proxy.chooser = None
        session.wake_sync()
        await until(lambda: session.store.outbox_counts().pending == 0, "the outbox sent")
        FIGURES["desk under faults"] = (
            f"GUI thread: worst gap {probe.worst_ms:.0f} ms, p99 {probe.percentile(0.99):.0f} ms "
            f"over {len(probe.gaps)} ticks of 10 ms, while {sum(proxy.injected.values())} "
            "faults were injected"
        )
        assert len(probe.gaps) > 100
        assert probe.worst_ms < FROZEN_MS, FIGURES["desk under faults"]
        await _close(window)
        await proxy.stop()

    run(scenario())


def test_the_stall_probe_counts_a_frozen_gui_thread_as_one_long_gap(qtbot: Any) -> None:
    # Given the probe ticking on the GUI thread
    probe = StallProbe()
    probe.start()
    qtbot.wait(60)
    # When the GUI thread is kept busy for 80 ms (work that belongs on another thread)
    time.sleep(0.08)
    qtbot.wait(60)
    probe.stop()
    # Then one gap spans the freeze, and the figures are read from the gaps recorded
    assert len(probe.gaps) >= 2
    assert probe.worst_ms >= 80
    assert min(probe.gaps) <= probe.percentile(0.5) <= probe.percentile(0.99) <= probe.worst_ms
    # And starting again forgets the earlier gaps
    probe.start()
    probe.stop()
    assert probe.gaps == [] and probe.worst_ms == 0.0 and probe.percentile(0.99) == 0.0
