package io.chinwag

import kotlin.enums.enumEntries

/** Enums of the C ABI; each constant's [code] is its `CHINWAG_*` value (HeaderTest checks them). */
interface CodedEnum {
    val code: Int
}

internal inline fun <reified E> codeOf(code: Int): E where E : Enum<E>, E : CodedEnum =
    enumEntries<E>().firstOrNull { it.code == code }
        ?: throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "unknown ${E::class.simpleName} $code")

/** Connection states (docs/behaviour.md, section 3). */
enum class ConnectionState(override val code: Int) : CodedEnum {
    DISCONNECTED(0), CONNECTING(1), CONNECTED(2), RECONNECTING(3), SUSPENDED(4), FAILED(5);

    companion object {
        @JvmStatic fun of(code: Int): ConnectionState = codeOf(code)
    }
}

/** Why the connection state changed. */
enum class StateReason(override val code: Int) : CodedEnum {
    CONNECT_REQUESTED(0), DISCONNECT_REQUESTED(1), LOGGED_OUT(2), ACCEPTED(3), ATTEMPT_FAILED(4),
    CONNECTION_LOST(5), RETRY_TIMER(6), SUSPEND_TIMEOUT(7), AUTH_REJECTED(8), USER_DEACTIVATED(9),
    PROTOCOL_MISMATCH(10), NETWORK_CHANGED(11), APP_STATE(12), SERVER_RESTART(13),

    /** Not a change: the first event of a listener added after init, with `previous == current`. */
    LISTENER_ADDED(14);

    companion object {
        /** An unknown code (a newer library) maps to null. */
        @JvmStatic fun of(code: Int): StateReason? = entries.firstOrNull { it.code == code }
    }
}

/** Whom a message is for. */
enum class ReceiverType(override val code: Int) : CodedEnum {
    USER(0), GROUP(1);

    companion object {
        @JvmStatic fun of(code: Int): ReceiverType = codeOf(code)
    }
}

enum class CallType(override val code: Int) : CodedEnum { AUDIO(0), VIDEO(1) }

/** Whose presence the client receives. */
enum class Presence(override val code: Int) : CodedEnum { NONE(0), ALL_USERS(1), ROLES(2), FRIENDS(3) }

enum class Network(override val code: Int) : CodedEnum { DOWN(0), UP(1) }

enum class AppState(override val code: Int) : CodedEnum { FOREGROUND(0), BACKGROUND(1) }

/** Who runs the callbacks: the client's own thread, or the app through [ChinwagClient.dispatch]. */
enum class DispatchMode(override val code: Int) : CodedEnum { THREAD(0), APP(1) }

enum class ConnectMode(override val code: Int) : CodedEnum { AUTO(0), MANUAL(1) }

enum class GroupType(override val code: Int) : CodedEnum {
    PUBLIC(0), PRIVATE(1);

    companion object {
        @JvmStatic fun of(code: Int): GroupType = codeOf(code)
    }
}

enum class Scope(override val code: Int) : CodedEnum { PARTICIPANT(0), MODERATOR(1), ADMIN(2) }

enum class UserStatus(override val code: Int) : CodedEnum {
    OFFLINE(0), ONLINE(1);

    companion object {
        @JvmStatic fun of(code: Int): UserStatus = codeOf(code)
    }
}

enum class ReceiptKind(override val code: Int) : CodedEnum {
    DELIVERED(0), READ(1);

    companion object {
        @JvmStatic fun of(code: Int): ReceiptKind = codeOf(code)
    }
}

enum class GroupAction(override val code: Int) : CodedEnum {
    JOINED(0), LEFT(1), KICKED(2), BANNED(3), UNBANNED(4), SCOPE_CHANGED(5), ADDED(6);

    companion object {
        @JvmStatic fun of(code: Int): GroupAction = codeOf(code)
    }
}

enum class LogLevel(override val code: Int) : CodedEnum {
    ERROR(1), WARN(2), INFO(3), DEBUG(4);

    companion object {
        @JvmStatic fun of(code: Int): LogLevel = entries.firstOrNull { it.code == code } ?: DEBUG
    }
}
