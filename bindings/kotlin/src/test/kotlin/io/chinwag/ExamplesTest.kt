package io.chinwag

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** The examples, each in its own JVM against a real server, finish with their "done" line. */
class ExamplesTest {
    private fun java(mainClass: String, vararg args: String): ProcessBuilder {
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val lib = File(System.getProperty("chinwag.library.dir") ?: "$REPO/target/debug", "libchinwag.so")
        val java = File(System.getProperty("java.home"), "bin/java").path
        return ProcessBuilder(listOf(java, "-cp", cp, "-Dchinwag.library.path=${lib.path}", mainClass) + args)
    }

    private fun runExample(mainClass: String, server: TestServer): String {
        val p = java(mainClass, server.url, AUTH_KEY).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out)
        assertEquals(0, p.exitValue(), out)
        return out
    }

    @Test
    fun `quickstart and manual connection`() {
        TestServer(TestServer.tempDir("examples")).start().use { server ->
            listOf("alice", "bob", "carol", "dave").forEach { server.createUser(it) }
            val quick = runExample("io.chinwag.examples.QuickstartKt", server)
            assertTrue(quick.trimEnd().endsWith("quickstart: done"), quick)
            assertTrue(quick.contains("[alice, restarted] logged in as alice without logging in"), quick)
            val manual = runExample("io.chinwag.examples.ManualConnectionKt", server)
            assertTrue(manual.trimEnd().endsWith("manual_connection: done"), manual)
            assertTrue(manual.contains("connect() before login: NOT_LOGGED_IN"), manual)
            assertTrue(manual.contains("on reconnect: nothing lost"), manual)
        }
    }

    @Test
    fun `the terminal chat sends, receives and quits`() = runBlocking<Unit> {
        val alice = TestServer.uid("alice")
        val bob = TestServer.uid("bob")
        Clients().use { clients ->
            val (bobClient, bobRec) = clients.connected(bob)
            val p = java("io.chinwag.examples.ChatKt", "--server", TestServer.shared.url, "--user", alice, "--auth-key", AUTH_KEY, "--to", bob)
                .redirectErrorStream(true).start()
            val lines = LinkedBlockingQueue<String>()
            Thread({ p.inputStream.bufferedReader().forEachLine { lines.put(it) } }, "chat-stdout").apply { isDaemon = true }.start()
            val seen = ArrayList<String>()
            fun expect(pred: (String) -> Boolean): String {
                val deadline = System.currentTimeMillis() + TIMEOUT_MS
                while (true) {
                    val left = deadline - System.currentTimeMillis()
                    val line = if (left > 0) lines.poll(left, TimeUnit.MILLISECONDS) else null
                    line ?: throw AssertionError("chat output so far: $seen")
                    seen += line
                    if (pred(line)) return line
                }
            }
            val stdin = p.outputStream.bufferedWriter()
            fun type(line: String) = stdin.apply { write(line); newLine(); flush() }
            // The login's answer and CONNECTED may be printed in either order.
            var loggedIn = false
            var connected = false
            while (!(loggedIn && connected)) {
                val line = expect { it.startsWith("* logged in as $alice") || it == "* connection: CONNECTED" }
                if (line.startsWith("* logged in as")) loggedIn = true else connected = true
            }
            type("hello bob")
            expect { it.startsWith("* sent #") }
            assertEquals("hello bob", bobRec.waitFor<Message>("text").text)
            bobClient.sendText(ReceiverType.USER, alice, "hi alice")
            expect { it == "$bob: hi alice" }
            assertTrue(bobRec.waitFor<Receipt>("read").by == alice, "the chat marks what it shows as read")
            type("/history")
            expect { it == "* 2 messages" }
            type("/quit")
            expect { it == "chat: bye" }
            assertTrue(p.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS))
            assertEquals(0, p.exitValue())
        }
    }
}
