// `make bench`'s Kotlin row: the round trip A -> server -> B -> server -> A (B's listener echoes
// each text) through this binding, next to the same round trip through the C ABI (a C program,
// bench/c_round_trip.c) against the same server in the same run, their blocks interleaved so
// that load from elsewhere falls on both. Target (issue 13): the JNA layer adds at most 30 us
// per round trip at p50. Figures, not assertions: prints a table and writes
// target/bench/kotlin.json under the repository root.
package io.chinwag.bench

import io.chinwag.AUTH_KEY
import io.chinwag.ChinwagClient
import io.chinwag.ChinwagException
import io.chinwag.ClientSettings
import io.chinwag.Completion
import io.chinwag.ConnectionState
import io.chinwag.Message
import io.chinwag.MessageListener
import io.chinwag.REPO
import io.chinwag.ReceiverType
import io.chinwag.TestServer
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

private fun percentile(sorted: List<Long>, p: Double): Long = sorted[((sorted.size - 1) * p).toInt()]
private fun us(ns: Long) = ns / 1000.0

fun main(args: Array<String>) {
    val quick = "--quick" in args
    val blocks = if (quick) 3 else 10
    val perBlock = if (quick) 200 else 1000
    val warmup = if (quick) 300 else 2000
    val lib = File(System.getenv("CHINWAG_LIBRARY") ?: error("set CHINWAG_LIBRARY to the libchinwag.so under test"))
    val out = File(REPO, "target/bench").apply { mkdirs() }
    // The C half, built against the same library.
    val exe = File(out, "c_round_trip")
    val cc = ProcessBuilder(
        System.getenv("CC") ?: "cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I$REPO/include",
        "$REPO/bindings/kotlin/bench/c_round_trip.c", "-L${lib.parent}", "-lchinwag", "-Wl,-rpath,${lib.parent}", "-pthread",
        "-o", exe.path,
    ).inheritIO().start()
    check(cc.waitFor() == 0) { "cc failed" }

    // No send limit: the bench sends thousands a second per user (the default allows 500 per 10 s).
    TestServer(TestServer.tempDir("bench"), listOf("--send-limit", "100000000")).start().use { server ->
        val (ka, kb, ca, cb) = List(4) { TestServer.uid("bench", server) }
        val c = ArrayList<Long>()
        val k = ArrayList<Long>()
        var kotlinClients: KotlinRoundTrip? = null
        for (block in 0 until blocks) {
            val p = ProcessBuilder(exe.path, server.url, AUTH_KEY, ca, cb, (if (block == 0) warmup else 100).toString(), perBlock.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start()
            val lines = p.inputStream.bufferedReader().readLines()
            check(p.waitFor() == 0) { "c_round_trip failed" }
            c += lines.map { it.trim().toLong() }
            val kotlin = kotlinClients ?: KotlinRoundTrip(server.url, ka, kb).also {
                it.run(warmup) // JIT and connection warm-up, not timed
                kotlinClients = it
            }
            k += kotlin.run(perBlock)
        }
        kotlinClients?.close()
        c.sort()
        k.sort()
        val cP50 = percentile(c, 0.5)
        val kP50 = percentile(k, 0.5)
        val overhead = us(kP50 - cP50)
        val load = File("/proc/loadavg").readText().split(" ").take(3).joinToString(" ")
        val verdict = if (overhead <= 30.0) "met" else "MISSED"
        println()
        println("Kotlin binding (JNA) vs C ABI, round trip A->B->A ($blocks interleaved blocks of $perBlock each; load average $load)")
        println(String.format("%-40s %12s %12s %14s %12s", "scenario", "C ABI", "Kotlin", "Kotlin - C", "target"))
        for ((label, p) in listOf("p50" to 0.5, "p90" to 0.9, "p99" to 0.99)) {
            val cv = percentile(c, p)
            val kv = percentile(k, p)
            println(
                String.format(
                    "%-40s %9.1f us %9.1f us %11.1f us %12s",
                    "round trip A->B->A $label", us(cv), us(kv), us(kv - cv),
                    if (label == "p50") "<= 30 us: $verdict" else "-",
                ),
            )
        }
        val json = """{"kotlin_round_trip":{"n":${k.size},"blocks":$blocks,"loadavg":"$load",""" +
            """"c_abi_us":{"p50":${us(cP50)},"p90":${us(percentile(c, 0.9))},"p99":${us(percentile(c, 0.99))}},""" +
            """"kotlin_us":{"p50":${us(kP50)},"p90":${us(percentile(k, 0.9))},"p99":${us(percentile(k, 0.99))}},""" +
            """"overhead_p50_us":$overhead,"target_us":30,"met":${overhead <= 30.0}}}"""
        File(out, "kotlin.json").writeText(json + "\n")
        println("\nJSON: ${File(out, "kotlin.json")}")
    }
}

/** Two clients of this binding: B echoes every text back to A; A times send -> echo. */
private class KotlinRoundTrip(url: String, private val a: String, private val b: String) : AutoCloseable {
    private val echoes = LinkedBlockingQueue<Long>()
    private val ignore = object : Completion<Message> {
        override fun onSuccess(value: Message) {}
        override fun onError(error: ChinwagException) = System.err.println("bench send failed: $error")
    }
    private val ca: ChinwagClient = ChinwagClient.init("chinwag-app", ClientSettings(url, listeners = mapOf("rx" to object : MessageListener {
        override fun onTextMessageReceived(message: Message) {
            echoes.put(System.nanoTime())
        }
    })))
    private val cb: ChinwagClient = ChinwagClient.init("chinwag-app", ClientSettings(url))

    init {
        cb.addMessageListener("echo", object : MessageListener {
            override fun onTextMessageReceived(message: Message) {
                cb.sendText(ReceiverType.USER, message.sender, message.text ?: "", ignore)
            }
        })
        runBlocking {
            ca.login(a, AUTH_KEY)
            cb.login(b, AUTH_KEY)
            withTimeout(15_000) {
                ca.connectionState.first { it == ConnectionState.CONNECTED }
                cb.connectionState.first { it == ConnectionState.CONNECTED }
            }
        }
    }

    fun run(n: Int): List<Long> = List(n) {
        val t0 = System.nanoTime()
        ca.sendText(ReceiverType.USER, b, "round trip", ignore)
        val t1 = echoes.poll(15, TimeUnit.SECONDS) ?: error("echo lost")
        t1 - t0
    }

    override fun close() {
        ca.close()
        cb.close()
    }
}
