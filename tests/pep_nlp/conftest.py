from __future__ import annotations

import pytest

from pep_nlp.safeguarding import SafeguardingScreen, default_screen


@pytest.fixture(scope="session")
def screen() -> SafeguardingScreen:
    return default_screen()
