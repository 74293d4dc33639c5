package io.chinwag.internal

import com.sun.jna.Pointer
import io.chinwag.ChinwagException
import io.chinwag.Codes
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.locks.LockSupport

/**
 * A client's native handle and its lifetime. Holds nothing of the public client, so a `Cleaner`
 * can free it once the client is unreachable.
 *
 * Calls enter through [use]: after [free] began they fail with `CLIENT_FREED` without touching
 * the handle, and [free] waits for calls already inside the library (all of them return at
 * once) before it frees the handle, so no call can reach a freed or reused address.
 */
internal class Core {
    /** Set once by init, before the client is handed out. */
    @Volatile lateinit var handle: Pointer

    private val closed = AtomicBoolean(false)
    private val inflight = AtomicInteger(0)

    val isClosed: Boolean get() = closed.get()

    inline fun <T> use(block: (Pointer) -> T): T {
        inflight.incrementAndGet()
        try {
            if (closed.get()) throw freed()
            return block(handle)
        } finally {
            inflight.decrementAndGet()
        }
    }

    /** The handle for calls that must not be counted (dispatch, which runs callbacks). */
    fun raw(): Pointer {
        if (closed.get()) throw freed()
        return handle
    }

    fun freed(): ChinwagException =
        ChinwagException.of(Codes.CLIENT_FREED, "CLIENT_FREED", "the client was closed")

    /** Idempotent. Resolves pending completions with CANCELLED and releases every listener. */
    fun free() {
        if (!closed.compareAndSet(false, true)) return
        // Calls that entered before the flag are inside non-blocking C functions: wait them out.
        val deadline = System.nanoTime() + 5_000_000_000L
        while (inflight.get() > 0 && System.nanoTime() < deadline) LockSupport.parkNanos(50_000)
        Lib.chinwag_client_free(handle)
    }
}
