// Part of `make kotlin-bench`: the CPU one payload conversion costs (4 per round trip: each
// client's message and send completion), the binding's fixed-offset readers next to reading
// the same C memory through a JNA `Structure` (what the binding did before), interleaved, in
// the bench thread's CPU time (not wall time: the figure holds on a loaded machine).
package io.chinwag.bench

import com.sun.jna.Memory
import com.sun.jna.Pointer
import io.chinwag.Message
import io.chinwag.ReceiverType
import io.chinwag.internal.chinwag_message
import io.chinwag.internal.messageOf
import java.lang.management.ManagementFactory

/** ns of thread CPU per conversion: (fixed offsets, JNA Structure). */
internal fun conversionCost(rounds: Int, perRound: Int): Pair<Double, Double> {
    val keep = ArrayList<Memory>()
    fun cs(s: String): Pointer {
        val b = s.toByteArray(Charsets.UTF_8)
        return Memory(b.size + 1L).also { m -> m.write(0, b, 0, b.size); m.setByte(b.size.toLong(), 0); keep += m }
    }
    // A message as the round trip's: a short text, the server's JSON of it.
    val msg = chinwag_message().apply {
        id = 1234567; muid = cs("0190f3c2-7a4e-7c1b-9d2e-5f3a8b6c4d21"); sender = cs("bench-1-3f9a2c"); receiver_type = 0
        receiver = cs("bench-2-8e1d4b"); conversation_id = cs("bench-1-3f9a2c_user_bench-2-8e1d4b"); category = cs("message")
        message_type = cs("text"); text = cs("round trip"); sent_at = 1_764_770_000_000L
        json = cs(
            """{"id":1234567,"muid":"0190f3c2-7a4e-7c1b-9d2e-5f3a8b6c4d21","sender":"bench-1-3f9a2c","receiver_type":"user",""" +
                """"receiver":"bench-2-8e1d4b","conversation_id":"bench-1-3f9a2c_user_bench-2-8e1d4b","category":"message",""" +
                """"type":"text","data":{"text":"round trip"},"sent_at":1764770000000,"edited_at":0,"deleted_at":0}""",
        )
        write()
    }
    val address = Pointer.nativeValue(msg.pointer)
    fun viaStructure(): Message {
        val e = chinwag_message(msg.pointer).apply { read() }
        fun str(p: Pointer?) = p?.getString(0, "UTF-8")
        return Message(
            e.id, str(e.muid) ?: "", str(e.sender) ?: "", ReceiverType.of(e.receiver_type), str(e.receiver) ?: "",
            str(e.conversation_id) ?: "", str(e.category) ?: "", str(e.message_type) ?: "", str(e.text), str(e.data_json),
            e.parent_id, e.sent_at, e.edited_at, e.deleted_at, str(e.json) ?: "",
        )
    }
    check(messageOf(address) == viaStructure())
    val threads = ManagementFactory.getThreadMXBean()
    var fast = 0L
    var slow = 0L
    var sink = 0
    repeat(rounds) {
        var t = threads.currentThreadCpuTime
        repeat(perRound) { sink += messageOf(address).json.length }
        fast += threads.currentThreadCpuTime - t
        t = threads.currentThreadCpuTime
        repeat(perRound) { sink += viaStructure().json.length }
        slow += threads.currentThreadCpuTime - t
    }
    check(sink != 0)
    java.lang.ref.Reference.reachabilityFence(keep)
    val n = rounds.toDouble() * perRound
    return fast / n to slow / n
}
