from http.cookies import SimpleCookie

from django.contrib.auth.models import User

class Client:
    cookies: SimpleCookie
    def __init__(self) -> None: ...
    def force_login(self, user: User, backend: str | None = None) -> None: ...
