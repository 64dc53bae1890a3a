"""What the report tests share: the bundled real notices, and the contract family built
from the real Find a Tender award (``tests/feeds/uk_profile_releases.py``).

The bundled samples have awards (with contract periods and suppliers' SME/VCSE flags) but
no contract details or contract changes, so the UK7 (signed contract), UK10 (contract
changed: extended a year, new value) and UK11 (terminated early) releases are those
builders' real-shaped versions of the real UK6 award to SWITCH UP C.I.C. in Nottinghamshire.
The terminated one gets its own ocid so that both stories can be told at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.demo import SAMPLES
from feeds.local import parse_file
from feeds.notice import Notice
from feeds.ocds import iter_releases
from tests.feeds import uk_profile_releases as uk

#: The report tests read every bundled sample but the 2019-2020 bulk file (slow, and outside
#: the windows tested) — their own list, not the demo's (which drops samples by its clock).
SKIPPED_SAMPLES = {"cf_bluetail_json_1_1_raw_2019-2020.jsonl"}


def sample_files() -> list[Path]:
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".json", ".jsonl", ".csv"})
    return [p for p in files if p.name not in SKIPPED_SAMPLES]


#: The UK6 award's ocid; the UK7 and UK10 releases share it.
CHANGED_OCID = "ocds-h6vhtk-06d285"
#: The same award, signed, then terminated early (its own ocid).
TERMINATED_OCID = "ocds-h6vhtk-06d285-terminated"
#: A window over the bundled 2025 notices (Contracts Finder January–March, Sell2Wales
#: February), ending when the demo's clock stops.
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)


def _parsed(releases: list[dict[str, Any]]) -> list[Notice]:
    return [n for n in iter_releases(releases) if isinstance(n, Notice)]


@cache
def sample_notices() -> tuple[Notice, ...]:
    """Every release of the bundled samples the demo polls (the bluetail file, whose awards
    were relabelled as tenders, is left out as the demo leaves it out)."""
    return tuple(n for path in sample_files() for n in parse_file(path).notices)


@cache
def contract_family() -> tuple[Notice, ...]:
    """UK7 + UK10 on the real award's ocid, and UK7 + UK11 on a second ocid."""
    changed = [uk.uk7_contract_details(), uk.uk10_change()]
    terminated = [uk.uk6_award(), uk.uk7_contract_details(), uk.uk11_termination()]
    for release in terminated:
        release["ocid"] = TERMINATED_OCID
    return tuple(_parsed(changed) + _parsed(terminated))


def all_notices() -> list[Notice]:
    return [*sample_notices(), *contract_family()]
