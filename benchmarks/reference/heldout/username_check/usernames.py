import re


class InvalidUsernameError(ValueError):
    pass


def validate_username(name):
    if not re.fullmatch(r"[a-z][a-z0-9_]{2,15}", name) or name.endswith("_") or name in {"admin", "root", "system"}:
        raise InvalidUsernameError(name)
    return name
