// A terminal chat on the Kotlin binding.
//
//   Chat --server http://127.0.0.1:8080 --user alice --auth-key KEY --to bob
//   Chat --server URL --user carol --auth-key KEY --group team
//
// Type a line and press Enter to send it. Incoming messages, typing indicators, read receipts,
// presence and connection changes are printed as they happen (collected from the client's
// Flows). Commands: /typing, /stop (stopped typing), /history (the last 10 messages), /who
// (the connection state), /quit (or end of input). The auth key may also come from
// $CHINWAG_AUTH_KEY; with --data-dir the session is saved and the next start skips the login.
//
// Run:  mvn -q test-compile exec:java -Dexec.classpathScope=test \
//         -Dexec.mainClass=io.chinwag.examples.ChatKt -Dexec.args="--server URL --user alice --to bob"
package io.chinwag.examples

import io.chinwag.ChinwagClient
import io.chinwag.ChinwagException
import io.chinwag.ClientSettings
import io.chinwag.Message
import io.chinwag.MessageEvent
import io.chinwag.Presence
import io.chinwag.ReceiverType
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import java.io.File
import kotlin.system.exitProcess

private fun say(text: String) = synchronized(System.out) { println(text) }

private fun describe(m: Message): String = when {
    m.deletedAt > 0 -> "(deleted)"
    m.category == "custom" -> "<${m.type}: ${m.dataJson}>"
    m.type != "text" -> "<${m.type}>" + (m.text?.let { " $it" } ?: "")
    else -> m.text ?: ""
}

fun main(args: Array<String>) {
    val opts = HashMap<String, String>()
    var i = 0
    while (i < args.size) {
        val k = args[i]
        if (!k.startsWith("--") || i + 1 >= args.size) {
            println("usage: Chat --server URL --user UID [--auth-key KEY | --token TOKEN] (--to UID | --group GUID) [--data-dir DIR]")
            exitProcess(2)
        }
        opts[k.removePrefix("--")] = args[i + 1]
        i += 2
    }
    val server = opts["server"]
    val user = opts["user"]
    val (receiverType, receiver) = opts["group"]?.let { ReceiverType.GROUP to it } ?: (ReceiverType.USER to opts["to"])
    if (server == null || user == null || receiver == null) {
        println("chat: --server, --user and --to or --group are required")
        exitProcess(2)
    }
    val settings = ClientSettings(server, presence = Presence.ALL_USERS, dataDir = opts["data-dir"]?.let(::File))
    val code = runBlocking {
        ChinwagClient.init("chinwag-app", settings).use { client ->
            try {
                chat(client, opts, user, receiverType, receiver)
                0
            } catch (e: ChinwagException) {
                say("chat: ${e.message}")
                1
            }
        }
    }
    say("chat: bye")
    exitProcess(code)
}

private suspend fun chat(client: ChinwagClient, opts: Map<String, String>, me: String, type: ReceiverType, receiver: String) = coroutineScope {
    val printer = launch {
        launch { client.connectionState.collect { say("* connection: $it") } }
        launch {
            client.messageEvents().collect { e ->
                when (e) {
                    is MessageEvent.Received -> {
                        say("${e.message.sender}: ${describe(e.message)}")
                        if (e.message.sender != me) runCatching { client.markRead(e.message.id) }
                    }
                    is MessageEvent.TypingStarted -> say("* ${e.typing.sender} is typing")
                    is MessageEvent.TypingEnded -> say("* ${e.typing.sender} stopped typing")
                    is MessageEvent.ReceiptReceived -> say("* ${e.receipt.by} ${e.receipt.kind.name.lowercase()} up to #${e.receipt.messageId}")
                    is MessageEvent.Edited -> say("* ${e.message.sender} edited #${e.message.id}: ${describe(e.message)}")
                    is MessageEvent.Deleted -> say("* ${e.message.sender} deleted #${e.message.id}")
                    else -> {}
                }
            }
        }
        launch { client.presence().collect { say("* ${it.uid} is ${it.status.name.lowercase()}") } }
    }
    if (client.loggedInUser()?.uid != me) {
        val token = opts["token"]
        val user = if (token != null) client.loginWithToken(token) else {
            val key = opts["auth-key"] ?: System.getenv("CHINWAG_AUTH_KEY") ?: throw IllegalArgumentException("--auth-key or \$CHINWAG_AUTH_KEY")
            client.login(me, key)
        }
        say("* logged in as ${user.uid} (${user.name})")
    } else {
        say("* session restored for $me")
    }
    val input = System.`in`.bufferedReader()
    while (true) {
        val line = withContext(Dispatchers.IO) { input.readLine() } ?: break
        try {
            when (line.trim()) {
                "" -> {}
                "/quit" -> break
                "/typing" -> client.startTyping(type, receiver)
                "/stop" -> client.endTyping(type, receiver)
                "/who" -> say("* $me, ${client.connectionStatus()}")
                "/history" -> client.messagesRequest(type, receiver, limit = 10).use { req ->
                    val page = req.previous()
                    page.messages.forEach { say("  #${it.id} ${it.sender}: ${describe(it)}") }
                    say("* ${page.messages.size} messages" + if (page.hasMore) " (more before)" else "")
                }
                else -> {
                    val m = client.sendText(type, receiver, line)
                    say("* sent #${m.id}")
                }
            }
        } catch (e: ChinwagException) {
            say("! ${e.message}")
        }
    }
    printer.cancelAndJoin()
}
