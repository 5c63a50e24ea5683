"""Platform middleware."""


class DevelopmentHostMiddleware:
    """Placeholder: redirects 127.0.0.1 to localhost in development (being built)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
