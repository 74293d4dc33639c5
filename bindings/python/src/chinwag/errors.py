"""Exceptions: one class per result-code family, one subclass per code.

Every :class:`ChinwagError` carries the ``code`` (an int, ``CHINWAG_RESULT_*``), its ``name``
(e.g. ``"NOT_CONNECTED"``) and the SDK's readable ``message`` (from
``chinwag_last_error_message`` for synchronous failures, from the completion or event for
asynchronous ones). Catch a family or a specific code::

    try:
        client.send_text("bob", "")
    except chinwag.ArgumentError as e:        # the 1xx family
        print(e.code, e.name, e.message)      # 102 INVALID_ARGUMENT text must not be empty

Families (hundreds digit of the code):

=========================  ====  ============================================================
class                      code  meaning
=========================  ====  ============================================================
:class:`ArgumentError`     1xx   a bad argument (also a :class:`ValueError`)
:class:`ClientStateError`  2xx   the client's state does not allow the call
:class:`NetworkError`      3xx   network, TLS, timeout, protocol (also a :class:`ConnectionError`)
:class:`ServerRefusedError` 4xx  the server said no
:class:`QueueError`        5xx   the send queue failed a message
:class:`LibraryError`      9xx   storage, internal error or a caught panic in libchinwag
=========================  ====  ============================================================

:class:`WaitTimeoutError` (a :class:`TimeoutError`) is raised by a blocking call whose result
did not arrive in time; the operation itself goes on and its late result is dropped.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple, Type

from ._native import AbiVersionError, LibraryLoadError, LibraryNotFoundError

__all__ = [
    "ChinwagError",
    "ArgumentError",
    "NullArgumentError",
    "InvalidUtf8Error",
    "InvalidArgumentError",
    "TextTooLongError",
    "ClientStateError",
    "NotLoggedInError",
    "LoginInProgressError",
    "NotConnectedError",
    "LoggedOutError",
    "ClientFreedError",
    "ReentrantCallError",
    "OperationCancelledError",
    "ListenerExistsError",
    "CallInProgressError",
    "NetworkError",
    "NetworkFailureError",
    "NetworkTimeoutError",
    "TlsError",
    "ProtocolError",
    "ServerRefusedError",
    "AuthFailedError",
    "SessionExpiredError",
    "UserDeactivatedError",
    "AppMismatchError",
    "RateLimitedError",
    "FeatureThrottledError",
    "ForbiddenError",
    "NotFoundError",
    "ServerRejectedError",
    "UserExistsError",
    "QueueError",
    "QueueFullError",
    "QueueExpiredError",
    "DisconnectedError",
    "LibraryError",
    "StorageError",
    "InternalError",
    "PanicError",
    "WaitTimeoutError",
    "FeatureUnavailableError",
    "LibraryLoadError",
    "LibraryNotFoundError",
    "AbiVersionError",
    "error_for",
]


class ChinwagError(Exception):
    """A failure reported by libchinwag.

    Attributes: ``code`` (``CHINWAG_RESULT_*``), ``name`` (``"NOT_CONNECTED"``), ``message``
    (the SDK's explanation).
    """

    #: The code of this class (``None`` for the family classes).
    CODE: Optional[int] = None

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(f"{name} ({code}): {message}" if message else f"{name} ({code})")
        self.code = code
        self.name = name
        self.message = message

    def to_dict(self) -> Dict[str, Any]:
        """``{"code": .., "name": .., "message": ..}``, as the C payload's ``json``."""
        return {"code": self.code, "name": self.name, "message": self.message}

    def __reduce__(self) -> Tuple[Any, Tuple[int, str, str]]:  # picklable
        return (self.__class__, (self.code, self.name, self.message))


# Families --------------------------------------------------------------------------------


class ArgumentError(ChinwagError, ValueError):
    """1xx: an argument was NULL, not UTF-8, out of range, empty or malformed."""


class ClientStateError(ChinwagError):
    """2xx: the client's state does not allow the call (not logged in, not connected, ...)."""


class NetworkError(ChinwagError, ConnectionError):
    """3xx: the network failed (refused, reset, DNS, timeout, TLS, protocol)."""


class ServerRefusedError(ChinwagError):
    """4xx: the server refused (credentials, permissions, not found, rate limits, ...)."""


class QueueError(ChinwagError):
    """5xx: the send queue failed the message (full, expired, disconnected)."""


class LibraryError(ChinwagError):
    """9xx: the session store, an internal error, or a panic caught inside libchinwag."""


# Codes -----------------------------------------------------------------------------------


class NullArgumentError(ArgumentError):
    CODE = 100


class InvalidUtf8Error(ArgumentError):
    CODE = 101


class InvalidArgumentError(ArgumentError):
    CODE = 102


class TextTooLongError(ArgumentError):
    CODE = 103


class NotLoggedInError(ClientStateError):
    CODE = 200


class LoginInProgressError(ClientStateError):
    CODE = 201


class NotConnectedError(ClientStateError):
    CODE = 202


class LoggedOutError(ClientStateError):
    CODE = 203


class ClientFreedError(ClientStateError):
    CODE = 204


class ReentrantCallError(ClientStateError):
    """The call cannot run from inside a callback of this client (e.g. a blocking call on the
    thread that runs the callbacks: use the ``callback=`` form there)."""

    CODE = 205


class OperationCancelledError(ClientStateError):
    """The operation was cancelled: its client was closed (``CANCELLED``)."""

    CODE = 206


class ListenerExistsError(ClientStateError):
    CODE = 207


class CallInProgressError(ClientStateError):
    CODE = 208


class NetworkFailureError(NetworkError):
    """``NETWORK``: connection refused, reset, DNS."""

    CODE = 300


class NetworkTimeoutError(NetworkError, TimeoutError):
    """``TIMEOUT``: the SDK's operation timed out."""

    CODE = 301


class TlsError(NetworkError):
    CODE = 302


class ProtocolError(NetworkError):
    CODE = 303


class AuthFailedError(ServerRefusedError):
    CODE = 400


class SessionExpiredError(ServerRefusedError):
    CODE = 401


class UserDeactivatedError(ServerRefusedError):
    CODE = 402


class AppMismatchError(ServerRefusedError):
    CODE = 403


class RateLimitedError(ServerRefusedError):
    CODE = 404


class FeatureThrottledError(ServerRefusedError):
    CODE = 405


class ForbiddenError(ServerRefusedError):
    CODE = 406


class NotFoundError(ServerRefusedError):
    CODE = 407


class ServerRejectedError(ServerRefusedError):
    CODE = 408


class UserExistsError(ServerRefusedError):
    """``create_user``: a user with this uid exists already (log in instead)."""

    CODE = 409


class QueueFullError(QueueError):
    CODE = 500


class QueueExpiredError(QueueError):
    CODE = 501


class DisconnectedError(QueueError):
    CODE = 502


class StorageError(LibraryError):
    CODE = 900


class InternalError(LibraryError):
    CODE = 901


class PanicError(LibraryError):
    CODE = 902


class WaitTimeoutError(TimeoutError):
    """A blocking call gave up waiting for its result (its ``timeout``). The operation itself
    is not cancelled: it completes later and its result is dropped."""


class FeatureUnavailableError(RuntimeError):
    """The loaded libchinwag lacks a feature this call needs (e.g. app-driven dispatch)."""


_BY_CODE: Dict[int, Type[ChinwagError]] = {}
for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, ChinwagError) and _cls.CODE is not None:
        _BY_CODE[_cls.CODE] = _cls

_FAMILIES: Dict[int, Type[ChinwagError]] = {
    1: ArgumentError,
    2: ClientStateError,
    3: NetworkError,
    4: ServerRefusedError,
    5: QueueError,
    9: LibraryError,
}


def error_for(code: int, message: str = "", name: Optional[str] = None) -> ChinwagError:
    """The exception for a result code: its own class, else its family's, else
    :class:`ChinwagError` (a code this binding does not know yet)."""
    cls = _BY_CODE.get(code) or _FAMILIES.get(code // 100) or ChinwagError
    if name is None:
        from ._native import library

        name = library().chinwag_result_name(code).decode()
    return cls(code, name, message)


def error_from_json(text: str) -> ChinwagError:
    """An exception from a ``chinwag_error`` payload's ``json``."""
    d = json.loads(text)
    return error_for(int(d["code"]), str(d.get("message", "")), str(d.get("name", "UNKNOWN")))
