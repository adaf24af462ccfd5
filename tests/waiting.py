"""Waiting on a condition, never on the clock: the one poll-with-deadline the tests share.

A fixed sleep is either too short on a loaded machine (a flake) or too long everywhere (a slow
suite); polling returns as soon as the condition holds and fails with what it waited for.
"""

import time


def wait_for(predicate, timeout: float, what: str, poll: float = 0.05):
    """Poll predicate until it returns something truthy, and return that; fail after timeout s.

    timeout only bounds a failure on a loaded machine: a passing run never waits it out.
    """
    deadline = time.monotonic() + timeout
    while True:
        if value := predicate():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
