def get_path(data, path, default=None):
    if path == "":
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                return default
            current = current[int(part)]
        else:
            return default
    return current


def set_path(data, path, value):
    if path == "":
        raise ValueError("empty path")
    parts = path.split(".")
    current = data
    for part in parts[:-1]:
        if part not in current:
            current[part] = {}
        current = current[part]
        if not isinstance(current, dict):
            raise TypeError(part)
    current[parts[-1]] = value
    return data
