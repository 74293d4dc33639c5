package io.chinwag

import java.io.File
import java.net.HttpURLConnection
import java.net.Proxy
import java.net.URI
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.withLock
import org.junit.jupiter.api.fail

// Test support: real chinwag-server processes (temp SQLite file, 127.0.0.1, port 0, the chosen
// port read from the first line of its output), users made with its REST API, and a recorder
// listener whose waits are all bounded. Nothing sleeps to synchronise.

const val AUTH_KEY = "kt-tests-auth-key"
const val API_KEY = "kt-tests-api-key"
const val APP_ID = "chinwag-app"
const val TIMEOUT_MS = 15_000L

val REPO: File = File(System.getProperty("chinwag.repo") ?: "../..").canonicalFile

fun serverBinary(): File {
    val f = File(System.getProperty("chinwag.server.bin") ?: System.getenv("CHINWAG_SERVER_BIN") ?: "$REPO/target/debug/chinwag-server")
    if (!f.isFile) fail("$f not found: `cargo build -p chinwag-server` or set -Dchinwag.server.bin")
    return f
}

private val LISTENING = Regex("""^chinwag-server (\S+) listening on (http://\S+?)/?$""")

/** A chinwag-server on a SQLite file; [restart] keeps the port and the file. */
class TestServer(private val dir: File, private val extra: List<String> = emptyList()) : AutoCloseable {
    var url = ""
        private set
    var port = 0
        private set
    private var proc: Process? = null
    val pid: Long get() = proc?.pid() ?: -1

    fun start(): TestServer {
        val cmd = listOf(
            serverBinary().path,
            "--listen", "127.0.0.1:$port",
            "--db", File(dir, "chinwag.sqlite3").path,
            "--auth-key", AUTH_KEY,
            "--api-key", API_KEY,
            "--app-id", APP_ID,
            "--durability", "process",
            "--auth-failures-per-minute", "1000000",
            "--upgrades-per-ip", "1000000",
            "--max-connections-per-ip", "100000",
            "--max-sockets-per-user", "1000",
            "--presence-modes", "friends,roles,all_users",
            "--call-timeout-ms", "3000",
            "--log", "warn",
        ) + extra
        val p = ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(File(dir, "server.stderr")))
            .redirectInput(ProcessBuilder.Redirect.from(File("/dev/null")))
            .start()
        proc = p
        val lines = LinkedBlockingQueue<String>()
        Thread({
            p.inputStream.bufferedReader().useLines { seq -> seq.forEach { lines.put(it) } }
            lines.put("<eof>")
        }, "server-stdout").apply { isDaemon = true }.start()
        val first = lines.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        val m = first?.trim()?.let { LISTENING.matchEntire(it) }
        if (m == null) {
            stop()
            fail("server did not start: $first\n${File(dir, "server.stderr").takeIf { it.exists() }?.readText()?.takeLast(3000)}")
        }
        url = m.groupValues[2]
        port = url.substringAfterLast(':').toInt()
        return this
    }

    fun stop() {
        val p = proc ?: return
        proc = null
        if (!p.isAlive) return
        p.destroy() // SIGTERM
        if (!p.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly()
            p.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        }
    }

    fun restart() {
        stop()
        start()
    }

    /**
     * SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing. [pause] returns once
     * every thread of the server is stopped (the signal only starts a group stop; on a loaded
     * machine a thread may take a while to reach it).
     */
    fun pause() {
        signal("STOP")
        val deadline = System.currentTimeMillis() + TIMEOUT_MS
        while (!allThreadsStopped()) {
            check(System.currentTimeMillis() < deadline) { "the server did not stop within $TIMEOUT_MS ms" }
            Thread.sleep(1)
        }
    }

    private fun allThreadsStopped(): Boolean {
        val tasks = File("/proc/$pid/task").listFiles() ?: return false
        return tasks.all { task ->
            // The state is the field after the parenthesised command name.
            val stat = runCatching { File(task, "stat").readText() }.getOrNull() ?: return@all true
            stat.substringAfterLast(')').trim().startsWith("T")
        }
    }

    fun resume() = signal("CONT")

    private fun signal(sig: String) {
        val rc = ProcessBuilder("kill", "-$sig", pid.toString()).inheritIO().start().waitFor()
        check(rc == 0) { "kill -$sig failed" }
    }

    override fun close() {
        if (proc != null) resume().also { stop() }
    }

    /** REST with the API key (docs/protocol.md section 7): status and body. */
    fun rest(method: String, path: String, body: String? = null): Pair<Int, String> {
        val c = URI(url + path).toURL().openConnection(Proxy.NO_PROXY) as HttpURLConnection
        c.requestMethod = method
        c.connectTimeout = TIMEOUT_MS.toInt()
        c.readTimeout = TIMEOUT_MS.toInt()
        c.setRequestProperty("x-api-key", API_KEY)
        if (body != null) {
            c.doOutput = true
            c.setRequestProperty("content-type", "application/json")
            c.outputStream.use { it.write(body.toByteArray()) }
        }
        val status = c.responseCode
        val text = (if (status >= 400) c.errorStream else c.inputStream)?.use { String(it.readAllBytes()) } ?: ""
        return status to text
    }

    fun createUser(uid: String, name: String = uid, role: String? = null) {
        val roleJson = role?.let { ""","role":"$it"""" } ?: ""
        val (status, body) = rest("POST", "/v1/users", """{"uid":"$uid","name":"$name"$roleJson}""")
        check(status == 201) { "create user $uid: $status $body" }
    }

    fun mintToken(uid: String): String {
        val (status, body) = rest("POST", "/v1/users/$uid/tokens")
        check(status == 201) { "mint token: $status $body" }
        return Regex(""""token"\s*:\s*"([^"]+)"""").find(body)!!.groupValues[1]
    }

    companion object {
        private val serial = AtomicInteger()

        /** The suite's shared server (tests use unique uids). */
        val shared: TestServer by lazy {
            val s = TestServer(tempDir("server")).start()
            Runtime.getRuntime().addShutdownHook(Thread { s.stop() })
            s
        }

        fun tempDir(prefix: String): File = Files.createTempDirectory("chinwag-kt-$prefix").toFile().also { it.deleteOnExit() }

        /** A fresh user on [server]. */
        fun uid(prefix: String = "user", server: TestServer = shared, role: String? = null): String {
            val u = "$prefix-${serial.incrementAndGet()}-${UUID.randomUUID().toString().take(6)}"
            server.createUser(u, u.replaceFirstChar { it.uppercase() }, role)
            return u
        }
    }
}

/** Records every event of every family; waits are bounded. */
open class Recorder : ConnectionListener, LoginListener, MessageListener, UserListener, GroupListener, CallListener {
    private val lock = java.util.concurrent.locks.ReentrantLock()
    private val changed = lock.newCondition()
    val events = ArrayList<Pair<String, Any?>>()
    val threads = HashSet<String>()

    fun record(event: String, payload: Any?) = lock.withLock {
        events += event to payload
        threads += Thread.currentThread().name
        changed.signalAll()
    }

    @Suppress("UNCHECKED_CAST")
    fun <T> of(event: String): List<T> = lock.withLock { events.filter { it.first == event }.map { it.second as T } }

    /** Waits for the first [event] whose payload matches. */
    @Suppress("UNCHECKED_CAST")
    fun <T> waitFor(event: String, timeoutMs: Long = TIMEOUT_MS, pred: (T) -> Boolean = { true }): T {
        val deadline = System.currentTimeMillis() + timeoutMs
        lock.withLock {
            while (true) {
                events.firstOrNull { it.first == event && pred(it.second as T) }?.let { return it.second as T }
                val left = deadline - System.currentTimeMillis()
                if (left <= 0) fail("no '$event' within ${timeoutMs}ms; got: ${events.takeLast(20)}")
                changed.await(left, TimeUnit.MILLISECONDS)
            }
        }
    }

    fun waitState(state: ConnectionState, after: Int = 0): StateChange {
        val deadline = System.currentTimeMillis() + TIMEOUT_MS
        lock.withLock {
            while (true) {
                val changes = events.filter { it.first == "stateChanged" }.map { it.second as StateChange }
                changes.drop(after).firstOrNull { it.current == state }?.let { return it }
                val left = deadline - System.currentTimeMillis()
                if (left <= 0) fail("no change to $state; states: ${changes.map { "${it.previous}->${it.current} ${it.reasonName}" }}")
                changed.await(left, TimeUnit.MILLISECONDS)
            }
        }
    }

    fun states(): List<ConnectionState> = of<StateChange>("stateChanged").map { it.current }

    override fun onStateChanged(change: StateChange) = record("stateChanged", change)
    override fun onConnecting(change: StateChange) = record("connecting", change)
    override fun onConnected(change: StateChange) = record("connected", change)
    override fun onDisconnected(change: StateChange) = record("disconnected", change)
    override fun onConnectionError(error: ChinwagException) = record("connectionError", error)
    override fun onFeatureThrottled(change: FeatureChange) = record("featureThrottled", change)
    override fun onFeatureUnthrottled(change: FeatureChange) = record("featureUnthrottled", change)
    override fun onLoginSuccess(user: User) = record("loginSuccess", user)
    override fun onLoginFailure(error: ChinwagException) = record("loginFailure", error)
    override fun onLogoutSuccess() = record("logoutSuccess", null)
    override fun onLogoutFailure(error: ChinwagException) = record("logoutFailure", error)
    override fun onSessionExpired(error: ChinwagException) = record("sessionExpired", error)
    override fun onTextMessageReceived(message: Message) = record("text", message)
    override fun onMediaMessageReceived(message: Message) = record("media", message)
    override fun onCustomMessageReceived(message: Message) = record("custom", message)
    override fun onMessageEdited(message: Message) = record("edited", message)
    override fun onMessageDeleted(message: Message) = record("deleted", message)
    override fun onTypingStarted(typing: Typing) = record("typingStarted", typing)
    override fun onTypingEnded(typing: Typing) = record("typingEnded", typing)
    override fun onMessagesDelivered(receipt: Receipt) = record("delivered", receipt)
    override fun onMessagesRead(receipt: Receipt) = record("read", receipt)
    override fun onTransientMessageReceived(transient: Transient) = record("transient", transient)
    override fun onGap(gap: Gap) = record("gap", gap)
    override fun onConversationUpdated(conversation: Conversation) = record("conversationUpdated", conversation)
    override fun onThreadUpdated(message: Message) = record("threadUpdated", message)
    override fun onUserOnline(presence: PresenceChange) = record("online", presence)
    override fun onUserOffline(presence: PresenceChange) = record("offline", presence)
    override fun onMemberJoined(event: GroupMemberEvent) = record("memberJoined", event)
    override fun onMemberLeft(event: GroupMemberEvent) = record("memberLeft", event)
    override fun onMemberKicked(event: GroupMemberEvent) = record("memberKicked", event)
    override fun onMemberBanned(event: GroupMemberEvent) = record("memberBanned", event)
    override fun onMemberUnbanned(event: GroupMemberEvent) = record("memberUnbanned", event)
    override fun onMemberScopeChanged(event: GroupMemberEvent) = record("memberScopeChanged", event)
    override fun onMemberAdded(event: GroupMemberEvent) = record("memberAdded", event)
    override fun onIncomingCallReceived(call: Call) = record("incomingCall", call)
    override fun onOutgoingCallAccepted(call: Call) = record("callAccepted", call)
    override fun onOutgoingCallRejected(call: Call) = record("callRejected", call)
    override fun onIncomingCallCancelled(call: Call) = record("callCancelled", call)
    override fun onCallEnded(call: Call) = record("callEnded", call)
}

/** Clients made by a test, closed at its end. */
class Clients : AutoCloseable {
    private val all = ArrayList<ChinwagClient>()

    fun make(server: TestServer = TestServer.shared, settings: (ClientSettings) -> ClientSettings = { it }): ChinwagClient =
        ChinwagClient.init(APP_ID, settings(ClientSettings(server.url))).also { synchronized(all) { all += it } }

    override fun close() {
        synchronized(all) { all.forEach { it.close() } }
    }
}

/** A client with a recorder of every family, logged in and CONNECTED. */
suspend fun Clients.connected(uid: String, server: TestServer = TestServer.shared, settings: (ClientSettings) -> ClientSettings = { it }): Pair<ChinwagClient, Recorder> {
    val rec = Recorder()
    val c = make(server) { settings(it).copy(listeners = mapOf("rec" to rec)) }
    c.login(uid, AUTH_KEY)
    rec.waitState(ConnectionState.CONNECTED)
    return c to rec
}
