"""View decorators of the portal's pages."""

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .reauth import login_url


def login_required(view):
    """Django's `login_required`, except that an address too long (or otherwise unsafe) to come
    back to after signing in is left out of `?next=`: carried along, it would pass Django's
    redirect limit and end in DisallowedRedirect instead of the sign-in page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        return redirect(login_url(request, request.get_full_path()))

    return wrapped
