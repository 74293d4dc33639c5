package io.chinwag.internal

import com.sun.jna.Callback
import com.sun.jna.CallbackReference
import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import com.sun.jna.Pointer
import io.chinwag.CallListener
import io.chinwag.ChinwagException
import io.chinwag.Codes
import io.chinwag.ConnectionListener
import io.chinwag.GroupListener
import io.chinwag.LogListener
import io.chinwag.LoginListener
import io.chinwag.MessageListener
import io.chinwag.SessionStore
import io.chinwag.UserListener
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong
import java.util.logging.Level
import java.util.logging.Logger

// Between C callbacks and Kotlin objects (the C ABI rules (src/ffi/mod.rs)):
// - Every JNA callback the SDK can call is a singleton below (one per C callback slot), so it is
//   never collected while registered; JNA keeps its native trampoline for the process's life.
// - The `user_data` handed to C is a number, a key of `Registry`, which holds the Kotlin object
//   (listener slot, pending completion, session store) strongly. A listener's entry is released
//   by `user_data_free`, which the SDK runs exactly once; a completion's entry when the completion
//   runs (exactly once: value, error or CANCELLED). A call that fails synchronously releases its
//   entry itself (the SDK never runs that completion).
// - Every trampoline catches every Throwable: an app callback that throws is logged and delivery
//   goes on. Nothing crosses into C.

internal val log: Logger = Logger.getLogger("io.chinwag")

internal object Registry {
    private val objects = ConcurrentHashMap<Long, Any>()
    private val keys = AtomicLong(1) // 0 would be NULL

    fun register(obj: Any): Pointer {
        val key = keys.getAndIncrement()
        objects[key] = obj
        return Pointer(key)
    }

    /** The object of a `user_data` address a callback received (0: none). */
    fun get(userData: Long): Any? = if (userData == 0L) null else objects[userData]

    fun release(userData: Long): Any? = if (userData == 0L) null else objects.remove(userData)

    fun release(userData: Pointer): Any? = release(Pointer.nativeValue(userData))

    /** How many objects the SDK currently holds (tests and leak checks). */
    fun size(): Int = objects.size

    /** How many of them belong to the client of [core]. */
    fun countFor(core: Any): Int = objects.values.count { (it as? ListenerSlot)?.core === core || (it as? Pending)?.core === core }
}

/** Which client a thread is running a callback of (for close() from inside a callback). */
internal object CallbackScope {
    private val active = ThreadLocal.withInitial { ArrayList<Any>(2) }

    fun inCallbackOf(core: Any): Boolean = active.get().any { it === core }

    /** Runs [block] as a callback of [core]; [what] names it in the log if it throws (built only then). */
    inline fun run(core: Any?, what: () -> String, block: () -> Unit) {
        val stack = active.get()
        if (core != null) stack.add(core)
        try {
            block()
        } catch (t: Throwable) {
            log.log(Level.WARNING, "chinwag: ${what()} threw (ignored; delivery continues)", t)
        } finally {
            if (core != null) stack.removeAt(stack.size - 1)
        }
    }
}

/** What a listener's `user_data` key points to. */
internal class ListenerSlot(val core: Any, val id: String, val target: Any, val onRelease: (() -> Unit)?)

/** A completion waiting in the registry: [sink] gets the converted value or the error, once. */
internal class Pending(val core: Any?, val what: String, val sink: (Result<Any?>) -> Unit)

/** A stand-in payload address for events without one. */
private const val NO_PAYLOAD = 1L

// Callbacks receive C pointers as addresses (see Native.kt); 0 is NULL.

private inline fun <reified L> listen(userData: Long, event: String, payload: Long, deliver: L.(Long) -> Unit) {
    val slot = Registry.get(userData) as? ListenerSlot ?: return
    val target = slot.target as? L ?: return
    if (payload == 0L) return
    CallbackScope.run(slot.core, { "listener '${slot.id}' ($event)" }) {
        target.deliver(payload)
    }
}

private inline fun complete(userData: Long, error: Long, value: Long, convert: (Long) -> Any?) {
    val pending = Registry.release(userData) as? Pending ?: return
    CallbackScope.run(pending.core, { pending.what }) {
        val result: Result<Any?> = when {
            error != 0L -> Result.failure(errorOf(error))
            else -> try {
                Result.success(if (value == 0L) null else convert(value))
            } catch (t: Throwable) {
                Result.failure(t)
            }
        }
        pending.sink(result)
    }
}

/**
 * JNA's direct trampoline of a callback: it calls the Java method straight through JNI, where
 * the trampoline a `Structure` field gets boxes every argument into an `Object[]` and calls
 * through reflection (`CallbackReference.getFunctionPointer(cb, direct = true)` is what JNA
 * itself uses for callbacks passed to direct-mapped functions, as the completions are; it is
 * private, so it is looked up once; null, and the boxing trampoline stays, if JNA changes).
 */
private val directTrampoline: ((Callback) -> Pointer?)? = try {
    val m = CallbackReference::class.java.getDeclaredMethod("getFunctionPointer", Callback::class.java, Boolean::class.javaPrimitiveType)
    m.isAccessible = true
    val f: (Callback) -> Pointer? = { cb -> m.invoke(null, cb, true) as Pointer? }
    f
} catch (e: ReflectiveOperationException) {
    log.log(Level.FINE, "chinwag: JNA's direct callback trampolines are not reachable; listeners use the boxing ones", e)
    null
} catch (e: RuntimeException) {
    log.log(Level.FINE, "chinwag: JNA's direct callback trampolines are not reachable; listeners use the boxing ones", e)
    null
}

/** Whether listener structs carry direct trampolines (a test checks it). */
internal val directListeners: Boolean get() = directTrampoline != null

/**
 * Writes a listener struct once, with direct trampolines in its callback slots, and stops JNA
 * from writing and reading it around every call: one instance is shared by all clients and
 * threads, and the SDK only copies it.
 */
private fun <S : CStruct> S.sealed(): S {
    write()
    val direct = directTrampoline
    if (direct != null) {
        for (name in fieldNames()) {
            val cb = javaClass.getField(name).get(this) as? Callback ?: continue
            pointer.setPointer(offsetOf(name).toLong(), direct(cb))
        }
    }
    setAutoSynch(false)
    return this
}

/** The trampolines: one JNA callback object per C callback slot, alive for the process. */
internal object T {
    private val initializer = CallbackThreadInitializer(true, false, "chinwag-dispatcher")

    /** The completions' callback objects: JNA frees a trampoline once its callback is unreachable. */
    private val completions = ArrayList<Callback>()

    private fun <C : Callback> cb(c: C): C {
        // Stay attached to the JVM between callbacks (attaching per callback costs microseconds).
        Native.setCallbackThreadInitializer(c, initializer)
        return c
    }

    /** A completion slot: its direct trampoline's address, looked up once. */
    private fun completion(c: Callback): Pointer {
        completions += cb(c)
        return directTrampoline?.invoke(c) ?: CallbackReference.getFunctionPointer(c)
    }

    val userDataFree: UserDataFreeCb = cb(object : UserDataFreeCb {
        override fun invoke(userData: Long) {
            val slot = Registry.release(userData)
            if (slot is ListenerSlot) CallbackScope.run(null, { "release of listener '${slot.id}'" }) { slot.onRelease?.invoke() }
        }
    })

    // Completions.
    val done: Pointer = completion(object : DoneCb {
        override fun invoke(userData: Long, error: Long) = complete(userData, error, 0L) { Unit }
    })
    val userDone: Pointer = completion(object : UserDoneCb {
        override fun invoke(userData: Long, error: Long, user: Long) = complete(userData, error, user, ::userOf)
    })
    val sendDone: Pointer = completion(object : SendCb {
        override fun invoke(userData: Long, error: Long, message: Long) = complete(userData, error, message, ::messageOf)
    })
    val groupDone: Pointer = completion(object : GroupDoneCb {
        override fun invoke(userData: Long, error: Long, group: Long) = complete(userData, error, group, ::groupOf)
    })
    val groupPageDone: Pointer = completion(object : GroupPageDoneCb {
        override fun invoke(userData: Long, error: Long, page: Long) = complete(userData, error, page, ::groupPageOf)
    })
    val memberListDone: Pointer = completion(object : MemberListDoneCb {
        override fun invoke(userData: Long, error: Long, list: Long) = complete(userData, error, list, ::memberListOf)
    })
    val memberDone: Pointer = completion(object : MemberDoneCb {
        override fun invoke(userData: Long, error: Long, member: Long) = complete(userData, error, member, ::memberOf)
    })
    val callDone: Pointer = completion(object : CallDoneCb {
        override fun invoke(userData: Long, error: Long, call: Long) = complete(userData, error, call, ::callOf)
    })
    val messagePageDone: Pointer = completion(object : MessagePageDoneCb {
        override fun invoke(userData: Long, error: Long, page: Long) = complete(userData, error, page, ::messagePageOf)
    })
    val userPageDone: Pointer = completion(object : UserPageDoneCb {
        override fun invoke(userData: Long, error: Long, page: Long) = complete(userData, error, page, ::userPageOf)
    })

    // Connection listener.
    private fun state(name: String, f: ConnectionListener.(io.chinwag.StateChange) -> Unit) = cb(object : StateChangeCb {
        override fun invoke(userData: Long, change: Long) =
            listen<ConnectionListener>(userData, name, change) { f(stateChangeOf(it)) }
    })
    private fun feature(name: String, f: ConnectionListener.(io.chinwag.FeatureChange) -> Unit) = cb(object : FeatureCb {
        override fun invoke(userData: Long, change: Long) =
            listen<ConnectionListener>(userData, name, change) { f(featureOf(it)) }
    })
    private inline fun <reified L> error(name: String, crossinline f: L.(ChinwagException) -> Unit) = cb(object : ErrorCb {
        override fun invoke(userData: Long, error: Long) = listen<L>(userData, name, error) { f(errorOf(it)) }
    })

    val connection: chinwag_connection_listener by lazy {
        chinwag_connection_listener().apply {
            struct_size = size().toLong()
            on_state_changed = state("onStateChanged") { onStateChanged(it) }
            on_connecting = state("onConnecting") { onConnecting(it) }
            on_connected = state("onConnected") { onConnected(it) }
            on_disconnected = state("onDisconnected") { onDisconnected(it) }
            on_connection_error = error<ConnectionListener>("onConnectionError") { onConnectionError(it) }
            on_feature_throttled = feature("onFeatureThrottled") { onFeatureThrottled(it) }
            on_feature_unthrottled = feature("onFeatureUnthrottled") { onFeatureUnthrottled(it) }
            sealed()
        }
    }

    val login: chinwag_login_listener by lazy {
        chinwag_login_listener().apply {
            struct_size = size().toLong()
            on_login_success = cb(object : UserCb {
                override fun invoke(userData: Long, user: Long) =
                    listen<LoginListener>(userData, "onLoginSuccess", user) { onLoginSuccess(userOf(it)) }
            })
            on_login_failure = error<LoginListener>("onLoginFailure") { onLoginFailure(it) }
            on_logout_success = cb(object : NoticeCb {
                override fun invoke(userData: Long) =
                    listen<LoginListener>(userData, "onLogoutSuccess", NO_PAYLOAD) { onLogoutSuccess() }
            })
            on_logout_failure = error<LoginListener>("onLogoutFailure") { onLogoutFailure(it) }
            on_session_expired = error<LoginListener>("onSessionExpired") { onSessionExpired(it) }
            sealed()
        }
    }

    private fun message(name: String, f: MessageListener.(io.chinwag.Message) -> Unit) = cb(object : MessageCb {
        override fun invoke(userData: Long, message: Long) =
            listen<MessageListener>(userData, name, message) { f(messageOf(it)) }
    })
    private fun typing(name: String, f: MessageListener.(io.chinwag.Typing) -> Unit) = cb(object : TypingCb {
        override fun invoke(userData: Long, typing: Long) =
            listen<MessageListener>(userData, name, typing) { f(typingOf(it)) }
    })
    private fun receipt(name: String, f: MessageListener.(io.chinwag.Receipt) -> Unit) = cb(object : ReceiptCb {
        override fun invoke(userData: Long, receipt: Long) =
            listen<MessageListener>(userData, name, receipt) { f(receiptOf(it)) }
    })

    val message: chinwag_message_listener by lazy {
        chinwag_message_listener().apply {
            struct_size = size().toLong()
            on_text_message_received = message("onTextMessageReceived") { onTextMessageReceived(it) }
            on_media_message_received = message("onMediaMessageReceived") { onMediaMessageReceived(it) }
            on_custom_message_received = message("onCustomMessageReceived") { onCustomMessageReceived(it) }
            on_message_edited = message("onMessageEdited") { onMessageEdited(it) }
            on_message_deleted = message("onMessageDeleted") { onMessageDeleted(it) }
            on_typing_started = typing("onTypingStarted") { onTypingStarted(it) }
            on_typing_ended = typing("onTypingEnded") { onTypingEnded(it) }
            on_messages_delivered = receipt("onMessagesDelivered") { onMessagesDelivered(it) }
            on_messages_read = receipt("onMessagesRead") { onMessagesRead(it) }
            on_transient_message_received = cb(object : TransientCb {
                override fun invoke(userData: Long, transient: Long) =
                    listen<MessageListener>(userData, "onTransientMessageReceived", transient) {
                        onTransientMessageReceived(transientOf(it))
                    }
            })
            on_gap = cb(object : GapCb {
                override fun invoke(userData: Long, gap: Long) =
                    listen<MessageListener>(userData, "onGap", gap) { onGap(gapOf(it)) }
            })
            sealed()
        }
    }

    private fun presence(name: String, f: UserListener.(io.chinwag.PresenceChange) -> Unit) = cb(object : PresenceCb {
        override fun invoke(userData: Long, presence: Long) =
            listen<UserListener>(userData, name, presence) { f(presenceOf(it)) }
    })

    val user: chinwag_user_listener by lazy {
        chinwag_user_listener().apply {
            struct_size = size().toLong()
            on_user_online = presence("onUserOnline") { onUserOnline(it) }
            on_user_offline = presence("onUserOffline") { onUserOffline(it) }
            sealed()
        }
    }

    private fun member(name: String, f: GroupListener.(io.chinwag.GroupMemberEvent) -> Unit) = cb(object : GroupMemberCb {
        override fun invoke(userData: Long, event: Long) =
            listen<GroupListener>(userData, name, event) { f(memberEventOf(it)) }
    })

    val group: chinwag_group_listener by lazy {
        chinwag_group_listener().apply {
            struct_size = size().toLong()
            on_member_joined = member("onMemberJoined") { onMemberJoined(it) }
            on_member_left = member("onMemberLeft") { onMemberLeft(it) }
            on_member_kicked = member("onMemberKicked") { onMemberKicked(it) }
            on_member_banned = member("onMemberBanned") { onMemberBanned(it) }
            on_member_unbanned = member("onMemberUnbanned") { onMemberUnbanned(it) }
            on_member_scope_changed = member("onMemberScopeChanged") { onMemberScopeChanged(it) }
            on_member_added = member("onMemberAdded") { onMemberAdded(it) }
            sealed()
        }
    }

    private fun call(name: String, f: CallListener.(io.chinwag.Call) -> Unit) = cb(object : CallCb {
        override fun invoke(userData: Long, call: Long) =
            listen<CallListener>(userData, name, call) { f(callOf(it)) }
    })

    val call: chinwag_call_listener by lazy {
        chinwag_call_listener().apply {
            struct_size = size().toLong()
            on_incoming_call_received = call("onIncomingCallReceived") { onIncomingCallReceived(it) }
            on_outgoing_call_accepted = call("onOutgoingCallAccepted") { onOutgoingCallAccepted(it) }
            on_outgoing_call_rejected = call("onOutgoingCallRejected") { onOutgoingCallRejected(it) }
            on_incoming_call_cancelled = call("onIncomingCallCancelled") { onIncomingCallCancelled(it) }
            on_call_ended = call("onCallEnded") { onCallEnded(it) }
            sealed()
        }
    }

    val logCb: LogCb = cb(object : LogCb {
        override fun invoke(userData: Long, record: Long) =
            listen<LogListener>(userData, "onLog", record) { onLog(logRecordOf(it)) }
    })

    val logListener: chinwag_log_listener by lazy {
        chinwag_log_listener().apply {
            struct_size = size().toLong()
            on_log = logCb
            sealed()
        }
    }

    // Session store: the user_data key points to a ListenerSlot whose target is the SessionStore.
    private inline fun store(userData: Long, what: String, block: SessionStore.() -> Unit): Int {
        val slot = Registry.get(userData) as? ListenerSlot ?: return Codes.STORAGE
        val store = slot.target as? SessionStore ?: return Codes.STORAGE
        return try {
            store.block()
            Codes.OK
        } catch (t: Throwable) {
            log.log(Level.WARNING, "chinwag: the session store's $what threw", t)
            Codes.STORAGE
        }
    }

    val storeLoad: StoreLoadCb = cb(object : StoreLoadCb {
        override fun invoke(userData: Long, reply: Long): Int = store(userData, "load") {
            val json = load()
            if (json != null) {
                val rc = Lib.chinwag_store_reply_set(Pointer(reply), cstr(json, "session JSON"))
                if (rc != Codes.OK) throw ChinwagException.of(rc, resultName(rc), lastErrorMessage())
            }
        }
    })
    val storeSave: StoreSaveCb = cb(object : StoreSaveCb {
        override fun invoke(userData: Long, sessionJson: Long, durable: Byte): Int =
            store(userData, "save") { save(Mem.string(sessionJson) ?: "", durable.toInt() != 0) }
    })
    val storeClear: StoreClearCb = cb(object : StoreClearCb {
        override fun invoke(userData: Long): Int = store(userData, "clear") { clear() }
    })
}
