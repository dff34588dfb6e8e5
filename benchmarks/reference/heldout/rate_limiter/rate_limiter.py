class RateLimiter:
    def __init__(self, max_requests, window_seconds):
        if max_requests <= 0 or window_seconds <= 0:
            raise ValueError("must be positive")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self._seen = {}

    def allow(self, key, timestamp):
        recent = [t for t in self._seen.get(key, []) if t > timestamp - self.window_seconds]
        self._seen[key] = recent
        if len(recent) >= self.max_requests:
            return False
        recent.append(timestamp)
        return True
