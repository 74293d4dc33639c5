package io.chinwag

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Conversations, blocking and mentions against the real server: the list with the other user,
 * the last message, unread and unread-mentions counts; totals; a read heard on the other
 * device; deleting a conversation for oneself; a blocked user's message refused; bad input.
 */
class ConversationsTest {
    @Test
    fun `list, counts, mentions, two devices, delete`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (ca, _) = clients.connected(a)
            val (phone, _) = clients.connected(b)
            val (laptop, rLaptop) = clients.connected(b)

            ca.sendText(ReceiverType.USER, b, "hello")
            val mention = ca.sendText(ReceiverType.USER, b, "look <@uid:$b>")
            assertEquals(listOf(b), mention.mentionedUsers)
            assertFalse(mention.mentionsMe)
            assertTrue(rLaptop.waitFor<Message>("text") { it.id == mention.id }.mentionsMe)

            phone.conversationsRequest().use { req ->
                val page = req.next()
                assertEquals(1, page.conversations.size)
                assertFalse(page.hasMore)
                val c = page.conversations[0]
                assertEquals("user:" + listOf(a, b).sorted().joinToString(":"), c.conversationId)
                assertEquals(a, c.withId)
                assertEquals(ReceiverType.USER, c.conversationType)
                assertEquals(a, c.user?.uid)
                assertEquals(null, c.group)
                assertEquals(mention.id, c.lastMessage?.id)
                assertTrue(c.lastMessage?.mentionsMe == true)
                assertEquals(2L, c.unreadCount)
                assertEquals(1L, c.unreadMentionsCount)
                assertTrue(req.next().conversations.isEmpty())
            }
            val counts = laptop.unreadCounts()
            assertEquals(2L, counts.total)
            assertEquals(mapOf(a to 2L), counts.users)
            assertTrue(counts.groups.isEmpty())
            assertEquals(0L, ca.getConversation(b).unreadCount)

            phone.markRead(mention.id)
            val update = rLaptop.waitFor<Conversation>("conversationUpdated") { it.withId == a && it.unreadCount == 0L }
            assertEquals(0L, update.unreadMentionsCount)
            assertEquals(mention.id, update.lastReadMessageId)
            phone.conversationsRequest(conversationType = ReceiverType.GROUP).use { assertTrue(it.next().conversations.isEmpty()) }
            phone.conversationsRequest(unreadOnly = true).use { assertTrue(it.next().conversations.isEmpty()) }

            laptop.deleteConversation(a)
            assertTrue(rLaptop.waitFor<Conversation>("conversationUpdated") { it.deleted }.withId == a)
            val missing = assertThrows(ServerException::class.java) { runBlocking { phone.getConversation(a) } }
            assertEquals("NOT_FOUND", missing.name)
        }
    }

    @Test
    fun `threads count replies and page them`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (ca, _) = clients.connected(a)
            val (cb, rb) = clients.connected(b)
            val parent = ca.sendText(ReceiverType.USER, b, "a question")
            val replies = listOf("one", "two").map {
                ca.sendMessage("""{"receiver_type":"user","receiver":"$b","text":"$it","parent_id":${parent.id}}""")
            }
            assertTrue(replies.all { it.parentId == parent.id })
            val updated = rb.waitFor<Message>("threadUpdated") { it.id == parent.id && it.replyCount == 2L }
            assertEquals(replies[1].sentAt, updated.lastReplyAt)
            cb.threadRequest(parent.id, limit = 1).use { req ->
                val newest = req.previous()
                assertEquals(listOf(replies[1].id), newest.messages.map { it.id })
                assertTrue(newest.hasMore)
                assertEquals(listOf(replies[0].id), req.previous().messages.map { it.id })
            }
            assertThrows(ArgumentException::class.java) { cb.threadRequest(0) }
        }
    }

    @Test
    fun `blocking and bad input`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (ca, _) = clients.connected(a)
            val (cb, _) = clients.connected(b)
            val blocked = cb.blockUser(a)
            assertEquals(listOf(a), blocked.map { it.uid })
            assertTrue(blocked[0].json.contains("\"blocked_by_me\":true"))
            val refused = assertThrows(ServerException::class.java) { runBlocking { ca.sendText(ReceiverType.USER, b, "hi?") } }
            assertEquals("FORBIDDEN", refused.name)
            assertTrue(refused.message!!.contains("BLOCKED"), refused.message)
            assertEquals(listOf(a), cb.blockedUsers().map { it.uid })
            cb.unblockUser(a)
            assertTrue(cb.blockedUsers().isEmpty())
            assertNotNull(ca.sendText(ReceiverType.USER, b, "unblocked"))

            assertThrows(ArgumentException::class.java) { cb.conversationsRequest(limit = 101) }
            assertThrows(ArgumentException::class.java) { runBlocking { cb.getConversation("") } }
            assertThrows(ArgumentException::class.java) { runBlocking { cb.blockUser("") } }
            val req = cb.conversationsRequest()
            req.close()
            assertThrows(ArgumentException::class.java) { runBlocking { req.next() } }
        }
    }
}
