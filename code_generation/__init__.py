"""Test-driven code generation: an LLM writes a module until your tests pass.

    from code_generation import generate_script, ScriptSettings
    result = generate_script(ScriptSettings("Sum the first N primes", Path("primes/prime_numbers.py")))
"""

from code_generation.api import ScriptResult, ScriptSettings, generate_script
from code_generation.engine.loop import run_loop
from code_generation.pseudo import PseudoFunctionError, pseudo_function
from code_generation.types import CodeTask, LoopOutcome, LoopSettings

__all__ = ["CodeTask", "LoopOutcome", "LoopSettings", "PseudoFunctionError", "ScriptResult", "ScriptSettings",
           "generate_script", "pseudo_function", "run_loop"]
