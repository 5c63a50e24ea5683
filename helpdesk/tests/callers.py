"""A caller of the helpdesk line and how an operator checks them (shared by the tests)."""

RIGHT = {
    "first_name": "Jana",
    "last_name": "Nováková",
    "birth_date": "1985-04-12",
    "street": "Vinohradská 1511/230",
    "city": "Praha",
    "postal_code": "100 00",
    "email": "jana@example.cz",
    "phone": "601 123 456",
}


def verify(browser, account, **changes):
    return browser.post(f"/admin/accounts/user/{account.pk}/verify-caller/", {**RIGHT, **changes})
