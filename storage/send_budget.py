"""The fleet's shared Telegram send budget, in PostgreSQL (GCRA).

Each key (``global``, ``chat:<id>``) holds a theoretical arrival time. Reserving a slot is
one statement that moves it on by the key's interval and says how long to wait; the clock is
the database's, so workers on different machines agree. A 429 from Telegram pushes the
``global`` time past its ``retry_after``: every worker's next reservation waits.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_RESERVE = text(
    """
    INSERT INTO send_slot (key, tat) VALUES (:key, clock_timestamp() + make_interval(secs => :step))
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(send_slot.tat, clock_timestamp()) + make_interval(secs => :step)
    RETURNING EXTRACT(EPOCH FROM (tat - clock_timestamp()))
    """
)
_PAUSE = text(
    """
    INSERT INTO send_slot (key, tat) VALUES (:key, clock_timestamp() + make_interval(secs => :secs))
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(send_slot.tat, clock_timestamp() + make_interval(secs => :secs))
    """
)


async def reserve(session: AsyncSession, key: str, step: float, burst: float = 0.0) -> float:
    """Reserve the next send on ``key`` (one every ``step`` seconds, ``burst`` seconds of
    slack); returns how many seconds to wait before sending (0: now)."""
    connection = await session.connection()  # plain SQL: the session adds nothing here
    result = await connection.execute(_RESERVE, {"key": key, "step": step})
    ahead = float(result.scalar_one())
    return max(0.0, ahead - step - burst)


async def pause(session: AsyncSession, key: str, seconds: float) -> None:
    """Nothing may be sent on ``key`` for ``seconds`` (a 429's retry_after)."""
    connection = await session.connection()
    await connection.execute(_PAUSE, {"key": key, "secs": seconds})
