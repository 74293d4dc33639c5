// `make bench`'s Kotlin row: the round trip A -> server -> B -> server -> A (B's listener echoes
// each text) through this binding, next to the same round trip through the C ABI (a C program,
// bench/c_round_trip.c) against the same server in the same run, their blocks interleaved so
// that load from elsewhere falls on both. Both halves do the same work: each send passes a
// completion, and a round trip ends when the sending thread has woken up to the echo. Target
// (issue 13): the binding adds at most 30 us per round trip at p50. Figures, not assertions:
// prints a table (with where the time goes, stage by stage, and the JVM's GC and JIT activity
// while timing) and writes target/bench/kotlin.json under the repository root.
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
import java.lang.management.ManagementFactory
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/** One round trip's stamps, ns since its send started (see c_round_trip.c): the last is the round trip. */
private const val SENT = 0
private const val B_CALLBACK = 1
private const val B_SENT = 2
private const val A_CALLBACK = 3
private const val WOKEN = 4

/** The stages between the stamps: label, from (-1: the send started), to. */
private val STAGES = listOf(
    Triple("A: send call returns", -1, SENT),
    Triple("A's send -> B's listener (server hop)", SENT, B_CALLBACK),
    Triple("B: echo send call returns", B_CALLBACK, B_SENT),
    Triple("B's send -> A's listener (server hop)", B_SENT, A_CALLBACK),
    Triple("A's listener -> sending thread awake", A_CALLBACK, WOKEN),
)

private fun percentile(sorted: LongArray, p: Double): Long = sorted[((sorted.size - 1) * p).toInt()]
private fun us(ns: Long) = ns / 1000.0
private fun stage(samples: List<LongArray>, from: Int, to: Int): LongArray =
    samples.map { it[to] - (if (from < 0) 0 else it[from]) }.toLongArray().apply { sort() }

/** Thread kinds whose on-CPU time is reported (c_round_trip.c reports the same for the C half). */
private val KINDS = listOf("SDK runtime workers", "SDK dispatcher threads", "sending thread", "JVM's own (JIT, GC, ...)")

/** The sending thread's name (also its native name, which /proc shows). */
private const val SENDER = "bench-sender"

/** A thread's kind (an index of [KINDS]), on-CPU ns and times scheduled in. */
private class ThreadCpu(val kind: Int, val ns: Long, val slices: Long)

/** This process's threads by tid (/proc/self/task/<tid>/schedstat and comm). */
private fun threadCpu(): Map<String, ThreadCpu> {
    val out = HashMap<String, ThreadCpu>()
    for (t in File("/proc/self/task").listFiles() ?: emptyArray()) {
        try {
            val comm = File(t, "comm").readText().trim()
            val stat = File(t, "schedstat").readText().trim().split(" ")
            val kind = when {
                comm.startsWith("chinwag-rt") -> 0
                comm.startsWith("chinwag-") -> 1
                comm == SENDER -> 2
                else -> 3
            }
            out[t.name] = ThreadCpu(kind, stat[0].toLong(), stat[2].toLong())
        } catch (_: java.io.IOException) {
            // the thread ended meanwhile
        }
    }
    return out
}

/** The JVM's own activity over a stretch: CPU, GC, JIT compilation, allocation. */
private class JvmCounters {
    val byKind = LongArray(KINDS.size)
    val slices = LongArray(KINDS.size)
    private val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean
    private val threads = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
    var cpuNs = 0L
    var gcCount = 0L
    var gcMs = 0L
    var jitMs = 0L
    var allocated = 0L

    private fun gc() = ManagementFactory.getGarbageCollectorMXBeans().sumOf { maxOf(0, it.collectionCount) } to
        ManagementFactory.getGarbageCollectorMXBeans().sumOf { maxOf(0, it.collectionTime) }
    private fun jit() = ManagementFactory.getCompilationMXBean().totalCompilationTime
    /** Bytes allocated so far by the calling (sending) thread and by all threads. */
    private fun alloc(): Pair<Long, Long> {
        val all = threads.getThreadAllocatedBytes(threads.allThreadIds).sumOf { maxOf(0, it) }
        return threads.currentThreadAllocatedBytes to all
    }
    var allocatedBySender = 0L

    /** Adds what [block] cost to the totals. */
    fun <T> measure(block: () -> T): T {
        val cpu0 = os.processCpuTime
        val (gcN0, gcT0) = gc()
        val jit0 = jit()
        // Innermost: the counters' own reads of /proc allocate on this thread.
        val threads0 = threadCpu()
        val alloc0 = alloc()
        val r = block()
        val alloc1 = alloc()
        for ((tid, t) in threadCpu()) {
            byKind[t.kind] += t.ns - (threads0[tid]?.ns ?: 0)
            slices[t.kind] += t.slices - (threads0[tid]?.slices ?: 0)
        }
        allocated += alloc1.second - alloc0.second
        allocatedBySender += alloc1.first - alloc0.first
        jitMs += jit() - jit0
        val (gcN1, gcT1) = gc()
        gcCount += gcN1 - gcN0
        gcMs += gcT1 - gcT0
        cpuNs += os.processCpuTime - cpu0
        return r
    }
}

fun main(args: Array<String>) {
    Thread.currentThread().name = SENDER
    val quick = "--quick" in args
    val blocks = if (quick) 3 else 10
    val perBlock = if (quick) 200 else 1000
    // Untimed round trips: the C process is new in every block (connections, caches); the JVM
    // first runs enough round trips for the JIT's top tier (C2 compiles after ~10-15k calls).
    val blockWarmup = 100
    val jvmWarmup = if (quick) 3000 else 20000
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
    // Warm both conversions up to the JIT's top tier, then measure them.
    conversionCost(if (quick) 4 else 10, 20_000)
    val (convertNs, structureNs) = conversionCost(if (quick) 5 else 20, 20_000)

    // No send limit: the bench sends thousands a second per user (the default allows 500 per 10 s).
    TestServer(TestServer.tempDir("bench"), listOf("--send-limit", "100000000")).start().use { server ->
        val (ka, kb, ca, cb) = List(4) { TestServer.uid("bench", server) }
        val c = ArrayList<LongArray>()
        val k = ArrayList<LongArray>()
        var cCpuNs = 0L
        val cByKind = LongArray(KINDS.size)
        val cSlices = LongArray(KINDS.size)
        val jvm = JvmCounters()
        KotlinRoundTrip(server.url, ka, kb).use { kotlin ->
            val t = System.nanoTime()
            kotlin.run(jvmWarmup)
            val warmupS = (System.nanoTime() - t) / 1e9
            println(String.format("JVM warm-up: %d round trips in %.1f s", jvmWarmup, warmupS))
            for (block in 0 until blocks) {
                val p = ProcessBuilder(exe.path, server.url, AUTH_KEY, ca, cb, blockWarmup.toString(), perBlock.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start()
                val lines = p.inputStream.bufferedReader().readLines()
                check(p.waitFor() == 0) { "c_round_trip failed" }
                for (line in lines) {
                    val f = line.trim().split(" ")
                    if (f[0] == "cpu_ns") {
                        cCpuNs += f[1].toLong()
                        for (i in 0 until 3) cByKind[i] += f[2 + i].toLong()
                    } else if (f[0] == "slices_n") {
                        for (i in 0 until 3) cSlices[i] += f[1 + i].toLong()
                    } else {
                        c += f.map { it.toLong() }.toLongArray()
                    }
                }
                kotlin.run(blockWarmup)
                k += jvm.measure { kotlin.run(perBlock) }
            }
        }
        report(c, k, cCpuNs, cByKind, cSlices, jvm, blocks, perBlock, out)
        println(
            String.format(
                "one message payload to a Message (4 per round trip), thread CPU: %.2f us at fixed offsets; %.2f us through a JNA Structure",
                convertNs / 1000, structureNs / 1000,
            ),
        )
    }
}

private fun report(c: List<LongArray>, k: List<LongArray>, cCpuNs: Long, cByKind: LongArray, cSlices: LongArray, jvm: JvmCounters, blocks: Int, perBlock: Int, out: File) {
    val cRt = stage(c, -1, WOKEN)
    val kRt = stage(k, -1, WOKEN)
    val overhead = us(percentile(kRt, 0.5) - percentile(cRt, 0.5))
    val load = File("/proc/loadavg").readText().split(" ").take(3).joinToString(" ")
    val verdict = if (overhead <= 30.0) "met" else "MISSED"
    val row = "%-44s %9.1f us %9.1f us %11.1f us %s"
    println()
    println("Kotlin binding (JNA) vs C ABI, round trip A->B->A ($blocks interleaved blocks of $perBlock each; load average $load)")
    println(String.format("%-44s %12s %12s %14s %s", "scenario", "C ABI", "Kotlin", "Kotlin - C", "target"))
    for ((label, p) in listOf("p50" to 0.5, "p90" to 0.9, "p99" to 0.99)) {
        val cv = percentile(cRt, p)
        val kv = percentile(kRt, p)
        println(String.format(row, "round trip A->B->A $label", us(cv), us(kv), us(kv - cv), if (label == "p50") "<= 30 us: $verdict" else ""))
    }
    // Each block next to the C block just before it (the load both saw is closer than across the run).
    val pairDiffs = (0 until blocks).map { b ->
        val cb = stage(c.subList(b * perBlock, (b + 1) * perBlock), -1, WOKEN)
        val kb = stage(k.subList(b * perBlock, (b + 1) * perBlock), -1, WOKEN)
        percentile(kb, 0.5) - percentile(cb, 0.5)
    }.sorted()
    val pairedUs = us(pairDiffs[pairDiffs.size / 2])
    println(
        String.format(
            "%-44s %27s %11.1f us (blocks: %.0f .. %.0f us)", "p50 difference, block by block (median)", "", pairedUs,
            us(pairDiffs.first()), us(pairDiffs.last()),
        ),
    )
    println("where the time goes (p50 of each stage; they need not add up to the round trip's p50):")
    val stages = STAGES.map { (label, from, to) ->
        val cs = percentile(stage(c, from, to), 0.5)
        val ks = percentile(stage(k, from, to), 0.5)
        println(String.format(row, "  $label", us(cs), us(ks), us(ks - cs), ""))
        Triple(label, cs, ks)
    }
    val n = k.size
    val cCpu = cCpuNs / c.size.toDouble() / 1000
    val kCpu = jvm.cpuNs / n.toDouble() / 1000
    println(String.format(row, "process CPU per round trip (both clients)", cCpu, kCpu, kCpu - cCpu, ""))
    val byKind = KINDS.indices.map { i -> Triple(KINDS[i], cByKind[i] / c.size.toDouble() / 1000, jvm.byKind[i] / n.toDouble() / 1000) }
    for ((label, cv, kv) in byKind) println(String.format(row, "  $label", cv, kv, kv - cv, ""))
    val slices = KINDS.indices.map { i -> Triple(KINDS[i], cSlices[i] / c.size.toDouble(), jvm.slices[i] / n.toDouble()) }
    println(String.format("%-44s %12.1f %12.1f %14.1f", "threads scheduled in per round trip", slices.sumOf { it.second }, slices.sumOf { it.third }, slices.sumOf { it.third - it.second }))
    for ((label, cv, kv) in slices) println(String.format("%-44s %12.1f %12.1f %14.1f", "  $label", cv, kv, kv - cv))
    println(
        String.format(
            "JVM while timing: %d GCs (%d ms), JIT compiling %d ms, %.0f bytes allocated per round trip (%.0f by the sending thread)",
            jvm.gcCount, jvm.gcMs, jvm.jitMs, jvm.allocated / n.toDouble(), jvm.allocatedBySender / n.toDouble(),
        ),
    )
    fun pcts(s: LongArray) = """{"p50":${us(percentile(s, 0.5))},"p90":${us(percentile(s, 0.9))},"p99":${us(percentile(s, 0.99))}}"""
    val kindJson = byKind.joinToString(",") { (label, cv, kv) -> """{"threads":"$label","c_abi_us":$cv,"kotlin_us":$kv}""" }
    val stageJson = stages.joinToString(",") { (label, cs, ks) -> """{"stage":"$label","c_abi_p50_us":${us(cs)},"kotlin_p50_us":${us(ks)}}""" }
    val json = """{"kotlin_round_trip":{"n":$n,"blocks":$blocks,"loadavg":"$load",""" +
        """"c_abi_us":${pcts(cRt)},"kotlin_us":${pcts(kRt)},"stages":[$stageJson],""" +
        """"cpu_per_round_trip_us":{"c_abi":$cCpu,"kotlin":$kCpu,"by_thread":[$kindJson]},""" +
        """"jvm":{"gc_count":${jvm.gcCount},"gc_ms":${jvm.gcMs},"jit_ms":${jvm.jitMs},"allocated_bytes_per_round_trip":${jvm.allocated / n.toDouble()}},""" +
        """"overhead_p50_us":$overhead,"overhead_p50_paired_blocks_us":$pairedUs,"target_us":30,"met":${overhead <= 30.0}}}"""
    File(out, "kotlin.json").writeText(json + "\n")
    println("\nJSON: ${File(out, "kotlin.json")}")
}

/** Two clients of this binding: B echoes every text back to A; A times send -> echo, as the C half does. */
private class KotlinRoundTrip(url: String, private val a: String, private val b: String) : AutoCloseable {
    private val lock = ReentrantLock()
    private val changed = lock.newCondition()
    private var echoes = 0L
    private var bEchoed = 0L
    private var bCallbackNs = 0L
    private var bSentNs = 0L
    private var aCallbackNs = 0L
    private val sendFailures = AtomicLong()
    private val onSent = object : Completion<Message> {
        override fun onSuccess(value: Message) {}
        override fun onError(error: ChinwagException) {
            sendFailures.incrementAndGet()
        }
    }
    private val ca: ChinwagClient = ChinwagClient.init("chinwag-app", ClientSettings(url, listeners = mapOf("rx" to object : MessageListener {
        override fun onTextMessageReceived(message: Message) {
            val t = System.nanoTime()
            lock.withLock {
                aCallbackNs = t
                echoes++
                changed.signalAll()
            }
        }
    })))
    private val cb: ChinwagClient = ChinwagClient.init("chinwag-app", ClientSettings(url))

    init {
        cb.addMessageListener("echo", object : MessageListener {
            override fun onTextMessageReceived(message: Message) {
                val t = System.nanoTime()
                cb.sendText(ReceiverType.USER, message.sender, message.text ?: "", onSent)
                val sent = System.nanoTime()
                lock.withLock {
                    bCallbackNs = t
                    bSentNs = sent
                    bEchoed++
                    changed.signalAll()
                }
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

    /** Waits up to 15 s for [counter] to reach [target]; call with the lock held. */
    private inline fun awaitLocked(target: Long, counter: () -> Long): Boolean {
        var left = TimeUnit.SECONDS.toNanos(15)
        while (counter() < target && left > 0) left = changed.awaitNanos(left)
        return counter() >= target
    }

    private var sent = 0L

    fun run(n: Int): List<LongArray> = List(n) {
        val i = ++sent
        val t0 = System.nanoTime()
        ca.sendText(ReceiverType.USER, b, "round trip", onSent)
        val returned = System.nanoTime()
        lock.withLock {
            var echoed = awaitLocked(i) { echoes }
            val woken = System.nanoTime()
            // B records its stamps after its send returned: usually long before the echo is back.
            echoed = echoed && awaitLocked(i) { bEchoed }
            check(echoed) { "no echo of round trip $i within 15 s" }
            check(sendFailures.get() == 0L) { "${sendFailures.get()} sends failed" }
            longArrayOf(returned - t0, bCallbackNs - t0, bSentNs - t0, aCallbackNs - t0, woken - t0)
        }
    }

    override fun close() {
        ca.close()
        cb.close()
    }
}
