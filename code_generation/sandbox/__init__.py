"""The sandbox: runs untrusted code against a user's tests and returns a verdict it cannot forge."""
