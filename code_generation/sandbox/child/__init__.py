"""What runs inside the sandboxed process: standard library only, imported there by file name
(the `_sandbox_` prefix is a guard: no module under test may take such a name)."""
