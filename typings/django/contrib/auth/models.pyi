from typing import ClassVar

class UserManager:
    def create_user(self, username: str, email: str | None = None, password: str | None = None) -> User: ...

class User:
    username: str
    objects: ClassVar[UserManager]
