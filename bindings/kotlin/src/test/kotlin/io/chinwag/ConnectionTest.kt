package io.chinwag

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.Collections

/** Auto and manual modes, the saved session, reconnection, StateFlow against the C events. */
class ConnectionTest {
    @Test
    fun `auto mode - login connects and the StateFlow follows the C state events one for one`() = runBlocking<Unit> {
        Clients().use { clients ->
            val uid = TestServer.uid("auto")
            val rec = Recorder()
            val client = clients.make { it.copy(listeners = mapOf("rec" to rec)) }
            assertEquals(ConnectionState.DISCONNECTED, client.connectionState.value)
            // An unconfined collector sees every value the StateFlow takes.
            val seen = Collections.synchronizedList(ArrayList<ConnectionState>())
            val job = launch(Dispatchers.Unconfined, start = CoroutineStart.UNDISPATCHED) {
                client.connectionState.collect { seen += it }
            }
            val user = client.login(uid, AUTH_KEY)
            assertEquals(uid, user.uid)
            withTimeout(TIMEOUT_MS) { client.connectionState.first { it == ConnectionState.CONNECTED } }
            assertEquals(ConnectionState.CONNECTED, client.connectionStatus())
            client.disconnect()
            withTimeout(TIMEOUT_MS) { client.connectionState.first { it == ConnectionState.DISCONNECTED } }
            rec.waitState(ConnectionState.DISCONNECTED)
            job.cancelAndJoin()
            assertEquals(listOf(ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.DISCONNECTED), rec.states())
            assertEquals(listOf(ConnectionState.DISCONNECTED) + rec.states(), seen.toList())
            // Specific callbacks after the generic one; the login listener heard the login.
            assertEquals(1, rec.of<StateChange>("connecting").size)
            assertEquals(1, rec.of<StateChange>("connected").size)
            assertEquals(StateReason.ACCEPTED, rec.of<StateChange>("connected")[0].reason)
            assertEquals(uid, rec.waitFor<User>("loginSuccess").uid)
            assertEquals(uid, client.loggedInUser()?.uid)
            assertTrue(rec.threads.none { it == Thread.currentThread().name }, "callbacks ran on the SDK's thread")
        }
    }

    @Test
    fun `manual mode - nothing connects until connect, and disconnect stops it`() = runBlocking<Unit> {
        Clients().use { clients ->
            val uid = TestServer.uid("manual")
            val rec = Recorder()
            val client = clients.make { it.copy(autoConnect = false, listeners = mapOf("rec" to rec)) }
            val e = runCatching { client.connect() }.exceptionOrNull()
            assertTrue(e is StateException && e.code == Codes.NOT_LOGGED_IN, "connect before login: $e")
            client.login(uid, AUTH_KEY)
            assertEquals(ConnectionState.DISCONNECTED, client.connectionStatus())
            assertTrue(rec.states().isEmpty())
            client.connect()
            rec.waitState(ConnectionState.CONNECTED)
            client.connect() // no-op while CONNECTED
            client.disconnect()
            rec.waitState(ConnectionState.DISCONNECTED)
            assertEquals(listOf(ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.DISCONNECTED), rec.states())
            assertEquals(StateReason.DISCONNECT_REQUESTED, rec.of<StateChange>("stateChanged").last().reason)
        }
    }

    @Test
    fun `a restarted app restores the saved session and reconnects by itself`() = runBlocking<Unit> {
        val dir = TestServer.tempDir("session")
        val uid = TestServer.uid("restore")
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, dataDir = dir)).use { first ->
            first.login(uid, AUTH_KEY)
            withTimeout(TIMEOUT_MS) { first.connectionState.first { it == ConnectionState.CONNECTED } }
        }
        // "Restart": a new client on the same directory hears its first CONNECTING on.
        val rec = Recorder()
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, dataDir = dir, listeners = mapOf("rec" to rec))).use { second ->
            assertEquals(uid, second.loggedInUser()?.uid)
            rec.waitState(ConnectionState.CONNECTED)
            assertEquals(ConnectionState.CONNECTING, rec.states().first())
            assertEquals(StateReason.CONNECT_REQUESTED, rec.of<StateChange>("stateChanged").first().reason)
            // Logout purges it: the next start is logged out.
            second.logout()
            assertNull(second.loggedInUser())
        }
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, dataDir = dir)).use { third ->
            assertNull(third.loggedInUser())
            assertEquals(ConnectionState.DISCONNECTED, third.connectionStatus())
        }
    }

    @Test
    fun `an app's own session store keeps the session`() = runBlocking<Unit> {
        val saved = arrayOfNulls<String>(1)
        val durables = Collections.synchronizedList(ArrayList<Boolean>())
        val store = object : SessionStore {
            override fun load(): String? = saved[0]
            override fun save(sessionJson: String, durable: Boolean) {
                saved[0] = sessionJson
                durables.add(durable)
            }
            override fun clear() {
                saved[0] = null
            }
        }
        val uid = TestServer.uid("store")
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, autoConnect = false, sessionStore = store)).use { c ->
            c.login(uid, AUTH_KEY)
        }
        assertNotNull(saved[0])
        assertTrue(saved[0]!!.contains(uid))
        assertTrue(durables.first(), "login saves durably")
        ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, autoConnect = false, sessionStore = store)).use { c ->
            assertEquals(uid, c.loggedInUser()?.uid)
            c.logout()
        }
        assertNull(saved[0])
    }

    @Test
    fun `reconnects after a server restart`() = runBlocking<Unit> {
        TestServer(TestServer.tempDir("own")).start().use { server ->
            Clients().use { clients ->
                val uid = TestServer.uid("restart", server)
                val (client, rec) = clients.connected(uid, server) {
                    it.copy(timings = ClientSettings.Timings(firstRetryMaxMs = 200, backoffBaseMs = 100, backoffCapMs = 500))
                }
                val before = rec.states().size
                server.restart()
                rec.waitState(ConnectionState.RECONNECTING, after = before)
                val back = rec.waitState(ConnectionState.CONNECTED, after = before)
                assertEquals(ConnectionState.CONNECTED, client.connectionState.value)
                assertTrue(back.previous == ConnectionState.CONNECTING)
                // Messages flow on the new socket.
                val peer = TestServer.uid("peer", server)
                val (other, _) = clients.connected(peer, server)
                other.sendText(ReceiverType.USER, uid, "after restart")
                assertEquals("after restart", rec.waitFor<Message>("text").text)
            }
        }
    }

    @Test
    fun `stateChanges is a Flow of the current state, then every change, and removes its listener when collection stops`() = runBlocking<Unit> {
        Clients().use { clients ->
            val uid = TestServer.uid("flow")
            val client = clients.make { it.copy(autoConnect = false) }
            client.login(uid, AUTH_KEY)
            val before = client.retainedObjects()
            val changes = async {
                client.stateChanges().take(3).toList()
            }
            // The flow's listener is registered once the collector started.
            withTimeout(TIMEOUT_MS) { while (client.retainedObjects() == before) kotlinx.coroutines.yield() }
            client.connect()
            val got = withTimeout(TIMEOUT_MS) { changes.await() }
            assertEquals(listOf(ConnectionState.DISCONNECTED, ConnectionState.CONNECTING, ConnectionState.CONNECTED), got.map { it.current })
            assertEquals(ConnectionState.DISCONNECTED, got[0].previous)
            assertEquals(StateReason.LISTENER_ADDED, got[0].reason)
            assertEquals(StateReason.CONNECT_REQUESTED, got[1].reason)
            // take(3) ended the collection: the listener is removed and released.
            assertEquals(before, client.retainedObjects())
        }
    }

    @Test
    fun `a connection listener added later first hears the current state, then every change`() = runBlocking<Unit> {
        Clients().use { clients ->
            val uid = TestServer.uid("late")
            val (client, _) = clients.connected(uid)
            val late = Recorder()
            client.addConnectionListener("late", late)
            val first = late.waitState(ConnectionState.CONNECTED)
            assertEquals(ConnectionState.CONNECTED, first.previous)
            assertEquals(StateReason.LISTENER_ADDED, first.reason)
            assertEquals("LISTENER_ADDED", first.reasonName)
            // The state's own callback comes with it.
            assertEquals(StateReason.LISTENER_ADDED, late.waitFor<StateChange>("connected").reason)
            client.disconnect()
            val change = late.waitState(ConnectionState.DISCONNECTED)
            assertEquals(ConnectionState.CONNECTED, change.previous)
            assertEquals(StateReason.DISCONNECT_REQUESTED, change.reason)
            val all = late.of<StateChange>("stateChanged")
            assertEquals(listOf(ConnectionState.CONNECTED, ConnectionState.DISCONNECTED), all.map { it.current })
            assertTrue(all.drop(1).all { it.previous != it.current }, "every later event is a change: $all")
        }
    }
}
