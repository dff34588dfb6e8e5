def mask_email(email):
    if email.count("@") != 1:
        raise ValueError(email)
    local, domain = email.split("@")
    if not local or not domain:
        raise ValueError(email)
    if len(local) <= 2:
        masked = "*" * len(local)
    else:
        masked = local[0] + "*" * (len(local) - 2) + local[-1]
    return masked + "@" + domain
