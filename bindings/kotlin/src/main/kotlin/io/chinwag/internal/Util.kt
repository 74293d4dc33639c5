package io.chinwag.internal

import com.sun.jna.Pointer
import io.chinwag.ChinwagException
import io.chinwag.Codes
import java.nio.charset.StandardCharsets

/** [s] as NUL-terminated UTF-8; a NUL inside or a lone surrogate is a clear argument error. */
internal fun cstr(s: String, what: String): ByteArray {
    // One pass checks what String.getBytes would silently replace; the encoding itself is then
    // the JDK's intrinsic (no encoder or buffer per call: this runs on every send).
    var i = 0
    while (i < s.length) {
        val ch = s[i]
        if (ch == '\u0000') {
            throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "$what contains a NUL character")
        }
        if (Character.isSurrogate(ch)) {
            if (!Character.isHighSurrogate(ch) || i + 1 == s.length || !Character.isLowSurrogate(s[i + 1])) {
                throw ChinwagException.of(Codes.INVALID_UTF8, "INVALID_UTF8", "$what is not valid Unicode (a lone surrogate)")
            }
            i++
        }
        i++
    }
    val bytes = s.toByteArray(StandardCharsets.UTF_8)
    return bytes.copyOf(bytes.size + 1)
}

internal fun cstrOrNull(s: String?, what: String): ByteArray? = s?.let { cstr(it, what) }

internal fun resultName(code: Int): String = Lib.chinwag_result_name(code).req()

/** The calling thread's last error message (right after a failed call, on the same thread). */
internal fun lastErrorMessage(): String {
    val buf = ByteArray(1024)
    val written = LongArray(1)
    if (Lib.chinwag_last_error_message(buf, buf.size.toLong(), written) != Codes.OK) return ""
    return String(buf, 0, written[0].toInt(), StandardCharsets.UTF_8)
}

/** Throws the exception of a failed synchronous call. */
internal fun ok(rc: Int) {
    if (rc != Codes.OK) throw ChinwagException.of(rc, resultName(rc), lastErrorMessage())
}

/** The address an out-parameter (`T **out`, a one-element array) received; null for NULL. */
internal fun LongArray.ptr(): Pointer? = if (this[0] == 0L) null else Pointer(this[0])

/** Takes an owned string out of `char **out` and frees it. */
internal fun LongArray.takeString(): String? {
    val p: Pointer = ptr() ?: return null
    try {
        return Mem.string(this[0])
    } finally {
        Lib.chinwag_string_free(p)
    }
}

/** A call that returned OK without its out-parameter: a library bug, said as such. */
internal fun noHandle(function: String): ChinwagException =
    ChinwagException.of(Codes.INTERNAL, "INTERNAL", "$function returned OK without a handle")
