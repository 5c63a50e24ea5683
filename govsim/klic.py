"""MojeID Klíč, the phone app, simulated as one page at /sim/klic/.

Everything the app does happens in the browser (static/govsim/klic.js): it makes its own P-256
key pair with WebCrypto, keeps it in IndexedDB and talks to the portal only through the portal's
public app API (JSON over HTTP, signed with that key), so a real phone app could take its place.
This view only serves the page; it knows nothing of the portal and imports none of its code.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def app(request: HttpRequest) -> HttpResponse:
    return render(request, "govsim/klic.html")
