package io.chinwag

/**
 * Every failure of the SDK: a `CHINWAG_RESULT_*` [code], its [name] (`"NOT_CONNECTED"`) and a
 * readable message. One subclass per family (the code's hundreds digit); catch the family or
 * test [name]/[code].
 */
open class ChinwagException(val code: Int, val name: String, message: String) :
    RuntimeException(if (message.isEmpty()) name else "$name: $message") {
    /** The message without the name in front. */
    val detail: String = message

    companion object {
        /** The exception of the right family for [code]. */
        @JvmStatic
        fun of(code: Int, name: String, message: String): ChinwagException = when (code / 100) {
            1 -> ArgumentException(code, name, message)
            2 -> if (code == Codes.CANCELLED) CancelledException(message) else StateException(code, name, message)
            3 -> NetworkException(code, name, message)
            4 -> ServerException(code, name, message)
            5 -> QueueException(code, name, message)
            else -> LibraryException(code, name, message)
        }
    }
}

/** 1xx: an argument was NULL, not UTF-8, out of range or malformed, or a text too long. */
class ArgumentException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/** 2xx: the client's state does not allow the call (not logged in, not connected, freed, ...). */
open class StateException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/**
 * `CANCELLED`: the operation's client was closed (or its work dropped) before it finished.
 * Not a coroutine `CancellationException`: a suspended caller receives it as a failure.
 */
class CancelledException(message: String) : StateException(Codes.CANCELLED, "CANCELLED", message)

/** 3xx: network, timeout, TLS, protocol. */
class NetworkException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/** 4xx: the server said no (auth, session expired, forbidden, not found, rate limited, ...). */
class ServerException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/** 5xx: the send queue (full, expired, disconnected). */
class QueueException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/** 9xx: the session store, or an internal error of the library. */
class LibraryException(code: Int, name: String, message: String) : ChinwagException(code, name, message)

/** libchinwag could not be loaded; [attempts] lists each candidate and why it was skipped. */
open class LibraryLoadException(message: String, val attempts: List<Pair<String, String>>) :
    RuntimeException(message)

/** No candidate location held a loadable libchinwag. */
class LibraryNotFoundException(message: String, attempts: List<Pair<String, String>>) :
    LibraryLoadException(message, attempts)

/** A libchinwag was found, but it implements another C ABI version. */
class AbiVersionException(message: String, attempts: List<Pair<String, String>>) :
    LibraryLoadException(message, attempts)

/** The `CHINWAG_RESULT_*` codes. */
object Codes {
    const val OK = 0
    const val NULL_ARGUMENT = 100
    const val INVALID_UTF8 = 101
    const val INVALID_ARGUMENT = 102
    const val TEXT_TOO_LONG = 103
    const val NOT_LOGGED_IN = 200
    const val LOGIN_IN_PROGRESS = 201
    const val NOT_CONNECTED = 202
    const val LOGGED_OUT = 203
    const val CLIENT_FREED = 204
    const val REENTRANT_CALL = 205
    const val CANCELLED = 206
    const val LISTENER_EXISTS = 207
    const val CALL_IN_PROGRESS = 208
    const val NETWORK = 300
    const val TIMEOUT = 301
    const val TLS = 302
    const val PROTOCOL = 303
    const val AUTH_FAILED = 400
    const val SESSION_EXPIRED = 401
    const val USER_DEACTIVATED = 402
    const val APP_MISMATCH = 403
    const val RATE_LIMITED = 404
    const val FEATURE_THROTTLED = 405
    const val FORBIDDEN = 406
    const val NOT_FOUND = 407
    const val SERVER_REJECTED = 408
    const val USER_EXISTS = 409
    const val QUEUE_FULL = 500
    const val QUEUE_EXPIRED = 501
    const val DISCONNECTED = 502
    const val STORAGE = 900
    const val INTERNAL = 901
    const val PANIC = 902
}
