package io.chinwag.internal

import com.sun.jna.Native
import com.sun.jna.Pointer
import java.nio.charset.StandardCharsets

/**
 * Reads of payload memory the library lends to a callback (structs, NUL-terminated UTF-8).
 *
 * Through `sun.misc.Unsafe` when the JVM has it: its reads are compiled to plain loads, where
 * each JNA `Pointer` read is a JNI call (a Java -> native -> Java transition; converting one
 * message took 25 of them). JNA's reads otherwise. Either way only addresses the library
 * handed over, within the struct layouts HeaderTest checks, are read.
 */
internal val Mem = MemReads(useUnsafe = true)

/** [Mem]'s reads; `useUnsafe = false` (or no Unsafe in this JVM): JNA's (tests compare both). */
internal class MemReads(useUnsafe: Boolean) {
    private val unsafe: sun.misc.Unsafe? = if (!useUnsafe) null else try {
        val c = sun.misc.Unsafe::class.java
        val j = Long::class.javaPrimitiveType
        // Every method used here must exist (some runtimes, older Android ones, lack some).
        c.getMethod("getLong", j); c.getMethod("getInt", j); c.getMethod("getByte", j)
        c.getMethod("arrayBaseOffset", Class::class.java)
        c.getMethod("copyMemory", Any::class.java, j, Any::class.java, j, j)
        val f = c.getDeclaredField("theUnsafe")
        f.isAccessible = true
        (f.get(null) as sun.misc.Unsafe).takeIf { Native.POINTER_SIZE == 8 }
    } catch (e: ReflectiveOperationException) {
        null
    } catch (e: RuntimeException) {
        null // SecurityException, InaccessibleObjectException: use JNA
    } catch (e: LinkageError) {
        null // no sun.misc.Unsafe at all
    }
    private val byteArrayBase = unsafe?.arrayBaseOffset(ByteArray::class.java)?.toLong() ?: 0L

    /** Whether reads bypass JNI. */
    val direct: Boolean get() = unsafe != null

    fun long(address: Long): Long = unsafe?.getLong(address) ?: Pointer(address).getLong(0)

    fun int(address: Long): Int = unsafe?.getInt(address) ?: Pointer(address).getInt(0)

    fun byte(address: Long): Byte = unsafe?.getByte(address) ?: Pointer(address).getByte(0)

    /** The NUL-terminated UTF-8 string at [address]; null for 0. */
    fun string(address: Long): String? {
        if (address == 0L) return null
        val u = unsafe ?: return Pointer(address).getString(0, "UTF-8")
        var len = 0L
        while (u.getByte(address + len) != 0.toByte()) len++
        val bytes = ByteArray(len.toInt())
        u.copyMemory(null, address, bytes, byteArrayBase, len)
        return String(bytes, StandardCharsets.UTF_8)
    }
}
