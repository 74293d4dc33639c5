package io.chinwag

import com.sun.jna.Library
import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Pointer
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord as JulRecord
import java.util.logging.Logger

/** Errors, listeners that throw or remove themselves, close() with work pending, cancellation, app dispatch, scale. */
class LifetimeTest {
    private fun waitUntil(what: String, cond: () -> Boolean) {
        val deadline = System.currentTimeMillis() + TIMEOUT_MS
        while (!cond()) {
            if (System.currentTimeMillis() > deadline) throw AssertionError("timed out waiting for $what")
            Thread.onSpinWait()
            Thread.yield()
        }
    }

    /** Counts the calls of each completion; each must run exactly once. */
    private class Tally {
        val results: MutableList<Pair<String, Any?>> = Collections.synchronizedList(ArrayList())
        val done = AtomicInteger()
        fun <T> completion(name: String) = object : Completion<T> {
            override fun onSuccess(value: T) {
                results += name to value
                done.incrementAndGet()
            }
            override fun onError(error: ChinwagException) {
                results += name to error
                done.incrementAndGet()
            }
        }
    }

    @Test
    fun `errors are mapped to a code, a name, a message and a family`() = runBlocking<Unit> {
        Clients().use { clients ->
            val uid = TestServer.uid("errors")
            val client = clients.make { it.copy(autoConnect = false) }
            val empty = assertThrows(ArgumentException::class.java) { runBlocking { client.login("", AUTH_KEY) } }
            assertEquals(Codes.INVALID_ARGUMENT, empty.code)
            assertEquals("INVALID_ARGUMENT", empty.name)
            assertTrue(empty.detail.isNotEmpty())
            val nul = assertThrows(ArgumentException::class.java) { runBlocking { client.login("a\u0000b", AUTH_KEY) } }
            assertTrue(nul.detail.contains("NUL"), nul.message)
            val surrogate = assertThrows(ArgumentException::class.java) { runBlocking { client.login("a\uD800", AUTH_KEY) } }
            assertEquals(Codes.INVALID_UTF8, surrogate.code)
            val notLoggedIn = assertThrows(StateException::class.java) { runBlocking { client.sendText(ReceiverType.USER, "bob", "hi") } }
            assertEquals("NOT_LOGGED_IN", notLoggedIn.name)

            val wrongKey = assertThrows(ServerException::class.java) { runBlocking { client.login(uid, "wrong key") } }
            assertEquals(Codes.AUTH_FAILED, wrongKey.code)
            client.login(uid, AUTH_KEY)
            val notConnected = assertThrows(StateException::class.java) { client.startTyping(ReceiverType.USER, uid) }
            assertEquals(Codes.NOT_CONNECTED, notConnected.code)
            val tooLong = assertThrows(ArgumentException::class.java) {
                runBlocking { client.sendText(ReceiverType.USER, uid, "x".repeat(64 * 1024 + 1)) }
            }
            assertEquals("TEXT_TOO_LONG", tooLong.name)
            val missing = assertThrows(ServerException::class.java) { runBlocking { client.getUser("nobody-${System.nanoTime()}") } }
            assertEquals(Codes.NOT_FOUND, missing.code)
            val noListener = assertThrows(ServerException::class.java) { client.removeMessageListener("never-added") }
            assertEquals(Codes.NOT_FOUND, noListener.code)

            val badUrl = assertThrows(ArgumentException::class.java) { ChinwagClient.init(APP_ID, ClientSettings("ftp://nowhere")) }
            assertEquals(Codes.INVALID_ARGUMENT, badUrl.code)
            val badTiming = assertThrows(ArgumentException::class.java) {
                ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, timings = ClientSettings.Timings(connectTimeoutMs = Int.MAX_VALUE)))
            }
            assertTrue(badTiming.detail.contains("connect_timeout"), badTiming.detail)

            client.close()
            client.close() // idempotent
            val freed = assertThrows(StateException::class.java) { client.connectionStatus() }
            assertEquals(Codes.CLIENT_FREED, freed.code)
        }
    }

    @Test
    fun `a listener that throws is logged and delivery continues`() = runBlocking<Unit> {
        val logged = Collections.synchronizedList(ArrayList<JulRecord>())
        val handler = object : Handler() {
            override fun publish(record: JulRecord) {
                logged += record
            }
            override fun flush() {}
            override fun close() {}
        }
        val logger = Logger.getLogger("io.chinwag")
        logger.addHandler(handler)
        val useParent = logger.useParentHandlers
        logger.useParentHandlers = false
        try {
            Clients().use { clients ->
                val a = TestServer.uid("alice")
                val b = TestServer.uid("bob")
                val (ca, _) = clients.connected(a)
                val (cb, rb) = clients.connected(b)
                val calls = AtomicInteger()
                cb.addMessageListener("thrower", object : MessageListener {
                    override fun onTextMessageReceived(message: Message) {
                        calls.incrementAndGet()
                        throw IllegalStateException("app bug ${message.text}")
                    }
                })
                val sent = (1..3).map { ca.sendText(ReceiverType.USER, b, "m$it") }
                rb.waitFor<Message>("text") { it.id == sent.last().id }
                waitUntil("three calls") { calls.get() == 3 }
                assertEquals(listOf("m1", "m2", "m3"), rb.of<Message>("text").map { it.text })
                waitUntil("three log records") { logged.size >= 3 }
                val r = logged.first()
                assertEquals(Level.WARNING, r.level)
                assertTrue(r.message.contains("thrower") && r.message.contains("onTextMessageReceived"), r.message)
                assertTrue(r.thrown is IllegalStateException)
                // A completion that throws is logged too; the client goes on.
                val latch = CountDownLatch(1)
                ca.getUser(b, object : Completion<User> {
                    override fun onSuccess(value: User) {
                        latch.countDown()
                        throw IllegalStateException("completion bug")
                    }
                    override fun onError(error: ChinwagException) {}
                })
                assertTrue(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS))
                waitUntil("the completion's log record") { logged.any { it.thrown?.message == "completion bug" } }
                assertEquals(b, ca.getUser(b).uid)
            }
        } finally {
            logger.removeHandler(handler)
            logger.useParentHandlers = useParent
        }
    }

    @Test
    fun `a listener removed during dispatch gets nothing more and is released`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (ca, _) = clients.connected(a)
            val (cb, rb) = clients.connected(b)
            val baseline = cb.retainedObjects()
            val selfCalls = AtomicInteger()
            val otherCalls = AtomicInteger()
            val released = CountDownLatch(1)
            cb.addMessageListener("other", object : MessageListener {
                override fun onTextMessageReceived(message: Message) {
                    otherCalls.incrementAndGet()
                }
            })
            cb.addMessageListener("self", object : MessageListener {
                override fun onTextMessageReceived(message: Message) {
                    selfCalls.incrementAndGet()
                    assertTrue(cb.isInCallback())
                    cb.removeMessageListener("self") // its own removal, from inside
                    cb.removeMessageListener("other") // and another's
                    released.countDown()
                }
            })
            assertEquals(baseline + 2, cb.retainedObjects())
            val sent = (1..3).map { ca.sendText(ReceiverType.USER, b, "m$it") }
            rb.waitFor<Message>("text") { it.id == sent.last().id }
            assertTrue(released.await(TIMEOUT_MS, TimeUnit.MILLISECONDS))
            assertEquals(1, selfCalls.get())
            assertTrue(otherCalls.get() <= 1, "removed from inside a callback: no later events")
            waitUntil("both released") { cb.retainedObjects() == baseline }
            // Removed outside a callback: released when removal returns.
            cb.addMessageListener("outside", object : MessageListener {})
            assertEquals(baseline + 1, cb.retainedObjects())
            cb.removeMessageListener("outside")
            assertEquals(baseline, cb.retainedObjects())
            assertFalse(cb.isInCallback())
        }
    }

    @Test
    fun `close with completions pending completes each exactly once with CANCELLED`() = runBlocking<Unit> {
        TestServer(TestServer.tempDir("paused")).start().use { server ->
            val a = TestServer.uid("alice", server)
            val b = TestServer.uid("bob", server)
            val rec = Recorder()
            val client = ChinwagClient.init(APP_ID, ClientSettings(server.url, listeners = mapOf("rec" to rec)))
            client.login(a, AUTH_KEY)
            rec.waitState(ConnectionState.CONNECTED)
            val baseline = client.retainedObjects()
            server.pause() // the server answers nothing from now on
            val tally = Tally()
            client.getUser(b, tally.completion("getUser"))
            client.sendText(ReceiverType.USER, b, "never acknowledged", tally.completion("sendText"))
            client.createGroup("g-$a", "G", GroupType.PUBLIC, tally.completion("createGroup"))
            client.friends(tally.completion("friends"))
            val request = client.messagesRequest(ReceiverType.USER, b)
            request.previous(tally.completion("fetchPrevious"))
            val suspended = async(Dispatchers.Default) { runCatching { client.getUser(b) } }
            // Each operation is either still pending (one retained entry) or already completed (a
            // network error may end one early on a slow machine); all six must be accounted for.
            val accounted = {
                client.retainedObjects() - baseline + tally.done.get() + (if (suspended.isCompleted) 1 else 0)
            }
            try {
                waitUntil("six operations issued") { accounted() == 6 }
            } catch (e: AssertionError) {
                throw AssertionError(
                    "${e.message}: retained ${client.retainedObjects()} (baseline $baseline), " +
                        "completed ${tally.results}, suspended done ${suspended.isCompleted}",
                )
            }
            val early = tally.results.toList()
            val suspendedEarly = suspended.isCompleted
            client.close()
            assertEquals(5, tally.done.get(), "every completion ran before close returned: ${tally.results}")
            assertEquals(
                setOf("getUser", "sendText", "createGroup", "friends", "fetchPrevious"),
                tally.results.map { it.first }.toSet(),
            )
            for ((name, r) in tally.results.drop(early.size)) {
                assertTrue(r is CancelledException && r.code == Codes.CANCELLED, "$name: $r (ended before close: $early)")
            }
            val e = withTimeout(TIMEOUT_MS) { suspended.await() }.exceptionOrNull()
            assertTrue(suspendedEarly || e is CancelledException, "suspended caller: $e")
            assertTrue(early.size + (if (suspendedEarly) 1 else 0) <= 1, "at most one ended early: $early, $e")
            assertEquals(0, client.retainedObjects(), "the listeners were released too")
            request.close()
            server.resume()
            // Nothing ran twice.
            assertEquals(5, tally.done.get())
        }
    }

    @Test
    fun `cancelling the coroutine of a pending login stops waiting at once`() = runBlocking<Unit> {
        TestServer(TestServer.tempDir("slow")).start().use { server ->
            val uid = TestServer.uid("cancel", server)
            val rec = Recorder()
            ChinwagClient.init(APP_ID, ClientSettings(server.url, autoConnect = false, listeners = mapOf("rec" to rec))).use { client ->
                val baseline = client.retainedObjects()
                server.pause()
                val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { client.login(uid, AUTH_KEY) }
                waitUntil("login pending") { client.retainedObjects() == baseline + 1 }
                val outcome = async(Dispatchers.Default) { runCatching { job.join() } }
                job.cancel()
                withTimeout(TIMEOUT_MS) { outcome.await() }
                assertTrue(job.isCancelled)
                // Another login now is refused: the first still runs in the SDK (no per-call cancel in the C ABI).
                val again = assertThrows(StateException::class.java) { runBlocking { client.login(uid, AUTH_KEY) } }
                assertEquals(Codes.LOGIN_IN_PROGRESS, again.code)
                server.resume()
                // Its completion still runs once, is dropped, and its entry is released.
                rec.waitFor<User>("loginSuccess")
                waitUntil("the login's entry released") { client.retainedObjects() == baseline }
            }
        }
    }

    @Test
    fun `close from inside a callback is deferred, and nothing runs afterwards`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (ca, _) = clients.connected(a)
            val (cb, _) = clients.connected(b)
            val calls = AtomicInteger()
            val closed = CountDownLatch(1)
            cb.addMessageListener("closer", object : MessageListener {
                override fun onTextMessageReceived(message: Message) {
                    calls.incrementAndGet()
                    cb.close()
                    closed.countDown()
                }
            })
            ca.sendText(ReceiverType.USER, b, "close now")
            assertTrue(closed.await(TIMEOUT_MS, TimeUnit.MILLISECONDS))
            assertTrue(cb.isClosed)
            ca.sendText(ReceiverType.USER, b, "too late")
            assertEquals(1, calls.get())
            assertThrows(StateException::class.java) { cb.connect() }
        }
    }

    /** libc's poll(2), to wait on the dispatch descriptor the way an event loop would. */
    interface LibC : Library {
        fun poll(fds: Pointer, nfds: Long, timeout: Int): Int
    }

    @Test
    fun `app-driven dispatch runs callbacks on the app's thread when the descriptor is readable`() = runBlocking<Unit> {
        val libc = Native.load("c", LibC::class.java)
        val uid = TestServer.uid("app")
        val rec = Recorder()
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, dispatchMode = DispatchMode.APP, listeners = mapOf("rec" to rec))).use { client ->
            val fd = client.dispatchFd()
            assertTrue(fd >= 0)
            val pollfd = Memory(8)
            fun waitReadable(): Boolean {
                pollfd.setInt(0, fd)
                pollfd.setShort(4, 1) // POLLIN
                pollfd.setShort(6, 0)
                return libc.poll(pollfd, 1, TIMEOUT_MS.toInt()) == 1
            }
            val user = arrayOfNulls<User>(1)
            val thread = arrayOfNulls<Thread>(1)
            client.login(uid, AUTH_KEY, object : Completion<User> {
                override fun onSuccess(value: User) {
                    user[0] = value
                    thread[0] = Thread.currentThread()
                }
                override fun onError(error: ChinwagException) = throw error
            })
            // Nothing runs until the app dispatches.
            while (user[0] == null || rec.of<StateChange>("connected").isEmpty()) {
                assertTrue(waitReadable(), "the descriptor became readable")
                assertTrue(client.dispatch() > 0)
            }
            assertEquals(uid, user[0]?.uid)
            assertEquals(Thread.currentThread(), thread[0])
            assertEquals(setOf(Thread.currentThread().name), rec.threads)
            assertEquals(ConnectionState.CONNECTED, client.connectionState.value)
            assertNotNull(client.loggedInUser())
        }
        // A client with its own dispatcher thread has no descriptor.
        Clients().use { clients ->
            val e = assertThrows(ArgumentException::class.java) { clients.make().dispatchFd() }
            assertEquals(Codes.INVALID_ARGUMENT, e.code)
        }
    }

    @Test
    fun `100 clients in one JVM exchange messages`() = runBlocking<Unit> {
        val n = 100
        Clients().use { clients ->
            val uids = (0 until n).map { TestServer.uid("many") }
            val received = Array(n) { Collections.synchronizedList(ArrayList<Message>()) }
            val all = CountDownLatch(n)
            val cs = uids.mapIndexed { i, _ ->
                clients.make { s ->
                    s.copy(listeners = mapOf("rx" to object : MessageListener {
                        override fun onTextMessageReceived(message: Message) {
                            received[i].add(message)
                            all.countDown()
                        }
                    }))
                }
            }
            // Log in together; wait for every client to be CONNECTED.
            cs.mapIndexed { i, c -> async(Dispatchers.Default) { c.login(uids[i], AUTH_KEY) } }.awaitAll()
            withTimeout(30_000) {
                for (c in cs) c.connectionState.first { it == ConnectionState.CONNECTED }
            }
            // A ring: each sends one message to the next.
            cs.mapIndexed { i, c ->
                async(Dispatchers.Default) { c.sendText(ReceiverType.USER, uids[(i + 1) % n], "from ${uids[i]}") }
            }.awaitAll()
            assertTrue(all.await(30, TimeUnit.SECONDS), "every client received its message")
            for (i in 0 until n) {
                assertEquals(listOf("from ${uids[(i - 1 + n) % n]}"), received[i].map { it.text })
            }
        }
    }
}
