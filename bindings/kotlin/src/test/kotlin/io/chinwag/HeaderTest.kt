package io.chinwag

import com.sun.jna.Callback
import com.sun.jna.Pointer
import com.sun.jna.Structure
import io.chinwag.internal.C
import io.chinwag.internal.CStruct
import io.chinwag.internal.Lib
import io.chinwag.internal.Loader
import io.chinwag.internal.req
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.lang.reflect.Modifier
import java.util.concurrent.TimeUnit

/**
 * The JNA layer against include/chinwag.h: every struct's size and field offsets (compiled by the
 * C compiler), every #define, every function with each parameter's kind. The two cannot drift.
 */
class HeaderTest {
    private val header = File(REPO, "include/chinwag.h").readText()

    private fun structClasses(): Map<String, Class<out CStruct>> {
        val names = Regex("""^typedef struct (chinwag_\w+) \{""", RegexOption.MULTILINE).findAll(header).map { it.groupValues[1] }.toList()
        assertTrue(names.size > 20)
        return names.associateWith {
            @Suppress("UNCHECKED_CAST")
            Class.forName("io.chinwag.internal.$it") as Class<out CStruct>
        }
    }

    private fun fieldsOf(c: Class<out CStruct>): List<String> =
        c.getAnnotation(Structure.FieldOrder::class.java).value.toList()

    @Test
    fun `every struct of the header is mirrored with the C compiler's layout`(@TempDir tmp: File) {
        val structs = structClasses()
        val defines = Regex("""^#define (CHINWAG_\w+) (\d+)$""", RegexOption.MULTILINE).findAll(header).map { it.groupValues[1] }.toList()
        val src = buildString {
            appendLine("#include <stdio.h>")
            appendLine("#include <stddef.h>")
            appendLine("#include \"chinwag.h\"")
            appendLine("int main(void) {")
            for ((name, cls) in structs) {
                appendLine("  printf(\"$name %zu %zu\\n\", sizeof($name), _Alignof($name));")
                for (f in fieldsOf(cls)) appendLine("  printf(\"$name.$f %zu\\n\", offsetof($name, $f));")
            }
            for (d in defines) appendLine("  printf(\"$d %lld\\n\", (long long)($d));")
            appendLine("  return 0;")
            appendLine("}")
        }
        File(tmp, "layout.c").writeText(src)
        val cc = System.getenv("CC") ?: "cc"
        run(listOf(cc, "-std=c11", "-Wall", "-Werror", "-I${File(REPO, "include")}", File(tmp, "layout.c").path, "-o", File(tmp, "layout").path))
        val out = run(listOf(File(tmp, "layout").path))
        val got = out.lines().filter { it.isNotBlank() }.associate { line ->
            val parts = line.split(" ")
            parts[0] to parts.drop(1).map { it.toLong() }
        }
        for ((name, cls) in structs) {
            val s = cls.getDeclaredConstructor(Pointer::class.java).newInstance(null)
            // The C fields, in order, are exactly the mirror's.
            val body = Regex("""typedef struct $name \{(.*?)\} $name;""", RegexOption.DOT_MATCHES_ALL).find(header)!!.groupValues[1]
            val cFields = body.lines().map { it.trim() }.filter { it.isNotEmpty() && !it.startsWith("//") }
                .map { Regex("""(\w+);$""").find(it)!!.groupValues[1] }
            assertEquals(cFields, fieldsOf(cls), "$name fields")
            assertEquals(got.getValue(name)[0], s.size().toLong(), "sizeof($name)")
            for (f in fieldsOf(cls)) assertEquals(got.getValue("$name.$f")[0], s.offsetOf(f).toLong(), "offsetof($name, $f)")
        }
        // Every #define: the header's text, the compiler and the Kotlin constants agree.
        val constants = C::class.java.declaredFields.filter { Modifier.isStatic(it.modifiers) && it.name.startsWith("CHINWAG_") }
            .associate { it.name to (it.get(null) as Int).toLong() }
        val expected = defines.filter { !it.startsWith("CHINWAG_VERSION_") }.associateWith { got.getValue(it)[0] }
        assertEquals(expected, constants)
    }

    @Test
    fun `enums and result codes match the constants both ways`() {
        val defines = Regex("""^#define CHINWAG_(\w+) (\d+)$""", RegexOption.MULTILINE).findAll(header)
            .associate { it.groupValues[1] to it.groupValues[2].toInt() }
        val enums: Map<String, Array<out CodedEnum>> = mapOf(
            "CONNECTION_STATE" to ConnectionState.entries.toTypedArray(),
            "STATE_REASON" to StateReason.entries.toTypedArray(),
            "RECEIVER_TYPE" to ReceiverType.entries.toTypedArray(),
            "CALL_TYPE" to CallType.entries.toTypedArray(),
            "PRESENCE" to Presence.entries.toTypedArray(),
            "NETWORK" to Network.entries.toTypedArray(),
            "APP_STATE" to AppState.entries.toTypedArray(),
            "DISPATCH_MODE" to DispatchMode.entries.toTypedArray(),
            "CONNECT_MODE" to ConnectMode.entries.toTypedArray(),
            "GROUP_TYPE" to GroupType.entries.toTypedArray(),
            "SCOPE" to Scope.entries.toTypedArray(),
            "USER_STATUS" to UserStatus.entries.toTypedArray(),
            "RECEIPT_KIND" to ReceiptKind.entries.toTypedArray(),
            "GROUP_ACTION" to GroupAction.entries.toTypedArray(),
            "LOG_LEVEL" to LogLevel.entries.toTypedArray(),
        )
        for ((prefix, values) in enums) {
            val fromHeader = defines.filterKeys { it.startsWith("${prefix}_") }.mapKeys { it.key.removePrefix("${prefix}_") }
            val ours = values.associate { (it as Enum<*>).name to it.code }
            assertEquals(fromHeader, ours, prefix)
        }
        val codes = Codes::class.java.declaredFields.filter { Modifier.isStatic(it.modifiers) && it.type == Int::class.javaPrimitiveType }
            .associate { it.name to it.getInt(null) }
        assertEquals(defines.filterKeys { it.startsWith("RESULT_") }.mapKeys { it.key.removePrefix("RESULT_") }, codes)
        // The library names them the same way.
        Loader.ensure()
        for ((name, code) in codes) assertEquals(name, Lib.chinwag_result_name(code).req())
        for (s in ConnectionState.entries) assertEquals(s.name, Lib.chinwag_connection_state_name(s.code).req())
        for (r in StateReason.entries) assertEquals(r.name, Lib.chinwag_state_reason_name(r.code).req())
        assertEquals("UNKNOWN", Lib.chinwag_result_name(123456).req())
        // Each code maps to its family's exception.
        assertTrue(ChinwagException.of(Codes.TEXT_TOO_LONG, "TEXT_TOO_LONG", "") is ArgumentException)
        assertTrue(ChinwagException.of(Codes.NOT_CONNECTED, "NOT_CONNECTED", "") is StateException)
        assertTrue(ChinwagException.of(Codes.CANCELLED, "CANCELLED", "") is CancelledException)
        assertTrue(ChinwagException.of(Codes.TIMEOUT, "TIMEOUT", "") is NetworkException)
        assertTrue(ChinwagException.of(Codes.FORBIDDEN, "FORBIDDEN", "") is ServerException)
        assertTrue(ChinwagException.of(Codes.QUEUE_FULL, "QUEUE_FULL", "") is QueueException)
        assertTrue(ChinwagException.of(Codes.STORAGE, "STORAGE", "") is LibraryException)
    }

    @Test
    fun `every function of the header is bound with matching parameters`() {
        val u32 = Regex("""^typedef uint32_t (\w+);""", RegexOption.MULTILINE).findAll(header).map { it.groupValues[1] }.toSet() + "uint32_t"
        val callbacks = Regex("""^typedef \w+ \(\*(\w+)\)""", RegexOption.MULTILINE).findAll(header).map { it.groupValues[1] }.toSet() +
            Regex("""^typedef (chinwag_\w+_cb) (chinwag_\w+_cb);""", RegexOption.MULTILINE).findAll(header).map { it.groupValues[2] }
        val body = header.substring(header.indexOf("extern \"C\" {"))
        val decls = Regex("""^(const char \*|\w+ )(chinwag_\w+)\(([^;]*?)\);""", setOf(RegexOption.MULTILINE, RegexOption.DOT_MATCHES_ALL))
            .findAll(body).associate { it.groupValues[2] to (it.groupValues[1].trim() to it.groupValues[3].split(Regex("\\s+")).joinToString(" ")) }
        val bound = Lib::class.java.declaredMethods.filter { Modifier.isNative(it.modifiers) }.associateBy { it.name }
        assertEquals(decls.keys.sorted(), bound.keys.sorted(), "functions")
        fun kind(ctype: String): Set<Class<*>> {
            val t = ctype.replace("const ", "").replace("struct ", "").replace(" ", "")
            return when {
                // Out-parameters: one-element primitive arrays (see Native.kt).
                t.endsWith("**") -> setOf(LongArray::class.java, Pointer::class.java)
                t == "char*" -> setOf(ByteArray::class.java, Pointer::class.java)
                t == "size_t*" -> setOf(LongArray::class.java)
                t == "int*" || (t.endsWith("*") && t.dropLast(1) in u32) && t != "chinwag_scope*" -> setOf(IntArray::class.java)
                t == "chinwag_scope*" -> setOf(IntArray::class.java)
                t.endsWith("*") -> setOf(Pointer::class.java, Structure::class.java)
                t in callbacks -> setOf(Callback::class.java, Pointer::class.java) // a trampoline's address
                t in u32 || t == "int" -> setOf(Int::class.javaPrimitiveType!!)
                t == "int64_t" || t == "size_t" || t == "uint64_t" -> setOf(Long::class.javaPrimitiveType!!)
                t == "bool" -> setOf(Boolean::class.javaPrimitiveType!!)
                t == "void" -> setOf(Void.TYPE)
                else -> error("unmapped C type $ctype")
            }
        }
        for ((name, decl) in decls) {
            val (ret, args) = decl
            val m = bound.getValue(name)
            val params = if (args == "void") emptyList() else args.split(",").map { a ->
                val last = a.trim().split(" ").last()
                a.trim().removeSuffix(last).trim() + "*".repeat(last.count { it == '*' })
            }
            assertEquals(params.size, m.parameterCount, "$name: parameter count")
            params.zip(m.parameterTypes).forEachIndexed { i, (ctype, jtype) ->
                assertTrue(kind(ctype).any { it.isAssignableFrom(jtype) }, "$name parameter $i: C $ctype, bound as ${jtype.simpleName}")
            }
            val r = when (ret) {
                "const char *" -> Pointer::class.java
                "void" -> Void.TYPE
                else -> Int::class.javaPrimitiveType
            }
            assertEquals(r, m.returnType, "$name: return type")
        }
        // Every exported symbol is bound.
        val nm = ProcessBuilder("nm", "-D", "--defined-only", ChinwagClient.libraryPath()).start()
        val exported = nm.inputStream.bufferedReader().readLines().filter { " T " in it }.map { it.split(" ").last() }
            .filter { it.startsWith("chinwag_") }.toSet()
        nm.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        assertEquals(exported, bound.keys)
    }

    @Test
    fun `version and ABI of the loaded library`() {
        val cargo = File(REPO, "Cargo.toml").readText()
        val version = Regex("""(?m)^version = "([^"]+)"""").find(cargo)!!.groupValues[1]
        assertEquals(version, ChinwagClient.version())
        assertEquals(C.CHINWAG_ABI_VERSION, ChinwagClient.abiVersion())
    }

    private fun run(cmd: List<String>): String {
        val p = ProcessBuilder(cmd).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "$cmd timed out")
        assertEquals(0, p.exitValue(), "$cmd failed:\n$out")
        return out
    }
}
