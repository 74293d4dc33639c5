package io.chinwag

import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Pointer
import io.chinwag.internal.CallbackScope
import io.chinwag.internal.Core
import io.chinwag.internal.Lib
import io.chinwag.internal.ListenerSlot
import io.chinwag.internal.Loader
import io.chinwag.internal.Pending
import io.chinwag.internal.Registry
import io.chinwag.internal.T
import io.chinwag.internal.chinwag_initial_listener
import io.chinwag.internal.chinwag_messages_request_options
import io.chinwag.internal.chinwag_session_store
import io.chinwag.internal.chinwag_settings
import io.chinwag.internal.chinwag_users_request_options
import io.chinwag.internal.cstr
import io.chinwag.internal.cstrOrNull
import io.chinwag.internal.callOf
import io.chinwag.internal.lastErrorMessage
import io.chinwag.internal.noHandle
import io.chinwag.internal.ok
import io.chinwag.internal.ptr
import io.chinwag.internal.req
import io.chinwag.internal.resultName
import io.chinwag.internal.takeString
import io.chinwag.internal.userOf
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.suspendCancellableCoroutine
import java.lang.ref.Cleaner
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong

/**
 * A Chinwag client: one user's connection to a chinwag-server (docs/behaviour.md in
 * docs/architecture.md). Create it with [init], close it with [close] (or `use { }`).
 *
 * Every one-shot operation exists twice: as a `suspend` function (Kotlin) and with a
 * [Completion] (Java; runs on the dispatcher thread). Either way it completes exactly once:
 * with its value, its error, or [CancelledException] when the client is closed first. A
 * synchronous refusal (bad argument, not logged in, ...) is thrown by the call itself.
 *
 * Threads: every method is thread-safe and callable from inside any listener. Listeners and
 * completions run on the client's dispatcher thread ([DispatchMode.THREAD]) or on the thread
 * calling [dispatch] ([DispatchMode.APP]).
 */
class ChinwagClient private constructor(
    private val core: Core,
    private val state: MutableStateFlow<ConnectionState>,
    /** The settings the client was created with. */
    val settings: ClientSettings,
) : AutoCloseable {
    private val generic = ConcurrentHashMap<String, List<Family>>()
    private val cleanable: Cleaner.Cleanable = cleaner.register(this, core::free)

    /** The connection state, updated by the state events one for one (conflated for slow collectors). */
    val connectionState: StateFlow<ConnectionState> = state.asStateFlow()

    companion object {
        private val cleaner: Cleaner = Cleaner.create()
        private val flowIds = AtomicLong()
        internal const val STATE_LISTENER_ID = "io.chinwag.state"

        /**
         * Creates a client of app [appId]. With a saved session of this app the user is logged
         * in at once (no network) and, with [ClientSettings.autoConnect], connecting starts.
         */
        @JvmStatic
        fun init(appId: String, settings: ClientSettings): ChinwagClient {
            Loader.ensure()
            val state = MutableStateFlow(ConnectionState.DISCONNECTED)
            val keep = ArrayList<Any>() // native memory that must outlive chinwag_client_init
            val keys = ArrayList<Pointer>() // registry entries to release if init fails
            fun mem(s: String?, what: String): Pointer? = cstrOrNull(s, what)?.let { b ->
                Memory(b.size.toLong()).also { it.write(0, b, 0, b.size); keep += it }
            }
            val core = Core()
            var created = false
            try {
                val c = chinwag_settings()
                c.struct_size = c.size().toLong()
                c.server_url = mem(settings.serverUrl, "serverUrl")
                c.connect_mode = if (settings.autoConnect) ConnectMode.AUTO.code else ConnectMode.MANUAL.code
                c.presence = settings.presence.code
                c.presence_roles = if (settings.presenceRoles.isEmpty()) null else mem(settings.presenceRoles.joinToString(","), "presenceRoles")
                c.data_dir = settings.dataDir?.let { mem(it.path, "dataDir") }
                settings.extraCaPem?.let { pem ->
                    c.extra_ca_pem = Memory(maxOf(1, pem.size).toLong()).also { it.write(0, pem, 0, pem.size); keep += it }
                    c.extra_ca_pem_len = pem.size.toLong()
                }
                with(settings.timings) {
                    c.connect_timeout_ms = connectTimeoutMs
                    c.first_retry_max_ms = firstRetryMaxMs
                    c.backoff_base_ms = backoffBaseMs
                    c.backoff_cap_ms = backoffCapMs
                    c.stable_after_ms = stableAfterMs
                    c.suspend_after_ms = suspendAfterMs
                    c.suspended_retry_min_ms = suspendedRetryMinMs
                    c.suspended_retry_max_ms = suspendedRetryMaxMs
                    c.heartbeat_grace_ms = heartbeatGraceMs
                    c.typing_timeout_ms = typingTimeoutMs
                    c.probe_timeout_ms = probeTimeoutMs
                    c.background_grace_ms = backgroundGraceMs
                    c.hint_coalesce_ms = hintCoalesceMs
                }
                c.queue_capacity = settings.queueCapacity
                c.dispatch_mode = settings.dispatchMode.code
                c.listener_grace_ms = settings.listenerGraceMs
                settings.log?.let { l ->
                    val ud = Registry.register(ListenerSlot(core, "log", l, null)).also { keys += it }
                    c.log = T.logCb
                    c.log_user_data = ud
                    c.log_user_data_free = T.userDataFree
                }
                settings.sessionStore?.let { s ->
                    val store = chinwag_session_store()
                    store.struct_size = store.size().toLong()
                    store.load = T.storeLoad
                    store.save = T.storeSave
                    store.clear = T.storeClear
                    store.user_data = Registry.register(ListenerSlot(core, "sessionStore", s, null)).also { keys += it }
                    store.user_data_free = T.userDataFree
                    store.write()
                    keep += store
                    c.session_store = store.pointer
                }
                // The internal state listener first, then the app's.
                val initial = ArrayList<chinwag_initial_listener>()
                fun initialOf(family: Family, id: String, target: Any) {
                    val l = chinwag_initial_listener()
                    l.struct_size = l.size().toLong()
                    l.kind = family.kind
                    l.id = mem(id, "listener id")
                    l.listener = family.struct().pointer
                    l.user_data = Registry.register(ListenerSlot(core, id, target, null)).also { keys += it }
                    l.user_data_free = T.userDataFree
                    l.write()
                    initial += l
                }
                initialOf(Family.CONNECTION, STATE_LISTENER_ID, object : ConnectionListener {
                    override fun onStateChanged(change: StateChange) {
                        state.value = change.current
                    }
                })
                for ((id, listener) in settings.listeners) {
                    val families = Family.of(listener)
                    require(families.isNotEmpty()) { "listener '$id' implements no listener interface" }
                    for (f in families) initialOf(f, id, listener)
                }
                val array = Memory(initial.size.toLong() * Native.POINTER_SIZE)
                initial.forEachIndexed { i, l -> array.setPointer(i.toLong() * Native.POINTER_SIZE, l.pointer) }
                keep += array
                keep.add(initial)
                c.listeners = array
                c.listeners_len = initial.size.toLong()
                c.write()
                val out = LongArray(1)
                val rc = Lib.chinwag_client_init(cstr(appId, "appId"), c, out)
                if (rc != Codes.OK) {
                    val e = ChinwagException.of(rc, resultName(rc), lastErrorMessage())
                    keys.forEach { Registry.release(it) } // no user_data_free runs when init fails
                    throw e
                }
                core.handle = out.ptr() ?: throw noHandle("chinwag_client_init")
                created = true
                return ChinwagClient(core, state, settings)
            } catch (t: Throwable) {
                if (!created) keys.forEach { Registry.release(it) }
                throw t
            } finally {
                java.lang.ref.Reference.reachabilityFence(keep)
            }
        }

        /** The library's version, `MAJOR.MINOR.PATCH`. */
        @JvmStatic
        fun version(): String {
            Loader.ensure()
            return Lib.chinwag_version().req()
        }

        /** The C ABI version of the loaded library. */
        @JvmStatic
        fun abiVersion(): Int {
            Loader.ensure()
            return Lib.chinwag_abi_version()
        }

        /** The library file that was loaded, and how it was found. */
        @JvmStatic
        fun libraryPath(): String = Loader.ensure().path

        @JvmStatic
        fun librarySource(): String = Loader.ensure().source

        /** How many Kotlin objects the SDK currently holds for all clients (leak checks). */
        @JvmStatic
        fun retainedObjectsTotal(): Int = Registry.size()
    }

    // ------------------------------------------------------------------------------------------
    // lifetime
    // ------------------------------------------------------------------------------------------

    /**
     * Frees the client: closes its connection, completes every pending operation with
     * [CancelledException], releases every listener. Idempotent. Outside a callback it returns
     * when all of that happened; from inside a callback of this client it returns at once and
     * the SDK finishes right after the callback returns.
     */
    override fun close() {
        cleanable.clean()
    }

    val isClosed: Boolean get() = core.isClosed

    /**
     * How many Kotlin objects the SDK holds for this client: listeners (released by the SDK's
     * `user_data_free`) and pending completions. 0 once [close] returned (leak checks).
     */
    fun retainedObjects(): Int = Registry.countFor(core)

    // ------------------------------------------------------------------------------------------
    // login and connection
    // ------------------------------------------------------------------------------------------

    private fun startLogin(uid: String, authKey: String, sink: (Result<Any?>) -> Unit) =
        start("login", sink) { h, ud -> Lib.chinwag_client_login(h, cstr(uid, "uid"), cstr(authKey, "authKey"), T.userDone, ud) }

    private fun startLoginWithToken(token: String, sink: (Result<Any?>) -> Unit) =
        start("loginWithToken", sink) { h, ud -> Lib.chinwag_client_login_with_token(h, cstr(token, "token"), T.userDone, ud) }

    private fun startLogout(sink: (Result<Any?>) -> Unit) =
        start("logout", sink) { h, ud -> Lib.chinwag_client_logout(h, T.done, ud) }

    private fun startCreateUser(uid: String, name: String?, authKey: String, sink: (Result<Any?>) -> Unit) =
        start("createUser", sink) { h, ud ->
            Lib.chinwag_client_create_user(h, cstr(uid, "uid"), cstrOrNull(name, "name"), cstr(authKey, "authKey"), T.userDone, ud)
        }

    /**
     * Creates user [uid] ([name]: the display name, null for the uid) with the server's
     * development auth key, for development and demos; needs no logged-in user. Fails with
     * [ServerException] `USER_EXISTS` when the uid is taken, `AUTH_FAILED` for a wrong key.
     */
    suspend fun createUser(uid: String, name: String? = null, authKey: String): User = await { startCreateUser(uid, name, authKey, it) }
    fun createUser(uid: String, name: String?, authKey: String, completion: Completion<User>) = startCreateUser(uid, name, authKey, completion.sink())

    /** Logs in with the server's development auth key; connects in auto mode. */
    suspend fun login(uid: String, authKey: String): User = await { startLogin(uid, authKey, it) }
    fun login(uid: String, authKey: String, completion: Completion<User>) = startLogin(uid, authKey, completion.sink())

    /** Logs in with a token minted by the app's backend. */
    suspend fun loginWithToken(token: String): User = await { startLoginWithToken(token, it) }
    fun loginWithToken(token: String, completion: Completion<User>) = startLoginWithToken(token, completion.sink())

    /** Logs out: the server revokes the token; the local session is purged either way. */
    suspend fun logout() { await<Any?> { startLogout(it) } }
    fun logout(completion: Completion<Unit>) = startLogout(completion.sink())

    /** The logged-in user from the saved session (no network); null when nobody is logged in. */
    fun loggedInUser(): User? {
        val out = LongArray(1)
        val rc = core.use { Lib.chinwag_client_get_logged_in_user(it, out) }
        if (rc == Codes.NOT_LOGGED_IN) return null
        ok(rc)
        val copy = out.ptr() ?: return null
        try {
            return userOf(Pointer.nativeValue(copy))
        } finally {
            Lib.chinwag_user_free(copy)
        }
    }

    /** The current state, asked from the library (see also [connectionState]). */
    fun connectionStatus(): ConnectionState {
        val out = IntArray(1)
        ok(core.use { Lib.chinwag_client_connection_status(it, out) })
        return ConnectionState.of(out[0])
    }

    /** Connects with the saved session and keeps the connection up until [disconnect], logout or FAILED. */
    fun connect() = ok(core.use { Lib.chinwag_client_connect(it) })

    /** Disconnects; queued sends fail with `DISCONNECTED`. */
    fun disconnect() = ok(core.use { Lib.chinwag_client_disconnect(it) })

    /** Platform hint: the network went down or came back (Android: ConnectivityManager callbacks). */
    fun networkChanged(network: Network) = ok(core.use { Lib.chinwag_client_network_changed(it, network.code) })

    /** Platform hint: the app went to the background or came back (Android: ProcessLifecycleOwner). */
    fun appStateChanged(appState: AppState) = ok(core.use { Lib.chinwag_client_app_state_changed(it, appState.code) })

    // ------------------------------------------------------------------------------------------
    // messages
    // ------------------------------------------------------------------------------------------

    private fun startSend(what: String, sink: (Result<Any?>) -> Unit, call: (Pointer, Pointer, LongArray) -> Int): String {
        val muid = LongArray(1)
        start(what, sink) { h, ud -> call(h, ud, muid) }
        return muid.takeString() ?: ""
    }

    private fun startSendText(rt: ReceiverType, receiver: String, text: String, sink: (Result<Any?>) -> Unit) =
        startSend("sendText", sink) { h, ud, out ->
            Lib.chinwag_client_send_text(h, rt.code, cstr(receiver, "receiver"), cstr(text, "text"), T.sendDone, ud, out)
        }

    /** Sends a text; returns the stored message (queued while reconnecting). */
    suspend fun sendText(receiverType: ReceiverType, receiver: String, text: String): Message =
        await { startSendText(receiverType, receiver, text, it) }

    /** Sends a text; returns its muid at once; [completion] gets the stored message. */
    fun sendText(receiverType: ReceiverType, receiver: String, text: String, completion: Completion<Message>): String =
        startSendText(receiverType, receiver, text, completion.sink())

    private fun startSendCustom(rt: ReceiverType, receiver: String, type: String, dataJson: String, sink: (Result<Any?>) -> Unit) =
        startSend("sendCustom", sink) { h, ud, out ->
            Lib.chinwag_client_send_custom(h, rt.code, cstr(receiver, "receiver"), cstr(type, "customType"), cstr(dataJson, "dataJson"), T.sendDone, ud, out)
        }

    /** Sends a custom message: an app-defined [customType] and [dataJson], a JSON value. */
    suspend fun sendCustom(receiverType: ReceiverType, receiver: String, customType: String, dataJson: String): Message =
        await { startSendCustom(receiverType, receiver, customType, dataJson, it) }
    fun sendCustom(receiverType: ReceiverType, receiver: String, customType: String, dataJson: String, completion: Completion<Message>): String =
        startSendCustom(receiverType, receiver, customType, dataJson, completion.sink())

    private fun startSendMedia(rt: ReceiverType, receiver: String, mediaType: String, url: String, caption: String?, metadataJson: String?, sink: (Result<Any?>) -> Unit) =
        startSend("sendMedia", sink) { h, ud, out ->
            Lib.chinwag_client_send_media(
                h, rt.code, cstr(receiver, "receiver"), cstr(mediaType, "mediaType"), cstr(url, "url"),
                cstrOrNull(caption, "caption"), cstrOrNull(metadataJson, "metadataJson"), T.sendDone, ud, out,
            )
        }

    /** Sends a media message (`"image"`, `"video"`, `"audio"`, `"file"`) whose file the app hosts at [url]. */
    suspend fun sendMedia(receiverType: ReceiverType, receiver: String, mediaType: String, url: String, caption: String? = null, metadataJson: String? = null): Message =
        await { startSendMedia(receiverType, receiver, mediaType, url, caption, metadataJson, it) }
    fun sendMedia(receiverType: ReceiverType, receiver: String, mediaType: String, url: String, caption: String?, metadataJson: String?, completion: Completion<Message>): String =
        startSendMedia(receiverType, receiver, mediaType, url, caption, metadataJson, completion.sink())

    private fun startSendMessage(json: String, sink: (Result<Any?>) -> Unit) =
        startSend("sendMessage", sink) { h, ud, out -> Lib.chinwag_client_send_message(h, cstr(json, "messageJson"), T.sendDone, ud, out) }

    /** Sends any message given as the protocol's JSON message object (attachments, metadata, thread replies). */
    suspend fun sendMessage(messageJson: String): Message = await { startSendMessage(messageJson, it) }
    fun sendMessage(messageJson: String, completion: Completion<Message>): String = startSendMessage(messageJson, completion.sink())

    private fun startEdit(id: Long, text: String?, dataJson: String?, metadataJson: String?, sink: (Result<Any?>) -> Unit) =
        start("editMessage", sink) { h, ud ->
            Lib.chinwag_client_edit_message(h, id, cstrOrNull(text, "text"), cstrOrNull(dataJson, "dataJson"), cstrOrNull(metadataJson, "metadataJson"), T.sendDone, ud)
        }

    /** Edits one's own message (needs CONNECTED). */
    suspend fun editMessage(messageId: Long, text: String? = null, dataJson: String? = null, metadataJson: String? = null): Message =
        await { startEdit(messageId, text, dataJson, metadataJson, it) }
    fun editMessage(messageId: Long, text: String?, dataJson: String?, metadataJson: String?, completion: Completion<Message>) =
        startEdit(messageId, text, dataJson, metadataJson, completion.sink())

    private fun startDelete(id: Long, sink: (Result<Any?>) -> Unit) =
        start("deleteMessage", sink) { h, ud -> Lib.chinwag_client_delete_message(h, id, T.sendDone, ud) }

    /** Deletes a message (soft); one's own, or any in a group the user moderates. */
    suspend fun deleteMessage(messageId: Long): Message = await { startDelete(messageId, it) }
    fun deleteMessage(messageId: Long, completion: Completion<Message>) = startDelete(messageId, completion.sink())

    fun startTyping(receiverType: ReceiverType, receiver: String) =
        ok(core.use { Lib.chinwag_client_start_typing(it, receiverType.code, cstr(receiver, "receiver")) })

    fun endTyping(receiverType: ReceiverType, receiver: String) =
        ok(core.use { Lib.chinwag_client_end_typing(it, receiverType.code, cstr(receiver, "receiver")) })

    fun markDelivered(messageId: Long) = ok(core.use { Lib.chinwag_client_mark_delivered(it, messageId) })

    fun markRead(messageId: Long) = ok(core.use { Lib.chinwag_client_mark_read(it, messageId) })

    /** Sends a transient message (relayed, never stored); needs CONNECTED. */
    fun sendTransient(receiverType: ReceiverType, receiver: String, dataJson: String) =
        ok(core.use { Lib.chinwag_client_send_transient(it, receiverType.code, cstr(receiver, "receiver"), cstr(dataJson, "dataJson")) })

    /** A history request of a conversation; page it with [MessagesRequest.previous] / [MessagesRequest.next]. */
    @JvmOverloads
    fun messagesRequest(
        receiverType: ReceiverType,
        receiver: String,
        limit: Int = 0,
        category: String? = null,
        messageType: String? = null,
        fromMessageId: Long = 0,
    ): MessagesRequest {
        val o = chinwag_messages_request_options()
        o.struct_size = o.size().toLong()
        o.limit = limit
        val cat = cstrOrNull(category, "category")?.let { b -> Memory(b.size.toLong()).also { it.write(0, b, 0, b.size) } }
        val type = cstrOrNull(messageType, "messageType")?.let { b -> Memory(b.size.toLong()).also { it.write(0, b, 0, b.size) } }
        o.category = cat
        o.message_type = type
        o.from_message_id = fromMessageId
        val out = LongArray(1)
        ok(Lib.chinwag_messages_request_new(receiverType.code, cstr(receiver, "receiver"), o, out))
        java.lang.ref.Reference.reachabilityFence(cat)
        java.lang.ref.Reference.reachabilityFence(type)
        return MessagesRequest(this, out.ptr() ?: throw noHandle("chinwag_messages_request_new"))
    }

    /** A user list request; page it with [UsersRequest.next]. */
    @JvmOverloads
    fun usersRequest(limit: Int = 0, search: String? = null, status: UserStatus? = null, role: String? = null): UsersRequest {
        val o = chinwag_users_request_options()
        o.struct_size = o.size().toLong()
        o.limit = limit
        val keep = listOf(search, status?.name?.lowercase(), role).map { s ->
            cstrOrNull(s, "filter")?.let { b -> Memory(b.size.toLong()).also { it.write(0, b, 0, b.size) } }
        }
        o.search = keep[0]
        o.status = keep[1]
        o.role = keep[2]
        val out = LongArray(1)
        ok(Lib.chinwag_users_request_new(o, out))
        java.lang.ref.Reference.reachabilityFence(keep)
        return UsersRequest(this, out.ptr() ?: throw noHandle("chinwag_users_request_new"))
    }

    internal fun startFetch(what: String, sink: (Result<Any?>) -> Unit, call: (Pointer, Pointer) -> Int) = start(what, sink, call)

    // ------------------------------------------------------------------------------------------
    // users
    // ------------------------------------------------------------------------------------------

    private fun startGetUser(uid: String, sink: (Result<Any?>) -> Unit) =
        start("getUser", sink) { h, ud -> Lib.chinwag_client_get_user(h, cstr(uid, "uid"), T.userDone, ud) }
    suspend fun getUser(uid: String): User = await { startGetUser(uid, it) }
    fun getUser(uid: String, completion: Completion<User>) = startGetUser(uid, completion.sink())

    private fun startAddFriend(uid: String, sink: (Result<Any?>) -> Unit) =
        start("addFriend", sink) { h, ud -> Lib.chinwag_client_add_friend(h, cstr(uid, "uid"), T.userPageDone, ud) }
    /** Asks [uid] to be a friend (accepts if [uid] already asked: a friendship exists once both asked); returns the user's friends. */
    suspend fun addFriend(uid: String): List<User> = await<UserPage> { startAddFriend(uid, it) }.users
    fun addFriend(uid: String, completion: Completion<UserPage>) = startAddFriend(uid, completion.sink())

    private fun startRemoveFriend(uid: String, sink: (Result<Any?>) -> Unit) =
        start("removeFriend", sink) { h, ud -> Lib.chinwag_client_remove_friend(h, cstr(uid, "uid"), T.done, ud) }
    suspend fun removeFriend(uid: String) { await<Any?> { startRemoveFriend(uid, it) } }
    fun removeFriend(uid: String, completion: Completion<Unit>) = startRemoveFriend(uid, completion.sink())

    private fun startFriends(sink: (Result<Any?>) -> Unit) =
        start("friends", sink) { h, ud -> Lib.chinwag_client_friends(h, T.userPageDone, ud) }
    suspend fun friends(): List<User> = await<UserPage> { startFriends(it) }.users
    fun friends(completion: Completion<UserPage>) = startFriends(completion.sink())

    // ------------------------------------------------------------------------------------------
    // groups
    // ------------------------------------------------------------------------------------------

    private fun startCreateGroup(guid: String, name: String, type: GroupType, sink: (Result<Any?>) -> Unit) =
        start("createGroup", sink) { h, ud -> Lib.chinwag_client_create_group(h, cstr(guid, "guid"), cstr(name, "name"), type.code, T.groupDone, ud) }
    suspend fun createGroup(guid: String, name: String, type: GroupType = GroupType.PUBLIC): Group = await { startCreateGroup(guid, name, type, it) }
    fun createGroup(guid: String, name: String, type: GroupType, completion: Completion<Group>) = startCreateGroup(guid, name, type, completion.sink())

    private fun startGroupOp(what: String, guid: String, sink: (Result<Any?>) -> Unit, f: (Pointer, ByteArray, Pointer) -> Int) =
        start(what, sink) { h, ud -> f(h, cstr(guid, "guid"), ud) }

    suspend fun getGroup(guid: String): Group = await { s -> startGroupOp("getGroup", guid, s) { h, g, ud -> Lib.chinwag_client_get_group(h, g, T.groupDone, ud) } }
    fun getGroup(guid: String, completion: Completion<Group>) =
        startGroupOp("getGroup", guid, completion.sink()) { h, g, ud -> Lib.chinwag_client_get_group(h, g, T.groupDone, ud) }

    suspend fun joinGroup(guid: String): Group = await { s -> startGroupOp("joinGroup", guid, s) { h, g, ud -> Lib.chinwag_client_join_group(h, g, T.groupDone, ud) } }
    fun joinGroup(guid: String, completion: Completion<Group>) =
        startGroupOp("joinGroup", guid, completion.sink()) { h, g, ud -> Lib.chinwag_client_join_group(h, g, T.groupDone, ud) }

    suspend fun leaveGroup(guid: String) { await<Any?> { s -> startGroupOp("leaveGroup", guid, s) { h, g, ud -> Lib.chinwag_client_leave_group(h, g, T.done, ud) } } }
    fun leaveGroup(guid: String, completion: Completion<Unit>) =
        startGroupOp("leaveGroup", guid, completion.sink()) { h, g, ud -> Lib.chinwag_client_leave_group(h, g, T.done, ud) }

    suspend fun groupMembers(guid: String): List<GroupMember> =
        await { s -> startGroupOp("groupMembers", guid, s) { h, g, ud -> Lib.chinwag_client_group_members(h, g, T.memberListDone, ud) } }
    fun groupMembers(guid: String, completion: Completion<List<GroupMember>>) =
        startGroupOp("groupMembers", guid, completion.sink()) { h, g, ud -> Lib.chinwag_client_group_members(h, g, T.memberListDone, ud) }

    private fun startListGroups(joined: Boolean, after: String?, limit: Int, sink: (Result<Any?>) -> Unit) =
        start("listGroups", sink) { h, ud -> Lib.chinwag_client_list_groups(h, joined, cstrOrNull(after, "after"), limit, T.groupPageDone, ud) }
    /** The user's groups ([joined]) or the public ones, one page after cursor [after]. */
    suspend fun listGroups(joined: Boolean, after: String? = null, limit: Int = 0): GroupPage = await { startListGroups(joined, after, limit, it) }
    fun listGroups(joined: Boolean, after: String?, limit: Int, completion: Completion<GroupPage>) = startListGroups(joined, after, limit, completion.sink())

    private fun startAddMembers(guid: String, members: Map<String, Scope>, sink: (Result<Any?>) -> Unit) =
        start("addGroupMembers", sink) { h, ud ->
            val uids = members.keys.toList()
            val arr = Memory(maxOf(1, uids.size).toLong() * Native.POINTER_SIZE)
            val strings = uids.map { u -> cstr(u, "uid").let { b -> Memory(b.size.toLong()).also { it.write(0, b, 0, b.size) } } }
            strings.forEachIndexed { i, m -> arr.setPointer(i.toLong() * Native.POINTER_SIZE, m) }
            val scopes = uids.map { members.getValue(it).code }.toIntArray()
            val rc = Lib.chinwag_client_add_group_members(h, cstr(guid, "guid"), arr, scopes, uids.size.toLong(), T.memberListDone, ud)
            java.lang.ref.Reference.reachabilityFence(strings)
            rc
        }
    /** Adds users with their scopes (admins only; atomic); returns the members after the change. */
    suspend fun addGroupMembers(guid: String, members: Map<String, Scope>): List<GroupMember> = await { startAddMembers(guid, members, it) }
    fun addGroupMembers(guid: String, members: Map<String, Scope>, completion: Completion<List<GroupMember>>) = startAddMembers(guid, members, completion.sink())

    private fun startMemberOp(what: String, guid: String, uid: String, sink: (Result<Any?>) -> Unit, f: (Pointer, ByteArray, ByteArray, Pointer) -> Int) =
        start(what, sink) { h, ud -> f(h, cstr(guid, "guid"), cstr(uid, "uid"), ud) }

    suspend fun kickGroupMember(guid: String, uid: String) {
        await<Any?> { s -> startMemberOp("kickGroupMember", guid, uid, s) { h, g, u, ud -> Lib.chinwag_client_kick_group_member(h, g, u, T.done, ud) } }
    }
    fun kickGroupMember(guid: String, uid: String, completion: Completion<Unit>) =
        startMemberOp("kickGroupMember", guid, uid, completion.sink()) { h, g, u, ud -> Lib.chinwag_client_kick_group_member(h, g, u, T.done, ud) }

    suspend fun banGroupMember(guid: String, uid: String) {
        await<Any?> { s -> startMemberOp("banGroupMember", guid, uid, s) { h, g, u, ud -> Lib.chinwag_client_ban_group_member(h, g, u, T.done, ud) } }
    }
    fun banGroupMember(guid: String, uid: String, completion: Completion<Unit>) =
        startMemberOp("banGroupMember", guid, uid, completion.sink()) { h, g, u, ud -> Lib.chinwag_client_ban_group_member(h, g, u, T.done, ud) }

    suspend fun unbanGroupMember(guid: String, uid: String) {
        await<Any?> { s -> startMemberOp("unbanGroupMember", guid, uid, s) { h, g, u, ud -> Lib.chinwag_client_unban_group_member(h, g, u, T.done, ud) } }
    }
    fun unbanGroupMember(guid: String, uid: String, completion: Completion<Unit>) =
        startMemberOp("unbanGroupMember", guid, uid, completion.sink()) { h, g, u, ud -> Lib.chinwag_client_unban_group_member(h, g, u, T.done, ud) }

    suspend fun changeGroupMemberScope(guid: String, uid: String, scope: Scope): GroupMember =
        await { s -> startMemberOp("changeGroupMemberScope", guid, uid, s) { h, g, u, ud -> Lib.chinwag_client_change_group_member_scope(h, g, u, scope.code, T.memberDone, ud) } }
    fun changeGroupMemberScope(guid: String, uid: String, scope: Scope, completion: Completion<GroupMember>) =
        startMemberOp("changeGroupMemberScope", guid, uid, completion.sink()) { h, g, u, ud -> Lib.chinwag_client_change_group_member_scope(h, g, u, scope.code, T.memberDone, ud) }

    // ------------------------------------------------------------------------------------------
    // calls
    // ------------------------------------------------------------------------------------------

    private fun startInitiate(rt: ReceiverType, receiver: String, type: CallType, sink: (Result<Any?>) -> Unit): String {
        val out = LongArray(1)
        start("initiateCall", sink) { h, ud -> Lib.chinwag_client_initiate_call(h, rt.code, cstr(receiver, "receiver"), type.code, T.callDone, ud, out) }
        return out.takeString() ?: ""
    }
    /** Calls a user or a group; returns the call in status `"initiated"`. */
    suspend fun initiateCall(receiverType: ReceiverType, receiver: String, type: CallType): Call = await { startInitiate(receiverType, receiver, type, it) }
    /** Calls a user or a group; returns the session id at once. */
    fun initiateCall(receiverType: ReceiverType, receiver: String, type: CallType, completion: Completion<Call>): String =
        startInitiate(receiverType, receiver, type, completion.sink())

    private fun startCallOp(what: String, sessionId: String, sink: (Result<Any?>) -> Unit, f: (Pointer, ByteArray, Pointer) -> Int) =
        start(what, sink) { h, ud -> f(h, cstr(sessionId, "sessionId"), ud) }

    suspend fun acceptCall(sessionId: String): Call = await { s -> startCallOp("acceptCall", sessionId, s) { h, id, ud -> Lib.chinwag_client_accept_call(h, id, T.callDone, ud) } }
    fun acceptCall(sessionId: String, completion: Completion<Call>) =
        startCallOp("acceptCall", sessionId, completion.sink()) { h, id, ud -> Lib.chinwag_client_accept_call(h, id, T.callDone, ud) }

    suspend fun rejectCall(sessionId: String, busy: Boolean = false): Call =
        await { s -> startCallOp("rejectCall", sessionId, s) { h, id, ud -> Lib.chinwag_client_reject_call(h, id, busy, T.callDone, ud) } }
    fun rejectCall(sessionId: String, busy: Boolean, completion: Completion<Call>) =
        startCallOp("rejectCall", sessionId, completion.sink()) { h, id, ud -> Lib.chinwag_client_reject_call(h, id, busy, T.callDone, ud) }

    suspend fun cancelCall(sessionId: String): Call = await { s -> startCallOp("cancelCall", sessionId, s) { h, id, ud -> Lib.chinwag_client_cancel_call(h, id, T.callDone, ud) } }
    fun cancelCall(sessionId: String, completion: Completion<Call>) =
        startCallOp("cancelCall", sessionId, completion.sink()) { h, id, ud -> Lib.chinwag_client_cancel_call(h, id, T.callDone, ud) }

    suspend fun endCall(sessionId: String): Call = await { s -> startCallOp("endCall", sessionId, s) { h, id, ud -> Lib.chinwag_client_end_call(h, id, T.callDone, ud) } }
    fun endCall(sessionId: String, completion: Completion<Call>) =
        startCallOp("endCall", sessionId, completion.sink()) { h, id, ud -> Lib.chinwag_client_end_call(h, id, T.callDone, ud) }

    /** The call this client is in (started, or accepted), or null. */
    fun activeCall(): Call? {
        val out = LongArray(1)
        ok(core.use { Lib.chinwag_client_active_call(it, out) })
        val p = out.ptr() ?: return null
        try {
            return callOf(Pointer.nativeValue(p))
        } finally {
            Lib.chinwag_call_free(p)
        }
    }

    // ------------------------------------------------------------------------------------------
    // listeners
    // ------------------------------------------------------------------------------------------

    internal enum class Family(val kind: Int) {
        CONNECTION(0), LOGIN(1), MESSAGE(2), USER(3), GROUP(4), CALL(5), LOG(6);

        fun struct(): com.sun.jna.Structure = when (this) {
            CONNECTION -> T.connection
            LOGIN -> T.login
            MESSAGE -> T.message
            USER -> T.user
            GROUP -> T.group
            CALL -> T.call
            LOG -> T.logListener
        }

        companion object {
            fun of(l: Any): List<Family> = buildList {
                if (l is ConnectionListener) add(CONNECTION)
                if (l is LoginListener) add(LOGIN)
                if (l is MessageListener) add(MESSAGE)
                if (l is UserListener) add(USER)
                if (l is GroupListener) add(GROUP)
                if (l is CallListener) add(CALL)
                if (l is LogListener) add(LOG)
            }
        }
    }

    private fun add(family: Family, id: String, target: Any, onRelease: (() -> Unit)? = null) {
        val ud = Registry.register(ListenerSlot(core, id, target, onRelease))
        try {
            val rc = core.use { h ->
                val cid = cstr(id, "listener id")
                when (family) {
                    Family.CONNECTION -> Lib.chinwag_client_add_connection_listener(h, cid, T.connection, ud, T.userDataFree)
                    Family.LOGIN -> Lib.chinwag_client_add_login_listener(h, cid, T.login, ud, T.userDataFree)
                    Family.MESSAGE -> Lib.chinwag_client_add_message_listener(h, cid, T.message, ud, T.userDataFree)
                    Family.USER -> Lib.chinwag_client_add_user_listener(h, cid, T.user, ud, T.userDataFree)
                    Family.GROUP -> Lib.chinwag_client_add_group_listener(h, cid, T.group, ud, T.userDataFree)
                    Family.CALL -> Lib.chinwag_client_add_call_listener(h, cid, T.call, ud, T.userDataFree)
                    Family.LOG -> Lib.chinwag_client_add_log_listener(h, cid, T.logListener, ud, T.userDataFree)
                }
            }
            if (rc != Codes.OK) {
                val e = ChinwagException.of(rc, resultName(rc), lastErrorMessage())
                throw e
            }
        } catch (t: Throwable) {
            Registry.release(ud) // the SDK never runs user_data_free for a failed add
            throw t
        }
    }

    private fun remove(family: Family, id: String) = ok(
        core.use { h ->
            val cid = cstr(id, "listener id")
            when (family) {
                Family.CONNECTION -> Lib.chinwag_client_remove_connection_listener(h, cid)
                Family.LOGIN -> Lib.chinwag_client_remove_login_listener(h, cid)
                Family.MESSAGE -> Lib.chinwag_client_remove_message_listener(h, cid)
                Family.USER -> Lib.chinwag_client_remove_user_listener(h, cid)
                Family.GROUP -> Lib.chinwag_client_remove_group_listener(h, cid)
                Family.CALL -> Lib.chinwag_client_remove_call_listener(h, cid)
                Family.LOG -> Lib.chinwag_client_remove_log_listener(h, cid)
            }
        },
    )

    /**
     * Adds (or replaces) connection listener [id]. Its first event is the current state
     * ([StateReason.LISTENER_ADDED], `previous == current`); every later one is a change.
     */
    fun addConnectionListener(id: String, listener: ConnectionListener) = add(Family.CONNECTION, id, listener)
    fun removeConnectionListener(id: String) = remove(Family.CONNECTION, id)
    fun addLoginListener(id: String, listener: LoginListener) = add(Family.LOGIN, id, listener)
    fun removeLoginListener(id: String) = remove(Family.LOGIN, id)
    fun addMessageListener(id: String, listener: MessageListener) = add(Family.MESSAGE, id, listener)
    fun removeMessageListener(id: String) = remove(Family.MESSAGE, id)
    fun addUserListener(id: String, listener: UserListener) = add(Family.USER, id, listener)
    fun removeUserListener(id: String) = remove(Family.USER, id)
    fun addGroupListener(id: String, listener: GroupListener) = add(Family.GROUP, id, listener)
    fun removeGroupListener(id: String) = remove(Family.GROUP, id)
    fun addCallListener(id: String, listener: CallListener) = add(Family.CALL, id, listener)
    fun removeCallListener(id: String) = remove(Family.CALL, id)
    fun addLogListener(id: String, listener: LogListener) = add(Family.LOG, id, listener)
    fun removeLogListener(id: String) = remove(Family.LOG, id)

    /** Adds [listener] as listener [id] of every family it implements. */
    fun addListener(id: String, listener: ChinwagListener) {
        val families = Family.of(listener)
        require(families.isNotEmpty()) { "listener '$id' implements no listener interface" }
        val added = ArrayList<Family>()
        try {
            for (f in families) {
                add(f, id, listener)
                added += f
            }
        } catch (t: Throwable) {
            added.forEach { runCatching { remove(it, id) } }
            throw t
        }
        generic[id] = families
    }

    /** Removes what [addListener] added under [id]. */
    fun removeListener(id: String) {
        val families = generic.remove(id)
            ?: throw ChinwagException.of(Codes.NOT_FOUND, "NOT_FOUND", "no listener '$id' added with addListener")
        var first: Throwable? = null
        for (f in families) {
            try {
                remove(f, id)
            } catch (t: Throwable) {
                if (first == null) first = t
            }
        }
        first?.let { throw it }
    }

    // ------------------------------------------------------------------------------------------
    // flows
    // ------------------------------------------------------------------------------------------

    // The listener is added as soon as collection starts (the producer runs unconfined, so a
    // collector started with CoroutineStart.UNDISPATCHED has it registered before it suspends),
    // and removed when the collector stops. Events are buffered without bound, so the
    // dispatcher thread never waits for a slow collector.
    private fun <E> listenerFlow(family: Family, make: ((E) -> Unit) -> Any): Flow<E> = callbackFlow {
        val id = "io.chinwag.flow-${flowIds.incrementAndGet()}"
        add(family, id, make { trySend(it) })
        awaitClose {
            if (!core.isClosed) runCatching { remove(family, id) }
        }
    }.buffer(Channel.UNLIMITED).flowOn(Dispatchers.Unconfined)

    /**
     * The current state, then every state change, one for one (unlike [connectionState], never
     * conflated). The first element is the state at collection start ([StateReason.LISTENER_ADDED],
     * `previous == current`).
     */
    fun stateChanges(): Flow<StateChange> = listenerFlow(Family.CONNECTION) { emit ->
        object : ConnectionListener {
            override fun onStateChanged(change: StateChange) = emit(change)
        }
    }

    /** Every message event; the listener is removed when the collector stops. */
    fun messageEvents(): Flow<MessageEvent> = listenerFlow(Family.MESSAGE) { emit ->
        object : MessageListener {
            override fun onTextMessageReceived(message: Message) = emit(MessageEvent.Received(message))
            override fun onMediaMessageReceived(message: Message) = emit(MessageEvent.Received(message))
            override fun onCustomMessageReceived(message: Message) = emit(MessageEvent.Received(message))
            override fun onMessageEdited(message: Message) = emit(MessageEvent.Edited(message))
            override fun onMessageDeleted(message: Message) = emit(MessageEvent.Deleted(message))
            override fun onTypingStarted(typing: Typing) = emit(MessageEvent.TypingStarted(typing))
            override fun onTypingEnded(typing: Typing) = emit(MessageEvent.TypingEnded(typing))
            override fun onMessagesDelivered(receipt: Receipt) = emit(MessageEvent.ReceiptReceived(receipt))
            override fun onMessagesRead(receipt: Receipt) = emit(MessageEvent.ReceiptReceived(receipt))
            override fun onTransientMessageReceived(transient: Transient) = emit(MessageEvent.TransientReceived(transient))
            override fun onGap(gap: Gap) = emit(MessageEvent.GapNotice(gap))
        }
    }

    /** Received messages (text, media, custom). */
    fun messages(): Flow<Message> = listenerFlow(Family.MESSAGE) { emit ->
        object : MessageListener {
            override fun onTextMessageReceived(message: Message) = emit(message)
            override fun onMediaMessageReceived(message: Message) = emit(message)
            override fun onCustomMessageReceived(message: Message) = emit(message)
        }
    }

    /** Presence changes of the subscribed users. */
    fun presence(): Flow<PresenceChange> = listenerFlow(Family.USER) { emit ->
        object : UserListener {
            override fun onUserOnline(presence: PresenceChange) = emit(presence)
            override fun onUserOffline(presence: PresenceChange) = emit(presence)
        }
    }

    /** Membership changes of the user's groups. */
    fun groupEvents(): Flow<GroupMemberEvent> = listenerFlow(Family.GROUP) { emit ->
        object : GroupListener {
            override fun onMemberJoined(event: GroupMemberEvent) = emit(event)
            override fun onMemberLeft(event: GroupMemberEvent) = emit(event)
            override fun onMemberKicked(event: GroupMemberEvent) = emit(event)
            override fun onMemberBanned(event: GroupMemberEvent) = emit(event)
            override fun onMemberUnbanned(event: GroupMemberEvent) = emit(event)
            override fun onMemberScopeChanged(event: GroupMemberEvent) = emit(event)
            override fun onMemberAdded(event: GroupMemberEvent) = emit(event)
        }
    }

    /** Call signalling events. */
    fun callEvents(): Flow<CallEvent> = listenerFlow(Family.CALL) { emit ->
        object : CallListener {
            override fun onIncomingCallReceived(call: Call) = emit(CallEvent(CallEvent.Kind.INCOMING_RECEIVED, call))
            override fun onOutgoingCallAccepted(call: Call) = emit(CallEvent(CallEvent.Kind.OUTGOING_ACCEPTED, call))
            override fun onOutgoingCallRejected(call: Call) = emit(CallEvent(CallEvent.Kind.OUTGOING_REJECTED, call))
            override fun onIncomingCallCancelled(call: Call) = emit(CallEvent(CallEvent.Kind.INCOMING_CANCELLED, call))
            override fun onCallEnded(call: Call) = emit(CallEvent(CallEvent.Kind.ENDED, call))
        }
    }

    /** Login outcomes and session expiry. */
    fun loginEvents(): Flow<LoginEvent> = listenerFlow(Family.LOGIN) { emit ->
        object : LoginListener {
            override fun onLoginSuccess(user: User) = emit(LoginEvent.LoggedIn(user))
            override fun onLoginFailure(error: ChinwagException) = emit(LoginEvent.LoginFailed(error))
            override fun onLogoutSuccess() = emit(LoginEvent.LoggedOut(null))
            override fun onLogoutFailure(error: ChinwagException) = emit(LoginEvent.LoggedOut(error))
            override fun onSessionExpired(error: ChinwagException) = emit(LoginEvent.SessionExpired(error))
        }
    }

    // ------------------------------------------------------------------------------------------
    // app-driven dispatch (DispatchMode.APP)
    // ------------------------------------------------------------------------------------------

    /** A descriptor readable while events wait for [dispatch]; watch it, never read or close it. */
    fun dispatchFd(): Int {
        val out = IntArray(1)
        ok(core.use { Lib.chinwag_client_dispatch_fd(it, out) })
        return out[0]
    }

    /** Runs waiting events and completions on this thread (at most [maxItems]; 0: all waiting); returns how many ran. */
    @JvmOverloads
    fun dispatch(maxItems: Long = 0): Long {
        val out = LongArray(1)
        ok(Lib.chinwag_client_dispatch(core.raw(), maxItems, out))
        return out[0]
    }

    // ------------------------------------------------------------------------------------------
    // plumbing
    // ------------------------------------------------------------------------------------------

    /** Registers a completion, starts the C call, and releases the entry if the call refuses. */
    private fun start(what: String, sink: (Result<Any?>) -> Unit, call: (Pointer, Pointer) -> Int) {
        val ud = Registry.register(Pending(core, what, sink))
        try {
            val rc = core.use { h -> call(h, ud) }
            if (rc != Codes.OK) throw ChinwagException.of(rc, resultName(rc), lastErrorMessage())
        } catch (t: Throwable) {
            Registry.release(ud) // the SDK never runs the completion of a refused call
            throw t
        }
    }

    private suspend fun <R> await(start: ((Result<Any?>) -> Unit) -> Unit): R = suspendCancellableCoroutine { cont ->
        // The SDK has no per-operation cancel: a cancelled caller stops waiting, and the
        // operation's completion (which still runs exactly once) is dropped.
        @Suppress("UNCHECKED_CAST")
        start { r -> cont.resumeWith(r as Result<R>) }
    }

    private fun <V> Completion<V>.sink(): (Result<Any?>) -> Unit = { r ->
        @Suppress("UNCHECKED_CAST")
        r.fold(
            { onSuccess((it ?: Unit) as V) },
            { onError(it as? ChinwagException ?: ChinwagException.of(Codes.INTERNAL, "INTERNAL", it.toString())) },
        )
    }

    /** Whether the calling thread is inside a callback of this client. */
    fun isInCallback(): Boolean = CallbackScope.inCallbackOf(core)
}

/** A message event of [ChinwagClient.messageEvents]. */
sealed class MessageEvent {
    data class Received(val message: Message) : MessageEvent()
    data class Edited(val message: Message) : MessageEvent()
    data class Deleted(val message: Message) : MessageEvent()
    data class TypingStarted(val typing: Typing) : MessageEvent()
    data class TypingEnded(val typing: Typing) : MessageEvent()
    data class ReceiptReceived(val receipt: Receipt) : MessageEvent()
    data class TransientReceived(val transient: Transient) : MessageEvent()
    data class GapNotice(val gap: Gap) : MessageEvent()
}

/** A call event of [ChinwagClient.callEvents]. */
data class CallEvent(val kind: Kind, val call: Call) {
    enum class Kind { INCOMING_RECEIVED, OUTGOING_ACCEPTED, OUTGOING_REJECTED, INCOMING_CANCELLED, ENDED }
}

/** A login event of [ChinwagClient.loginEvents]. */
sealed class LoginEvent {
    data class LoggedIn(val user: User) : LoginEvent()
    data class LoginFailed(val error: ChinwagException) : LoginEvent()
    /** [error] is null on success; else the server could not be told (the session is purged anyway). */
    data class LoggedOut(val error: ChinwagException?) : LoginEvent()
    data class SessionExpired(val error: ChinwagException) : LoginEvent()
}
