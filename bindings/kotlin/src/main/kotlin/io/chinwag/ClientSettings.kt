package io.chinwag

import java.io.File

/**
 * Settings of [ChinwagClient.init]. Kotlin: named arguments; Java: [builder]. Every timing is in
 * milliseconds; 0 keeps the default of docs/behaviour.md (each is checked against its bounds by
 * the library: `INVALID_ARGUMENT` names the field).
 */
data class ClientSettings @JvmOverloads constructor(
    /** `http://host:port` or `https://host:port`. */
    val serverUrl: String,
    /** Login connects, a restored session reconnects, drops come back by themselves. Default true. */
    val autoConnect: Boolean = true,
    val presence: Presence = Presence.NONE,
    /** With [Presence.ROLES]: the roles whose users' presence is received. */
    val presenceRoles: List<String> = emptyList(),
    /** Directory of the saved-session file; null keeps the session in memory only. */
    val dataDir: File? = null,
    /** Extra trusted CA certificates (PEM) on top of the system's. */
    val extraCaPem: ByteArray? = null,
    val timings: Timings = Timings(),
    /** Sends that may wait while (re)connecting; 0: the default (1000). */
    val queueCapacity: Int = 0,
    val dispatchMode: DispatchMode = DispatchMode.THREAD,
    /** The app's own session store; null: the file in [dataDir], or memory. */
    val sessionStore: SessionStore? = null,
    /** Receives the SDK's log records from init on. */
    val log: LogListener? = null,
    /**
     * Listeners registered before the client can emit anything (by id), so that a session
     * restored in auto mode is heard from its first CONNECTING on. An object implementing
     * several families is registered in each.
     */
    val listeners: Map<String, ChinwagListener> = emptyMap(),
    /**
     * For this long after init (ms; 0: the default, 1000) a real-time event (message, user,
     * group, call) of a kind with no listener yet is held until one is added, so listeners
     * added right after init miss nothing of a restored session.
     */
    val listenerGraceMs: Int = 0,
) {
    /** The contract's connection timings, in milliseconds (0: the default). */
    data class Timings @JvmOverloads constructor(
        val connectTimeoutMs: Int = 0,
        val firstRetryMaxMs: Int = 0,
        val backoffBaseMs: Int = 0,
        val backoffCapMs: Int = 0,
        val stableAfterMs: Int = 0,
        val suspendAfterMs: Int = 0,
        val suspendedRetryMinMs: Int = 0,
        val suspendedRetryMaxMs: Int = 0,
        val heartbeatGraceMs: Int = 0,
        val typingTimeoutMs: Int = 0,
        val probeTimeoutMs: Int = 0,
        val backgroundGraceMs: Int = 0,
        val hintCoalesceMs: Int = 0,
    )

    override fun equals(other: Any?): Boolean = this === other
    override fun hashCode(): Int = System.identityHashCode(this)

    /** A fluent builder for Java. */
    class Builder(private var s: ClientSettings) {
        fun autoConnect(v: Boolean) = apply { s = s.copy(autoConnect = v) }
        fun presence(v: Presence, vararg roles: String) = apply { s = s.copy(presence = v, presenceRoles = roles.toList()) }
        fun dataDir(v: File?) = apply { s = s.copy(dataDir = v) }
        fun extraCaPem(v: ByteArray?) = apply { s = s.copy(extraCaPem = v) }
        fun timings(v: Timings) = apply { s = s.copy(timings = v) }
        fun queueCapacity(v: Int) = apply { s = s.copy(queueCapacity = v) }
        fun dispatchMode(v: DispatchMode) = apply { s = s.copy(dispatchMode = v) }
        fun sessionStore(v: SessionStore?) = apply { s = s.copy(sessionStore = v) }
        fun log(v: LogListener?) = apply { s = s.copy(log = v) }
        fun listener(id: String, v: ChinwagListener) = apply { s = s.copy(listeners = s.listeners + (id to v)) }
        fun listenerGraceMs(v: Int) = apply { s = s.copy(listenerGraceMs = v) }
        fun build(): ClientSettings = s
    }

    companion object {
        @JvmStatic fun builder(serverUrl: String): Builder = Builder(ClientSettings(serverUrl))
    }
}
