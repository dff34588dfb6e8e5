def page_count(total_items, per_page):
    if per_page < 1:
        raise ValueError("per_page")
    return -(-total_items // per_page)


def paginate(items, page, per_page):
    if per_page < 1 or page < 1:
        raise ValueError("bad")
    start = (page - 1) * per_page
    return list(items[start:start + per_page])
