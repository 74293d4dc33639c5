package io.chinwag

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/** Messages of every kind, edits, deletes, history, typing, receipts, transient, presence, users, groups, calls. */
class ChatSurfaceTest {
    private class Side(val uid: String, val client: ChinwagClient, val rec: Recorder)

    private suspend fun pair(clients: Clients): Pair<Side, Side> {
        val a = TestServer.uid("alice")
        val b = TestServer.uid("bob")
        val (ca, ra) = clients.connected(a)
        val (cb, rb) = clients.connected(b)
        return Side(a, ca, ra) to Side(b, cb, rb)
    }

    private fun <T> future(): Pair<CompletableFuture<T>, Completion<T>> {
        val f = CompletableFuture<T>()
        return f to object : Completion<T> {
            override fun onSuccess(value: T) {
                f.complete(value)
            }
            override fun onError(error: ChinwagException) {
                f.completeExceptionally(error)
            }
        }
    }

    @Test
    fun `text, custom, media and any message`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, b) = pair(clients)
            val text = a.client.sendText(ReceiverType.USER, b.uid, "Hi Bob")
            assertTrue(text.id > 0 && text.sender == a.uid && text.receiver == b.uid && text.muid.length == 32)
            assertEquals(text, b.rec.waitFor<Message>("text"))
            assertTrue(text.json.contains("\"Hi Bob\""))

            val custom = a.client.sendCustom(ReceiverType.USER, b.uid, "location", """{"lat":52.5}""")
            val gotCustom = b.rec.waitFor<Message>("custom")
            assertEquals(custom.id, gotCustom.id)
            assertEquals("custom", gotCustom.category)
            assertEquals("location", gotCustom.type)
            assertEquals("""{"lat":52.5}""", gotCustom.dataJson)

            val media = a.client.sendMedia(ReceiverType.USER, b.uid, "image", "https://example.com/cat.png", caption = "cat")
            val gotMedia = b.rec.waitFor<Message>("media")
            assertEquals(media.id, gotMedia.id)
            assertEquals("image", gotMedia.type)
            assertEquals("cat", gotMedia.text)
            assertTrue(gotMedia.json.contains("https://example.com/cat.png"))

            val any = a.client.sendMessage(
                """{"muid":"kt-any-1","receiver_type":"user","receiver":"${b.uid}","type":"file","text":"the report",""" +
                    """"attachments":[{"url":"https://x/r.pdf","name":"r.pdf","size":123}]}""",
            )
            assertEquals("kt-any-1", any.muid)
            assertTrue(b.rec.waitFor<Message>("media") { it.id == any.id }.json.contains("r.pdf"))
            // Own messages are not echoed to the sender.
            assertTrue(a.rec.of<Message>("text").isEmpty())

            // The Java-friendly form: the muid at once, the message in the completion.
            val (f, completion) = future<Message>()
            val muid = a.client.sendText(ReceiverType.USER, b.uid, "with a completion", completion)
            assertEquals(32, muid.length)
            val sent = f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)
            assertEquals(muid, sent.muid)
            assertEquals("with a completion", sent.text)
        }
    }

    @Test
    fun `edit, delete and history paging`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, b) = pair(clients)
            val sent = (0 until 5).map { a.client.sendText(ReceiverType.USER, b.uid, "m$it") }
            b.rec.waitFor<Message>("text") { it.id == sent.last().id }

            val edited = a.client.editMessage(sent[1].id, text = "m1 (edited)", metadataJson = """{"edited":true}""")
            assertEquals("m1 (edited)", edited.text)
            assertTrue(edited.editedAt > 0)
            assertEquals(sent[1].id, b.rec.waitFor<Message>("edited").id)

            val deleted = a.client.deleteMessage(sent[2].id)
            assertTrue(deleted.deletedAt > 0)
            assertNull(deleted.text)
            assertEquals(sent[2].id, b.rec.waitFor<Message>("deleted").id)

            b.client.messagesRequest(ReceiverType.USER, a.uid, limit = 2).use { req ->
                val newest = req.previous()
                assertEquals(sent.subList(3, 5).map { it.id }, newest.messages.map { it.id })
                assertTrue(newest.hasMore)
                val older = req.previous()
                assertEquals(sent.subList(1, 3).map { it.id }, older.messages.map { it.id })
                assertEquals("m1 (edited)", older.messages[0].text)
                assertTrue(older.messages[1].deletedAt > 0)
                val oldest = req.previous()
                assertEquals(listOf(sent[0].id), oldest.messages.map { it.id })
                assertFalse(oldest.hasMore)
            }
            b.client.messagesRequest(ReceiverType.USER, a.uid, limit = 3, fromMessageId = sent[1].id).use { req ->
                val page = req.next()
                assertEquals(sent.subList(2, 5).map { it.id }, page.messages.map { it.id })
                assertFalse(page.hasMore)
            }
            // Completion form; and a closed request refuses clearly.
            val req = a.client.messagesRequest(ReceiverType.USER, b.uid, limit = 100)
            val (f, completion) = future<MessagePage>()
            req.previous(completion)
            assertEquals(5, f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS).messages.size)
            req.close()
            req.close()
            val e = assertThrows(ArgumentException::class.java) { req.previous(completion) }
            assertEquals(Codes.INVALID_ARGUMENT, e.code)
        }
    }

    @Test
    fun `typing, receipts and transient messages`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, b) = pair(clients)
            a.client.startTyping(ReceiverType.USER, b.uid)
            val typing = b.rec.waitFor<Typing>("typingStarted")
            assertEquals(a.uid, typing.sender)
            assertEquals(ReceiverType.USER, typing.receiverType)
            a.client.endTyping(ReceiverType.USER, b.uid)
            assertEquals(a.uid, b.rec.waitFor<Typing>("typingEnded").sender)

            val m = a.client.sendText(ReceiverType.USER, b.uid, "read me")
            b.rec.waitFor<Message>("text")
            b.client.markDelivered(m.id)
            val delivered = a.rec.waitFor<Receipt>("delivered")
            assertEquals(ReceiptKind.DELIVERED, delivered.kind)
            assertEquals(Triple(b.uid, m.id, a.uid), Triple(delivered.by, delivered.messageId, delivered.messageSender))
            b.client.markRead(m.id)
            val read = a.rec.waitFor<Receipt>("read")
            assertEquals(ReceiptKind.READ, read.kind)
            assertEquals(m.id, read.messageId)

            a.client.sendTransient(ReceiverType.USER, b.uid, """{"cursor":[3,4]}""")
            val t = b.rec.waitFor<Transient>("transient")
            assertEquals(a.uid, t.sender)
            assertEquals("""{"cursor":[3,4]}""", t.dataJson)
        }
    }

    @Test
    fun `presence of all users`() = runBlocking<Unit> {
        Clients().use { clients ->
            val a = TestServer.uid("alice")
            val b = TestServer.uid("bob")
            val (_, ra) = clients.connected(a) { it.copy(presence = Presence.ALL_USERS) }
            val (cb, _) = clients.connected(b)
            val online = ra.waitFor<PresenceChange>("online") { it.uid == b }
            assertEquals(UserStatus.ONLINE, online.status)
            cb.disconnect()
            val offline = ra.waitFor<PresenceChange>("offline") { it.uid == b }
            assertEquals(UserStatus.OFFLINE, offline.status)
            assertTrue(offline.lastActiveAt > 0)
        }
    }

    @Test
    fun `users and friends`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, b) = pair(clients)
            val user = a.client.getUser(b.uid)
            assertEquals(b.uid, user.uid)
            assertEquals(UserStatus.ONLINE, user.status)
            val prefix = a.uid.split("-").take(2).joinToString("-")
            a.client.usersRequest(search = prefix).use { req ->
                val page = req.next()
                assertEquals(listOf(a.uid), page.users.map { it.uid })
                assertFalse(page.hasMore)
            }
            a.client.usersRequest(limit = 2).use { req ->
                val seen = HashSet<String>()
                do {
                    val page = req.next()
                    assertTrue(page.users.size <= 2)
                    page.users.forEach { seen += it.uid }
                } while (page.hasMore)
                assertTrue(seen.containsAll(listOf(a.uid, b.uid)))
            }
            assertEquals(emptyList<User>(), a.client.friends())
            assertEquals(emptyList<User>(), a.client.addFriend(b.uid)) // an ask until b asks back
            assertEquals(listOf(a.uid), b.client.addFriend(a.uid).map { it.uid })
            assertEquals(listOf(b.uid), a.client.friends().map { it.uid })
            a.client.removeFriend(b.uid)
            assertEquals(emptyList<User>(), a.client.friends())
        }
    }

    @Test
    fun `groups - every operation and event`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, ca, ra) = TestServer.uid("alice").let { u -> clients.connected(u).let { Triple(u, it.first, it.second) } }
            val (b, cb, rb) = TestServer.uid("bob").let { u -> clients.connected(u).let { Triple(u, it.first, it.second) } }
            val (c, cc, rc) = TestServer.uid("carol").let { u -> clients.connected(u).let { Triple(u, it.first, it.second) } }
            val guid = "team-$a"

            val group = ca.createGroup(guid, "Team")
            assertEquals(guid, group.guid)
            assertEquals(a, group.owner)
            assertEquals("admin", group.scope)
            assertEquals(GroupType.PUBLIC, group.type)
            assertEquals(1L, group.membersCount)

            assertEquals("participant", cb.joinGroup(guid).scope)
            val joined = ra.waitFor<GroupMemberEvent>("memberJoined")
            assertEquals(Triple(GroupAction.JOINED, b, guid), Triple(joined.action, joined.member, joined.guid))

            val added = ca.addGroupMembers(guid, mapOf(c to Scope.MODERATOR))
            assertTrue(added.any { it.user.uid == c && it.scope == "moderator" })
            assertEquals(c, rc.waitFor<GroupMemberEvent>("memberAdded").member)

            val members = ca.groupMembers(guid).associate { it.user.uid to it.scope }
            assertEquals(mapOf(a to "admin", b to "participant", c to "moderator"), members)
            assertEquals(3L, ca.getGroup(guid).membersCount)
            assertTrue(cb.listGroups(joined = true).groups.any { it.guid == guid })
            assertTrue(ca.listGroups(joined = false, limit = 100).groups.any { it.guid == guid })

            val m = ca.sendText(ReceiverType.GROUP, guid, "hello team")
            for (rec in listOf(rb, rc)) {
                val got = rec.waitFor<Message>("text") { it.id == m.id }
                assertEquals(ReceiverType.GROUP, got.receiverType)
                assertEquals(guid, got.receiver)
            }

            val member = ca.changeGroupMemberScope(guid, b, Scope.MODERATOR)
            assertEquals(b to "moderator", member.user.uid to member.scope)
            val changed = rb.waitFor<GroupMemberEvent>("memberScopeChanged")
            assertEquals("moderator" to "participant", changed.scope to changed.oldScope)

            ca.kickGroupMember(guid, c)
            assertEquals(c, rc.waitFor<GroupMemberEvent>("memberKicked").member)
            ca.banGroupMember(guid, c)
            assertEquals(c, ra.waitFor<GroupMemberEvent>("memberBanned").member)
            val forbidden = runCatching { cc.joinGroup(guid) }.exceptionOrNull()
            assertTrue(forbidden is ServerException && forbidden.name == "FORBIDDEN", "$forbidden")
            ca.unbanGroupMember(guid, c)
            assertEquals(c, ra.waitFor<GroupMemberEvent>("memberUnbanned").member)
            cc.joinGroup(guid)

            cb.leaveGroup(guid)
            assertEquals(b, ra.waitFor<GroupMemberEvent>("memberLeft").member)
            val ownerLeaves = runCatching { ca.leaveGroup(guid) }.exceptionOrNull()
            assertTrue(ownerLeaves is ServerException && ownerLeaves.code == Codes.FORBIDDEN, "$ownerLeaves")

            val private = ca.createGroup("private-$a", "Private", GroupType.PRIVATE)
            assertEquals(GroupType.PRIVATE, private.type)
            ca.addGroupMembers(private.guid, mapOf(b to Scope.PARTICIPANT))
            assertEquals(b, rb.waitFor<GroupMemberEvent>("memberAdded") { it.guid == private.guid }.member)
        }
    }

    @Test
    fun `calls - accepted, busy, cancelled`() = runBlocking<Unit> {
        Clients().use { clients ->
            val (a, b) = pair(clients)
            val call = a.client.initiateCall(ReceiverType.USER, b.uid, CallType.VIDEO)
            assertEquals("initiated", call.status)
            assertEquals(a.uid, call.initiator)
            assertEquals("video", call.type)
            val incoming = b.rec.waitFor<Call>("incomingCall")
            assertEquals(call.sessionId, incoming.sessionId)
            assertEquals(call.sessionId, a.client.activeCall()?.sessionId)

            val accepted = b.client.acceptCall(incoming.sessionId)
            assertEquals("ongoing", accepted.status)
            assertTrue(accepted.joinedAt > 0)
            assertEquals(call.sessionId, b.client.activeCall()?.sessionId)
            assertEquals(call.sessionId, a.rec.waitFor<Call>("callAccepted").sessionId)
            assertEquals("ended", a.client.endCall(call.sessionId).status)
            assertEquals(call.sessionId, b.rec.waitFor<Call>("callEnded").sessionId)
            assertNull(a.client.activeCall())

            // Busy, with the Java-friendly form (the session id at once).
            val (f, completion) = future<Call>()
            val sid = a.client.initiateCall(ReceiverType.USER, b.uid, CallType.AUDIO, completion)
            assertEquals(sid, f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS).sessionId)
            b.rec.waitFor<Call>("incomingCall") { it.sessionId == sid }
            assertEquals("busy", b.client.rejectCall(sid, busy = true).status)
            assertEquals("busy", a.rec.waitFor<Call>("callRejected").status)

            val second = a.client.initiateCall(ReceiverType.USER, b.uid, CallType.AUDIO)
            b.rec.waitFor<Call>("incomingCall") { it.sessionId == second.sessionId }
            assertEquals("cancelled", a.client.cancelCall(second.sessionId).status)
            assertEquals(second.sessionId, b.rec.waitFor<Call>("callCancelled").sessionId)
            assertNotNull(second.json)
        }
    }
}
