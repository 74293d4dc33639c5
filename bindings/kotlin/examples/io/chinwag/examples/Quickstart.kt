// Chinwag quickstart in Kotlin (auto-connect mode).
//
// Two users chat: each app creates a client with a data directory and a listener, logs in (which
// saves the session and connects by itself), and they exchange messages. Then Alice's app
// "restarts": a new client on the same data directory restores her session without a network
// call and reconnects by itself.
//
// Run:  mvn -q test-compile exec:java -Dexec.classpathScope=test \
//         -Dexec.mainClass=io.chinwag.examples.QuickstartKt -Dexec.args="URL AUTH_KEY"
// The users "alice" and "bob" must exist on the server (server/examples/serve_for_tests creates them).
package io.chinwag.examples

import io.chinwag.ChinwagClient
import io.chinwag.ClientSettings
import io.chinwag.ConnectionListener
import io.chinwag.ConnectionState
import io.chinwag.ReceiverType
import io.chinwag.StateChange
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.nio.file.Files
import kotlin.system.exitProcess

private const val TIMEOUT_MS = 10_000L

/** Prints every state change (it runs on the client's dispatcher thread). */
private class ShowStates(val name: String) : ConnectionListener {
    override fun onStateChanged(change: StateChange) =
        println("[$name] connection: ${change.previous} -> ${change.current} (${change.message})")
}

fun main(args: Array<String>) {
    val url = args.getOrNull(0) ?: System.getenv("CHINWAG_URL")
    val authKey = args.getOrNull(1) ?: System.getenv("CHINWAG_AUTH_KEY")
    if (url == null || authKey == null) {
        println("usage: Quickstart URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)")
        exitProcess(2)
    }
    println("chinwag ${ChinwagClient.version()}; server $url")
    val home = Files.createTempDirectory("chinwag-quickstart-").toFile()
    try {
        runBlocking { run(url, authKey, home) }
    } finally {
        home.deleteRecursively()
    }
    println("quickstart: done")
}

private suspend fun run(url: String, authKey: String, home: java.io.File) = coroutineScope {
    val aliceDir = home.resolve("alice")
    // Listeners passed at creation hear everything from the first event on.
    val aliceSettings = ClientSettings(url, dataDir = aliceDir, listeners = mapOf("ui" to ShowStates("alice")))
    ChinwagClient.init("chinwag-app", aliceSettings).use { alice ->
        ChinwagClient.init("chinwag-app", ClientSettings(url, dataDir = home.resolve("bob"))).use { bob ->
            val user = alice.login("alice", authKey) // suspends until the server answered
            println("[alice] logged in as ${user.uid} (${user.name})")
            bob.login("bob", authKey)
            withTimeout(TIMEOUT_MS) {
                alice.connectionState.first { it == ConnectionState.CONNECTED }
                bob.connectionState.first { it == ConnectionState.CONNECTED }
            }
            // A Flow of bob's messages: its listener is added when collection starts (started
            // undispatched: before the send below) and removed when it stops (after the first).
            val inbox = async(start = CoroutineStart.UNDISPATCHED) { bob.messages().first() }
            val sent = alice.sendText(ReceiverType.USER, "bob", "Hi Bob!")
            println("[alice] sent message #${sent.id}")
            val got = withTimeout(TIMEOUT_MS) { inbox.await() }
            println("[bob] message #${got.id} from ${got.sender}: ${got.text}")
        }
    }
    // Alice's app restarts: the saved session is restored without a network call.
    ChinwagClient.init("chinwag-app", aliceSettings.copy(listeners = mapOf("ui" to ShowStates("alice, restarted")))).use { alice ->
        println("[alice, restarted] logged in as ${alice.loggedInUser()?.uid} without logging in")
        withTimeout(TIMEOUT_MS) { alice.connectionState.first { it == ConnectionState.CONNECTED } }
        alice.logout()
        println("[alice, restarted] logged out")
    }
}
