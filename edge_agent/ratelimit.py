"""A token bucket on the agent's clock: how security events stay useful under a flood."""

from __future__ import annotations

from common.clock import Clock


class TokenBucket:
    """Allows a burst of `capacity`, then `rate_per_s` on average. Counts what it refused.

    `take()` is True when the caller may go ahead. `suppressed` counts refusals since the
    last allowed call; `take_suppressed()` reads and resets it, so the next event can say
    how many were held back.
    """

    def __init__(self, capacity: int, rate_per_s: float, clock: Clock) -> None:
        if capacity < 1 or rate_per_s <= 0:
            raise ValueError("capacity must be >= 1 and rate_per_s > 0")
        self.capacity = capacity
        self.rate_per_s = rate_per_s
        self._clock = clock
        self._tokens = float(capacity)
        self._at = clock.now()
        self.suppressed = 0
        self.suppressed_total = 0

    def _refill(self) -> None:
        now = self._clock.now()
        elapsed = max(0.0, (now - self._at).total_seconds())
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate_per_s)
        self._at = now

    def take(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.suppressed += 1
        self.suppressed_total += 1
        return False

    def take_suppressed(self) -> int:
        count, self.suppressed = self.suppressed, 0
        return count
