package io.chinwag

// Listener interfaces, one per family of the C ABI; every method has a no-op default, so an app
// overrides only what it needs. They run on the SDK's dispatcher thread (or the thread calling
// ChinwagClient.dispatch in DispatchMode.APP), one at a time, in event order. An exception thrown
// by a listener is logged (java.util.logging, logger "io.chinwag") and delivery continues.

/** Marker of every listener family; an object implementing several is registered in each. */
interface ChinwagListener

/**
 * Connection states (docs/behaviour.md, section 3). One added with
 * [ChinwagClient.addConnectionListener] first hears the current state ([StateReason.LISTENER_ADDED],
 * `previous == current`), then every change after it, none missed, none twice; one given in
 * [ClientSettings.listeners] hears every change from the start.
 */
interface ConnectionListener : ChinwagListener {
    /** Every state event, before the specific method below. */
    fun onStateChanged(change: StateChange) {}
    fun onConnecting(change: StateChange) {}
    /** The server accepted the session. */
    fun onConnected(change: StateChange) {}
    /** DISCONNECTED, RECONNECTING (see [StateChange.retryInMs]) or SUSPENDED. */
    fun onDisconnected(change: StateChange) {}
    /** The reason for FAILED, or an error that left the state unchanged. */
    fun onConnectionError(error: ChinwagException) {}
    fun onFeatureThrottled(change: FeatureChange) {}
    fun onFeatureUnthrottled(change: FeatureChange) {}
}

/** Login and logout outcomes (docs/behaviour.md, section 2). */
interface LoginListener : ChinwagListener {
    fun onLoginSuccess(user: User) {}
    fun onLoginFailure(error: ChinwagException) {}
    fun onLogoutSuccess() {}
    /** Logout could not tell the server; the local session was purged all the same. */
    fun onLogoutFailure(error: ChinwagException) {}
    /** The server rejected or revoked the token: log in again. */
    fun onSessionExpired(error: ChinwagException) {}
}

/** Messages, typing, receipts, transient messages and gap notices. */
interface MessageListener : ChinwagListener {
    fun onTextMessageReceived(message: Message) {}
    fun onMediaMessageReceived(message: Message) {}
    fun onCustomMessageReceived(message: Message) {}
    fun onMessageEdited(message: Message) {}
    fun onMessageDeleted(message: Message) {}
    fun onTypingStarted(typing: Typing) {}
    fun onTypingEnded(typing: Typing) {}
    fun onMessagesDelivered(receipt: Receipt) {}
    fun onMessagesRead(receipt: Receipt) {}
    fun onTransientMessageReceived(transient: Transient) {}
    /** Events were missed and will not be replayed: fetch history. */
    fun onGap(gap: Gap) {}
}

/** Presence of the users covered by the presence subscription. */
interface UserListener : ChinwagListener {
    fun onUserOnline(presence: PresenceChange) {}
    fun onUserOffline(presence: PresenceChange) {}
}

/** Membership changes of the user's groups. */
interface GroupListener : ChinwagListener {
    fun onMemberJoined(event: GroupMemberEvent) {}
    fun onMemberLeft(event: GroupMemberEvent) {}
    fun onMemberKicked(event: GroupMemberEvent) {}
    fun onMemberBanned(event: GroupMemberEvent) {}
    fun onMemberUnbanned(event: GroupMemberEvent) {}
    fun onMemberScopeChanged(event: GroupMemberEvent) {}
    fun onMemberAdded(event: GroupMemberEvent) {}
}

/** Call signalling. */
interface CallListener : ChinwagListener {
    fun onIncomingCallReceived(call: Call) {}
    fun onOutgoingCallAccepted(call: Call) {}
    /** Rejected or busy (see [Call.status]). */
    fun onOutgoingCallRejected(call: Call) {}
    /** Cancelled by the caller, or unanswered (see [Call.status]). */
    fun onIncomingCallCancelled(call: Call) {}
    fun onCallEnded(call: Call) {}
}

/** The SDK's log records. */
fun interface LogListener : ChinwagListener {
    fun onLog(record: LogRecord)
}

/** The completion of a one-shot operation (Java-friendly; Kotlin callers use the suspend functions). */
interface Completion<in T> {
    fun onSuccess(value: T)
    fun onError(error: ChinwagException)
}

/**
 * A session store of the app's own (e.g. the platform keychain) instead of the file in
 * `dataDir`. Called on the thread of [ChinwagClient.init] (the first [load]) and on SDK threads
 * afterwards, never two at once for one client. Throwing reports `STORAGE`. [save] and [clear]
 * may block (a keychain prompt) and may call these read-only methods of their client:
 * [ChinwagClient.loggedInUser] (during a login's save it already answers the new user),
 * [ChinwagClient.connectionStatus], [ChinwagClient.activeCall] and [ChinwagClient.dispatchFd];
 * never [ChinwagClient.close], login or logout of that client.
 */
interface SessionStore {
    /** The JSON last given to [save], or null when there is none. */
    fun load(): String?
    /** Keep [sessionJson] (secret: it holds the token); when [durable], make it survive a crash first. */
    fun save(sessionJson: String, durable: Boolean)
    fun clear()
}
