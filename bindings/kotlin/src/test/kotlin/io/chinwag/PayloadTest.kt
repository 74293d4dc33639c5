package io.chinwag

import com.sun.jna.Memory
import com.sun.jna.Pointer
import io.chinwag.internal.Loader
import io.chinwag.internal.Mem
import io.chinwag.internal.MemReads
import io.chinwag.internal.chinwag_group_member
import io.chinwag.internal.chinwag_message
import io.chinwag.internal.directListeners
import io.chinwag.internal.memberOf
import io.chinwag.internal.messageOf
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The payload readers (fixed offsets, `Unsafe` reads, JNA's as the fallback) against JNA's
 * `Structure` reading of the same C memory: every field, NULL optional strings, non-ASCII
 * UTF-8, a struct nested in another. The fast paths are in use on this JVM, so an upgrade
 * that silently loses them is noticed.
 */
class PayloadTest {
    private val keep = ArrayList<Memory>()

    private fun cs(s: String?): Pointer? = s?.let { v ->
        val b = v.toByteArray(Charsets.UTF_8)
        Memory(b.size + 1L).also { m -> m.write(0, b, 0, b.size); m.setByte(b.size.toLong(), 0); keep += m }
    }

    @Test
    fun `the fast paths are in use`() {
        Loader.ensure()
        assertTrue(Mem.direct, "payloads are read with Unsafe")
        assertTrue(directListeners, "listener structs carry JNA's direct trampolines")
    }

    @Test
    fun `both readers read the same strings and numbers`() {
        val jna = MemReads(useUnsafe = false)
        assertTrue(!jna.direct)
        for (s in listOf("", "a", "round trip", "é ü ß — 日本語 🎉", "x".repeat(5000))) {
            val p = cs(s)!!
            val a = Pointer.nativeValue(p)
            assertEquals(s, Mem.string(a))
            assertEquals(s, jna.string(a))
        }
        assertNull(Mem.string(0))
        assertNull(jna.string(0))
        val m = Memory(16).apply { setLong(0, -1234567890123L); setInt(8, -42); setByte(12, 7) }
        val a = Pointer.nativeValue(m)
        for (r in listOf(Mem, jna)) {
            assertEquals(-1234567890123L, r.long(a))
            assertEquals(-42, r.int(a + 8))
            assertEquals(7.toByte(), r.byte(a + 12))
        }
    }

    @Test
    fun `a message reads as JNA's Structure reads it`() {
        val s = chinwag_message().apply {
            id = 9_007_199_254_740_993L
            muid = cs("muid-1"); sender = cs("alice"); receiver_type = ReceiverType.GROUP.code; receiver = cs("grp-ü")
            conversation_id = cs("group_grp-ü"); category = cs("message"); message_type = cs("text")
            text = cs("héllo 🎉"); data_json = null; parent_id = 7; sent_at = 1_700_000_000_000L
            edited_at = 0; deleted_at = -1; json = cs("""{"id":9007199254740993,"text":"héllo 🎉"}""")
            write()
        }
        val read = chinwag_message(s.pointer).apply { read() }
        fun str(p: Pointer?) = p?.getString(0, "UTF-8")
        val expected = Message(
            read.id, str(read.muid)!!, str(read.sender)!!, ReceiverType.of(read.receiver_type), str(read.receiver)!!,
            str(read.conversation_id)!!, str(read.category)!!, str(read.message_type)!!, str(read.text), str(read.data_json),
            read.parent_id, read.sent_at, read.edited_at, read.deleted_at, str(read.json)!!,
        )
        assertEquals(expected, messageOf(Pointer.nativeValue(s.pointer)))
        assertNull(messageOf(Pointer.nativeValue(s.pointer)).dataJson)
    }

    @Test
    fun `a member reads its nested user at the nested offset`() {
        val s = chinwag_group_member().apply {
            user.uid = cs("bob"); user.name = cs("Bob"); user.avatar = null; user.role = cs("default")
            user.status = UserStatus.ONLINE.code; user.last_active_at = 123; user.deactivated = 1; user.json = cs("""{"uid":"bob"}""")
            scope = cs("admin"); joined_at = 456; json = cs("""{"scope":"admin"}""")
            write()
        }
        val m = memberOf(Pointer.nativeValue(s.pointer))
        assertEquals(GroupMember(User("bob", "Bob", null, "default", UserStatus.ONLINE, 123, true, """{"uid":"bob"}"""), "admin", 456, """{"scope":"admin"}"""), m)
    }
}
