package io.chinwag

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.UUID
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/** Users created with the auth key, the typed logged-in user, the listener grace setting. */
class AccountTest {
    private fun freshUid(prefix: String) = "$prefix-${UUID.randomUUID().toString().take(8)}"

    private fun <T> future(): Pair<CompletableFuture<T>, Completion<T>> {
        val f = CompletableFuture<T>()
        return f to object : Completion<T> {
            override fun onSuccess(value: T) { f.complete(value) }
            override fun onError(error: ChinwagException) { f.completeExceptionally(error) }
        }
    }

    @Test
    fun `createUser makes a user that can log in, a taken uid is USER_EXISTS, a wrong key AUTH_FAILED`() = runBlocking<Unit> {
        Clients().use { clients ->
            val client = clients.make { it.copy(autoConnect = false) }
            val uid = freshUid("made")
            val made = client.createUser(uid, "Made Here", AUTH_KEY)
            assertEquals(uid, made.uid)
            assertEquals("Made Here", made.name)
            assertTrue(made.json.contains(uid), made.json)

            val exists = assertThrows(ServerException::class.java) { runBlocking { client.createUser(uid, authKey = AUTH_KEY) } }
            assertEquals(Codes.USER_EXISTS, exists.code)
            assertEquals("USER_EXISTS", exists.name)

            val wrongKey = assertThrows(ServerException::class.java) { runBlocking { client.createUser(freshUid("nokey"), authKey = "wrong key") } }
            assertEquals(Codes.AUTH_FAILED, wrongKey.code)

            // Synchronous refusals: a malformed uid, an empty name.
            val badUid = assertThrows(ArgumentException::class.java) { runBlocking { client.createUser("no spaces allowed", authKey = AUTH_KEY) } }
            assertEquals(Codes.INVALID_ARGUMENT, badUid.code)
            val emptyName = assertThrows(ArgumentException::class.java) { runBlocking { client.createUser(freshUid("empty"), "", AUTH_KEY) } }
            assertEquals(Codes.INVALID_ARGUMENT, emptyName.code)

            // The Completion variant; no name: the uid is the name.
            val plain = freshUid("plain")
            val (ok, okCompletion) = future<User>()
            client.createUser(plain, null, AUTH_KEY, okCompletion)
            val user = ok.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)
            assertEquals(plain, user.uid)
            assertEquals(plain, user.name)
            val (again, againCompletion) = future<User>()
            client.createUser(plain, null, AUTH_KEY, againCompletion)
            val e = assertThrows(ExecutionException::class.java) { again.get(TIMEOUT_MS, TimeUnit.MILLISECONDS) }
            assertEquals(Codes.USER_EXISTS, (e.cause as ServerException).code)

            // The created user logs in.
            assertEquals(uid, client.login(uid, AUTH_KEY).uid)
            assertEquals("Made Here", client.loggedInUser()?.name)
        }
    }

    @Test
    fun `loggedInUser is the typed user of the login, and null before login and after logout`() = runBlocking<Unit> {
        Clients().use { clients ->
            val client = clients.make { it.copy(autoConnect = false) }
            assertNull(client.loggedInUser())
            val uid = TestServer.uid("typed", role = "moderator")
            val login = client.login(uid, AUTH_KEY)
            val user = client.loggedInUser()
            assertEquals(login.uid, user?.uid)
            assertEquals(login.name, user?.name)
            assertEquals("moderator", user?.role)
            assertEquals(login.deactivated, user?.deactivated)
            assertTrue(user!!.json.contains("\"uid\":\"$uid\""), user.json)
            client.logout()
            assertNull(client.loggedInUser())
        }
    }

    @Test
    fun `listenerGraceMs reaches the library, which checks its bounds`() {
        val tooLong = assertThrows(ArgumentException::class.java) {
            ChinwagClient.init(APP_ID, ClientSettings(TestServer.shared.url, listenerGraceMs = 60_001))
        }
        assertTrue(tooLong.detail.contains("listener_grace"), tooLong.detail)
        ChinwagClient.init(APP_ID, ClientSettings.builder(TestServer.shared.url).listenerGraceMs(60_000).build()).use {
            assertEquals(60_000, it.settings.listenerGraceMs)
        }
    }
}
