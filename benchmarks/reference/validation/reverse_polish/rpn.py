"""Reference solution for benchmarks/validation/reverse_polish, written from prompt.txt."""

import operator
import re
from collections.abc import Callable

NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
OPERATORS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}


def evaluate_rpn(expression: str) -> float:
    """Evaluate a space-separated reverse Polish expression such as "3 4 + 2 *" (14.0)."""
    stack: list[float] = []
    for token in expression.split():
        if token in OPERATORS:
            if len(stack) < 2:
                raise ValueError(f"operator {token!r} needs two values before it")
            b, a = stack.pop(), stack.pop()
            stack.append(OPERATORS[token](a, b))  # "/" by zero raises ZeroDivisionError
        elif NUMBER.fullmatch(token):
            stack.append(float(token))
        else:
            raise ValueError(f"unknown token {token!r}")
    if not stack:
        raise ValueError("empty expression")
    if len(stack) > 1:
        raise ValueError(f"{len(stack)} values left at the end, expected one")
    return float(stack[0])
