from urllib.parse import quote_plus, unquote_plus


def parse_query(query):
    if query.startswith("?"):
        query = query[1:]
    result = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        result.setdefault(unquote_plus(name), []).append(unquote_plus(value))
    return result


def build_query(params):
    return "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, values in params.items() for value in values)
