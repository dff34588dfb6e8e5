def column_name(number):
    if number < 1:
        raise ValueError(number)
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_number(name):
    if not name or any(not ("A" <= c <= "Z") for c in name):
        raise ValueError(name)
    total = 0
    for c in name:
        total = total * 26 + ord(c) - ord("A") + 1
    return total
