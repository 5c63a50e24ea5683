"""Every admin of both deployables keeps its models' secrets off its forms and columns.

(Filtering, searching and sorting on secrets are tested per site: helpdesk/tests and
govsim/tests `test_admin_secrets.py`.) A secret may appear on a form only where the ModelAdmin
names it on purpose in `fields`/`fieldsets` — Django's user admin shows `password` as the
algorithm and a masked hash with the link to set a new one.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.test import RequestFactory

from adminguard import secret_fields, touches_secret
from govsim.admin import site as simulator_site

SITES = {"portal": admin.site, "simulator": simulator_site}
SHOWN_ON_PURPOSE = {("accounts", "user", "password")}


def _admins():
    for site_name, site in SITES.items():
        for model, model_admin in site._registry.items():
            yield pytest.param(model, model_admin, id=f"{site_name}:{model._meta.label}")


@pytest.mark.parametrize("model, model_admin", list(_admins()))
def test_no_secret_is_a_form_field_or_a_column(model, model_admin, admin_user):
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.user, request.session = admin_user, SessionStore()  # the simulator's read the session
    secrets = secret_fields(model)
    shown_on_purpose = {
        name
        for app, model_name, name in SHOWN_ON_PURPOSE
        if (app, model_name) == (model._meta.app_label, model._meta.model_name)
    }

    form_fields = set(model_admin.get_form(request).base_fields)
    named = set(
        flatten_fieldsets(model_admin.fieldsets)
        if model_admin.fieldsets
        else model_admin.fields or ()
    )
    columns = model_admin.get_list_display(request)

    assert (form_fields & secrets) <= (named & shown_on_purpose)
    assert not [name for name in columns if isinstance(name, str) and touches_secret(model, name)]
