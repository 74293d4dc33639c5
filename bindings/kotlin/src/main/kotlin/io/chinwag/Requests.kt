package io.chinwag

import com.sun.jna.Pointer
import io.chinwag.internal.Lib
import io.chinwag.internal.T
import java.lang.ref.Cleaner
import java.util.concurrent.atomic.AtomicBoolean

private val requestCleaner: Cleaner = Cleaner.create()

/** Frees a request handle once (close() or the Cleaner). */
private class RequestHandle(val handle: Pointer, val free: (Pointer) -> Unit) : Runnable {
    private val freed = AtomicBoolean(false)
    val isFreed get() = freed.get()
    override fun run() {
        if (freed.compareAndSet(false, true)) free(handle)
    }
}

/** A conversation's history, paged backwards ([previous]) or forwards ([next]). Close it when done. */
class MessagesRequest internal constructor(private val client: ChinwagClient, handle: Pointer) : AutoCloseable {
    private val h = RequestHandle(handle) { Lib.chinwag_messages_request_free(it) }
    private val cleanable = requestCleaner.register(this, h)

    private fun fetch(previous: Boolean, sink: (Result<Any?>) -> Unit) {
        if (h.isFreed) throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "the request was closed")
        client.startFetch(if (previous) "fetchPrevious" else "fetchNext", sink) { c, ud ->
            if (previous) Lib.chinwag_client_fetch_previous(c, h.handle, T.messagePageDone, ud)
            else Lib.chinwag_client_fetch_next(c, h.handle, T.messagePageDone, ud)
        }
    }

    /** The newest page first, then further back on each call; oldest first within a page. */
    suspend fun previous(): MessagePage = awaitPage { fetch(true, it) }
    fun previous(completion: Completion<MessagePage>) = fetch(true, completion.asSink())

    /** The page of newer messages after the newest fetched so far. */
    suspend fun next(): MessagePage = awaitPage { fetch(false, it) }
    fun next(completion: Completion<MessagePage>) = fetch(false, completion.asSink())

    override fun close() = cleanable.clean()
}

/** The app's users, page by page (ordered by uid). Close it when done. */
class UsersRequest internal constructor(private val client: ChinwagClient, handle: Pointer) : AutoCloseable {
    private val h = RequestHandle(handle) { Lib.chinwag_users_request_free(it) }
    private val cleanable = requestCleaner.register(this, h)

    private fun fetch(sink: (Result<Any?>) -> Unit) {
        if (h.isFreed) throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "the request was closed")
        client.startFetch("fetchUsers", sink) { c, ud -> Lib.chinwag_client_fetch_users(c, h.handle, T.userPageDone, ud) }
    }

    /** The next page; once exhausted, empty pages with `hasMore` false. */
    suspend fun next(): UserPage = awaitPage { fetch(it) }
    fun next(completion: Completion<UserPage>) = fetch(completion.asSink())

    override fun close() = cleanable.clean()
}

/** The user's conversations, newest last message first, page by page. Close it when done. */
class ConversationsRequest internal constructor(private val client: ChinwagClient, handle: Pointer) : AutoCloseable {
    private val h = RequestHandle(handle) { Lib.chinwag_conversations_request_free(it) }
    private val cleanable = requestCleaner.register(this, h)

    private fun fetch(sink: (Result<Any?>) -> Unit) {
        if (h.isFreed) throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "the request was closed")
        client.startFetch("fetchConversations", sink) { c, ud ->
            Lib.chinwag_client_fetch_conversations(c, h.handle, T.conversationPageDone, ud)
        }
    }

    /** The next page; once exhausted, empty pages with `hasMore` false. */
    suspend fun next(): ConversationPage = awaitPage { fetch(it) }
    fun next(completion: Completion<ConversationPage>) = fetch(completion.asSink())

    override fun close() = cleanable.clean()
}

private suspend fun <R> awaitPage(start: ((Result<Any?>) -> Unit) -> Unit): R =
    kotlinx.coroutines.suspendCancellableCoroutine { cont ->
        @Suppress("UNCHECKED_CAST")
        start { r -> cont.resumeWith(r as Result<R>) }
    }

private fun <V> Completion<V>.asSink(): (Result<Any?>) -> Unit = { r ->
    @Suppress("UNCHECKED_CAST")
    r.fold(
        { onSuccess(it as V) },
        { onError(it as? ChinwagException ?: ChinwagException.of(Codes.INTERNAL, "INTERNAL", it.toString())) },
    )
}
