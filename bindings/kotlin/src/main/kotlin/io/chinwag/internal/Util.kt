package io.chinwag.internal

import com.sun.jna.Pointer
import com.sun.jna.ptr.LongByReference
import com.sun.jna.ptr.PointerByReference
import io.chinwag.ChinwagException
import io.chinwag.Codes
import java.nio.ByteBuffer
import java.nio.CharBuffer
import java.nio.charset.CharacterCodingException
import java.nio.charset.CodingErrorAction
import java.nio.charset.StandardCharsets

/** [s] as NUL-terminated UTF-8; a NUL inside or a lone surrogate is a clear argument error. */
internal fun cstr(s: String, what: String): ByteArray {
    if (s.indexOf('\u0000') >= 0) {
        throw ChinwagException.of(Codes.INVALID_ARGUMENT, "INVALID_ARGUMENT", "$what contains a NUL character")
    }
    val encoder = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
    val bytes: ByteBuffer = try {
        encoder.encode(CharBuffer.wrap(s))
    } catch (e: CharacterCodingException) {
        throw ChinwagException.of(Codes.INVALID_UTF8, "INVALID_UTF8", "$what is not valid Unicode (a lone surrogate)")
    }
    val out = ByteArray(bytes.remaining() + 1)
    bytes.get(out, 0, out.size - 1)
    return out
}

internal fun cstrOrNull(s: String?, what: String): ByteArray? = s?.let { cstr(it, what) }

internal fun resultName(code: Int): String = Lib.chinwag_result_name(code).req()

/** The calling thread's last error message (right after a failed call, on the same thread). */
internal fun lastErrorMessage(): String {
    val buf = ByteArray(1024)
    val written = LongByReference()
    if (Lib.chinwag_last_error_message(buf, buf.size.toLong(), written) != Codes.OK) return ""
    return String(buf, 0, written.value.toInt(), StandardCharsets.UTF_8)
}

/** Throws the exception of a failed synchronous call. */
internal fun ok(rc: Int) {
    if (rc != Codes.OK) throw ChinwagException.of(rc, resultName(rc), lastErrorMessage())
}

/** Takes an owned string out of `char **out` and frees it. */
internal fun PointerByReference.takeString(): String? {
    val p: Pointer = value ?: return null
    try {
        return p.getString(0, "UTF-8")
    } finally {
        Lib.chinwag_string_free(p)
    }
}
