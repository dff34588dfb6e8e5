"""Test-driven code generation: an LLM writes a module until your tests pass.

    from code_generation import generate_script, ScriptSettings
    result = generate_script(ScriptSettings("Sum the first N primes", Path("primes/prime_numbers.py")))
"""

from code_generation.api import ScriptResult, ScriptSettings, generate_script
from code_generation.loop import CodeTask, LoopOutcome, LoopSettings, run_loop

__all__ = ["CodeTask", "LoopOutcome", "LoopSettings", "ScriptResult", "ScriptSettings", "generate_script", "run_loop"]
