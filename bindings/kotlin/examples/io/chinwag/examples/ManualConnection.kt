// Chinwag in manual-connection mode (autoConnect = false), in Kotlin.
//
// Nothing connects until the app calls connect(); disconnect() stops delivery at once, and the
// next connect() resumes: what was sent meanwhile is replayed, nothing is lost.
//
// Run:  mvn -q test-compile exec:java -Dexec.classpathScope=test \
//         -Dexec.mainClass=io.chinwag.examples.ManualConnectionKt -Dexec.args="URL AUTH_KEY"
// The users "carol" and "dave" must exist on the server.
package io.chinwag.examples

import io.chinwag.ChinwagClient
import io.chinwag.ClientSettings
import io.chinwag.ConnectionListener
import io.chinwag.ConnectionState
import io.chinwag.Message
import io.chinwag.MessageListener
import io.chinwag.ReceiverType
import io.chinwag.StateChange
import io.chinwag.StateException
import kotlinx.coroutines.runBlocking
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/** Carol's screen: connection changes and messages, handed to the main thread through queues. */
private class Screen : ConnectionListener, MessageListener {
    val states = LinkedBlockingQueue<ConnectionState>()
    val inbox = LinkedBlockingQueue<Message>()

    override fun onStateChanged(change: StateChange) {
        println("[carol] connection: ${change.previous} -> ${change.current} (${change.reasonName})")
        states.put(change.current)
    }

    override fun onTextMessageReceived(message: Message) {
        println("[carol] message #${message.id} from ${message.sender}: ${message.text}")
        inbox.put(message)
    }

    fun waitFor(state: ConnectionState) {
        while (true) {
            val s = states.poll(10, TimeUnit.SECONDS) ?: error("no $state within 10 s")
            if (s == state) return
        }
    }
}

fun main(args: Array<String>) = runBlocking {
    val url = args.getOrNull(0) ?: System.getenv("CHINWAG_URL")
    val authKey = args.getOrNull(1) ?: System.getenv("CHINWAG_AUTH_KEY")
    if (url == null || authKey == null) {
        println("usage: ManualConnection URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)")
        exitProcess(2)
    }
    val screen = Screen()
    ChinwagClient.init("chinwag-app", ClientSettings(url, autoConnect = false)).use { carol ->
        ChinwagClient.init("chinwag-app", ClientSettings(url)).use { dave ->
            carol.addListener("screen", screen) // connection and message listener, by id
            try {
                carol.connect()
            } catch (e: StateException) {
                println("[carol] connect() before login: ${e.name}: ${e.detail}")
            }
            carol.login("carol", authKey)
            println("[carol] after login the connection is ${carol.connectionStatus()}")
            dave.login("dave", authKey)
            println("[carol] connect()")
            carol.connect()
            screen.waitFor(ConnectionState.CONNECTED)
            dave.sendText(ReceiverType.USER, "carol", "are you there?")
            screen.inbox.poll(10, TimeUnit.SECONDS) ?: error("no message")

            println("[carol] disconnect()")
            carol.disconnect()
            screen.waitFor(ConnectionState.DISCONNECTED)
            val missed = dave.sendText(ReceiverType.USER, "carol", "sent while you were away")
            check(screen.inbox.isEmpty()) { "carol got a message while disconnected" }
            println("[carol] nothing delivered while disconnected")

            println("[carol] connect()")
            carol.connect()
            screen.waitFor(ConnectionState.CONNECTED)
            val replayed = screen.inbox.poll(10, TimeUnit.SECONDS) ?: error("nothing replayed")
            check(replayed.id == missed.id) { "replayed ${replayed.id}, expected ${missed.id}" }
            println("[carol] got #${replayed.id} on reconnect: nothing lost")
            carol.removeListener("screen")
        }
    }
    println("manual_connection: done")
}
