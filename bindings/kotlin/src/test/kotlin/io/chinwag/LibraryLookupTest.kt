package io.chinwag

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.concurrent.TimeUnit

/** Finding libchinwag: each step of the lookup, in a child JVM with a clean environment. */
class LibraryLookupTest {
    private val lib: File = File(System.getProperty("chinwag.library.dir") ?: "$REPO/target/debug", "libchinwag.so")

    private fun probe(props: Map<String, String> = emptyMap(), env: Map<String, String> = emptyMap()): List<String> {
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val java = File(System.getProperty("java.home"), "bin/java").path
        val cmd = listOf(java, "-cp", cp) + props.map { "-D${it.key}=${it.value}" } + "io.chinwag.LookupProbe"
        val pb = ProcessBuilder(cmd).redirectErrorStream(true)
        pb.environment().remove("CHINWAG_LIBRARY")
        pb.environment().remove("LD_LIBRARY_PATH")
        pb.environment().putAll(env)
        val p = pb.start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS))
        assertEquals(0, p.exitValue(), out)
        return out.lines()
    }

    @Test
    fun `an explicit path wins - property or environment variable`() {
        val byProperty = probe(mapOf("chinwag.library.path" to lib.path))
        assertEquals("FOUND -Dchinwag.library.path", byProperty[0])
        assertEquals(lib.canonicalPath, File(byProperty[1]).canonicalPath)
        val byEnv = probe(env = mapOf("CHINWAG_LIBRARY" to lib.path))
        assertEquals("FOUND \$CHINWAG_LIBRARY", byEnv[0])
        assertEquals(lib.canonicalPath, File(byEnv[1]).canonicalPath)
    }

    @Test
    fun `an explicit path that does not work is an error, not a fallback`(@TempDir tmp: File) {
        val missing = File(tmp, "nope/libchinwag.so").path
        val out = probe(env = mapOf("CHINWAG_LIBRARY" to missing)).joinToString("\n")
        assertTrue(out.startsWith("NOTFOUND LibraryNotFoundException"), out)
        assertTrue(out.contains("$missing (\$CHINWAG_LIBRARY): no such file"), out)
        assertTrue(!out.contains("system library path") && !out.contains("bundled"), "nothing else was tried: $out")

        val bogus = File(tmp, "libchinwag.so").apply { writeText("not an ELF file") }
        val notElf = probe(mapOf("chinwag.library.path" to bogus.path)).joinToString("\n")
        assertTrue(notElf.contains("cannot be loaded"), notElf)

        val libc = listOf("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6").map(::File).firstOrNull { it.exists() }
        if (libc != null) {
            val other = probe(mapOf("chinwag.library.path" to libc.path)).joinToString("\n")
            assertTrue(other.contains("not a Chinwag library"), other)
        }
    }

    @Test
    fun `jna library path, then the system, then the jar's bundled copy`() {
        val jna = probe(mapOf("jna.library.path" to lib.parent, "chinwag.library.bundled" to "false"))
        assertEquals("FOUND jna.library.path", jna[0])
        val system = probe(mapOf("chinwag.library.bundled" to "false"), mapOf("LD_LIBRARY_PATH" to lib.parent))
        assertEquals("FOUND system", system[0])
        val nothing = probe(mapOf("chinwag.library.bundled" to "false"))
        assumeTrue(nothing[0].startsWith("NOTFOUND"), "a libchinwag is installed system-wide: $nothing")
        val text = nothing.joinToString("\n")
        assertTrue(text.contains("system library path") && text.contains("disabled by -Dchinwag.library.bundled=false"), text)
        assertTrue(text.contains("CHINWAG_LIBRARY") && text.contains("jna.library.path"), "the message says what to set: $text")
        // With nothing else, the copy in the jar (linux-x86-64/libchinwag.so) is extracted and loaded.
        val bundled = probe()
        assertEquals("FOUND bundled", bundled[0], bundled.joinToString("\n"))
        assertTrue(File(bundled[1]).exists() || bundled[1].contains("jna"), bundled[1])
        assertEquals(ChinwagClient.version(), bundled[2])
    }
}
