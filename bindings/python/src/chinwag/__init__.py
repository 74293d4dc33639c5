"""Chinwag: the Python binding of the Chinwag chat SDK (ctypes over libchinwag's C ABI).

::

    import chinwag

    with chinwag.Client("chinwag-app", "http://127.0.0.1:8080", data_dir="chat-data") as client:
        @client.on("text_message_received")
        def show(message: chinwag.Message) -> None:
            print(f"{message.sender}: {message.text}")

        client.login("alice", "AUTH_KEY")         # blocking; or login(..., callback=fn)
        client.send_text("bob", "Hi!")

- :class:`Client`: the synchronous client (blocking and callback forms of every operation).
- :mod:`chinwag.aio`: :class:`chinwag.aio.AsyncClient`, awaitable operations and
  ``async for event in client.events()`` on app-driven dispatch.
- :mod:`chinwag.listeners`: listener classes; :mod:`chinwag.types`: models and enums;
  :mod:`chinwag.errors`: the exceptions.

The library is found through ``$CHINWAG_LIBRARY``, a copy in this package's directory, or the
system library path (see :func:`load_library`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._native import (  # noqa: E402
    ABI_VERSION,
    AbiVersionError,
    LibraryLoadError,
    LibraryNotFoundError,
    library,
    load_library,
)
from .client import (  # noqa: E402
    Client,
    ConversationsRequest,
    MemorySessionStore,
    MessagesRequest,
    SessionStore,
    UsersRequest,
)
from .conversations import Conversation, ConversationPage, UnreadCounts  # noqa: E402
from .errors import *  # noqa: E402,F401,F403
from .errors import __all__ as _errors_all  # noqa: E402
from .listeners import (  # noqa: E402
    CallListener,
    ConnectionListener,
    GroupListener,
    LogListener,
    LoginListener,
    MessageListener,
    UserListener,
)
from .types import *  # noqa: E402,F401,F403
from .types import __all__ as _types_all  # noqa: E402


def version() -> str:
    """The loaded libchinwag's version (``MAJOR.MINOR.PATCH``)."""
    return library().version


def abi_version() -> int:
    """The loaded libchinwag's C ABI version (equal to :data:`ABI_VERSION`)."""
    return library().abi_version


__all__ = [
    "__version__",
    "ABI_VERSION",
    "Client",
    "Conversation",
    "ConversationPage",
    "ConversationsRequest",
    "UnreadCounts",
    "MessagesRequest",
    "UsersRequest",
    "SessionStore",
    "MemorySessionStore",
    "ConnectionListener",
    "LoginListener",
    "MessageListener",
    "UserListener",
    "GroupListener",
    "CallListener",
    "LogListener",
    "library",
    "load_library",
    "version",
    "abi_version",
    "LibraryLoadError",
    "LibraryNotFoundError",
    "AbiVersionError",
    *_errors_all,
    *_types_all,
]
