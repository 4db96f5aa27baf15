"""pytest fixtures for the test world (registered from the root conftest.py)."""

import pytest

from .world import TestWorld


@pytest.fixture(scope="session")
def testworld():
    world = TestWorld().start()
    yield world
    world.stop()


@pytest.fixture
def world_profile(testworld):
    return testworld.profile()
